package changelog

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/veedel/veedel"
)

// A site signs its requests without a body (the downlink's polls) with the
// same key as its batches, in four headers. The signature covers the
// method, the request target (path and query), the site and the time,
// prefixed with "veedel-request-v1" so that it can never pass for a batch
// signature or the other way round. Central accepts a time within
// MaxRequestSkew of its own clock (sites' clocks may be hours off).
const (
	HeaderSite      = "Veedel-Site"
	HeaderKeyID     = "Veedel-Key-Id"    // hex, as KeyIDString
	HeaderTime      = "Veedel-Time"      // Unix milliseconds
	HeaderSignature = "Veedel-Signature" // standard base64

	MaxRequestSkew = 2 * time.Hour
)

// SignRequest signs r (which must have no body) for site with key at now.
func SignRequest(r *http.Request, site string, key ed25519.PrivateKey, now time.Time) {
	at := strconv.FormatInt(now.UnixMilli(), 10)
	r.Header.Set(HeaderSite, site)
	r.Header.Set(HeaderKeyID, KeyIDString(KeyID(key.Public().(ed25519.PublicKey))))
	r.Header.Set(HeaderTime, at)
	sig := ed25519.Sign(key, requestSigningBytes(r.Method, r.URL.RequestURI(), site, at))
	r.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
}

// RequestSignature is a signed request's claim, read by ParseRequest.
type RequestSignature struct {
	Site  string
	KeyID []byte
	At    time.Time
	// Verify checks the signature with a public key.
	Verify func(ed25519.PublicKey) error
}

// ParseRequest reads the signature headers of a request central received.
// Missing or malformed headers are an EUNAUTHORIZED error.
func ParseRequest(r *http.Request) (RequestSignature, error) {
	site, keyHex, at, sigB64 := r.Header.Get(HeaderSite), r.Header.Get(HeaderKeyID), r.Header.Get(HeaderTime), r.Header.Get(HeaderSignature)
	if site == "" || keyHex == "" || at == "" || sigB64 == "" {
		return RequestSignature{}, veedel.Errorf(veedel.EUNAUTHORIZED, "request is not signed (headers %s, %s, %s, %s)", HeaderSite, HeaderKeyID, HeaderTime, HeaderSignature)
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
	msg := requestSigningBytes(r.Method, target, site, at)
	return RequestSignature{Site: site, KeyID: keyID, At: time.UnixMilli(ms), Verify: func(pub ed25519.PublicKey) error {
		if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, sig) {
			return veedel.Errorf(veedel.EUNAUTHORIZED, "request signature does not verify with key %s", keyHex)
		}
		return nil
	}}, nil
}

func requestSigningBytes(method, target, site, at string) []byte {
	return []byte("veedel-request-v1\n" + method + "\n" + target + "\n" + site + "\n" + at)
}
