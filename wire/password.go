package wire

import (
	"crypto/subtle"

	"github.com/xdg-go/scram"
)

// VerifyPassword reports whether password matches a SCRAM-SHA-256 verifier
// in PostgreSQL's format, for front ends that receive a plain password
// (HTTP Basic auth on the WebHDFS API) instead of running a SCRAM exchange.
// It derives the StoredKey from the password with the verifier's salt and
// iteration count, normalised with SASLprep as MakeSCRAMVerifier does, and
// compares it in constant time. A malformed or empty verifier never matches.
func VerifyPassword(verifier, user, password string) bool {
	creds, err := parseSCRAMVerifier(verifier)
	if err != nil || len(creds.StoredKey) == 0 {
		return false
	}
	client, err := scram.SHA256.NewClient(user, password, "")
	if err != nil {
		return false
	}
	got := client.GetStoredCredentials(creds.KeyFactors)
	return subtle.ConstantTimeCompare(got.StoredKey, creds.StoredKey) == 1
}
