package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// issuer is an OpenID Connect issuer on loopback: discovery and a JWKS of
// one RSA key, and the tokens it signs.
type issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"authorization_endpoint": is.srv.URL + "/auth", "token_endpoint": is.srv.URL + "/token",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: "k1", Algorithm: string(jose.RS256), Use: "sig"}}})
	})
	// Unstarted until is.srv is set, which the handlers read.
	is.srv = httptest.NewUnstartedServer(mux)
	is.srv.Start()
	t.Cleanup(is.srv.Close)
	return is
}

// token signs a JWT for subject with the given roles claim.
func (is *issuer) token(t *testing.T, audience, subject string, roles []string, ttl time.Duration) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: is.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: is.srv.URL, Subject: subject, Audience: jwt.Audience{audience},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl))}).
		Claims(map[string]any{"groups": roles}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestOIDCTokens: with --oidc-issuer and --oidc-audience, the real server
// accepts bearer JWTs from a local issuer, maps the configured claim to
// roles, names the principal oidc:<subject> in the audit log, and refuses
// tokens for another audience or expired ones.
func TestOIDCTokens(t *testing.T) {
	is := newIssuer(t)
	srv := startServer(t, t.TempDir(), "--oidc-issuer", is.srv.URL, "--oidc-audience", "modelgov",
		"--oidc-roles-claim", "groups", "--oidc-role-map", "hive-governors=governor", "--oidc-role-map", "hive-readers=viewer")
	as := func(token string) commandLine { return commandLine{url: srv.URL, token: token} }

	gov := as(is.token(t, "modelgov", "alice", []string{"hive-governors", "unknown-group"}, time.Hour))
	var who struct {
		Name   string   `json:"name"`
		Roles  []string `json:"roles"`
		Method string   `json:"method"`
	}
	if err := json.Unmarshal([]byte(gov.succeed(t, "", "whoami", "-o", "json")), &who); err != nil {
		t.Fatal(err)
	}
	if who.Name != "oidc:alice" || strings.Join(who.Roles, ",") != "governor" || who.Method != "oidc" {
		t.Fatalf("whoami with alice's JWT = %+v, want oidc:alice, governor, oidc", who)
	}

	// A governor's write goes through, under the OIDC principal.
	admin := srv.cli()
	admin.succeed(t, `{"schema_version":"1.1","model_id":"meta/llama-3-1-405b","provider":"meta","display_name":"Llama 3.1 405B",
		"size_class":"xl","parameters":{"count":405e9,"source":"declared"}}`, "model", "apply", "-f", "-")
	gov.succeed(t, "", "model", "lifecycle", "meta/llama-3-1-405b", "--to", "active", "--reason", "approved by alice")
	if log := admin.succeed(t, "", "audit", "log", "--model", "meta/llama-3-1-405b"); !strings.Contains(log, "oidc:alice") {
		t.Errorf("the audit log does not name oidc:alice:\n%s", log)
	}

	// A reader may read, not write.
	reader := as(is.token(t, "modelgov", "bob", []string{"hive-readers"}, time.Hour))
	reader.succeed(t, "", "model", "get", "meta/llama-3-1-405b")
	if res := reader.fail(t, "", "model", "lifecycle", "meta/llama-3-1-405b", "--to", "suspended", "--reason", "r"); !strings.Contains(res.stderr, "forbidden") {
		t.Errorf("a viewer's write: %q, want forbidden", res.stderr)
	}

	// Another audience, an expired token: refused.
	for name, tok := range map[string]string{
		"another audience": is.token(t, "another-service", "alice", []string{"hive-governors"}, time.Hour),
		"expired":          is.token(t, "modelgov", "alice", []string{"hive-governors"}, -time.Minute),
	} {
		if res := as(tok).fail(t, "", "whoami"); !strings.Contains(res.stderr, "unauthenticated") {
			t.Errorf("%s: %q, want unauthenticated", name, res.stderr)
		}
	}
}
