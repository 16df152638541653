package identity

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/hivellm/modelgov/api"
)

// openssl runs the openssl command in dir and returns its standard output.
// Without openssl on PATH the test is skipped, except in CI (CI=true),
// where the interop tests must run and it fails.
type openssl struct {
	t    *testing.T
	path string
	dir  string
}

func newOpenSSL(t *testing.T) *openssl {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl is not on PATH, and the interop tests must run in CI: %v", err)
		}
		t.Skipf("openssl is not on PATH: %v", err)
	}
	return &openssl{t: t, path: path, dir: t.TempDir()}
}

func (o *openssl) run(args ...string) []byte {
	o.t.Helper()
	cmd := exec.Command(o.path, args...)
	cmd.Dir = o.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		o.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func (o *openssl) write(name string, data []byte) {
	o.t.Helper()
	if err := os.WriteFile(filepath.Join(o.dir, name), data, 0o600); err != nil {
		o.t.Fatal(err)
	}
}

func (o *openssl) read(name string) []byte {
	o.t.Helper()
	b, err := os.ReadFile(filepath.Join(o.dir, name))
	if err != nil {
		o.t.Fatal(err)
	}
	return b
}

func (o *openssl) readKey(name string) *PrivateKey {
	o.t.Helper()
	k, err := ParsePrivateKey(o.read(name))
	if err != nil {
		o.t.Fatalf("ParsePrivateKey(%s): %v\n%s", name, err, o.read(name))
	}
	return k
}

func TestOpenSSLEd25519(t *testing.T) {
	o := newOpenSSL(t)
	nonce, err := NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(nonce)
	o.write("msg", msg)

	// A key and signature made by openssl verify.
	o.run("genpkey", "-algorithm", "ed25519", "-out", "key.pem")
	priv := o.readKey("key.pem")
	if priv.Type() != api.KeyEd25519 {
		t.Fatalf("openssl's ed25519 key parsed as %s", priv.Type())
	}
	o.run("pkeyutl", "-sign", "-rawin", "-inkey", "key.pem", "-in", "msg", "-out", "sig")
	sig := base64.StdEncoding.EncodeToString(o.read("sig"))
	if err := priv.Public().Verify(msg, sig); err != nil {
		t.Fatalf("openssl's signature: %v", err)
	}
	if err := priv.Public().Verify(append(msg, '!'), sig); err == nil {
		t.Fatal("openssl's signature verified for another message")
	}

	// The raw key at the end of openssl's DER public key has the same id.
	der := o.run("pkey", "-in", "key.pem", "-pubout", "-outform", "DER")
	pub, err := ParsePublicKey(api.KeyEd25519, base64.StdEncoding.EncodeToString(der[len(der)-32:]))
	if err != nil {
		t.Fatal(err)
	}
	if pub.KeyID() != priv.Public().KeyID() || !pub.Equal(priv.Public()) {
		t.Fatalf("key id from openssl %s, from the private key %s", pub.KeyID(), priv.Public().KeyID())
	}

	// openssl reads the key we write, and verifies our signature.
	ours := mustGenerate(t, api.KeyEd25519)
	data, err := MarshalPrivateKey(ours)
	if err != nil {
		t.Fatal(err)
	}
	o.write("ours.pem", data)
	der = o.run("pkey", "-in", "ours.pem", "-pubout", "-outform", "DER")
	if !bytes.Equal(der[len(der)-32:], ours.Public().Raw) {
		t.Fatal("openssl reads another public key from our PEM")
	}
	o.run("pkey", "-in", "ours.pem", "-pubout", "-out", "ours.pub.pem")
	ourSig, _ := base64.StdEncoding.DecodeString(mustSign(t, ours, msg))
	o.write("ours.sig", ourSig)
	o.run("pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", "ours.pub.pem", "-in", "msg", "-sigfile", "ours.sig")
}

func TestOpenSSLSecp256k1(t *testing.T) {
	o := newOpenSSL(t)
	msg := api.EndorsementMessage("model-a", "0f715baf5d4c2ed329785cef29e562f7")
	o.write("msg", msg)

	// openssl reads the key we write, as secp256k1 with our public key.
	ours := mustGenerate(t, api.KeySecp256k1)
	data, err := MarshalPrivateKey(ours)
	if err != nil {
		t.Fatal(err)
	}
	o.write("key.pem", data)
	text := string(o.run("ec", "-in", "key.pem", "-noout", "-text"))
	if !strings.Contains(text, "secp256k1") {
		t.Fatalf("openssl ec does not see a secp256k1 key:\n%s", text)
	}
	der := o.run("ec", "-in", "key.pem", "-pubout", "-conv_form", "compressed", "-outform", "DER")
	if !bytes.Equal(der[len(der)-33:], ours.Public().Raw) {
		t.Fatal("openssl reads another public key from our PEM")
	}

	// A DER signature by openssl, with our key file, verifies.
	o.run("dgst", "-sha256", "-sign", "key.pem", "-out", "sig.der", "msg")
	sigDER := o.read("sig.der")
	if err := ours.Public().Verify(msg, base64.StdEncoding.EncodeToString(sigDER)); err != nil {
		t.Fatalf("openssl's DER signature: %v", err)
	}
	if err := ours.Public().Verify(append(msg, '!'), base64.StdEncoding.EncodeToString(sigDER)); err == nil {
		t.Fatal("openssl's signature verified for another message")
	}
	// So does its compact form.
	parsed, err := secpecdsa.ParseDERSignature(sigDER)
	if err != nil {
		t.Fatal(err)
	}
	r, s := parsed.R(), parsed.S()
	var compact [64]byte
	r.PutBytesUnchecked(compact[:32])
	s.PutBytesUnchecked(compact[32:])
	if err := ours.Public().Verify(msg, base64.StdEncoding.EncodeToString(compact[:])); err != nil {
		t.Fatalf("openssl's signature in compact form: %v", err)
	}

	// openssl verifies our signature (compact, turned into DER).
	ourSig, _ := base64.StdEncoding.DecodeString(mustSign(t, ours, msg))
	var rr, ss secp256k1.ModNScalar
	rr.SetByteSlice(ourSig[:32])
	ss.SetByteSlice(ourSig[32:])
	o.write("ours.sig.der", secpecdsa.NewSignature(&rr, &ss).Serialize())
	o.run("ec", "-in", "key.pem", "-pubout", "-out", "pub.pem")
	o.run("dgst", "-sha256", "-verify", "pub.pem", "-signature", "ours.sig.der", "msg")

	// Keys openssl makes, SEC 1 (after an EC PARAMETERS block) and
	// PKCS#8, parse, with the public key openssl sees.
	for _, gen := range [][]string{
		{"ecparam", "-name", "secp256k1", "-genkey", "-out", "gen.pem"},
		{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1", "-out", "gen.pem"},
	} {
		o.run(gen...)
		k := o.readKey("gen.pem")
		if k.Type() != api.KeySecp256k1 {
			t.Fatalf("%s: parsed as %s", gen[0], k.Type())
		}
		der := o.run("ec", "-in", "gen.pem", "-pubout", "-conv_form", "compressed", "-outform", "DER")
		pub, err := ParsePublicKey(api.KeySecp256k1, base64.StdEncoding.EncodeToString(der[len(der)-33:]))
		if err != nil {
			t.Fatal(err)
		}
		if pub.KeyID() != k.Public().KeyID() {
			t.Fatalf("%s: key id from openssl %s, from the private key %s", gen[0], pub.KeyID(), k.Public().KeyID())
		}
		o.run("dgst", "-sha256", "-sign", "gen.pem", "-out", "gen.sig", "msg")
		if err := pub.Verify(msg, base64.StdEncoding.EncodeToString(o.read("gen.sig"))); err != nil {
			t.Fatalf("%s: openssl's signature: %v", gen[0], err)
		}
	}
}
