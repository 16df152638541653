// Package webhook holds the parts of webhook delivery that must be exactly
// right: Standard Webhooks secrets and signatures
// (https://www.standardwebhooks.com/), SSRF protection for outgoing
// connections, a single delivery attempt and the retry backoff.
//
// Subscriptions, their storage and the dispatcher live elsewhere.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix begins every secret: "whsec_" + base64 of the key.
const SecretPrefix = "whsec_"

// SecretBytes is the length of the key NewSecret generates.
const SecretBytes = 32

// The specification recommends keys of 24 to 64 bytes.
const (
	minKeyBytes = 24
	maxKeyBytes = 64
)

// ErrInvalidSecret is wrapped by every error about a malformed secret.
var ErrInvalidSecret = errors.New("webhook: invalid secret")

// NewSecret returns a new signing secret: "whsec_" followed by the standard,
// padded base64 encoding of 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, SecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("webhook: generating secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// decodeSecret returns the key of a "whsec_..." secret.
func decodeSecret(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: must begin with %q", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: key is not valid base64: %v", ErrInvalidSecret, err)
	}
	if len(key) < minKeyBytes || len(key) > maxKeyBytes {
		return nil, fmt.Errorf("%w: key must be %d to %d bytes, got %d", ErrInvalidSecret, minKeyBytes, maxKeyBytes, len(key))
	}
	return key, nil
}

// checkMsgID refuses an empty message ID or one that could not be sent as a
// header value.
func checkMsgID(msgID string) error {
	if msgID == "" {
		return errors.New("webhook: empty message id")
	}
	for i := 0; i < len(msgID); i++ {
		if c := msgID[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("webhook: message id %q must be printable ASCII without spaces", msgID)
		}
	}
	return nil
}

// Sign returns the webhook-signature value of a message: "v1," followed by
// the base64 of HMAC-SHA256(key, msgID + "." + unix seconds of ts + "." +
// body), key being the decoded part of secret after "whsec_".
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	if err := checkMsgID(msgID); err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Headers returns the headers of a delivery: webhook-id, webhook-timestamp
// (unix seconds), webhook-signature and Content-Type application/json.
func Headers(secret, msgID string, ts time.Time, body []byte) (http.Header, error) {
	sig, err := Sign(secret, msgID, ts, body)
	if err != nil {
		return nil, err
	}
	h := make(http.Header, 4)
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	h.Set("Content-Type", "application/json")
	return h, nil
}
