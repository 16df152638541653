package web_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/auth"
	"github.com/hivellm/modelgov/internal/web"
)

const (
	testClientID     = "modelgov-web"
	testClientSecret = "s3cret"
)

// fakeIssuer is an OpenID Connect issuer on loopback: discovery, a JWKS
// with one RSA key, and a token endpoint that checks the client, the code
// and its PKCE verifier and issues an ID token signed with the key.
type fakeIssuer struct {
	t   *testing.T
	srv *httptest.Server
	key *rsa.PrivateKey

	mu sync.Mutex
	// codes are the authorization codes given out, with their grant.
	codes map[string]grant
}

// grant is what the issuer remembers of an authorization: the PKCE
// challenge, the redirect URL and the ID token's claims.
type grant struct {
	challenge, redirect string
	claims              map[string]any
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &fakeIssuer{t: t, key: key, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSONTo(w, http.StatusOK, map[string]any{"issuer": is.srv.URL, "authorization_endpoint": is.srv.URL + "/authorize",
			"token_endpoint": is.srv.URL + "/token", "jwks_uri": is.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSONTo(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", is.token)
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func writeJSONTo(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authorize plays the user signing in at the issuer: it checks the
// authorization request the web interface sent the browser to, and returns
// the callback URL the issuer would send the browser back to. edit changes
// the ID token's claims, which start as a valid token for the request.
func (is *fakeIssuer) authorize(location string, edit func(claims map[string]any)) string {
	is.t.Helper()
	u, err := url.Parse(location)
	if err != nil || !strings.HasPrefix(location, is.srv.URL+"/authorize?") {
		is.t.Fatalf("the sign-in did not send the browser to the issuer: %q", location)
	}
	q := u.Query()
	for k, want := range map[string]string{"client_id": testClientID, "response_type": "code", "scope": "openid profile",
		"code_challenge_method": "S256"} {
		if q.Get(k) != want {
			is.t.Errorf("authorization request: %s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge", "redirect_uri"} {
		if len(q.Get(k)) < 20 {
			is.t.Fatalf("authorization request: %s = %q, want a random value", k, q.Get(k))
		}
	}
	now := time.Now()
	claims := map[string]any{"iss": is.srv.URL, "aud": testClientID, "sub": "carol", "nonce": q.Get("nonce"),
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "roles": []string{"governor", "not-a-role"}}
	if edit != nil {
		edit(claims)
	}
	code := randomString(is.t)
	is.mu.Lock()
	is.codes[code] = grant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), claims: claims}
	is.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	return back.String()
}

// token is the token endpoint: the client's credentials, a code used once,
// the redirect URL it was given for and its PKCE verifier.
func (is *fakeIssuer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSONTo(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != testClientID || secret != testClientSecret {
		writeJSONTo(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	is.mu.Lock()
	g, found := is.codes[r.PostForm.Get("code")]
	delete(is.codes, r.PostForm.Get("code"))
	is.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code" || !found:
		writeJSONTo(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "unknown or used code"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSONTo(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verifier does not match"})
		return
	case r.PostForm.Get("redirect_uri") != g.redirect:
		writeJSONTo(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri differs"})
		return
	}
	writeJSONTo(w, http.StatusOK, map[string]any{"access_token": "at-" + randomString(is.t), "token_type": "Bearer",
		"expires_in": 3600, "id_token": is.sign(g.claims)})
}

// sign returns claims as a JWT signed with the issuer's key.
func (is *fakeIssuer) sign(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: is.key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		is.t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		is.t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		is.t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		is.t.Fatal(err)
	}
	return raw
}

func randomString(t *testing.T) string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// clock is a time the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// oidcSite is a site whose web interface offers sign-in with a fake
// issuer, on a clock the test moves.
func oidcSite(t *testing.T) (*site, *fakeIssuer, *clock) {
	t.Helper()
	base := newSite(t, siteConfig{})
	is := newFakeIssuer(t)
	clk := &clock{now: time.Now()}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	signin, err := web.NewOIDCSignin(context.Background(), web.OIDCConfig{
		Provider: auth.OIDCConfig{Issuer: is.srv.URL, Audience: "the-api-not-the-web"}, ClientID: testClientID,
		ClientSecret: testClientSecret, RedirectURL: srv.URL + web.OIDCCallbackPath, Name: "Fake IdP", Scopes: []string{"profile"}})
	if err != nil {
		t.Fatal(err)
	}
	if h, err = web.New(web.Config{Registry: base.reg, Logger: slog.New(slog.DiscardHandler), OIDC: signin, Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	return &site{Server: srv, reg: base.reg, tokens: base.tokens}, is, clk
}

// startOIDC starts a sign-in with the issuer and returns where it sends
// the browser.
func (b *browser) startOIDC(next string) string {
	b.t.Helper()
	res := b.get("/signin/oidc?next=" + url.QueryEscape(next))
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("start: %d\n%s", res.status, res.body)
	}
	var flow *http.Cookie
	for _, line := range res.header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == "modelgov_oidc" {
			flow = c
		}
	}
	if flow == nil || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.MaxAge <= 0 || flow.MaxAge > 600 {
		b.t.Errorf("the sign-in's cookie is %+v, want HttpOnly, SameSite=Lax, short-lived", flow)
	}
	return res.header.Get("Location")
}

func TestOIDCSignIn(t *testing.T) {
	s, is, clk := oidcSite(t)
	b := s.browser(t)
	form := b.get("/signin?next=/leaderboards")
	if !strings.Contains(form.body, `<a class="button" id="oidc-signin" href="/signin/oidc?next=%2Fleaderboards">Sign in with Fake IdP</a>`) {
		t.Fatalf("the sign-in page does not offer the issuer:\n%s", form.body)
	}
	callback := is.authorize(b.startOIDC("/leaderboards"), nil)
	if !strings.HasPrefix(callback, s.URL+web.OIDCCallbackPath+"?") {
		t.Fatalf("callback %q is not the configured redirect URL", callback)
	}
	res := b.get(strings.TrimPrefix(callback, s.URL))
	if res.status != http.StatusOK || !strings.Contains(res.body, `id="signed-in"`) || res.header.Get("Refresh") != "0; url=/leaderboards" {
		t.Fatalf("callback: %d Refresh %q\n%s", res.status, res.header.Get("Refresh"), res.body)
	}
	c := sessionCookie(t, res.header)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge <= 3590 || c.MaxAge > 3600 {
		t.Errorf("session cookie %+v, want HttpOnly, Strict, ending with the ID token", c)
	}

	// The principal is the API's mapping: prefixed name, roles from the
	// claim, unknown values dropped.
	home := b.get("/")
	if home.status != http.StatusOK || !strings.Contains(home.body, "Signed in as <strong>oidc:carol</strong> (governor)") {
		t.Fatalf("home after sign-in: %d\n%s", home.status, home.body)
	}
	// The session acts through the registry's write path as that principal.
	act := b.changeLifecycle("openai/gpt-5", "active", "approved with OIDC")
	if act.status != http.StatusSeeOther {
		t.Fatalf("lifecycle change as oidc:carol: %d\n%s", act.status, act.body)
	}
	if m, _ := s.reg.GetModel(context.Background(), "openai/gpt-5"); m.Lifecycle == nil || m.Lifecycle.ChangedBy != "oidc:carol" {
		t.Errorf("the change is not recorded as oidc:carol: %+v", m.Lifecycle)
	}
	// The flow is used once.
	if again := b.get(strings.TrimPrefix(callback, s.URL)); again.status != http.StatusBadRequest || !strings.Contains(again.body, "no sign-in in progress") {
		t.Errorf("the callback replayed: %d\n%s", again.status, again.body)
	}
	if home := b.get("/"); home.status != http.StatusOK {
		t.Errorf("a replayed callback ended the session: %d", home.status)
	}

	// The session ends when the ID token expires.
	clk.advance(time.Hour + time.Second)
	if res := b.get("/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/signin") {
		t.Errorf("after the ID token's expiry: %d %q, want a redirect to sign in", res.status, res.header.Get("Location"))
	}
}

func TestOIDCRefusals(t *testing.T) {
	s, is, _ := oidcSite(t)
	cases := []struct {
		name   string
		edit   func(map[string]any)
		mangle func(callback string) string
		status int
		want   string
	}{
		{name: "wrong state", mangle: func(cb string) string { return replaceParam(cb, "state", "forged-state-0123456789") },
			status: http.StatusForbidden, want: "state does not match"},
		{name: "no state", mangle: func(cb string) string { return replaceParam(cb, "state", "") },
			status: http.StatusForbidden, want: "state does not match"},
		{name: "wrong nonce", edit: func(c map[string]any) { c["nonce"] = "another-sign-in-nonce" },
			status: http.StatusUnauthorized, want: "nonce does not match"},
		{name: "no nonce", edit: func(c map[string]any) { delete(c, "nonce") },
			status: http.StatusUnauthorized, want: "nonce does not match"},
		{name: "expired token", edit: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
			status: http.StatusUnauthorized, want: "expired"},
		{name: "wrong audience", edit: func(c map[string]any) { c["aud"] = "the-api-not-the-web" },
			status: http.StatusUnauthorized, want: "audience"},
		{name: "wrong issuer", edit: func(c map[string]any) { c["iss"] = "https://elsewhere.example" },
			status: http.StatusUnauthorized, want: "issued by a different provider"},
		{name: "no modelgov role", edit: func(c map[string]any) { c["roles"] = []string{"staff"} },
			status: http.StatusForbidden, want: "oidc:carol holds no modelgov role"},
		{name: "code already used or forged", mangle: func(cb string) string { return replaceParam(cb, "code", "forged-code") },
			status: http.StatusUnauthorized, want: `would not exchange the authorization code: &#34;invalid_grant&#34;`},
		{name: "the user declined", mangle: func(cb string) string {
			u, _ := url.Parse(cb)
			return replaceParam(replaceParam(cb, "code", ""), "error", "access_denied") + "&error_description=" + url.QueryEscape("<b>no</b> "+strings.Repeat("y", 5000)) + "&state=" + u.Query().Get("state")
		}, status: http.StatusUnauthorized, want: `the issuer answered &#34;access_denied&#34;: &lt;b&gt;no&lt;/b&gt; yyy`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := s.browser(t)
			callback := is.authorize(b.startOIDC("/"), tc.edit)
			if tc.mangle != nil {
				callback = tc.mangle(callback)
			}
			res := b.get(strings.TrimPrefix(callback, s.URL))
			if res.status != tc.status || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, `role="alert"`) {
				t.Errorf("status %d, want %d with %q\n%s", res.status, tc.status, tc.want, res.body)
			}
			// The refusal is the sign-in page, ready to start again.
			if !strings.Contains(res.body, `id="oidc-signin"`) {
				t.Errorf("the refusal does not offer to sign in again")
			}
			if c := sessionCookie(t, res.header); c != nil && c.MaxAge >= 0 {
				t.Errorf("a refused sign-in set a session cookie")
			}
			if home := b.get("/"); home.status != http.StatusSeeOther {
				t.Errorf("after a refused sign-in the browser reads: %d", home.status)
			}
			if strings.Contains(res.body, strings.Repeat("y", 200)) {
				t.Errorf("the page quotes a huge value back")
			}
		})
	}

	t.Run("a callback without a sign-in in progress", func(t *testing.T) {
		b := s.browser(t)
		callback := is.authorize(s.browser(t).startOIDC("/"), nil) // started in another browser
		res := b.get(strings.TrimPrefix(callback, s.URL))
		if res.status != http.StatusBadRequest || !strings.Contains(res.body, "no sign-in in progress") {
			t.Errorf("status %d\n%s", res.status, res.body)
		}
	})
	t.Run("a sign-in that took too long", func(t *testing.T) {
		s, is, clk := oidcSite(t)
		b := s.browser(t)
		callback := is.authorize(b.startOIDC("/"), nil)
		clk.advance(11 * time.Minute)
		if res := b.get(strings.TrimPrefix(callback, s.URL)); res.status != http.StatusBadRequest {
			t.Errorf("status %d, want 400\n%s", res.status, res.body)
		}
	})
	t.Run("next stays on this site", func(t *testing.T) {
		b := s.browser(t)
		res := b.get(strings.TrimPrefix(is.authorize(b.startOIDC("https://evil.example/"), nil), s.URL))
		if res.status != http.StatusOK || res.header.Get("Refresh") != "0; url=/" {
			t.Errorf("status %d, Refresh %q, want a refresh to /", res.status, res.header.Get("Refresh"))
		}
	})
}

// replaceParam sets (or, with "", removes) a query parameter of a URL.
func replaceParam(raw, name, value string) string {
	u, _ := url.Parse(raw)
	q := u.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func TestOIDCNotConfigured(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.browser(t)
	if form := b.get("/signin"); strings.Contains(form.body, "Sign in with") || strings.Contains(form.body, "/signin/oidc") {
		t.Errorf("the sign-in page offers OIDC without an issuer:\n%s", form.body)
	}
	for _, path := range []string{"/signin/oidc", web.OIDCCallbackPath + "?code=x&state=y"} {
		if res := b.get(path); res.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.status)
		}
	}
}

func TestNewOIDCSignin(t *testing.T) {
	is := newFakeIssuer(t)
	good := web.OIDCConfig{Provider: auth.OIDCConfig{Issuer: is.srv.URL}, ClientID: testClientID, RedirectURL: "https://registry.example/signin/oidc/callback"}
	if _, err := web.NewOIDCSignin(context.Background(), good); err != nil {
		t.Fatalf("a good configuration: %v", err)
	}
	cases := map[string]func(*web.OIDCConfig){
		"no issuer":                func(c *web.OIDCConfig) { c.Provider.Issuer = "" },
		"no client id":             func(c *web.OIDCConfig) { c.ClientID = "" },
		"relative redirect":        func(c *web.OIDCConfig) { c.RedirectURL = "/signin/oidc/callback" },
		"redirect to another path": func(c *web.OIDCConfig) { c.RedirectURL = "https://registry.example/callback" },
		"unreachable issuer":       func(c *web.OIDCConfig) { c.Provider.Issuer = "http://127.0.0.1:1" },
		"bad role map":             func(c *web.OIDCConfig) { c.Provider.RoleMap = map[string]string{"staff": "superuser"} },
	}
	for name, edit := range cases {
		cfg := good
		edit(&cfg)
		if _, err := web.NewOIDCSignin(context.Background(), cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The principal of an OIDC session is the API's: the same role map.
func TestOIDCRoleMap(t *testing.T) {
	base := newSite(t, siteConfig{})
	is := newFakeIssuer(t)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	signin, err := web.NewOIDCSignin(context.Background(), web.OIDCConfig{
		Provider: auth.OIDCConfig{Issuer: is.srv.URL, RolesClaim: "groups", UsernameClaim: "email", RoleMap: map[string]string{"ml-readers": api.RoleViewer}},
		ClientID: testClientID, ClientSecret: testClientSecret, RedirectURL: srv.URL + web.OIDCCallbackPath, Scopes: []string{"profile"}})
	if err != nil {
		t.Fatal(err)
	}
	if h, err = web.New(web.Config{Registry: base.reg, OIDC: signin, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	s := &site{Server: srv, reg: base.reg}
	b := s.browser(t)
	callback := is.authorize(b.startOIDC("/"), func(c map[string]any) {
		c["email"], c["groups"] = "dan@example.com", []string{"ml-readers", "governor"}
	})
	if res := b.get(strings.TrimPrefix(callback, s.URL)); res.status != http.StatusOK {
		t.Fatalf("callback: %d\n%s", res.status, res.body)
	}
	home := b.get("/")
	if !strings.Contains(home.body, "Signed in as <strong>oidc:dan@example.com</strong> (viewer)") {
		t.Errorf("home: %d\n%s", home.status, home.body)
	}
	// A viewer reads but does not act.
	if act := b.changeLifecycle("openai/gpt-5", "active", "try"); act.status != http.StatusForbidden {
		t.Errorf("a viewer's lifecycle change: %d", act.status)
	}
}
