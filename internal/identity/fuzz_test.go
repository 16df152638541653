package identity

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/hivellm/modelgov/api"
)

// fuzzKeys are fixed keys for seeds: deterministic, so the corpus is too.
func fuzzKeys(t testing.TB) []*PrivateKey {
	t.Helper()
	ed, err := ParsePrivateKey([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n-----END PRIVATE KEY-----\n"))
	if err != nil {
		t.Fatal(err)
	}
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	k1 := &PrivateKey{keyType: api.KeySecp256k1, k1: secp256k1.PrivKeyFromBytes(seed)}
	return []*PrivateKey{ed, k1}
}

func FuzzParsePublicKey(f *testing.F) {
	for _, k := range fuzzKeys(f) {
		pub := k.Public()
		f.Add(pub.Type, pub.Base64())
		f.Add("", pub.Base64())
		f.Add(pub.Type, base64.RawURLEncoding.EncodeToString(pub.Raw))
	}
	f.Add(api.KeySecp256k1, base64.StdEncoding.EncodeToString(fuzzKeys(f)[1].k1.PubKey().SerializeUncompressed()))
	f.Add(api.KeyEd25519, "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("rsa", "")
	f.Add(api.KeyEd25519, " -----BEGIN PUBLIC KEY----- ")
	f.Fuzz(func(t *testing.T, keyType, b64 string) {
		pub, err := ParsePublicKey(keyType, b64)
		if err != nil {
			if pub != nil {
				t.Fatal("key returned with an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if pub.Type != api.KeyEd25519 && pub.Type != api.KeySecp256k1 {
			t.Fatalf("key of type %q", pub.Type)
		}
		if id := pub.KeyID(); !hexKeyID.MatchString(id) {
			t.Fatalf("key id %q", id)
		}
		back, err := ParsePublicKey(pub.Type, pub.Base64())
		if err != nil || !back.Equal(pub) {
			t.Fatalf("the key does not survive its base64: %v", err)
		}
		// No signature made without the private key verifies.
		err = pub.Verify([]byte("m"), base64.StdEncoding.EncodeToString(make([]byte, 64)))
		if err == nil {
			t.Fatal("an all-zero signature verifies")
		}
	})
}

func FuzzVerify(f *testing.F) {
	msg := []byte("modelgov-endorsement:v1:m:0f715baf5d4c2ed329785cef29e562f7")
	for _, k := range fuzzKeys(f) {
		pub := k.Public()
		sigB64, err := k.Sign(msg)
		if err != nil {
			f.Fatal(err)
		}
		sig, _ := base64.StdEncoding.DecodeString(sigB64)
		f.Add(pub.Type, pub.Base64(), msg, sig, false)
		f.Add(pub.Type, pub.Base64(), msg, []byte(sigB64), true)
		f.Add(pub.Type, pub.Base64(), []byte("other"), sig, false)
		if k.Type() == api.KeySecp256k1 {
			var r, s secp256k1.ModNScalar
			r.SetByteSlice(sig[:32])
			s.SetByteSlice(sig[32:])
			f.Add(pub.Type, pub.Base64(), msg, secpecdsa.NewSignature(&r, &s).Serialize(), false)
			f.Add(pub.Type, pub.Base64(), msg, append(sig, 1), false)
		}
	}
	f.Fuzz(func(t *testing.T, keyType, pubB64 string, msg, sig []byte, rawB64 bool) {
		sigB64 := string(sig)
		if !rawB64 {
			sigB64 = base64.StdEncoding.EncodeToString(sig)
		}
		// Keys straight from the input, valid or not: Verify must not
		// panic on a PublicKey built by hand either.
		raw, _ := base64.StdEncoding.DecodeString(pubB64)
		_ = (&PublicKey{Type: keyType, Raw: raw}).Verify(msg, sigB64)

		pub, err := ParsePublicKey(keyType, pubB64)
		if err != nil {
			return
		}
		err = pub.Verify(msg, sigB64)
		if err != nil && errors.Is(err, ErrBadSignature) && errors.Is(err, ErrMalformedSignature) {
			t.Fatalf("%v is both bad and malformed", err)
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	for _, k := range fuzzKeys(f) {
		data, err := MarshalPrivateKey(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("-----BEGIN EC PARAMETERS-----\nBgUrgQQACg==\n-----END EC PARAMETERS-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKey(data)
		if err != nil {
			return
		}
		msg := []byte("m")
		sig, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Public().Verify(msg, sig); err != nil {
			t.Fatalf("a parsed key's signature does not verify: %v", err)
		}
		if _, err := MarshalPrivateKey(k); err != nil {
			t.Fatal(err)
		}
	})
}
