package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/identity"
)

// sender sends a request to a test server and returns the status, headers
// and body. A body is sent as JSON unless the header pairs name another
// Content-Type; the server's admin token is sent unless they name another
// Authorization ("" sends no credentials).
type sender interface {
	send(t *testing.T, method, path string, body []byte, header ...string) (int, http.Header, []byte)
}

// withToken is the header pair that authenticates a request with token; an
// empty token sends no credentials.
func withToken(token string) []string {
	if token == "" {
		return []string{"Authorization", ""}
	}
	return []string{"Authorization", "Bearer " + token}
}

// newKey returns a fresh private key of keyType.
func newKey(t *testing.T, keyType string) *identity.PrivateKey {
	t.Helper()
	k, err := identity.GenerateKey(keyType)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sign signs msg with key, base64 as the API takes it.
func sign(t *testing.T, key *identity.PrivateKey, msg []byte) string {
	t.Helper()
	sig, err := key.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// registerKey registers key as the identity of model id
// (PUT .../identity), which must succeed.
func registerKey(t *testing.T, s sender, id string, key *identity.PrivateKey, header ...string) *api.Model {
	t.Helper()
	body := mustJSON(t, api.IdentityRegistration{KeyType: key.Type(), PublicKey: key.Public().Base64()})
	code, _, b := s.send(t, "PUT", "/v1/models/"+id+"/identity", body, header...)
	if code != http.StatusOK {
		t.Fatalf("register the identity of %s: %d %s", id, code, b)
	}
	var m api.Model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Identity == nil || m.Identity.KeyID != key.Public().KeyID() || m.Identity.Status != api.IdentityUnverified {
		t.Fatalf("identity of %s after registration: %+v", id, m.Identity)
	}
	return &m
}

// challenge asks for a verify challenge for model id
// (POST .../identity/challenge), which must be issued.
func challenge(t *testing.T, s sender, id string, header ...string) api.Challenge {
	t.Helper()
	code, h, b := s.send(t, "POST", "/v1/models/"+id+"/identity/challenge", nil, header...)
	if code != http.StatusCreated {
		t.Fatalf("challenge for %s: %d %s", id, code, b)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("challenge for %s: Cache-Control %q, want no-store", id, h.Get("Cache-Control"))
	}
	var ch api.Challenge
	if err := json.Unmarshal(b, &ch); err != nil {
		t.Fatal(err)
	}
	if ch.Nonce == "" || ch.Purpose != api.PurposeVerify {
		t.Fatalf("challenge for %s: %+v", id, ch)
	}
	return ch
}

// answer sends a signature of nonce to verify model id's identity
// (POST .../identity/verify) and returns the answer.
func answer(t *testing.T, s sender, id, nonce, signature string, header ...string) (int, []byte) {
	t.Helper()
	code, _, b := s.send(t, "POST", "/v1/models/"+id+"/identity/verify",
		mustJSON(t, api.ChallengeAnswer{Nonce: nonce, Signature: signature}), header...)
	return code, b
}

// proveIdentity gives model id a verified identity through the HTTP API, as
// its maintainer would: it registers a fresh Ed25519 key, asks for a
// challenge, signs the nonce and sends the signature. header (such as
// withToken(token)) goes with each request. It returns the key.
func proveIdentity(t *testing.T, s sender, id string, header ...string) *identity.PrivateKey {
	t.Helper()
	return proveIdentityWith(t, s, id, newKey(t, api.KeyEd25519), header...)
}

// proveIdentityWith is proveIdentity with a given key.
func proveIdentityWith(t *testing.T, s sender, id string, key *identity.PrivateKey, header ...string) *identity.PrivateKey {
	t.Helper()
	registerKey(t, s, id, key, header...)
	ch := challenge(t, s, id, header...)
	if ch.KeyID != key.Public().KeyID() {
		t.Fatalf("challenge for %s names key %s, want %s", id, ch.KeyID, key.Public().KeyID())
	}
	code, b := answer(t, s, id, ch.Nonce, sign(t, key, []byte(ch.Nonce)), header...)
	if code != http.StatusOK {
		t.Fatalf("verify the identity of %s: %d %s", id, code, b)
	}
	var m api.Model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Identity == nil || m.Identity.Status != api.IdentityVerified || m.Identity.VerifiedAt == nil {
		t.Fatalf("identity of %s after its proof: %+v", id, m.Identity)
	}
	return key
}

// endorse submits endorser's endorsement of model id's identity, signed by
// key (the endorser's) over api.EndorsementMessage(id, keyID), keyID being
// id's key. It returns the answer.
func endorse(t *testing.T, s sender, id, keyID, endorser string, key *identity.PrivateKey, header ...string) (int, []byte) {
	t.Helper()
	body := mustJSON(t, api.EndorsementRequest{Endorser: endorser, Signature: sign(t, key, api.EndorsementMessage(id, keyID))})
	code, _, b := s.send(t, "POST", "/v1/models/"+id+"/identity/endorsements", body, header...)
	return code, b
}

// identityOf returns model id's identity as GET .../identity serves it.
func identityOf(t *testing.T, s sender, id string) *api.Identity {
	t.Helper()
	code, _, b := s.send(t, "GET", "/v1/models/"+id+"/identity", nil)
	if code == http.StatusNotFound {
		return nil
	}
	if code != http.StatusOK {
		t.Fatalf("GET the identity of %s: %d %s", id, code, b)
	}
	var ident api.Identity
	if err := json.Unmarshal(b, &ident); err != nil {
		t.Fatal(err)
	}
	return &ident
}
