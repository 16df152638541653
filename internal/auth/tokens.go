package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/hivellm/modelgov/internal/errs"
)

// TokenPrefixString starts every modelgov API token secret. It makes the
// secrets easy for people and secret scanners to recognise, and easy for the
// server to tell from a JWT.
const TokenPrefixString = "mgv_"

// The shape of a secret: TokenPrefixString, then tokenBodyLen base62
// characters encoding tokenRandomBytes random bytes, then tokenChecksumLen
// base62 characters encoding the CRC32 (IEEE) of the body.
const (
	tokenRandomBytes = 32
	// tokenBodyLen is the fewest base62 digits that hold 256 bits:
	// 62^43 > 2^256 > 62^42.
	tokenBodyLen = 43
	// tokenChecksumLen is the fewest base62 digits that hold 32 bits:
	// 62^6 > 2^32 > 62^5.
	tokenChecksumLen = 6
	tokenLen         = len(TokenPrefixString) + tokenBodyLen + tokenChecksumLen
	// tokenDisplayLen is how many body characters TokenPrefix shows: 4
	// characters (about 24 bits) tell a person's tokens apart and leave
	// the remaining 232 random bits secret.
	tokenDisplayLen = 4
)

// base62Alphabet is in ASCII order, so that comparing two base62 strings
// of the same length compares the numbers they encode.
const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// maxTokenBody is the body that encodes 2^256-1, the largest value a body
// may hold: a 43-digit base62 string can encode more than 256 bits.
var maxTokenBody = encodeBase62([]byte(strings.Repeat("\xff", tokenRandomBytes)), tokenBodyLen)

// ErrMalformedToken is in the chain of every error HashToken returns: the
// string is not shaped like a modelgov API token (wrong prefix, length,
// alphabet or checksum), so no token can have it as its secret. Such an
// error has kind errs.Unauthenticated and its message says what is wrong
// without repeating any of the string.
var ErrMalformedToken = errors.New("malformed API token")

// malformedError is the reason a string is not a token. It is
// ErrMalformedToken as far as errors.Is is concerned.
type malformedError string

func (e malformedError) Error() string { return string(e) }

func (e malformedError) Is(target error) bool { return target == ErrMalformedToken }

func malformed(reason string) error {
	return errs.Wrap(errs.Unauthenticated, malformedError(reason), ErrMalformedToken.Error())
}

// NewToken returns a new API token secret and the hash to store in its
// place. The secret is TokenPrefixString followed by 49 base62 characters:
// 43 that encode 32 bytes from crypto/rand (left-padded with '0') and 6
// that encode the CRC32 of those 43, so that a mistyped or truncated
// secret is refused without a lookup. The server must show the secret
// once, to whoever asked for the token, and keep only the hash.
func NewToken() (secret string, hash []byte, err error) {
	var random [tokenRandomBytes]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", nil, fmt.Errorf("generating an API token: %w", err)
	}
	body := encodeBase62(random[:], tokenBodyLen)
	secret = TokenPrefixString + body + tokenChecksum(body)
	return secret, hashSecret(secret), nil
}

// HashToken returns the hash under which the server stores the API token
// secret: the SHA-256 of the whole secret, as NewToken returned it. It first
// checks the secret's shape (prefix, length, alphabet and checksum) and
// refuses a malformed one with an error of kind errs.Unauthenticated that
// wraps ErrMalformedToken; the error never contains the secret.
func HashToken(secret string) ([]byte, error) {
	if err := checkToken(secret); err != nil {
		return nil, err
	}
	return hashSecret(secret), nil
}

// TokenPrefix returns the start of an API token secret that may be shown
// and stored in the clear: TokenPrefixString and the first 4 characters of
// the body, such as "mgv_7Gx2". It returns "" for a string that does not
// start like a token.
func TokenPrefix(secret string) string {
	n := len(TokenPrefixString) + tokenDisplayLen
	if len(secret) < n || !strings.HasPrefix(secret, TokenPrefixString) {
		return ""
	}
	for i := len(TokenPrefixString); i < n; i++ {
		if !isBase62(secret[i]) {
			return ""
		}
	}
	return secret[:n]
}

// hashSecret hashes a secret for storage. A fast hash is right here, where
// a slow password hash (bcrypt, Argon2) would be wrong: those slow down the
// guessing of low-entropy secrets, and a token holds 256 random bits, which
// no number of guesses can cover. A fast, unsalted, deterministic hash also
// lets the server find a token by its hash with one indexed lookup instead
// of checking every stored token, and costs nothing per request.
func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// checkToken reports why s is not a well-formed token secret, or nil. Its
// messages describe the problem, never the characters of s.
func checkToken(s string) error {
	if !strings.HasPrefix(s, TokenPrefixString) {
		return malformed("it does not start with " + TokenPrefixString)
	}
	if len(s) != tokenLen {
		return malformed(fmt.Sprintf("it has %d characters instead of %d", len(s), tokenLen))
	}
	for i := len(TokenPrefixString); i < len(s); i++ {
		if !isBase62(s[i]) {
			return malformed("it has a character other than 0-9, A-Z and a-z after " + TokenPrefixString)
		}
	}
	body := s[len(TokenPrefixString) : len(TokenPrefixString)+tokenBodyLen]
	if body > maxTokenBody {
		return malformed("its body is out of range")
	}
	if s[len(TokenPrefixString)+tokenBodyLen:] != tokenChecksum(body) {
		return malformed("its checksum does not match (mistyped or truncated?)")
	}
	return nil
}

// tokenChecksum returns the base62 CRC32 (IEEE) of a token's body.
func tokenChecksum(body string) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE([]byte(body)))
	return encodeBase62(b[:], tokenChecksumLen)
}

// encodeBase62 returns the big-endian number b in base62, left-padded with
// '0' to width digits. width must be large enough for any value of len(b)
// bytes; the callers use constants for which it is.
func encodeBase62(b []byte, width int) string {
	num := append([]byte(nil), b...)
	out := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		// Divide num by 62 in place; the remainder is the next digit.
		var rem uint
		for j, d := range num {
			acc := rem<<8 | uint(d)
			num[j] = byte(acc / 62)
			rem = acc % 62
		}
		out[i] = base62Alphabet[rem]
	}
	return string(out)
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}
