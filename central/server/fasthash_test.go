package server_test

import "github.com/veedel/veedel/internal/login"

// Passwords hashed at bcrypt's minimum cost in these tests: at the default
// cost every login took about 0.9 s of CPU under the race detector.
func init() { login.FastHashesForTests() }
