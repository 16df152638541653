package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

const testAudience = "modelgov-test"

// testKey is a signing key of the test issuer.
type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// The keys are generated once: RSA generation is slow under -race.
var testKeys = sync.OnceValue(func() map[string]testKey {
	keys := map[string]testKey{}
	for _, name := range []string{"rsa-1", "rsa-2", "rsa-other"} {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[name] = testKey{kid: name, alg: jose.RS256, priv: k}
	}
	for _, name := range []string{"ec-1", "ec-other"} {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		keys[name] = testKey{kid: name, alg: jose.ES256, priv: k}
	}
	return keys
})

func key(name string) testKey { return testKeys()[name] }

// testIssuer is an OpenID Connect issuer on loopback: a discovery document
// and a JWKS that the test can change.
type testIssuer struct {
	t    *testing.T
	srv  *httptest.Server
	algs []string

	mu       sync.Mutex
	keys     []testKey
	jwksHits atomic.Int32
}

func newTestIssuer(t *testing.T, algs []string, keys ...testKey) *testIssuer {
	t.Helper()
	is := &testIssuer{t: t, algs: algs, keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                is.srv.URL,
			"authorization_endpoint":                is.srv.URL + "/authorize",
			"token_endpoint":                        is.srv.URL + "/token",
			"jwks_uri":                              is.srv.URL + "/keys",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": is.algs,
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		is.jwksHits.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		var set jose.JSONWebKeySet
		for _, k := range is.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
		}
		writeJSON(w, set)
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// setKeys replaces the keys the issuer publishes.
func (is *testIssuer) setKeys(keys ...testKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = keys
}

// claims returns valid claims for the issuer, changed by edit.
func (is *testIssuer) claims(edit func(c map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss":   is.srv.URL,
		"aud":   testAudience,
		"sub":   "alice",
		"iat":   now.Unix(),
		"nbf":   now.Add(-time.Minute).Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"roles": []string{"maintainer"},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// sign returns claims as a JWT signed by k, with k's kid and algorithm.
func sign(t *testing.T, k testKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (is *testIssuer) authenticator(t *testing.T, edit func(cfg *OIDCConfig)) *OIDC {
	t.Helper()
	cfg := OIDCConfig{Issuer: is.srv.URL, Audience: testAudience, HTTPClient: is.srv.Client()}
	if edit != nil {
		edit(&cfg)
	}
	a, err := NewOIDC(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewOIDC: %v", err)
	}
	return a
}

var bothAlgs = []string{"RS256", "ES256"}

func mustAuthenticate(t *testing.T, a *OIDC, tok string) *api.Principal {
	t.Helper()
	p, err := a.Authenticate(t.Context(), tok)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return p
}

// mustRefuse checks that a refuses tok with an Unauthenticated error that
// does not repeat the token.
func mustRefuse(t *testing.T, a *OIDC, tok string) error {
	t.Helper()
	p, err := a.Authenticate(t.Context(), tok)
	if err == nil {
		t.Fatalf("Authenticate accepted the token: %+v", p)
	}
	if p != nil {
		t.Errorf("a principal with the error")
	}
	if !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("error %v has kind %v, want unauthenticated", err, errs.KindOf(err))
	}
	msg := err.Error()
	t.Logf("refused: %s", msg)
	for _, part := range strings.Split(tok, ".") {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Errorf("the error repeats part of the token: %s", msg)
		}
	}
	return err
}

func TestOIDCValidToken(t *testing.T) {
	for _, kname := range []string{"rsa-1", "ec-1"} {
		t.Run(kname, func(t *testing.T) {
			is := newTestIssuer(t, bothAlgs, key("rsa-1"), key("ec-1"))
			a := is.authenticator(t, nil)
			exp := time.Now().Add(time.Hour).Truncate(time.Second)
			tok := sign(t, key(kname), is.claims(func(c map[string]any) {
				c["exp"] = exp.Unix()
				c["roles"] = []string{"viewer", "governor", "viewer", "evaluator"}
			}))
			if !LooksLikeJWT(tok) {
				t.Fatalf("LooksLikeJWT(token) = false")
			}
			p := mustAuthenticate(t, a, tok)
			want := &api.Principal{
				Name:   "oidc:alice",
				Roles:  []string{api.RoleGovernor, api.RoleEvaluator, api.RoleViewer},
				Method: "oidc",
			}
			if p.Name != want.Name || !slices.Equal(p.Roles, want.Roles) || p.Method != want.Method || p.TokenID != "" {
				t.Fatalf("principal %+v, want %+v", p, want)
			}
			if p.ExpiresAt == nil || !p.ExpiresAt.Equal(exp) {
				t.Fatalf("ExpiresAt = %v, want %v", p.ExpiresAt, exp)
			}
		})
	}
}

func TestOIDCRefusedTokens(t *testing.T) {
	is := newTestIssuer(t, bothAlgs, key("rsa-1"), key("ec-1"))
	a := is.authenticator(t, nil)
	now := time.Now()
	valid := sign(t, key("rsa-1"), is.claims(nil))
	mustAuthenticate(t, a, valid)

	withClaims := func(edit func(c map[string]any)) string {
		return sign(t, key("rsa-1"), is.claims(edit))
	}
	// Signed with another key under a known kid, and under an unknown one.
	impostor := key("rsa-other")
	impostor.kid = "rsa-1"
	ecImpostor := key("ec-other")
	ecImpostor.kid = "ec-1"

	header, payload, sig := splitJWT(t, valid)
	tampered := header + "." + encodeSegment(t, is.claims(func(c map[string]any) { c["roles"] = []string{"admin"} })) + "." + sig
	unsigned := encodeSegment(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + payload + "."
	noneWithSig := encodeSegment(t, map[string]any{"alg": "none", "kid": "rsa-1"}) + "." + payload + "." + sig

	// The classic algorithm confusion: HS256 keyed with the RSA public key.
	pubDER, err := x509.MarshalPKIXPublicKey(key("rsa-1").priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	hmacSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubDER},
		(&jose.SignerOptions{}).WithHeader("kid", "rsa-1"))
	if err != nil {
		t.Fatal(err)
	}
	confused, err := jwt.Signed(hmacSigner).Claims(is.claims(nil)).Serialize()
	if err != nil {
		t.Fatal(err)
	}

	cases := map[string]string{
		"wrong audience":             withClaims(func(c map[string]any) { c["aud"] = "someone-else" }),
		"audience list without":      withClaims(func(c map[string]any) { c["aud"] = []string{"a", "b"} }),
		"no audience":                withClaims(func(c map[string]any) { delete(c, "aud") }),
		"wrong issuer":               withClaims(func(c map[string]any) { c["iss"] = "https://evil.example" }),
		"issuer with slash":          withClaims(func(c map[string]any) { c["iss"] = is.srv.URL + "/" }),
		"no issuer":                  withClaims(func(c map[string]any) { delete(c, "iss") }),
		"expired":                    withClaims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }),
		"no expiry":                  withClaims(func(c map[string]any) { delete(c, "exp") }),
		"not yet valid":              withClaims(func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }),
		"other RSA key":              sign(t, key("rsa-other"), is.claims(nil)),
		"other RSA key, known kid":   sign(t, impostor, is.claims(nil)),
		"other EC key, known kid":    sign(t, ecImpostor, is.claims(nil)),
		"alg none":                   unsigned,
		"alg none with signature":    noneWithSig,
		"HS256 with the public key":  confused,
		"tampered payload":           tampered,
		"signature of another token": header + "." + payload + "." + splitSig(t, withClaims(func(c map[string]any) { c["sub"] = "bob" })),
		"no username claim":          withClaims(func(c map[string]any) { delete(c, "sub") }),
		"empty username":             withClaims(func(c map[string]any) { c["sub"] = "" }),
		"numeric username":           withClaims(func(c map[string]any) { c["sub"] = 42 }),
		"username with newline":      withClaims(func(c map[string]any) { c["sub"] = "alice\nadmin" }),
		"username too long":          withClaims(func(c map[string]any) { c["sub"] = strings.Repeat("a", 257) }),
		"roles claim a number":       withClaims(func(c map[string]any) { c["roles"] = 7 }),
		"roles claim an object":      withClaims(func(c map[string]any) { c["roles"] = map[string]any{"admin": true} }),
		"roles with a number":        withClaims(func(c map[string]any) { c["roles"] = []any{"admin", 1} }),
		"roles with a null":          withClaims(func(c map[string]any) { c["roles"] = []any{"admin", nil} }),
		"not a JWT":                  "mgv_abc",
		"empty":                      "",
		"too long":                   valid + strings.Repeat("A", maxJWTLength),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			mustRefuse(t, a, tok)
		})
	}

	t.Run("expired error", func(t *testing.T) {
		err := mustRefuse(t, a, cases["expired"])
		var expired *oidc.TokenExpiredError
		if !errors.As(err, &expired) {
			t.Fatalf("no TokenExpiredError in %v", err)
		}
	})
	t.Run("nbf within leeway", func(t *testing.T) {
		mustAuthenticate(t, a, withClaims(func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() }))
	})
	t.Run("audience in a list", func(t *testing.T) {
		mustAuthenticate(t, a, withClaims(func(c map[string]any) { c["aud"] = []string{"other", testAudience} }))
	})
}

// TestOIDCAlgorithmsOfDiscovery checks that only the algorithms the issuer
// advertises are accepted: an ES256 token is refused when the discovery
// document lists RS256 alone, even though the JWKS holds the EC key.
func TestOIDCAlgorithmsOfDiscovery(t *testing.T) {
	is := newTestIssuer(t, []string{"RS256"}, key("rsa-1"), key("ec-1"))
	a := is.authenticator(t, nil)
	mustAuthenticate(t, a, sign(t, key("rsa-1"), is.claims(nil)))
	mustRefuse(t, a, sign(t, key("ec-1"), is.claims(nil)))
}

func TestOIDCRoles(t *testing.T) {
	is := newTestIssuer(t, bothAlgs, key("rsa-1"))
	a := is.authenticator(t, nil)
	for name, tc := range map[string]struct {
		roles any
		want  []string
	}{
		"array":              {[]string{"evaluator", "admin"}, []string{"admin", "evaluator"}},
		"single string":      {"governor", []string{"governor"}},
		"space-separated":    {"viewer  maintainer governor", []string{"governor", "maintainer", "viewer"}},
		"duplicates":         {[]string{"viewer", "viewer", "viewer"}, []string{"viewer"}},
		"unknown dropped":    {[]string{"superuser", "viewer", "Admin", "root"}, []string{"viewer"}},
		"only unknown":       {[]string{"superuser"}, []string{}},
		"empty array":        {[]string{}, []string{}},
		"empty string":       {"", []string{}},
		"null":               {nil, []string{}},
		"value with a space": {[]string{"admin viewer"}, []string{}},
		"all":                {api.PrincipalRoles(), api.PrincipalRoles()},
	} {
		t.Run(name, func(t *testing.T) {
			p := mustAuthenticate(t, a, sign(t, key("rsa-1"), is.claims(func(c map[string]any) { c["roles"] = tc.roles })))
			if p.Roles == nil || !slices.Equal(p.Roles, tc.want) {
				t.Fatalf("roles %#v, want %#v", p.Roles, tc.want)
			}
		})
	}
	t.Run("missing claim", func(t *testing.T) {
		p := mustAuthenticate(t, a, sign(t, key("rsa-1"), is.claims(func(c map[string]any) { delete(c, "roles") })))
		if p.Roles == nil || len(p.Roles) != 0 || p.Name != "oidc:alice" {
			t.Fatalf("principal %+v, want oidc:alice with no roles", p)
		}
		if b, _ := json.Marshal(p); !strings.Contains(string(b), `"roles":[]`) {
			t.Fatalf("JSON %s", b)
		}
	})
}

func TestOIDCRoleMapAndClaims(t *testing.T) {
	is := newTestIssuer(t, bothAlgs, key("rsa-1"))
	a := is.authenticator(t, func(cfg *OIDCConfig) {
		cfg.UsernameClaim = "email"
		cfg.UsernamePrefix = "sso/"
		cfg.RolesClaim = "groups"
		cfg.RoleMap = map[string]string{
			"modelgov-governors": api.RoleGovernor,
			"Model Admins":       api.RoleAdmin,
			"ml-team":            api.RoleMaintainer,
			"ml-eval":            api.RoleEvaluator,
			"ml-eval-2":          api.RoleEvaluator,
		}
	})
	for name, tc := range map[string]struct {
		groups any
		want   []string
	}{
		"mapped":                  {[]string{"eng", "modelgov-governors"}, []string{"governor"}},
		"role names not mapped":   {[]string{"admin", "viewer"}, []string{}},
		"several to one":          {[]string{"ml-eval", "ml-eval-2", "ml-team"}, []string{"maintainer", "evaluator"}},
		"string with spaces":      {"Model Admins", []string{"admin"}},
		"space-separated string":  {"ml-team modelgov-governors", []string{"governor", "maintainer"}},
		"array value with spaces": {[]string{"Model Admins"}, []string{"admin"}},
		"case matters":            {[]string{"MODELGOV-GOVERNORS"}, []string{}},
	} {
		t.Run(name, func(t *testing.T) {
			p := mustAuthenticate(t, a, sign(t, key("rsa-1"), is.claims(func(c map[string]any) {
				c["email"] = "alice@example.com"
				c["groups"] = tc.groups
				c["roles"] = []string{"admin"} // not the configured claim
			})))
			if p.Name != "sso/alice@example.com" || !slices.Equal(p.Roles, tc.want) {
				t.Fatalf("principal %+v, want sso/alice@example.com with %v", p, tc.want)
			}
		})
	}
	t.Run("no email", func(t *testing.T) {
		mustRefuse(t, a, sign(t, key("rsa-1"), is.claims(nil)))
	})
	t.Run("email not a string", func(t *testing.T) {
		mustRefuse(t, a, sign(t, key("rsa-1"), is.claims(func(c map[string]any) { c["email"] = []string{"alice@example.com"} })))
	})
	t.Run("email null", func(t *testing.T) {
		mustRefuse(t, a, sign(t, key("rsa-1"), is.claims(func(c map[string]any) { c["email"] = nil })))
	})
	t.Run("empty role map drops everything", func(t *testing.T) {
		b := is.authenticator(t, func(cfg *OIDCConfig) { cfg.RoleMap = map[string]string{} })
		p := mustAuthenticate(t, b, sign(t, key("rsa-1"), is.claims(func(c map[string]any) { c["roles"] = "admin" })))
		if len(p.Roles) != 0 {
			t.Fatalf("roles %v", p.Roles)
		}
	})
}

func TestOIDCKeyRotation(t *testing.T) {
	is := newTestIssuer(t, bothAlgs, key("rsa-1"))
	a := is.authenticator(t, nil)
	mustAuthenticate(t, a, sign(t, key("rsa-1"), is.claims(nil)))
	mustAuthenticate(t, a, sign(t, key("rsa-1"), is.claims(nil)))
	if n := is.jwksHits.Load(); n != 1 {
		t.Fatalf("%d key fetches for one key, want 1 (cached)", n)
	}
	// Before the issuer publishes rsa-2, its tokens are refused.
	mustRefuse(t, a, sign(t, key("rsa-2"), is.claims(nil)))

	// The issuer rotates to rsa-2 and an EC key, and retires rsa-1.
	is.setKeys(key("rsa-2"), key("ec-1"))
	// go-oidc signals the waiters of a key fetch a moment before it lets
	// the next fetch start: a verification right after a refusal may still
	// get the keys of the fetch before. So the new key is accepted, and the
	// retired one refused, within a short while, not necessarily at once.
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s", what)
			}
		}
	}
	bob := sign(t, key("rsa-2"), is.claims(func(c map[string]any) { c["sub"] = "bob" }))
	eventually("a token of the new key accepted", func() bool {
		p, err := a.Authenticate(context.Background(), bob)
		if err == nil && p.Name != "oidc:bob" {
			t.Fatalf("principal %+v", p)
		}
		return err == nil
	})
	mustAuthenticate(t, a, sign(t, key("ec-1"), is.claims(nil)))
	// A token of the retired key is refused once the keys are refetched.
	old := sign(t, key("rsa-1"), is.claims(nil))
	eventually("a token of the retired key refused", func() bool {
		_, err := a.Authenticate(context.Background(), old)
		return err != nil
	})
}

func TestNewOIDCErrors(t *testing.T) {
	is := newTestIssuer(t, bothAlgs, key("rsa-1"))
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for name, cfg := range map[string]OIDCConfig{
		"no issuer":          {Audience: testAudience},
		"no audience":        {Issuer: is.srv.URL},
		"issuer mismatch":    {Issuer: is.srv.URL + "/", Audience: testAudience},
		"no discovery":       {Issuer: is.srv.URL + "/tenant", Audience: testAudience},
		"unreachable issuer": {Issuer: closedURL, Audience: testAudience},
		"bad role map":       {Issuer: is.srv.URL, Audience: testAudience, RoleMap: map[string]string{"g": "governer"}},
	} {
		t.Run(name, func(t *testing.T) {
			if a, err := NewOIDC(t.Context(), cfg); err == nil {
				t.Fatalf("NewOIDC accepted %+v: %v", cfg, a)
			}
		})
	}
	t.Run("default client", func(t *testing.T) {
		a, err := NewOIDC(t.Context(), OIDCConfig{Issuer: is.srv.URL, Audience: testAudience})
		if err != nil {
			t.Fatal(err)
		}
		mustAuthenticate(t, a, sign(t, key("rsa-1"), is.claims(nil)))
	})
}

func TestOIDCConcurrent(t *testing.T) {
	is := newTestIssuer(t, bothAlgs, key("rsa-1"), key("ec-1"))
	a := is.authenticator(t, nil)
	toks := []string{sign(t, key("rsa-1"), is.claims(nil)), sign(t, key("ec-1"), is.claims(nil))}
	bad := sign(t, key("rsa-other"), is.claims(nil))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := a.Authenticate(ctx, toks[i%2]); err != nil {
				t.Errorf("Authenticate: %v", err)
			}
			if _, err := a.Authenticate(ctx, bad); err == nil {
				t.Errorf("accepted a token of another key")
			}
		})
	}
	wg.Wait()
}

func TestRefuseRedacts(t *testing.T) {
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
	h, p, s := splitJWT(t, tok)
	for _, cause := range []error{
		errors.New("bad token " + tok),
		errors.New("bad signature " + s),
		errors.New("bad header " + h + " and payload " + p),
	} {
		err := refuse(cause, tok)
		msg := err.Error()
		if strings.Contains(msg, h) || strings.Contains(msg, p) || strings.Contains(msg, s) {
			t.Errorf("message %q repeats the token", msg)
		}
		if !errors.Is(err, cause) || !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("error %v lost its cause or kind", err)
		}
	}
	if got := redact("a short b", "a.b.c"); got != "a short b" {
		t.Errorf("short pieces redacted: %q", got)
	}
}

func TestLooksLikeJWT(t *testing.T) {
	secret, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_A": true,
		"eyJhbGciOiJub25lIn0.e30.":                     true,
		"eyJ.eyJ.abcd":                                 true,
		secret:                                         false,
		"":                                             false,
		"..":                                           false,
		"a.b":                                          false,
		"eyJ.e30.abc.def":                              false,
		".e30.abc":                                     false,
		"eyJ..abc":                                     false,
		"eyJ+.e30.abc":                                 false,
		"eyJ=.e30.abc":                                 false,
		"eyJ.e30.ab c":                                 false,
		"eyJhb.e30.abc":                                false, // a length no bytes encode to
		"Bearer eyJ.e30.abc":                           false,
	} {
		if got := LooksLikeJWT(s); got != want {
			t.Errorf("LooksLikeJWT(%q) = %v, want %v", s, got, want)
		}
	}
}

func splitJWT(t *testing.T, tok string) (header, payload, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

func splitSig(t *testing.T, tok string) string {
	_, _, s := splitJWT(t, tok)
	return s
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
