//go:build race

package main

// raceEnabled: this test binary runs with the race detector, so binaries
// the tests build get it too (and reuse the cached instrumented packages).
const raceEnabled = true
