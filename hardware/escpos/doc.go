// Package escpos owns the ESC/POS bytes the kiosk's ticket printer is sent
// and the DLE EOT status replies it sends back. It does no I/O: the driver
// (hardware/printer) writes these bytes and the simulator
// (hardware/printersim) parses them, so the command set below is the whole
// contract between the two and must not grow without both knowing.
//
// A ticket is exactly this sequence (hex in brackets):
//
//  1. ESC @ [1B 40]: initialise.
//  2. ESC t 19 [1B 74 13]: code page PC858. All text after it is CP858,
//     one byte per column; control characters never reach the stream.
//  3. ESC a 1 [1B 61 01]: centre.
//  4. ESC E 1 [1B 45 01], the site name, LF [0A], ESC E 0 [1B 45 00].
//  5. The service name, LF.
//  6. GS ! 0x33 [1D 21 33] (4x width, 4x height), the ticket number, LF,
//     GS ! 0 [1D 21 00].
//  7. The issue time "02.01.2006 15:04", LF; then each extra line, LF.
//  8. Only when the ticket has a LocalText (Turkish, Arabic: letters CP858
//     lacks): LF, then its service (bold) and lines drawn by
//     hardware/rastertext, shaped and in the language's direction, each
//     printed line one GS v 0 image as wide as the paper (format below).
//  9. The QR code of the status URL, then LF; left out when the URL is empty.
//     Native (QRNative), five GS ( k [1D 28 6B] functions of QR model 2:
//     select model [04 00 31 41 32 00], module size [03 00 31 43 n],
//     error correction M [03 00 31 45 31], store [pL pH 31 50 30 data]
//     with pL pH = len(data)+3 little-endian, print [03 00 31 51 30].
//     Raster (QRRaster, for printers without GS ( k): GS v 0 [1D 76 30 00]
//     xL xH yL yH and the bitmap; x is the bytes per row (Width/8), y the
//     rows; one bit per dot, most significant bit leftmost, 1 = black. The
//     code (error correction M, quiet zone of 4 modules) is centred inside
//     the full paper width by white padding.
//  10. ESC d 3 [1B 64 03]: feed 3 lines; then, unless the cut is off,
//     GS V 66 0 [1D 56 42 00]: partial cut after feeding to the cutter.
//
// Text lines (steps 4, 5, 7) are word-wrapped at the paper's columns of
// font A (12 dots a column: 48 at 576 dots, 32 at 384) and the ticket
// number at a quarter of that, as it is printed four times as wide.
package escpos
