package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/hivellm/modelgov/api"
)

// Sizes of keys and signatures, and the bounds on their base64 forms.
const (
	ed25519KeySize         = ed25519.PublicKeySize // 32
	ed25519SigSize         = ed25519.SignatureSize // 64
	secp256k1KeySize       = secp256k1.PubKeyBytesLenCompressed
	secp256k1UncompKeySize = secp256k1.PubKeyBytesLenUncompressed
	secp256k1CompactSize   = 64
	// maxKeyBase64 and maxSigBase64 bound the base64 text accepted before
	// decoding anything: the longest valid inputs are 44 and 96 characters.
	maxKeyBase64 = 256
	maxSigBase64 = 256

	// KeyIDLength is the length of a key id: 16 bytes in hex.
	KeyIDLength = 32
)

// ErrBadSignature is the error (as errors.Is sees it) of Verify for a
// well-formed signature that does not verify with the key: the wrong key,
// the wrong message, or a forgery.
var ErrBadSignature = errors.New("the signature does not verify with the model's key")

// ErrMalformedSignature is the error (as errors.Is sees it) of Verify for a
// signature that cannot even be parsed: bad base64, the wrong length, an
// invalid DER encoding. The error's own message says which.
var ErrMalformedSignature = errors.New("malformed signature")

// malformedSig is a malformed-signature error with a message for a person.
type malformedSig struct{ msg string }

func (e *malformedSig) Error() string { return e.msg }

// Is makes errors.Is(err, ErrMalformedSignature) true.
func (e *malformedSig) Is(target error) bool { return target == ErrMalformedSignature }

func malformed(format string, args ...any) error {
	return &malformedSig{msg: fmt.Sprintf(format, args...)}
}

// PublicKey is a model's public key: its type (api.KeyEd25519 or
// api.KeySecp256k1) and raw bytes (32 bytes for ed25519, the 33-byte
// compressed point for secp256k1). Make one with ParsePublicKey, which
// checks it; Verify checks again, so a PublicKey built by hand cannot make
// it panic.
type PublicKey struct {
	Type string
	Raw  []byte
}

// ParsePublicKey parses a public key of type keyType (empty means ed25519)
// from standard base64 (padding required; surrounding spaces are ignored).
// Its errors are meant for the person who sent the key.
func ParsePublicKey(keyType, b64 string) (*PublicKey, error) {
	keyType, err := normalizeKeyType(keyType)
	if err != nil {
		return nil, err
	}
	raw, err := decodeBase64("public key", b64, maxKeyBase64)
	if err != nil {
		return nil, err
	}
	if _, err := checkPublicKey(keyType, raw); err != nil {
		return nil, err
	}
	return &PublicKey{Type: keyType, Raw: raw}, nil
}

// normalizeKeyType returns the key type, ed25519 for an empty one, or an
// error for an unknown one.
func normalizeKeyType(keyType string) (string, error) {
	switch keyType {
	case "", api.KeyEd25519:
		return api.KeyEd25519, nil
	case api.KeySecp256k1:
		return api.KeySecp256k1, nil
	}
	return "", fmt.Errorf("unknown key type %q; use %s or %s", truncate(keyType, 40), api.KeyEd25519, api.KeySecp256k1)
}

// checkPublicKey checks raw bytes as a public key of keyType, and returns
// the parsed secp256k1 key for that type.
func checkPublicKey(keyType string, raw []byte) (*secp256k1.PublicKey, error) {
	switch keyType {
	case api.KeyEd25519:
		return nil, checkEd25519Key(raw)
	case api.KeySecp256k1:
		return parseSecp256k1Key(raw)
	}
	_, err := normalizeKeyType(keyType)
	return nil, err
}

// spkiPrefixEd25519 starts the DER SubjectPublicKeyInfo of an ed25519 key,
// which `openssl pkey -pubout -outform DER` writes: the raw key follows.
var spkiPrefixEd25519 = []byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}

// ed25519SmallOrder lists the y coordinates (little-endian, without the sign
// bit) of the ed25519 points of small order: 0 (order 4), 1 (the identity),
// p-1 (order 2) and the two of order 8. Nobody holds the private key of such
// a point, yet with it a signature verifies for a random message often (for
// the identity, always), so they are refused as keys.
var ed25519SmallOrder = [][ed25519KeySize]byte{
	{0x00},
	{0x01},
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
		0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
		0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
}

func checkEd25519Key(raw []byte) error {
	if len(raw) != ed25519KeySize {
		hint := ""
		switch {
		case len(raw) == len(spkiPrefixEd25519)+ed25519KeySize && bytes.HasPrefix(raw, spkiPrefixEd25519):
			hint = " (it is DER, as openssl pkey -pubout -outform DER writes it: send only its last 32 bytes)"
		case len(raw) == ed25519.PrivateKeySize:
			hint = " (is it a private key? send only the public key)"
		}
		return fmt.Errorf("an ed25519 public key is %d bytes, this one is %d%s", ed25519KeySize, len(raw), hint)
	}
	// The y coordinate is the low 255 bits, little-endian; an encoding is
	// canonical when y < p = 2^255 - 19. A non-canonical encoding names a
	// point that has a canonical one, so it would give one key two ids.
	if raw[31]&0x7f == 0x7f && raw[0] >= 0xed && allBytes(raw[1:31], 0xff) {
		return errors.New("the ed25519 public key is not canonically encoded")
	}
	var y [ed25519KeySize]byte
	copy(y[:], raw)
	y[31] &= 0x7f
	for _, p := range ed25519SmallOrder {
		if y == p {
			return errors.New("the ed25519 public key is a point of small order, which no one holds the private key of")
		}
	}
	return nil
}

func parseSecp256k1Key(raw []byte) (*secp256k1.PublicKey, error) {
	switch {
	case len(raw) == secp256k1UncompKeySize && raw[0] == secp256k1.PubKeyFormatUncompressed:
		return nil, fmt.Errorf("this secp256k1 public key is uncompressed (%d bytes); send the %d-byte compressed form (starting with 0x02 or 0x03)",
			len(raw), secp256k1KeySize)
	case len(raw) != secp256k1KeySize:
		hint := ""
		switch {
		case len(raw) > 0 && raw[0] == 0x30:
			hint = " (it looks like DER: send the raw compressed point)"
		case len(raw) == 32:
			hint = " (an x-only key? send the compressed point, with its 0x02 or 0x03 prefix)"
		}
		return nil, fmt.Errorf("a secp256k1 public key is %d bytes (the compressed point), this one is %d%s", secp256k1KeySize, len(raw), hint)
	case raw[0] != secp256k1.PubKeyFormatCompressedEven && raw[0] != secp256k1.PubKeyFormatCompressedOdd:
		return nil, fmt.Errorf("a compressed secp256k1 public key starts with 0x02 or 0x03, this one starts with 0x%02x", raw[0])
	}
	k, err := secp256k1.ParsePubKey(raw)
	if err != nil {
		return nil, errors.New("the public key is not a point on the secp256k1 curve")
	}
	return k, nil
}

// KeyID returns the key's id: the lowercase hex of the first 16 bytes of
// SHA-256 of the raw key.
func (k *PublicKey) KeyID() string {
	sum := sha256.Sum256(k.Raw)
	return hex.EncodeToString(sum[:KeyIDLength/2])
}

// Base64 returns the raw key in standard base64, the form the API uses.
func (k *PublicKey) Base64() string {
	return base64.StdEncoding.EncodeToString(k.Raw)
}

// Equal reports whether k and o are the same key.
func (k *PublicKey) Equal(o *PublicKey) bool {
	if k == nil || o == nil {
		return k == o
	}
	return k.Type == o.Type && bytes.Equal(k.Raw, o.Raw)
}

// Verify checks sigB64, a standard base64 signature, of msg by k. A
// signature that cannot be parsed gives an error that matches
// ErrMalformedSignature; a well-formed one that does not verify gives one
// that matches ErrBadSignature.
func (k *PublicKey) Verify(msg []byte, sigB64 string) error {
	if k == nil {
		return errors.New("no public key to verify the signature with")
	}
	keyType, err := normalizeKeyType(k.Type)
	if err != nil {
		return err
	}
	k1, err := checkPublicKey(keyType, k.Raw)
	if err != nil {
		return err
	}
	sig, err := decodeBase64("signature", sigB64, maxSigBase64)
	if err != nil {
		return &malformedSig{msg: err.Error()}
	}
	switch keyType {
	case api.KeyEd25519:
		return verifyEd25519(k.Raw, msg, sig)
	default:
		return verifySecp256k1(k1, msg, sig)
	}
}

func verifyEd25519(pub, msg, sig []byte) error {
	if len(sig) != ed25519SigSize {
		return malformed("an ed25519 signature is %d bytes, this one is %d", ed25519SigSize, len(sig))
	}
	// ed25519.Verify also refuses a non-canonical S (S >= L), so a
	// signature has one valid encoding.
	if !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}

// verifySecp256k1 verifies an ECDSA signature of SHA-256(msg), compact
// (r||s, 64 bytes) or DER.
//
// High-S signatures (s > n/2) are accepted on purpose: Bitcoin-style
// low-S rules fight transaction malleability, which does not arise here.
// The question is only whether the key holder signed the message, and
// (r, n-s) is as much proof of that as (r, s). Signers should still make
// low-S signatures; Sign does.
func verifySecp256k1(pub *secp256k1.PublicKey, msg, sig []byte) error {
	// A signature is read as compact when it is 64 bytes, and as DER when
	// it starts as DER does; a 64-byte DER signature (short r and s) is
	// possible, so one may be read both ways.
	var readings []*ecdsa.Signature
	var parseErr error
	if len(sig) == secp256k1CompactSize {
		s, err := parseCompact(sig)
		if err != nil {
			parseErr = err
		} else {
			readings = append(readings, s)
		}
	}
	if len(sig) > 0 && sig[0] == 0x30 {
		s, err := ecdsa.ParseDERSignature(sig)
		switch {
		case err == nil:
			readings = append(readings, s)
		case parseErr == nil && len(sig) != secp256k1CompactSize && len(sig) != secp256k1CompactSize+1:
			parseErr = malformed("the signature is not valid DER (%s); a secp256k1 signature is DER or the 64-byte r||s", derReason(err))
		}
	}
	if len(readings) == 0 {
		switch {
		case parseErr != nil:
			return parseErr
		case len(sig) == secp256k1CompactSize+1:
			return malformed("a secp256k1 signature is DER or the 64-byte r||s, this one is 65 bytes (a recoverable signature? drop its recovery byte)")
		}
		return malformed("a secp256k1 signature is DER or the 64-byte r||s, this one is %d bytes and not DER", len(sig))
	}
	hash := sha256.Sum256(msg)
	for _, s := range readings {
		if s.Verify(hash[:], pub) {
			return nil
		}
	}
	return ErrBadSignature
}

// parseCompact parses a 64-byte r||s signature, each a big-endian 32-byte
// integer in [1, n-1].
func parseCompact(sig []byte) (*ecdsa.Signature, error) {
	var r, s secp256k1.ModNScalar
	if overflow := r.SetByteSlice(sig[:32]); overflow || r.IsZero() {
		return nil, malformed("the signature's r is out of range (it must be between 1 and the curve order)")
	}
	if overflow := s.SetByteSlice(sig[32:]); overflow || s.IsZero() {
		return nil, malformed("the signature's s is out of range (it must be between 1 and the curve order)")
	}
	return ecdsa.NewSignature(&r, &s), nil
}

// derReason shortens the DER parser's error for a person.
func derReason(err error) string {
	var e ecdsa.Error
	if errors.As(err, &e) {
		return strings.TrimPrefix(e.Description, "malformed signature: ")
	}
	return err.Error()
}

// decodeBase64 decodes s, standard base64 with padding, after trimming
// surrounding spaces, refusing more than max characters. what names the
// value in errors ("public key", "signature").
func decodeBase64(what, s string, max int) ([]byte, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil, fmt.Errorf("the %s is empty", what)
	case strings.HasPrefix(s, "-----BEGIN"):
		return nil, fmt.Errorf("the %s is PEM; send the base64 of the raw bytes", what)
	case len(s) > max:
		return nil, fmt.Errorf("the %s is too long: %d characters of base64, at most %d are accepted", what, len(s), max)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err == nil {
		return b, nil
	}
	switch {
	case strings.ContainsAny(s, "-_"):
		return nil, fmt.Errorf("the %s is not valid base64: it uses the URL-safe alphabet (- and _); use standard base64 (+ and /, with = padding)", what)
	case len(s)%4 != 0 && !strings.ContainsAny(s, "=\r\n \t"):
		return nil, fmt.Errorf("the %s is not valid base64: its length is not a multiple of 4 (is the = padding missing?)", what)
	}
	var ce base64.CorruptInputError
	if errors.As(err, &ce) {
		return nil, fmt.Errorf("the %s is not valid base64 (at character %d)", what, int64(ce)+1)
	}
	return nil, fmt.Errorf("the %s is not valid base64", what)
}

func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
