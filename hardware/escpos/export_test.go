package escpos

// Exports for the package's external tests.
var (
	IsStatusByte = isStatusByte
	ParseStatus  = parseStatus
)

func (o Options) Columns() int { return o.columns() }
