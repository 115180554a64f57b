package changelog

// Enrollment is what an appliance sends, as JSON, to central's
// POST /api/v1/sync/enroll to register its public key for its site with a
// one-time enrollment token (from `veedel central enroll`).
type Enrollment struct {
	Site  string `json:"site"`
	Token string `json:"token"`
	// PublicKey is the site's ed25519 public key, 32 bytes (standard
	// base64 in JSON).
	PublicKey []byte `json:"public_key"`
}

// Enrolled is central's answer to a successful enrollment.
type Enrolled struct {
	Site  string `json:"site"`
	KeyID string `json:"key_id"` // KeyIDString of the enrolled key
}
