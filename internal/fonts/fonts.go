// Package fonts holds the one typeface Veedel draws text with where the
// machine's fonts cannot be relied on: DejaVu Sans (regular and bold,
// licence in LICENSE), which covers Latin with every diacritic a register
// holds, Greek, Cyrillic and Arabic with its joining forms. The PDF
// documents (internal/pdf) embed it, and the ticket printer draws the
// lines its code page cannot print with it (hardware/rastertext).
package fonts

import _ "embed"

// DejaVuSans is DejaVu Sans, TrueType.
//
//go:embed DejaVuSans.ttf
var DejaVuSans []byte

// DejaVuSansBold is DejaVu Sans Bold, TrueType.
//
//go:embed DejaVuSans-Bold.ttf
var DejaVuSansBold []byte
