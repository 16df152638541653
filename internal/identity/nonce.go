package identity

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// nonceSize is the number of random bytes in a nonce.
const nonceSize = 32

// NewNonce returns a fresh one-time nonce for a challenge: 32 random bytes
// in base64url without padding, a plain 43-character ASCII string whose
// UTF-8 bytes the key holder signs as they are.
func NewNonce() (string, error) {
	b := make([]byte, nonceSize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes for a nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// artifactDigestPrefix starts every artifact digest.
const artifactDigestPrefix = "sha256:"

// ValidArtifactDigest reports whether s is a model artifact digest:
// "sha256:" followed by 64 lowercase hex digits.
func ValidArtifactDigest(s string) bool {
	if len(s) != len(artifactDigestPrefix)+64 || s[:len(artifactDigestPrefix)] != artifactDigestPrefix {
		return false
	}
	for _, c := range []byte(s[len(artifactDigestPrefix):]) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
