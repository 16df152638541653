package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/hivellm/modelgov/api"
)

var keyTypes = []string{api.KeyEd25519, api.KeySecp256k1}

var hexKeyID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustGenerate(t testing.TB, keyType string) *PrivateKey {
	t.Helper()
	k, err := GenerateKey(keyType)
	if err != nil {
		t.Fatalf("GenerateKey(%q): %v", keyType, err)
	}
	return k
}

func mustSign(t testing.TB, k *PrivateKey, msg []byte) string {
	t.Helper()
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return sig
}

// wantErr fails unless err is non-nil and its message contains want.
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want one containing %q", err, want)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt, func(t *testing.T) {
			priv := mustGenerate(t, kt)
			if priv.Type() != kt {
				t.Fatalf("Type() = %q, want %q", priv.Type(), kt)
			}
			pub := priv.Public()
			nonce, err := NewNonce()
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range [][]byte{[]byte(nonce), api.EndorsementMessage("m-1", pub.KeyID()), {}, nil} {
				sig := mustSign(t, priv, msg)
				if err := pub.Verify(msg, sig); err != nil {
					t.Fatalf("Verify(%q): %v", msg, err)
				}
				// Surrounding spaces around the signature are ignored.
				if err := pub.Verify(msg, " "+sig+"\n"); err != nil {
					t.Fatalf("Verify with spaces: %v", err)
				}
			}

			// The public key goes through its base64 form unchanged.
			parsed, err := ParsePublicKey(kt, "  "+pub.Base64()+"\n")
			if err != nil {
				t.Fatalf("ParsePublicKey(Base64()): %v", err)
			}
			if !parsed.Equal(pub) || parsed.Type != kt {
				t.Fatalf("parsed %+v, want %+v", parsed, pub)
			}
			wantLen := map[string]int{api.KeyEd25519: 32, api.KeySecp256k1: 33}[kt]
			if len(pub.Raw) != wantLen {
				t.Fatalf("raw key is %d bytes, want %d", len(pub.Raw), wantLen)
			}

			// The key id is the hex of the first 16 bytes of SHA-256 of the raw key.
			id := pub.KeyID()
			if !hexKeyID.MatchString(id) {
				t.Fatalf("KeyID() = %q, want 32 lowercase hex digits", id)
			}
			sum := sha256.Sum256(pub.Raw)
			if want := hex.EncodeToString(sum[:16]); id != want {
				t.Fatalf("KeyID() = %q, want %q", id, want)
			}
			if parsed.KeyID() != id {
				t.Fatal("the key id changed through base64")
			}

			// Another key does not verify the signature.
			other := mustGenerate(t, kt).Public()
			msg := []byte(nonce)
			err = other.Verify(msg, mustSign(t, priv, msg))
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify with another key: %v, want ErrBadSignature", err)
			}
			if errors.Is(err, ErrMalformedSignature) {
				t.Fatal("a well-formed signature was called malformed")
			}
			if err.Error() != "the signature does not verify with the model's key" {
				t.Fatalf("message %q", err)
			}
		})
	}
}

func TestEmptyKeyTypeIsEd25519(t *testing.T) {
	k := mustGenerate(t, "")
	if k.Type() != api.KeyEd25519 {
		t.Fatalf("GenerateKey(\"\") made a %s key", k.Type())
	}
	pub, err := ParsePublicKey("", k.Public().Base64())
	if err != nil || pub.Type != api.KeyEd25519 {
		t.Fatalf("ParsePublicKey(\"\", ...) = %+v, %v", pub, err)
	}
}

// TestKnownKeyIDs checks key ids against values computed outside Go
// (`xxd -r -p | sha256sum`).
func TestKnownKeyIDs(t *testing.T) {
	for _, c := range []struct{ keyType, rawHex, id string }{
		// RFC 8032, section 7.1, test 1.
		{api.KeyEd25519, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "21fe31dfa154a261626bf854046fd227"},
		// The secp256k1 generator: the public key of private key 1.
		{api.KeySecp256k1, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "0f715baf5d4c2ed329785cef29e562f7"},
	} {
		pub, err := ParsePublicKey(c.keyType, b64(mustHex(t, c.rawHex)))
		if err != nil {
			t.Fatalf("%s: %v", c.keyType, err)
		}
		if got := pub.KeyID(); got != c.id {
			t.Errorf("%s: KeyID() = %s, want %s", c.keyType, got, c.id)
		}
	}
	// The generator's key is that of private key 1.
	one := secp256k1.PrivKeyFromBytes([]byte{1})
	k := &PrivateKey{keyType: api.KeySecp256k1, k1: one}
	if got := k.Public().KeyID(); got != "0f715baf5d4c2ed329785cef29e562f7" {
		t.Errorf("key id of private key 1: %s", got)
	}
}

// TestRFC8032 verifies the first test vector of RFC 8032 (empty message).
func TestRFC8032(t *testing.T) {
	pub, err := ParsePublicKey(api.KeyEd25519, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
	if err != nil {
		t.Fatal(err)
	}
	sig := mustHex(t, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
	if err := pub.Verify(nil, b64(sig)); err != nil {
		t.Fatalf("RFC 8032 test 1: %v", err)
	}
	if err := pub.Verify([]byte{0}, b64(sig)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("RFC 8032 signature of another message: %v", err)
	}
}

func TestTamperedMessageOrSignature(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt, func(t *testing.T) {
			priv := mustGenerate(t, kt)
			pub := priv.Public()
			msg := []byte("modelgov-challenge-nonce")
			sigB64 := mustSign(t, priv, msg)
			sig, _ := base64.StdEncoding.DecodeString(sigB64)

			for i := 0; i < len(msg)*8; i += 7 {
				m := bytes.Clone(msg)
				m[i/8] ^= 1 << (i % 8)
				if err := pub.Verify(m, sigB64); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("message bit %d flipped: %v, want ErrBadSignature", i, err)
				}
			}
			for i := 0; i < len(sig)*8; i++ {
				s := bytes.Clone(sig)
				s[i/8] ^= 1 << (i % 8)
				if err := pub.Verify(msg, b64(s)); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("signature bit %d flipped: %v, want ErrBadSignature", i, err)
				}
			}
			if err := pub.Verify(append(bytes.Clone(msg), 0), sigB64); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("extended message: %v", err)
			}
		})
	}
}

func TestParsePublicKeyErrors(t *testing.T) {
	ed := mustGenerate(t, api.KeyEd25519).Public()
	k1 := mustGenerate(t, api.KeySecp256k1)
	uncompressed := k1.k1.PubKey().SerializeUncompressed()
	spki, err := x509.MarshalPKIXPublicKey(ed25519.PublicKey(ed.Raw))
	if err != nil {
		t.Fatal(err)
	}
	// A raw key whose base64 has + or /, to show the URL-safe alphabet.
	plusSlash := bytes.Repeat([]byte{0xfb, 0xff}, 16)
	identity := make([]byte, 32)
	identity[0] = 1
	nonCanonical := bytes.Repeat([]byte{0xff}, 32)
	nonCanonical[0], nonCanonical[31] = 0xee, 0x7f
	xTooBig := append([]byte{2}, bytes.Repeat([]byte{0xff}, 32)...)

	for _, c := range []struct {
		name, keyType, b64, want string
	}{
		{"unknown type", "rsa", ed.Base64(), `unknown key type "rsa"; use ed25519 or secp256k1`},
		{"type case", "Ed25519", ed.Base64(), `unknown key type "Ed25519"`},
		{"empty", api.KeyEd25519, "  ", "the public key is empty"},
		{"not base64", api.KeyEd25519, "not base64!", "the public key is not valid base64"},
		{"url-safe", api.KeyEd25519, base64.URLEncoding.EncodeToString(plusSlash), "URL-safe"},
		{"no padding", api.KeyEd25519, base64.RawStdEncoding.EncodeToString(ed.Raw), "padding"},
		{"too long", api.KeyEd25519, strings.Repeat("A", 1000), "the public key is too long"},
		{"pem", api.KeyEd25519, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----", "PEM"},
		{"ed25519 31 bytes", api.KeyEd25519, b64(ed.Raw[:31]), "an ed25519 public key is 32 bytes, this one is 31"},
		{"ed25519 33 bytes", "", b64(append(bytes.Clone(ed.Raw), 0)), "an ed25519 public key is 32 bytes, this one is 33"},
		{"ed25519 spki", api.KeyEd25519, b64(spki), "last 32 bytes"},
		{"ed25519 private", api.KeyEd25519, b64(make([]byte, 64)), "private key"},
		{"ed25519 identity", api.KeyEd25519, b64(identity), "small order"},
		{"ed25519 non-canonical", api.KeyEd25519, b64(nonCanonical), "not canonically encoded"},
		{"secp256k1 as ed25519", api.KeyEd25519, k1.Public().Base64(), "this one is 33"},
		{"uncompressed", api.KeySecp256k1, b64(uncompressed), "uncompressed (65 bytes); send the 33-byte compressed form"},
		{"secp256k1 32 bytes", api.KeySecp256k1, ed.Base64(), "a secp256k1 public key is 33 bytes (the compressed point), this one is 32"},
		{"secp256k1 prefix", api.KeySecp256k1, b64(append([]byte{5}, k1.Public().Raw[1:]...)), "starts with 0x02 or 0x03, this one starts with 0x05"},
		{"secp256k1 x too big", api.KeySecp256k1, b64(xTooBig), "not a point on the secp256k1 curve"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pub, err := ParsePublicKey(c.keyType, c.b64)
			wantErr(t, err, c.want)
			if pub != nil {
				t.Fatal("a key was returned with the error")
			}
		})
	}

	// An x coordinate with no point on the curve.
	for x := byte(1); ; x++ {
		raw := make([]byte, 33)
		raw[0], raw[32] = 2, x
		if _, err := secp256k1.ParsePubKey(raw); err == nil {
			continue
		}
		_, err := ParsePublicKey(api.KeySecp256k1, b64(raw))
		wantErr(t, err, "not a point on the secp256k1 curve")
		break
	}
}

// TestEd25519SmallOrderKeys shows why small-order keys are refused (a
// signature made without any private key verifies with them) and that
// every one is.
func TestEd25519SmallOrderKeys(t *testing.T) {
	// R = the identity point, S = 0: [S]B = R + [k]A holds whenever [k]A
	// is the identity, which for a small-order A happens often.
	forged := make([]byte, 64)
	forged[0] = 1
	for i, y := range ed25519SmallOrder {
		for _, sign := range []byte{0, 0x80} {
			raw := y
			raw[31] |= sign
			if _, err := ParsePublicKey(api.KeyEd25519, b64(raw[:])); err == nil {
				t.Fatalf("small-order key %d (sign %x) accepted", i, sign)
			}
			k := &PublicKey{Type: api.KeyEd25519, Raw: raw[:]}
			if err := k.Verify([]byte("x"), b64(forged)); err == nil || errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify with small-order key %d: %v, want a key error", i, err)
			}
			if sign != 0 {
				continue
			}
			// The list is right: crypto/ed25519 alone accepts the forgery
			// for some message.
			ok := false
			for m := 0; m < 256 && !ok; m++ {
				ok = ed25519.Verify(raw[:], []byte{byte(m)}, forged)
			}
			if !ok {
				t.Errorf("entry %d of the small-order list does not look small-order", i)
			}
		}
	}
}

func TestVerifyMalformedSignatures(t *testing.T) {
	ed := mustGenerate(t, api.KeyEd25519)
	k1 := mustGenerate(t, api.KeySecp256k1)
	msg := []byte("m")
	edSig, _ := base64.StdEncoding.DecodeString(mustSign(t, ed, msg))
	k1Sig, _ := base64.StdEncoding.DecodeString(mustSign(t, k1, msg))
	zeroR := bytes.Clone(k1Sig)
	copy(zeroR[:32], make([]byte, 32))
	bigS := bytes.Clone(k1Sig)
	copy(bigS[32:], bytes.Repeat([]byte{0xff}, 32))

	for _, c := range []struct {
		name string
		key  *PrivateKey
		sig  string
		want string
	}{
		{"empty", ed, "", "the signature is empty"},
		{"bad base64", ed, "%%%%", "the signature is not valid base64"},
		{"unpadded", ed, base64.RawStdEncoding.EncodeToString(edSig), "padding"},
		{"too long", ed, strings.Repeat("AAAA", 100), "the signature is too long"},
		{"ed25519 63 bytes", ed, b64(edSig[:63]), "an ed25519 signature is 64 bytes, this one is 63"},
		{"ed25519 65 bytes", ed, b64(append(bytes.Clone(edSig), 0)), "an ed25519 signature is 64 bytes, this one is 65"},
		{"secp256k1 short", k1, b64(k1Sig[:10]), "a secp256k1 signature is DER or the 64-byte r||s, this one is 10 bytes"},
		{"secp256k1 recoverable", k1, b64(append(bytes.Clone(k1Sig), 1)), "recovery byte"},
		{"secp256k1 r zero", k1, b64(zeroR), "r is out of range"},
		{"secp256k1 s too big", k1, b64(bigS), "s is out of range"},
		{"secp256k1 bad DER", k1, b64([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x01}), "not valid DER"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.key.Public().Verify(msg, c.sig)
			wantErr(t, err, c.want)
			if !errors.Is(err, ErrMalformedSignature) {
				t.Fatalf("%v does not match ErrMalformedSignature", err)
			}
			if errors.Is(err, ErrBadSignature) {
				t.Fatalf("%v matches ErrBadSignature", err)
			}
		})
	}
}

func TestVerifyWithBadPublicKey(t *testing.T) {
	sig := mustSign(t, mustGenerate(t, api.KeyEd25519), []byte("m"))
	var nilKey *PublicKey
	for _, c := range []struct {
		name string
		key  *PublicKey
		want string
	}{
		{"nil", nilKey, "no public key"},
		{"short ed25519", &PublicKey{Type: api.KeyEd25519, Raw: []byte{1, 2, 3}}, "this one is 3"},
		{"empty secp256k1", &PublicKey{Type: api.KeySecp256k1}, "this one is 0"},
		{"unknown type", &PublicKey{Type: "rsa", Raw: make([]byte, 32)}, `unknown key type "rsa"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.key.Verify([]byte("m"), sig), c.want)
		})
	}
}

// TestSecp256k1Encodings checks that the compact and DER forms of one
// signature both verify, and that high-S signatures are accepted.
func TestSecp256k1Encodings(t *testing.T) {
	priv := mustGenerate(t, api.KeySecp256k1)
	pub := priv.Public()
	for i := range 20 {
		msg := []byte{byte(i), 'm'}
		compact, _ := base64.StdEncoding.DecodeString(mustSign(t, priv, msg))
		if len(compact) != 64 {
			t.Fatalf("Sign made %d bytes, want 64", len(compact))
		}
		var r, s secp256k1.ModNScalar
		r.SetByteSlice(compact[:32])
		s.SetByteSlice(compact[32:])
		if s.IsOverHalfOrder() {
			t.Fatal("Sign made a high-S signature")
		}
		der := secpecdsa.NewSignature(&r, &s).Serialize()
		if err := pub.Verify(msg, b64(der)); err != nil {
			t.Fatalf("DER form: %v", err)
		}
		if err := pub.Verify(msg, b64(compact)); err != nil {
			t.Fatalf("compact form: %v", err)
		}
		if err := pub.Verify(append(msg, 0), b64(der)); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("DER form, other message: %v", err)
		}

		// The high-S twin (r, n-s) of the same signature.
		var highS secp256k1.ModNScalar
		highS.NegateVal(&s)
		if !highS.IsOverHalfOrder() {
			t.Fatal("n-s is not high")
		}
		var hc [64]byte
		r.PutBytesUnchecked(hc[:32])
		highS.PutBytesUnchecked(hc[32:])
		if err := pub.Verify(msg, b64(hc[:])); err != nil {
			t.Fatalf("high-S compact: %v", err)
		}
		if err := pub.Verify(msg, b64(secpecdsa.NewSignature(&r, &highS).Serialize())); err != nil {
			t.Fatalf("high-S DER: %v", err)
		}
	}

	// A 64-byte signature that is valid DER (29-byte r and s) is read both
	// ways, and is a bad signature rather than a malformed one.
	der64 := []byte{0x30, 0x3e, 0x02, 0x1d}
	der64 = append(der64, bytes.Repeat([]byte{0x11}, 29)...)
	der64 = append(der64, 0x02, 0x1d)
	der64 = append(der64, bytes.Repeat([]byte{0x22}, 29)...)
	if len(der64) != 64 {
		t.Fatalf("test DER is %d bytes", len(der64))
	}
	if _, err := secpecdsa.ParseDERSignature(der64); err != nil {
		t.Fatalf("test DER does not parse: %v", err)
	}
	if err := pub.Verify([]byte("m"), b64(der64)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("64-byte DER: %v, want ErrBadSignature", err)
	}
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	for range 100 {
		n, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(n) {
			t.Fatalf("nonce %q is not 43 base64url characters", n)
		}
		b, err := base64.RawURLEncoding.DecodeString(n)
		if err != nil || len(b) != 32 {
			t.Fatalf("nonce %q decodes to %d bytes, %v", n, len(b), err)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

func TestValidArtifactDigest(t *testing.T) {
	good := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for s, want := range map[string]bool{
		good:                                true,
		"sha256:" + strings.Repeat("f", 64): true,
		"":                                  false,
		"sha256:":                           false,
		good[:len(good)-1]:                  false,
		good + "0":                          false,
		strings.ToUpper(good):               false,
		"sha256:" + strings.Repeat("A", 64): false,
		"sha256:" + strings.Repeat("g", 64): false,
		"sha512:" + strings.Repeat("0", 64): false,
		"SHA256:" + strings.Repeat("0", 64): false,
		" " + good:                          false,
		strings.Repeat("0", 71):             false,
	} {
		if got := ValidArtifactDigest(s); got != want {
			t.Errorf("ValidArtifactDigest(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestPrivateKeyPEMRoundTrip(t *testing.T) {
	for _, c := range []struct{ keyType, pemType string }{
		{api.KeyEd25519, "PRIVATE KEY"},
		{api.KeySecp256k1, "EC PRIVATE KEY"},
	} {
		t.Run(c.keyType, func(t *testing.T) {
			priv := mustGenerate(t, c.keyType)
			data, err := MarshalPrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			block, rest := pem.Decode(data)
			if block == nil || block.Type != c.pemType || len(bytes.TrimSpace(rest)) > 0 {
				t.Fatalf("MarshalPrivateKey wrote %q", data)
			}
			back, err := ParsePrivateKey(data)
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if back.Type() != c.keyType || !back.Public().Equal(priv.Public()) {
				t.Fatal("the key changed through PEM")
			}
			msg := []byte("after the round trip")
			if err := priv.Public().Verify(msg, mustSign(t, back, msg)); err != nil {
				t.Fatal(err)
			}
			// An EC PARAMETERS block before the key (as openssl ecparam
			// writes) is skipped.
			params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a}})
			if back, err := ParsePrivateKey(append(params, data...)); err != nil || !back.Public().Equal(priv.Public()) {
				t.Fatalf("with EC PARAMETERS first: %v", err)
			}
		})
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256PKCS8, err := x509.MarshalPKCS8PrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	p256SEC1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaPKCS8, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	k1 := mustGenerate(t, api.KeySecp256k1)
	other := mustGenerate(t, api.KeySecp256k1).k1.PubKey().SerializeUncompressed()
	mismatched, err := asn1.Marshal(ecPrivateKey{
		Version: 1, PrivateKey: k1.k1.Serialize(), NamedCurveOID: oidSecp256k1,
		PublicKey: asn1.BitString{Bytes: other, BitLength: 8 * len(other)},
	})
	if err != nil {
		t.Fatal(err)
	}
	noCurve, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: k1.k1.Serialize()})
	if err != nil {
		t.Fatal(err)
	}
	zero, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: make([]byte, 32), NamedCurveOID: oidSecp256k1})
	if err != nil {
		t.Fatal(err)
	}
	enc := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }

	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no PEM private key found"},
		{"not PEM", []byte("hello"), "no PEM private key found"},
		{"public key", enc("PUBLIC KEY", []byte{0}), "this is a public key"},
		{"encrypted", enc("ENCRYPTED PRIVATE KEY", []byte{0}), "encrypted"},
		{"certificate", enc("CERTIFICATE", []byte{0}), `unsupported PEM block "CERTIFICATE"`},
		{"garbage PKCS#8", enc("PRIVATE KEY", []byte{1, 2, 3}), "not valid PKCS#8"},
		{"garbage SEC 1", enc("EC PRIVATE KEY", []byte{1, 2, 3}), "not valid SEC 1"},
		{"P-256 PKCS#8", enc("PRIVATE KEY", p256PKCS8), "not secp256k1"},
		{"P-256 SEC 1", enc("EC PRIVATE KEY", p256SEC1), "not secp256k1"},
		{"RSA", enc("PRIVATE KEY", rsaPKCS8), "unsupported private key algorithm"},
		{"mismatched public key", enc("EC PRIVATE KEY", mismatched), "inconsistent"},
		{"no curve", enc("EC PRIVATE KEY", noCurve), "does not name its curve"},
		{"zero key", enc("EC PRIVATE KEY", zero), "out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParsePrivateKey(c.data)
			wantErr(t, err, c.want)
			if k != nil {
				t.Fatal("a key was returned with the error")
			}
		})
	}
}

func TestUnknownKeyType(t *testing.T) {
	_, err := GenerateKey("rsa")
	wantErr(t, err, `unknown key type "rsa"; use ed25519 or secp256k1`)
	_, err = MarshalPrivateKey(nil)
	wantErr(t, err, "no private key")
}
