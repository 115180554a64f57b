// Package changelog owns the wire format of Veedel's sync: the change-log
// entry (envelope) with its hash chain, the batch a site uploads, the
// deterministic CBOR codec with strict limits for untrusted input, and the
// hybrid logical clock that orders events across sites.
//
// Appliances build entries when they commit events; central verifies and
// stores them. Both use this package so that hashes agree byte for byte.
package changelog
