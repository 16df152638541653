package auth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/internal/errs"
)

var tokenRE = regexp.MustCompile(`^mgv_[0-9A-Za-z]{49}$`)

func TestNewTokenFormat(t *testing.T) {
	secret, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if !tokenRE.MatchString(secret) {
		t.Fatalf("secret %q does not match %s", secret, tokenRE)
	}
	if want := sha256.Sum256([]byte(secret)); !bytes.Equal(hash, want[:]) {
		t.Fatalf("hash is not the SHA-256 of the secret")
	}
	if p := TokenPrefix(secret); p != secret[:8] || !strings.HasPrefix(p, TokenPrefixString) {
		t.Fatalf("TokenPrefix = %q", p)
	}
	// The body is the random value, the checksum its CRC32, both checked
	// here against math/big rather than encodeBase62.
	body, sum := secret[4:47], secret[47:]
	if got := decodeBase62(t, sum); got.Uint64() != uint64(crc32.ChecksumIEEE([]byte(body))) {
		t.Fatalf("checksum %s does not decode to the CRC32 of the body", sum)
	}
	if decodeBase62(t, body).BitLen() > 256 {
		t.Fatalf("body holds more than 256 bits")
	}
}

// decodeBase62 decodes s (alphabet 0-9A-Za-z) with math/big, whose base 62
// alphabet is 0-9a-zA-Z.
func decodeBase62(t *testing.T, s string) *big.Int {
	t.Helper()
	swapped := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
	n, ok := new(big.Int).SetString(swapped, 62)
	if !ok {
		t.Fatalf("%q is not base62", s)
	}
	return n
}

func TestEncodeBase62(t *testing.T) {
	for _, b := range [][]byte{
		make([]byte, 32),
		bytes.Repeat([]byte{0xff}, 32),
		append(make([]byte, 31), 1),
		append([]byte{1}, make([]byte, 31)...),
		[]byte("0123456789abcdefghijklmnopqrstuv"),
	} {
		got := encodeBase62(b, tokenBodyLen)
		if len(got) != tokenBodyLen {
			t.Fatalf("encodeBase62(%x) = %q: length %d", b, got, len(got))
		}
		if n := decodeBase62(t, got); n.Cmp(new(big.Int).SetBytes(b)) != 0 {
			t.Fatalf("encodeBase62(%x) = %q, which decodes to %x", b, got, n.Bytes())
		}
	}
	if got := encodeBase62([]byte{0xff, 0xff, 0xff, 0xff}, tokenChecksumLen); got != "4gfFC3" {
		t.Fatalf("encodeBase62(2^32-1) = %q, want 4gfFC3", got)
	}
	if got := encodeBase62([]byte{0, 0, 0, 61}, tokenChecksumLen); got != "00000z" {
		t.Fatalf("encodeBase62(61) = %q", got)
	}
}

func TestNewTokenUnique(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	hashes := make(map[string]bool, n)
	prefixes := make(map[string]int)
	for range n {
		secret, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if !tokenRE.MatchString(secret) {
			t.Fatalf("secret %q is malformed", secret)
		}
		if seen[secret] || hashes[string(hash)] {
			t.Fatalf("duplicate token after %d", len(seen))
		}
		seen[secret], hashes[string(hash)] = true, true
		prefixes[TokenPrefix(secret)]++
	}
	// 10000 draws among 62^4 prefixes: most prefixes are distinct, and a
	// broken generator (a constant start) would show.
	if len(prefixes) < n*9/10 {
		t.Fatalf("only %d distinct prefixes in %d tokens", len(prefixes), n)
	}
}

func TestHashTokenRoundTrip(t *testing.T) {
	secret, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	got, err := HashToken(secret)
	if err != nil {
		t.Fatalf("HashToken(NewToken()): %v", err)
	}
	if !bytes.Equal(got, hash) {
		t.Fatalf("HashToken differs from NewToken's hash")
	}
	other, otherHash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if other == secret || bytes.Equal(otherHash, hash) {
		t.Fatalf("two tokens share a secret or a hash")
	}
	if h, _ := HashToken(other); !bytes.Equal(h, otherHash) {
		t.Fatalf("HashToken of the second token differs")
	}
}

func TestHashTokenChecksumCatchesSubstitutions(t *testing.T) {
	secret, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for i := len(TokenPrefixString); i < len(secret); i++ {
		for j := 0; j < len(base62Alphabet); j++ {
			c := base62Alphabet[j]
			if c == secret[i] {
				continue
			}
			typo := secret[:i] + string(c) + secret[i+1:]
			tried++
			if _, err := HashToken(typo); !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("substituting %q at %d: HashToken = %v, want ErrMalformedToken", c, i, err)
			}
		}
	}
	if tried != 49*61 {
		t.Fatalf("tried %d substitutions", tried)
	}
	// Swapping two different neighbours is caught too.
	for i := len(TokenPrefixString); i+1 < len(secret); i++ {
		if secret[i] == secret[i+1] {
			continue
		}
		swap := secret[:i] + string(secret[i+1]) + string(secret[i]) + secret[i+2:]
		if _, err := HashToken(swap); err == nil {
			t.Fatalf("swapping %d and %d was not caught", i, i+1)
		}
	}
}

func TestHashTokenRefusesMalformed(t *testing.T) {
	secret, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("z", tokenBodyLen) // over 2^256
	outOfRange := TokenPrefixString + body + tokenChecksum(body)
	maxBody := TokenPrefixString + maxTokenBody + tokenChecksum(maxTokenBody)
	zero := strings.Repeat("0", tokenBodyLen)
	for name, s := range map[string]string{
		"empty":           "",
		"prefix only":     TokenPrefixString,
		"no prefix":       secret[4:],
		"other prefix":    "ghp_" + secret[4:],
		"upper prefix":    "MGV_" + secret[4:],
		"truncated":       secret[:len(secret)-1],
		"extended":        secret + "0",
		"space":           secret[:10] + " " + secret[11:],
		"dash":            secret[:10] + "-" + secret[11:],
		"non-ASCII":       secret[:10] + "é" + secret[12:],
		"newline":         secret + "\n",
		"out of range":    outOfRange,
		"jwt":             "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
		"bad sum of zero": TokenPrefixString + zero + "000000",
	} {
		h, err := HashToken(s)
		if err == nil {
			t.Errorf("%s: HashToken accepted %q", name, s)
			continue
		}
		if h != nil {
			t.Errorf("%s: a hash with the error", name)
		}
		if !errors.Is(err, ErrMalformedToken) || !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("%s: error %v (kind %v) is not a malformed-token Unauthenticated", name, err, errs.KindOf(err))
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "malformed API token: ") {
			t.Errorf("%s: message %q", name, msg)
		}
		if len(s) >= 12 && strings.Contains(msg, s[4:12]) {
			t.Errorf("%s: message %q repeats the secret", name, msg)
		}
	}
	// The largest and the smallest bodies are well-formed.
	if _, err := HashToken(maxBody); err != nil {
		t.Errorf("body 2^256-1: %v", err)
	}
	if _, err := HashToken(TokenPrefixString + zero + tokenChecksum(zero)); err != nil {
		t.Errorf("body 0: %v", err)
	}
}

func TestTokenPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"mgv_abcdXYZ":  "mgv_abcd",
		"mgv_abcd":     "mgv_abcd",
		"mgv_abc":      "",
		"":             "",
		"xyz_abcdefgh": "",
		"mgv_ab\ncd":   "",
		"mgv_a.b.c":    "",
	} {
		if got := TokenPrefix(in); got != want {
			t.Errorf("TokenPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// wellFormed is an independent statement of the token format: the regexp,
// the body at most 2^256-1, and the checksum, computed with math/big.
func wellFormed(s string) bool {
	if !tokenRE.MatchString(s) {
		return false
	}
	body, sum := s[4:47], s[47:]
	swap := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			switch {
			case 'a' <= r && r <= 'z':
				r = r - 'a' + 'A'
			case 'A' <= r && r <= 'Z':
				r = r - 'A' + 'a'
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	n, _ := new(big.Int).SetString(swap(body), 62)
	c, _ := new(big.Int).SetString(swap(sum), 62)
	return n.BitLen() <= 256 && c.IsUint64() && c.Uint64() == uint64(crc32.ChecksumIEEE([]byte(body)))
}

func FuzzHashToken(f *testing.F) {
	for range 4 {
		secret, _, err := NewToken()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(secret)
		f.Add(secret[:len(secret)-1] + "0")
		f.Add(strings.ToUpper(secret))
	}
	f.Add("")
	f.Add("mgv_")
	f.Add("mgv_" + strings.Repeat("z", 49))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := HashToken(s)
		ok := wellFormed(s)
		if err != nil {
			if ok {
				t.Fatalf("HashToken refused the well-formed %q: %v", s, err)
			}
			if h != nil || !errors.Is(err, ErrMalformedToken) || !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("HashToken(%q): hash %x, error %v", s, h, err)
			}
			if len(s) > 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("the error repeats the input: %v", err)
			}
			return
		}
		if !ok {
			t.Fatalf("HashToken accepted the malformed %q", s)
		}
		if want := sha256.Sum256([]byte(s)); !bytes.Equal(h, want[:]) {
			t.Fatalf("HashToken(%q) is not its SHA-256", s)
		}
		if TokenPrefix(s) != s[:8] {
			t.Fatalf("TokenPrefix(%q) = %q", s, TokenPrefix(s))
		}
	})
}
