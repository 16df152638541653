package webhook

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestNewSecret(t *testing.T) {
	s1, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if s1 == s2 {
		t.Fatal("two secrets are equal")
	}
	enc, ok := strings.CutPrefix(s1, "whsec_")
	if !ok {
		t.Fatalf("secret %q lacks whsec_ prefix", s1)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) != 32 {
		t.Fatalf("key: %d bytes, err %v", len(key), err)
	}
}

// Known answer: the example of the Standard Webhooks specification, also
// computed independently with
// printf 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
// openssl dgst -sha256 -mac HMAC -macopt hexkey:$(echo MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p) -binary | base64
func TestSignKnownAnswer(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestSignVerifiesWithStandardWebhooks(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"specversion":"1.0","type":"io.modelgov.model.created","id":"42"}`)
	ts := time.Now()
	const id = "msg_42"
	h, err := Headers(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := h.Get("webhook-timestamp"); got != strconv.FormatInt(ts.Unix(), 10) {
		t.Errorf("webhook-timestamp = %q", got)
	}
	if got := h.Get("webhook-id"); got != id {
		t.Errorf("webhook-id = %q", got)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, h); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	libSig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if libSig != h.Get("webhook-signature") {
		t.Fatalf("library signs %s, we %s", libSig, h.Get("webhook-signature"))
	}

	// Tampering with any signed part breaks verification.
	tampered := func(name string, b []byte, mod func(h2 map[string]string)) {
		t.Helper()
		h2 := h.Clone()
		m := map[string]string{}
		mod(m)
		for k, v := range m {
			h2.Set(k, v)
		}
		err := wh.Verify(b, h2)
		if !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("%s: Verify = %v, want ErrNoMatchingSignature", name, err)
		}
	}
	tampered("body", []byte(`{"specversion":"1.0","type":"io.modelgov.model.deleted","id":"42"}`), func(map[string]string) {})
	tampered("timestamp", body, func(m map[string]string) { m["webhook-timestamp"] = strconv.FormatInt(ts.Unix()-1, 10) })
	tampered("id", body, func(m map[string]string) { m["webhook-id"] = "msg_43" })

	// Another secret does not verify.
	other, _ := NewSecret()
	wh2, _ := standardwebhooks.NewWebhook(other)
	if err := wh2.Verify(body, h); err == nil {
		t.Error("verified with a different secret")
	}
}

func TestSignRejects(t *testing.T) {
	good, _ := NewSecret()
	short := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 8))
	for _, c := range []struct{ name, secret, id string }{
		{"no prefix", strings.TrimPrefix(good, "whsec_"), "m"},
		{"bad base64", "whsec_!!!notbase64", "m"},
		{"short key", short, "m"},
		{"empty id", good, ""},
		{"id with newline", good, "a\nb"},
		{"id with space", good, "a b"},
	} {
		if _, err := Sign(c.secret, c.id, time.Now(), nil); err == nil {
			t.Errorf("%s: Sign succeeded", c.name)
		}
	}
	if _, err := Sign("whsec_x", "m", time.Now(), nil); !errors.Is(err, ErrInvalidSecret) {
		t.Errorf("bad secret error %v does not wrap ErrInvalidSecret", err)
	}
}
