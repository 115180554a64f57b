package server

import (
	"net/http"
	"time"

	"github.com/veedel/veedel/internal/ratelimit"
)

// Anonymous issuing is limited per client: a token bucket per remote
// address. Paired kiosks (pairing.go) and staff are not limited; an
// unpaired browser on /kiosk and a POST /api/v1/tickets without
// credentials are. The address is the TCP peer's: the appliance serves
// its LAN directly, so X-Forwarded-For (anyone can send it) is ignored.
// IPv6 clients are keyed by their /64, which one device can fill with
// addresses of its own.

// Limits of anonymous clients. issueLimit: six tickets at once (a family,
// a retry), then one every 20 seconds: an unpaired kiosk at a quiet site
// still works, a script gets 180 an hour instead of 1,405 a minute.
// pairLimit bounds guessing of pairing codes: five tries, then one a
// minute, against 2^40 codes that live 15 minutes.
var (
	issueLimit = limit{Burst: 6, Every: 20 * time.Second}
	pairLimit  = limit{Burst: 5, Every: time.Minute}
)

// limiter is the token bucket per client (internal/ratelimit).
type limiter = ratelimit.Limiter

type limit = ratelimit.Limit

func newLimiter(l limit) *limiter { return ratelimit.New(l) }

// clientKey is the limiter's key for a request (ratelimit.ClientKey).
func clientKey(r *http.Request) string { return ratelimit.ClientKey(r) }

// retryAfter is the Retry-After header's value for wait.
func retryAfter(wait time.Duration) int { return ratelimit.RetryAfter(wait) }
