package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store/sqlite"
	"github.com/hivellm/modelgov/internal/web"
)

// site is a web interface over a real registry on SQLite, with a token
// for each kind of user.
type site struct {
	*httptest.Server
	reg    *registry.Service
	tokens map[string]string // by user: admin, governor, alice (maintainer, owner), bob (maintainer), viewer
}

type siteConfig struct {
	anonymousRead bool
	secure        bool
	models        int // extra models acme/m-000 ... beyond the fixtures
}

var admin = registry.WriteOptions{Caller: registry.Caller{Principal: "root", Roles: []string{api.RoleAdmin}}}

func newSite(t *testing.T, cfg siteConfig) *site {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "modelgov.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	signer, err := audit.LoadOrCreateSigner(dir, "modelgov/test")
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	reg, err := registry.New(registry.Config{Store: st, Schema: v, Logger: logger, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	s := &site{reg: reg, tokens: map[string]string{}}
	for name, role := range map[string]string{"admin": api.RoleAdmin, "governor": api.RoleGovernor, "alice": api.RoleMaintainer,
		"bob": api.RoleMaintainer, "viewer": api.RoleViewer} {
		tok, err := reg.CreateToken(ctx, api.TokenRequest{Name: name, Roles: []string{role}}, admin)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[name] = tok.Token
	}
	s.create(t, "meta/llama-3-1-405b", "Llama 3.1 405B", "meta", "llama")
	s.create(t, "openai/gpt-5", "GPT-5", "openai", "gpt")
	s.create(t, "evil/script", `<script>alert("x")</script>`, "evil", "x")
	for i := range cfg.models {
		s.create(t, fmt.Sprintf("acme/m-%03d", i), fmt.Sprintf("Acme %d", i), "acme", "m")
	}
	h, err := web.New(web.Config{Registry: reg, Logger: logger, Secure: cfg.secure, AnonymousRead: cfg.anonymousRead})
	if err != nil {
		t.Fatal(err)
	}
	s.Server = httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// create registers a proposed model owned by alice.
func (s *site) create(t *testing.T, id, name, provider, family string) {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"schema_version": "1.1", "model_id": id, "provider": provider, "display_name": name,
		"family": family, "size_class": "large", "owners": []string{"alice"}, "labels": map[string]string{"team": provider}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.reg.CreateModel(context.Background(), doc, admin); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}

// browser is an HTTP client with cookies that does not follow redirects,
// so that tests see them.
type browser struct {
	t    *testing.T
	site *site
	c    *http.Client
}

func (s *site) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, site: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// response is a status, headers and body.
type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(path string) response {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil)
}

func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	return b.do(http.MethodPost, path, form)
}

func (b *browser) do(method, path string, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.site.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(data)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the first form on a page.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	return m[1]
}

// signIn signs in with user's token and returns the browser.
func (s *site) signIn(t *testing.T, user string) *browser {
	t.Helper()
	b := s.browser(t)
	form := b.get("/signin")
	res := b.post("/signin", url.Values{"csrf": {csrf(t, form.body)}, "token": {s.tokens[user]}, "next": {"/"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
		t.Fatalf("sign in as %s: %d %s\n%s", user, res.status, res.header.Get("Location"), res.body)
	}
	return b
}

func sessionCookie(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == web.SessionCookie {
			return c
		}
	}
	return nil
}

func TestSignIn(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure=%v", secure), func(t *testing.T) {
			s := newSite(t, siteConfig{secure: secure})
			b := s.browser(t)
			form := b.get("/signin")
			if form.status != http.StatusOK || !strings.Contains(form.body, `<label for="token">`) {
				t.Fatalf("sign-in form: %d\n%s", form.status, form.body)
			}
			res := b.post("/signin", url.Values{"csrf": {csrf(t, form.body)}, "token": {s.tokens["governor"]}, "next": {"/audit"}})
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/audit" {
				t.Fatalf("good token: %d %q, want 303 to /audit", res.status, res.header.Get("Location"))
			}
			c := sessionCookie(t, res.header)
			if c == nil {
				t.Fatalf("no session cookie in %q", res.header.Values("Set-Cookie"))
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure != secure || len(c.Value) < 43 {
				t.Errorf("session cookie = %+v; want HttpOnly, SameSite=Strict, Path=/, Secure=%v, 32 random bytes", c, secure)
			}
			page := b.get("/audit")
			if page.status != http.StatusOK || !strings.Contains(page.body, "Signed in as <strong>governor</strong>") {
				t.Errorf("after sign-in: %d\n%s", page.status, page.body)
			}
		})
	}
}

func TestSignInRefused(t *testing.T) {
	s := newSite(t, siteConfig{})
	cases := []struct {
		name   string
		token  string
		csrf   bool
		status int
		want   string
	}{
		{"unknown token", "mgv_notatokenatall0000000000000000000000000", true, http.StatusUnauthorized, "Sign-in refused"},
		{"not a token", "hello", true, http.StatusUnauthorized, "Sign-in refused"},
		{"no CSRF token", s.tokens["admin"], false, http.StatusForbidden, "CSRF token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := s.browser(t)
			form := url.Values{"token": {tc.token}}
			if tc.csrf {
				form.Set("csrf", csrf(t, b.get("/signin").body))
			}
			res := b.post("/signin", form)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) {
				t.Errorf("got %d, want %d with %q:\n%s", res.status, tc.status, tc.want, res.body)
			}
			if c := sessionCookie(t, res.header); c != nil {
				t.Errorf("a refused sign-in set a session cookie: %+v", c)
			}
			if strings.Contains(res.body, tc.token) && len(tc.token) > 8 {
				t.Errorf("the page repeats the token")
			}
		})
	}
}

func TestPagesNeedSession(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.browser(t)
	for _, path := range []string{"/", "/audit", "/models/openai/gpt-5"} {
		res := b.get(path)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/signin?next=") {
			t.Errorf("GET %s without a session: %d %q, want 303 to /signin", path, res.status, res.header.Get("Location"))
		}
	}
	open := newSite(t, siteConfig{anonymousRead: true})
	res := open.browser(t).get("/models/openai/gpt-5")
	if res.status != http.StatusOK || !strings.Contains(res.body, "Reading anonymously") || strings.Contains(res.body, "lifecycle-form") {
		t.Errorf("anonymous read: %d\n%s", res.status, res.body)
	}
	res = open.browser(t).post("/models/openai/gpt-5/lifecycle", url.Values{"status": {"active"}, "reason": {"x"}})
	if res.status != http.StatusForbidden {
		t.Errorf("anonymous POST: %d, want 403", res.status)
	}
}

func TestCSRF(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "governor")
	for name, token := range map[string]string{"missing": "", "wrong": "AAAA", "another session's": csrf(t, s.signIn(t, "governor").get("/").body)} {
		res := b.post("/models/openai/gpt-5/lifecycle", url.Values{"csrf": {token}, "status": {"active"}, "reason": {"approved"}})
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "CSRF token") {
			t.Errorf("%s CSRF token: %d, want 403\n%s", name, res.status, res.body)
		}
	}
	// A form too large to read is refused as such, even with the token.
	huge := url.Values{"csrf": {csrf(t, b.get("/").body)}, "status": {"active"}, "reason": {strings.Repeat("x", 65<<10)}}
	if res := b.post("/models/openai/gpt-5/lifecycle", huge); res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "larger than the 64 KiB") {
		t.Errorf("a 65 KiB form: %d, want 413\n%s", res.status, res.body)
	}
	if m, _ := s.reg.GetModel(context.Background(), "openai/gpt-5"); m.Status() != api.StatusProposed {
		t.Errorf("a refused form changed the model: %s", m.Status())
	}
	// Signing out needs the token too, and ends the session.
	if res := b.post("/signout", url.Values{}); res.status != http.StatusForbidden {
		t.Errorf("sign out without CSRF: %d, want 403", res.status)
	}
	res := b.post("/signout", url.Values{"csrf": {csrf(t, b.get("/").body)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", res.status)
	}
	if res := b.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want a redirect to sign in", res.status)
	}
}

func TestCatalogue(t *testing.T) {
	s := newSite(t, siteConfig{models: 30})
	b := s.signIn(t, "viewer")
	cases := []struct {
		query      string
		want, skip []string
	}{
		{"", []string{"meta/llama-3-1-405b", "openai/gpt-5", "acme/m-000"}, nil},
		{"?provider=meta", []string{"meta/llama-3-1-405b"}, []string{"openai/gpt-5", "acme/m-000"}},
		{"?q=gpt", []string{"openai/gpt-5"}, []string{"meta/llama-3-1-405b"}},
		{"?label=team%3Dopenai", []string{"openai/gpt-5"}, []string{"meta/llama-3-1-405b"}},
		{"?status=active", []string{"No model matches"}, []string{"openai/gpt-5"}},
		{"?role=none&provider=openai", []string{"openai/gpt-5"}, []string{"meta/llama-3-1-405b"}},
	}
	for _, tc := range cases {
		res := b.get("/" + tc.query)
		if res.status != http.StatusOK {
			t.Errorf("GET /%s: %d\n%s", tc.query, res.status, res.body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(res.body, w) {
				t.Errorf("GET /%s: no %q", tc.query, w)
			}
		}
		for _, w := range tc.skip {
			if strings.Contains(res.body, ">"+w+"<") {
				t.Errorf("GET /%s: shows %q", tc.query, w)
			}
		}
	}
	if res := b.get("/?status=bogus"); res.status != http.StatusBadRequest {
		t.Errorf("a bad status filter: %d, want 400", res.status)
	}

	// Pagination follows the registry's page tokens, filters kept.
	first := b.get("/?provider=acme&size=25")
	next := regexp.MustCompile(`href="(/\?[^"]*page=[^"]+)"`).FindStringSubmatch(first.body)
	if next == nil {
		t.Fatalf("no next-page link on the first page:\n%s", first.body)
	}
	if !strings.Contains(first.body, "acme/m-024") || strings.Contains(first.body, "acme/m-025") {
		t.Errorf("first page is not acme/m-000 to m-024")
	}
	second := b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if !strings.Contains(second.body, "acme/m-025") || !strings.Contains(second.body, "acme/m-029") ||
		strings.Contains(second.body, "acme/m-024") || !strings.Contains(second.body, "Last page") {
		t.Errorf("second page:\n%s", second.body)
	}
}

func TestModelPage(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	res := b.get("/models/meta/llama-3-1-405b")
	if res.status != http.StatusOK {
		t.Fatalf("model page: %d\n%s", res.status, res.body)
	}
	for _, want := range []string{"<h1>Llama 3.1 405B</h1>", `<code id="model-id">meta/llama-3-1-405b</code>`, `<dd id="role">none</dd>`,
		`id="status" class="status status-proposed">proposed</span>`, "No identity registered", "Revisions", "model.create",
		"Your roles (viewer) may not change"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("model page lacks %q", want)
		}
	}
	if strings.Contains(res.body, "lifecycle-form") {
		t.Errorf("a viewer is offered the lifecycle form")
	}
	if res := b.get("/models/meta/nothing"); res.status != http.StatusNotFound {
		t.Errorf("missing model: %d, want 404", res.status)
	}
	if res := b.get("/no/such/page"); res.status != http.StatusNotFound {
		t.Errorf("missing page: %d, want 404", res.status)
	}
}

// changeLifecycle posts the model page's lifecycle form.
func (b *browser) changeLifecycle(id, status, reason string) response {
	b.t.Helper()
	page := b.get("/models/" + id)
	return b.post("/models/"+id+"/lifecycle", url.Values{"csrf": {csrf(b.t, page.body)}, "status": {status}, "reason": {reason}})
}

func TestLifecycle(t *testing.T) {
	s := newSite(t, siteConfig{})
	ctx := context.Background()

	t.Run("governor approves", func(t *testing.T) {
		b := s.signIn(t, "governor")
		res := b.changeLifecycle("openai/gpt-5", "active", "approved by the board")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/models/openai/gpt-5?changed=lifecycle" {
			t.Fatalf("change: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
		}
		page := b.get(res.header.Get("Location"))
		for _, want := range []string{"allowed by the policy", "status-active\">active</span>", "approved by the board", "by governor"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("model page after the change lacks %q", want)
			}
		}
		if m, _ := s.reg.GetModel(ctx, "openai/gpt-5"); m.Status() != api.StatusActive {
			t.Errorf("status = %s, want active", m.Status())
		}
		audit := b.get("/audit?model=openai%2Fgpt-5&action=model.lifecycle")
		if !regexp.MustCompile(`<td>governor</td><td>model.lifecycle</td>\s*<td><a href="/models/openai/gpt-5">openai/gpt-5</a></td><td>allowed</td>\s*<td>approved by the board`).MatchString(audit.body) {
			t.Errorf("the audit page does not show the change:\n%s", audit.body)
		}
		if !strings.Contains(audit.body, "modelgov/test") {
			t.Errorf("the audit page shows no checkpoint")
		}
	})

	cases := []struct {
		name, user, status string
		code               int
		want               []string
	}{
		{"viewer", "viewer", "active", http.StatusForbidden, []string{"viewer may not change lifecycles"}},
		{"maintainer who does not own it", "bob", "active", http.StatusForbidden,
			[]string{"<code>registry-access</code>", "only governors, admins and the model&#39;s maintainers may change its lifecycle"}},
		{"no such transition", "governor", "deprecated", http.StatusConflict, []string{"From here the model may move to: active, archived"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := s.signIn(t, tc.user)
			page := b.get("/models/meta/llama-3-1-405b")
			token := csrf(t, page.body) // the sign-out form's, for a viewer
			form := url.Values{"csrf": {token}, "status": {tc.status}, "reason": {"try"}}
			if tc.status == "deprecated" {
				form.Set("sunset", "2030-01-01")
			}
			res := b.post("/models/meta/llama-3-1-405b/lifecycle", form)
			if res.status != tc.code {
				t.Errorf("status %d, want %d\n%s", res.status, tc.code, res.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.body, w) {
					t.Errorf("the answer lacks %q:\n%s", w, res.body)
				}
			}
			if m, _ := s.reg.GetModel(ctx, "meta/llama-3-1-405b"); m.Status() != api.StatusProposed {
				t.Errorf("a refused change moved the model to %s", m.Status())
			}
		})
	}

	t.Run("the owner may not approve itself", func(t *testing.T) {
		b := s.signIn(t, "alice")
		res := b.changeLifecycle("meta/llama-3-1-405b", "active", "approve myself")
		if res.status != http.StatusForbidden || !strings.Contains(res.body, `role="alert"`) || !strings.Contains(res.body, "failed these rules") {
			t.Errorf("self-approval: %d\n%s", res.status, res.body)
		}
		// The form keeps what was sent.
		if !strings.Contains(res.body, `value="approve myself"`) {
			t.Errorf("the refused form lost its reason")
		}
		audit := b.get("/audit?outcome=denied")
		if !strings.Contains(audit.body, "<td>alice</td><td>model.lifecycle</td>") {
			t.Errorf("the denial is not on the audit page:\n%s", audit.body)
		}
	})
}

func TestEscaping(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	for _, path := range []string{"/", "/models/evil/script", "/?q=%3Cscript%3E"} {
		res := b.get(path)
		if strings.Contains(res.body, "<script") {
			t.Errorf("GET %s: an unescaped script tag\n%s", path, res.body)
		}
		if path != "/?q=%3Cscript%3E" && !strings.Contains(res.body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("GET %s: the hostile name is not shown escaped", path)
		}
	}
	// A redirect target never leaves the site.
	res := s.browser(t).get("/signin?next=%2F%2Fevil.example%2F")
	if !strings.Contains(res.body, `name="next" value="/"`) {
		t.Errorf("an off-site next survived:\n%s", res.body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	want := map[string]string{
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
		"X-Content-Type-Options": "nosniff",
	}
	// Every page of the interface, and two answers that are not pages.
	inline := regexp.MustCompile(`<script(?:\s+[^>]*)?>`)
	for _, path := range []string{"/", "/signin", "/audit", "/models/openai/gpt-5", "/models/openai/gpt-5/diff", "/leaderboards",
		"/governance", "/governance/dry-run", "/live", "/static/style.css", "/nothing"} {
		res := b.get(path)
		for k, v := range want {
			if got := res.header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, v)
			}
		}
		if csp := res.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: Content-Security-Policy = %q", path, csp)
		}
		// No inline script (the policy would block it anyway): the live
		// page's one script is a file of the site's own.
		for _, tag := range inline.FindAllString(res.body, -1) {
			if path != "/live" || tag != `<script src="/static/live.js" defer>` {
				t.Errorf("GET %s: the page has a script: %s", path, tag)
			}
		}
	}
	if css := b.get("/static/style.css"); css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", css.status, css.header.Get("Content-Type"))
	}
}

// revoke revokes user's token.
func (s *site) revoke(t *testing.T, user string) {
	t.Helper()
	list, err := s.reg.ListTokens(context.Background(), admin.Caller)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list.Items {
		if tok.Name == user {
			if _, err := s.reg.RevokeToken(context.Background(), tok.ID, admin); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestRevokedTokenEndsSession(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	s.revoke(t, "viewer")
	if res := b.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("after the token's revocation: %d, want a redirect to sign in", res.status)
	}
}
