//go:build race

package sqlite_test

// raceEnabled: the race detector slows the estimates' simulation about
// sixfold; TestEstimateStaleness loads a shorter queue under it.
const raceEnabled = true
