// Package seca owns the school-health site's scale and measuring station
// (a seca column scale with a height rod, e.g. seca 285, or a scale alone,
// e.g. seca 704 or 769) on an RS-232 line: a driver that asks the device
// for a stable reading of weight and height, ignores the unstable ones
// while the child still moves, and says in errors.Is terms what went wrong
// (no device, cable pulled, no answer, garbled frames, no stable reading).
//
// # The protocol: what is verified and what is assumed
//
// seca does not publish the serial frame of its scales; the search of
// public documentation, code and issue trackers for this package (seca
// 704/769/799/285 with "RS-232", "interface", "data format") found
// product lists and manuals' download pages but no frame description.
// The driver therefore speaks the most authoritative public ASCII scale
// protocol, Mettler-Toledo's Standard Interface Command Set (MT-SICS,
// level 0), which many weighing devices implement or offer as a mode,
// and adds height as an assumed vendor extension in the same grammar:
//
//   - Line: 9600 baud, 8 data bits, no parity, 1 stop bit by default
//     (the address's baud parameter changes the rate). Every command and
//     every answer is ASCII ending in CR LF. [MT-SICS]
//   - "SI": the weight now. Answer "S S <value> <unit>" when stable,
//     "S D <value> <unit>" when dynamic (unstable), "S I" when the scale
//     cannot weigh at present (busy, e.g. zeroing), "S +" overload,
//     "S -" underload. [MT-SICS]
//   - "I4": the serial number. Answer `I4 A "<serial>"`. Used by Health:
//     a device that answers is up, without weighing anyone. [MT-SICS]
//   - "ES" syntax error (command not known), "ET" transmission error
//     (e.g. parity), "EL" logical error (command not possible). [MT-SICS]
//   - "HI": the height now, answered like SI with the identifier "H":
//     "H S 118.5 cm", "H D …", "H I" (no height measured yet: the
//     head-piece is not lowered). [Assumed: a seca extension in the MT-SICS
//     grammar.] A scale without a height rod answers "ES" (command not
//     known, as MT-SICS prescribes for any unknown command): the reading
//     then has no height.
//   - Units: weight in kg (g and lb are converted), height in cm (mm and
//     m are converted). Values use a decimal point. [MT-SICS for weight;
//     height assumed alike.]
//
// What the driver adds on top of the frames: a stable weight below
// MinWeightKG means nobody stands on the scale and is waited out like an
// unstable one; a line that is not a frame (noise on the line, a parity
// error read as 8N1) is ignored as long as a valid frame follows within
// the answer timeout; a frame cut off (bytes without the line end, then
// silence or a failed port) is a pulled cable, ErrDisconnected.
//
// The port is opened on first use and reopened after a failure, so a
// cable plugged back (or a USB adapter re-enumerated behind a udev
// symlink) is used again without a restart. All traffic of a Scale is
// serialised.
package seca
