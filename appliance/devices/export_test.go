package devices

// SignalBand exports signalBand to the package's external tests.
var SignalBand = signalBand
