package changelog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/veedel/veedel"
)

// A site signs its requests without a body (the downlink's polls) with the
// same key as its batches, in headers. The signature covers the method, the
// request target (path and query), the site, the time, a random nonce and
// the site's box key (the X25519 key central seals personal data to, see
// SealSMS), prefixed with "veedel-request-v2" so that it can never pass for
// a batch signature or the other way round. Central accepts a request only
// within FreshWindow of its own clock and only once: it remembers every
// nonce for the window (docs/SYNC.md, "Trust").
//
// A request without HeaderNonce is an older appliance's ("veedel-request-v1":
// method, target, site and time only). Central still answers it within the
// window, but it can be replayed within that window, so it never gets
// personal data: its box key, if any, is not covered and is ignored.
const (
	HeaderSite      = "Veedel-Site"
	HeaderKeyID     = "Veedel-Key-Id"    // hex, as KeyIDString
	HeaderTime      = "Veedel-Time"      // Unix milliseconds
	HeaderNonce     = "Veedel-Nonce"     // NonceSize random bytes, base64url without padding
	HeaderBoxKey    = "Veedel-Box-Key"   // X25519 public key, base64url without padding
	HeaderSignature = "Veedel-Signature" // standard base64

	// NonceSize is the length of a request's or a batch's nonce: 128
	// random bits, so that two never collide.
	NonceSize = 16
)

// FreshWindow is how far a signed request's or batch's time may be from
// central's clock. Central remembers each nonce for this long, so a replay
// is refused inside the window by its nonce and outside by its time. Five
// minutes covers a slow round trip and a site whose clock drifts between
// two of its corrections (the uplink and downlink sign with central's
// clock as measured from its Date header, CentralClock), and keeps the
// nonce table small (a few polls per site and minute).
const FreshWindow = 5 * time.Minute

// NewNonce returns NonceSize random bytes.
func NewNonce() []byte {
	n := make([]byte, NonceSize)
	rand.Read(n) // never fails (crypto/rand)
	return n
}

// SignRequest signs r (which must have no body) for site with key at now (the
// site's estimate of central's clock, see CentralClock), with a new nonce.
// A HeaderBoxKey set on r before is covered by the signature.
func SignRequest(r *http.Request, site string, key ed25519.PrivateKey, now time.Time) {
	at := strconv.FormatInt(now.UnixMilli(), 10)
	nonce := base64.RawURLEncoding.EncodeToString(NewNonce())
	r.Header.Set(HeaderSite, site)
	r.Header.Set(HeaderKeyID, KeyIDString(KeyID(key.Public().(ed25519.PublicKey))))
	r.Header.Set(HeaderTime, at)
	r.Header.Set(HeaderNonce, nonce)
	sig := ed25519.Sign(key, requestSigningBytes(r.Method, r.URL.RequestURI(), site, at, nonce, r.Header.Get(HeaderBoxKey)))
	r.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
}

// RequestSignature is a signed request's claim, read by ParseRequest.
type RequestSignature struct {
	Site  string
	KeyID []byte
	At    time.Time
	// Nonce is nil for an older appliance's request (no HeaderNonce).
	Nonce []byte
	// BoxKey is the X25519 public key the site asks central to seal
	// personal data to; nil unless the request has a nonce (only then
	// does the signature cover it).
	BoxKey []byte
	// Verify checks the signature with a public key.
	Verify func(ed25519.PublicKey) error
}

// ParseRequest reads the signature headers of a request central received.
// Missing or malformed headers are an EUNAUTHORIZED error.
func ParseRequest(r *http.Request) (RequestSignature, error) {
	site, keyHex, at, sigB64 := r.Header.Get(HeaderSite), r.Header.Get(HeaderKeyID), r.Header.Get(HeaderTime), r.Header.Get(HeaderSignature)
	if site == "" || keyHex == "" || at == "" || sigB64 == "" {
		return RequestSignature{}, veedel.Errorf(veedel.EUNAUTHORIZED, "request is not signed (headers %s, %s, %s, %s, %s)", HeaderSite, HeaderKeyID, HeaderTime, HeaderNonce, HeaderSignature)
	}
	keyID, err := hex.DecodeString(keyHex)
	if err != nil || len(keyID) != KeyIDSize {
		return RequestSignature{}, veedel.Errorf(veedel.EUNAUTHORIZED, "malformed %s", HeaderKeyID)
	}
	ms, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return RequestSignature{}, veedel.Errorf(veedel.EUNAUTHORIZED, "malformed %s", HeaderTime)
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return RequestSignature{}, veedel.Errorf(veedel.EUNAUTHORIZED, "malformed %s", HeaderSignature)
	}
	target := r.RequestURI // as sent; r.URL may be normalised
	if target == "" {
		target = r.URL.RequestURI()
	}
	req := RequestSignature{Site: site, KeyID: keyID, At: time.UnixMilli(ms)}
	var msg []byte
	if nonceB64 := r.Header.Get(HeaderNonce); nonceB64 != "" {
		if req.Nonce, err = base64.RawURLEncoding.DecodeString(nonceB64); err != nil || len(req.Nonce) != NonceSize {
			return RequestSignature{}, veedel.Errorf(veedel.EUNAUTHORIZED, "malformed %s", HeaderNonce)
		}
		boxB64 := r.Header.Get(HeaderBoxKey)
		if boxB64 != "" {
			if req.BoxKey, err = base64.RawURLEncoding.DecodeString(boxB64); err != nil || len(req.BoxKey) != BoxKeySize {
				return RequestSignature{}, veedel.Errorf(veedel.EUNAUTHORIZED, "malformed %s", HeaderBoxKey)
			}
		}
		msg = requestSigningBytes(r.Method, target, site, at, nonceB64, boxB64)
	} else {
		msg = []byte("veedel-request-v1\n" + r.Method + "\n" + target + "\n" + site + "\n" + at)
	}
	req.Verify = func(pub ed25519.PublicKey) error {
		if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, sig) {
			return veedel.Errorf(veedel.EUNAUTHORIZED, "request signature does not verify with key %s", keyHex)
		}
		return nil
	}
	return req, nil
}

func requestSigningBytes(method, target, site, at, nonce, boxKey string) []byte {
	return []byte("veedel-request-v2\n" + method + "\n" + target + "\n" + site + "\n" + at + "\n" + nonce + "\n" + boxKey)
}
