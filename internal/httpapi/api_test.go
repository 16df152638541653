package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/httpapi"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
	"github.com/hivellm/modelgov/internal/webhook"
)

// testServer is the real handler over a real SQLite file, on loopback, with
// the audit signing key kept in the data directory, as internal/server
// assembles it.
type testServer struct {
	*httptest.Server
	client *client.Client
	api    *httpapi.Server
	reg    *registry.Service
	dir    string
	// stop closes the server and its store; a test that restarts the
	// registry in dir calls it first.
	stop func()
	// token is the admin token the registry created at its first start;
	// send sends it unless the request names another Authorization.
	token string
}

// serverConfig is what a test asks of its server; the zero value is a new
// registry with an audit signing key, no rate limit and no logs.
type serverConfig struct {
	// dir is the data directory; "" means a new one.
	dir string
	// token, when set, is the admin token of a registry started before in
	// dir; "" means the one adminToken gives.
	token string
	// now is the registry's clock; nil means time.Now.
	now func() time.Time
	// wrap, when set, wraps the store the registry writes to.
	wrap func(store.Store) store.Store
	// unsigned starts the registry without an audit signing key.
	unsigned bool
	// logger receives the logs of the registry and the HTTP layer; nil
	// means none.
	logger        *slog.Logger
	anonymousRead bool
	// rateLimit is the server's; the zero value means none.
	rateLimit httpapi.RateLimit
	oidc      httpapi.Authenticator
	// heartbeat and maxLag are the watch streams'; zero means the defaults.
	heartbeat time.Duration
	maxLag    int64
	// publicWebhooksOnly refuses webhook endpoints on private addresses,
	// as a server without --webhook-allow-private does; dispatch runs the
	// webhook dispatcher, with quick retries.
	publicWebhooksOnly bool
	dispatch           bool
}

func newTestServer(t *testing.T, cfg serverConfig) *testServer {
	t.Helper()
	ctx := context.Background()
	dir := cfg.dir
	if dir == "" {
		dir = t.TempDir()
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "modelgov.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var signer *audit.Signer
	if !cfg.unsigned {
		if signer, err = audit.LoadOrCreateSigner(dir, "modelgov/test"); err != nil {
			t.Fatal(err)
		}
	}
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	var s store.Store = st
	if cfg.wrap != nil {
		s = cfg.wrap(st)
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg, err := registry.New(registry.Config{Store: s, Schema: v, Logger: logger, Signer: signer, Now: cfg.now,
		WebhookAllowPrivate: !cfg.publicWebhooksOnly})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	token := cfg.token
	if token == "" {
		token = adminToken(t, reg).Token
	}
	rl := cfg.rateLimit
	if rl == (httpapi.RateLimit{}) {
		rl = httpapi.RateLimit{PerSecond: -1}
	}
	dispatcher := webhook.NewDispatcher(reg, webhook.DispatcherConfig{AllowPrivate: !cfg.publicWebhooksOnly, Logger: logger,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond }, Poll: 50 * time.Millisecond})
	h, err := httpapi.New(httpapi.Config{Registry: reg, Ready: st.Ping, Schemas: schema.Files(), Logger: logger,
		AnonymousRead: cfg.anonymousRead, RateLimit: rl, OIDC: cfg.oidc, Heartbeat: cfg.heartbeat, MaxLag: cfg.maxLag,
		Webhooks: dispatcher})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	dctx, stopDispatch := context.WithCancel(ctx)
	dispatched := make(chan struct{})
	if cfg.dispatch {
		go func() {
			defer close(dispatched)
			_ = dispatcher.Run(dctx)
		}()
	} else {
		close(dispatched)
	}
	var once sync.Once
	stop := func() { once.Do(func() { stopDispatch(); <-dispatched; ts.Close(); st.Close() }) }
	t.Cleanup(stop)
	c, err := client.New(ts.URL, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{Server: ts, client: c, api: h, reg: reg, dir: dir, stop: stop, token: token}
}

// adminToken returns an admin API token of reg: the one it creates on a
// first start, or a new one.
func adminToken(t testing.TB, reg *registry.Service) *api.Token {
	t.Helper()
	ctx := context.Background()
	tok, err := reg.BootstrapToken(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok == nil {
		root := registry.WriteOptions{Caller: registry.Caller{Principal: "test-admin", Roles: []string{api.RoleAdmin}}}
		if tok, err = reg.CreateToken(ctx, api.TokenRequest{Name: "test-admin", Roles: []string{api.RoleAdmin}}, root); err != nil {
			t.Fatal(err)
		}
	}
	return tok
}

// call sends a request and returns the status, headers and body; header
// is name, value pairs, set after contentType. The admin token is sent
// unless header names another Authorization ("" sends no credentials).
func (ts *testServer) call(t *testing.T, method, path, contentType string, body []byte, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+ts.token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization") // the test asks for a request without credentials
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// send is call with a JSON body: a body is sent as JSON unless header
// names another Content-Type.
func (ts *testServer) send(t *testing.T, method, path string, body []byte, header ...string) (int, http.Header, []byte) {
	t.Helper()
	contentType := ""
	if body != nil {
		contentType = "application/json"
	}
	return ts.call(t, method, path, contentType, body, header...)
}

// write sends a request that must succeed.
func (ts *testServer) write(t *testing.T, method, path string, body []byte, header ...string) []byte {
	t.Helper()
	code, _, b := ts.send(t, method, path, body, header...)
	if code < 200 || code > 299 {
		t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	return b
}

// fullDocument is a 1.1 document that sets every owner-written field.
func fullDocument(id string) map[string]any {
	provider, _, _ := strings.Cut(id, "/")
	return map[string]any{
		"schema_version":    "1.1",
		"model_id":          id,
		"provider":          provider,
		"display_name":      "Model " + id,
		"family":            "fam",
		"version":           "2025-08",
		"release_date":      "2025-08-07",
		"size_class":        "xl",
		"parameters":        map[string]any{"count": 400e9, "active": 40e9, "source": "declared"},
		"context_window":    400000,
		"max_output_tokens": 128000,
		"modalities":        map[string]any{"input": []string{"text", "image"}, "output": []string{"text"}},
		"capabilities":      []string{"code", "reasoning"},
		"license":           "proprietary",
		"endpoints":         []map[string]any{{"url": "https://api.example.com/v1", "api": "openai-chat"}},
		"owners":            []string{"alice"},
		"labels":            map[string]string{"team": "core", "tier": "gold"},
		"annotations":       map[string]string{"example.com/note": "first"},
		"eval_refs":         []string{"eval-1"},
		"source_files":      []string{"metrics/models/x.json"},
		"notes":             "a note",
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func problemOf(t *testing.T, body []byte) api.Problem {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("answer is not a problem: %v: %s", err, body)
	}
	return p
}

func TestCreateGetETag(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	code, h, body := ts.call(t, "POST", "/v1/models", "application/json", mustJSON(t, fullDocument("openai/gpt-5")))
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	if h.Get("ETag") != `"1"` || h.Get("Location") != "/v1/models/openai/gpt-5" || h.Get("Modelgov-Outcome") != "created" {
		t.Errorf("create headers: ETag %q Location %q Outcome %q", h.Get("ETag"), h.Get("Location"), h.Get("Modelgov-Outcome"))
	}
	var m api.Model
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Status() != api.StatusProposed || m.Role() != api.RoleNone || m.ResourceVersion != "1" || m.CreatedAt == nil {
		t.Errorf("new model: status %q role %q rv %q created %v", m.Status(), m.Role(), m.ResourceVersion, m.CreatedAt)
	}
	if m.Parameters.Count != 400_000_000_000 || m.ContextWindow != 400000 {
		t.Errorf("numbers: %+v %d", m.Parameters, m.ContextWindow)
	}
	code, h, _ = ts.call(t, "GET", "/v1/models/openai/gpt-5", "", nil)
	if code != 200 || h.Get("ETag") != `"1"` {
		t.Errorf("get: %d ETag %q", code, h.Get("ETag"))
	}
	code, _, _ = ts.call(t, "GET", "/v1/models/openai/gpt-5", "", nil, "If-None-Match", `"1"`)
	if code != 304 {
		t.Errorf("get with matching If-None-Match: %d, want 304", code)
	}
	code, _, body = ts.call(t, "POST", "/v1/models", "application/json", mustJSON(t, fullDocument("openai/gpt-5")))
	if code != 409 {
		t.Errorf("second create: %d %s, want 409", code, body)
	}
	code, _, body = ts.call(t, "GET", "/v1/models/openai/nothing", "", nil)
	if p := problemOf(t, body); code != 404 || p.Status != 404 || !strings.Contains(p.Detail, "openai/nothing") {
		t.Errorf("get unknown: %d %+v", code, p)
	}
}

func TestYAMLDocument(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	doc := `
schema_version: "1.1"
model_id: meta/llama-3-1-405b
provider: meta
display_name: Llama 3.1 405B
size_class: xl
parameters: {count: 405e9, source: declared}
`
	code, _, body := ts.call(t, "POST", "/v1/models", "application/yaml", []byte(doc))
	if code != 201 {
		t.Fatalf("create from YAML: %d %s", code, body)
	}
	m, err := ts.client.GetModel(context.Background(), "meta/llama-3-1-405b")
	if err != nil || m.Parameters.Count != 405_000_000_000 {
		t.Errorf("GetModel = %+v, %v", m, err)
	}
}

func TestInvalidDocuments(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		pointers    []string
	}{
		{"malformed JSON", "application/json", `{"model_id":`, 400, nil},
		{"not an object", "application/json", `[1,2]`, 400, nil},
		{"empty body", "application/json", ``, 400, nil},
		{"every failing field listed", "application/json",
			`{"schema_version":"1.1","model_id":"Bad ID","provider":"x","size_class":"huge","colour":"red"}`, 422,
			[]string{"/colour", "/display_name", "/model_id", "/size_class"}},
		{"server-owned field", "application/json",
			`{"schema_version":"1.1","model_id":"a/b","provider":"a","display_name":"B","governance":{"role":"general"}}`, 422,
			[]string{"/governance"}},
		{"unsupported schema version", "application/json",
			`{"schema_version":"9.0","model_id":"a/b","provider":"a","display_name":"B"}`, 422, []string{"/schema_version"}},
		{"P035 general must be large", "application/json",
			`{"schema_version":"1.0","model_id":"openai-gpt-5-mini","provider":"openai","display_name":"GPT-5 Mini","role":"general","size_class":"mini","capabilities":[],"status":"active","source_files":[],"created_at":"2025-09-07T00:00:00Z"}`,
			422, nil},
		{"wrong media type", "text/plain", `{}`, 415, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, body := ts.call(t, "POST", "/v1/models", tt.contentType, []byte(tt.body))
			if code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			}
			if ct := h.Get("Content-Type"); ct != api.ProblemContentType {
				t.Errorf("Content-Type %q, want %s", ct, api.ProblemContentType)
			}
			p := problemOf(t, body)
			if p.Detail == "" || p.Status != tt.status {
				t.Errorf("problem %+v lacks a detail or status", p)
			}
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Pointer)
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Pointer)
				}
			}
			for _, want := range tt.pointers {
				found := false
				for _, g := range got {
					found = found || g == want
				}
				if !found {
					t.Errorf("errors %v do not name %s", got, want)
				}
			}
		})
	}
	list, err := ts.client.ListModels(context.Background(), client.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("refused documents stored something: %v, %v", list, err)
	}
}

func TestBodyLimit(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	doc := fullDocument("a/b")
	doc["notes"] = strings.Repeat("x", httpapi.DefaultMaxBody)
	code, _, body := ts.call(t, "POST", "/v1/models", "application/json", mustJSON(t, doc))
	if code != 413 {
		t.Errorf("over-size body: %d %s, want 413", code, body)
	}
	if _, err := ts.client.GetModel(context.Background(), "a/b"); !client.IsNotFound(err) {
		t.Errorf("over-size document was stored: %v", err)
	}
}

// TestPatchChangesOnlyNamedField patches each field alone and checks that
// every other field, the lifecycle status included, is unchanged.
func TestPatchChangesOnlyNamedField(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	patches := map[string]any{
		"display_name":      "Renamed",
		"family":            "other",
		"version":           "v2",
		"release_date":      "2024-01-02",
		"size_class":        "xxl",
		"parameters":        map[string]any{"count": 500e9},
		"context_window":    1000,
		"max_output_tokens": 10,
		"modalities":        map[string]any{"input": []string{"text"}},
		"capabilities":      []string{"vision"},
		"license":           "mit",
		"endpoints":         []map[string]any{{"url": "https://other.example.com"}},
		"owners":            []string{"bob"},
		"labels":            map[string]any{"tier": nil, "new": "x"},
		"annotations":       map[string]any{"example.com/note": "second"},
		"eval_refs":         []string{"eval-2"},
		"source_files":      []string{"b.json"},
		"notes":             nil,
	}
	i := 0
	for field, value := range patches {
		i++
		t.Run(field, func(t *testing.T) {
			id := fmt.Sprintf("p/m-%d", i)
			doc := fullDocument(id)
			// Distinct figures: models alike in all but name are held as
			// near-duplicates.
			doc["context_window"] = 100000 + i
			if field == "size_class" {
				// The policy ties a size class to a known parameter count;
				// without a count, the size class can change alone.
				delete(doc, "parameters")
			}
			if _, err := ts.client.CreateModel(ctx, mustJSON(t, doc), client.JSON, client.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			// Make the model active, then archived: a patch must not bring it back.
			for _, ch := range []api.LifecycleChange{
				{Status: api.StatusActive, Reason: "approved"},
				{Status: api.StatusDeprecated, Reason: "old", Sunset: "2099-01-01"},
				{Status: api.StatusArchived, Reason: "gone"},
			} {
				if _, err := ts.client.ChangeLifecycle(ctx, id, ch, client.WriteOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			before := documentMap(t, ts, id)
			after, err := ts.client.PatchModel(ctx, id, map[string]any{field: value}, client.WriteOptions{})
			if err != nil {
				t.Fatalf("patch %s: %v", field, err)
			}
			got := documentMap(t, ts, id)
			for k, v := range before {
				if k == field || k == "resource_version" || k == "updated_at" {
					continue
				}
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("patching %s changed %s: %v → %v", field, k, v, got[k])
				}
			}
			for k := range got {
				if _, ok := before[k]; !ok && k != field {
					t.Errorf("patching %s added %s", field, k)
				}
			}
			if reflect.DeepEqual(got[field], before[field]) {
				t.Errorf("patching %s did not change it: %v", field, got[field])
			}
			if after.Status() != api.StatusArchived || after.ResourceVersion != "5" {
				t.Errorf("after patch: status %s rv %s, want archived rv 5", after.Status(), after.ResourceVersion)
			}
		})
	}
}

func documentMap(t *testing.T, ts *testServer, id string) map[string]any {
	t.Helper()
	code, _, body := ts.call(t, "GET", "/v1/models/"+id, "", nil)
	if code != 200 {
		t.Fatalf("get %s: %d", id, code)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPatchRefusals(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	if _, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument("a/b")), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, patch string
		status      int
	}{
		{"server-owned lifecycle", `{"lifecycle":{"status":"active"}}`, 422},
		{"removing the lifecycle", `{"lifecycle":null}`, 422},
		{"removing the governance block", `{"governance":null}`, 422},
		{"removing created_at", `{"created_at":null}`, 422},
		{"server-owned role", `{"governance":{"role":"general"}}`, 422},
		{"rename", `{"model_id":"a/c"}`, 422},
		{"invalid value", `{"size_class":"huge"}`, 422},
		{"unknown field", `{"colour":"red"}`, 422},
		{"not an object", `[]`, 400},
		{"malformed", `{"a":`, 400},
		{"stale resource_version in body", `{"resource_version":"7","notes":"x"}`, 412},
	}
	for _, tt := range tests {
		code, _, body := ts.call(t, "PATCH", "/v1/models/a/b", "application/merge-patch+json", []byte(tt.patch))
		if code != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, code, body, tt.status)
		}
	}
	revs, _ := ts.client.ListRevisions(ctx, "a/b", 0, "")
	if len(revs.Items) != 1 {
		t.Errorf("refused patches wrote %d revisions", len(revs.Items)-1)
	}
}

func TestIfMatch(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	if _, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument("a/b")), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.PatchModel(ctx, "a/b", map[string]any{"notes": "one"}, client.WriteOptions{IfMatch: "1"}); err != nil {
		t.Fatalf("patch with a current If-Match: %v", err)
	}
	_, err := ts.client.PatchModel(ctx, "a/b", map[string]any{"notes": "two"}, client.WriteOptions{IfMatch: "1"})
	if client.StatusOf(err) != 412 {
		t.Fatalf("patch with a stale If-Match: %v, want 412", err)
	}
	m, _ := ts.client.GetModel(ctx, "a/b")
	if m.Notes != "one" || m.ResourceVersion != "2" {
		t.Errorf("a refused write changed the model: %+v", m)
	}
	for _, h := range []string{`W/"2"`, `"1", "2"`} {
		code, _, _ := ts.call(t, "PATCH", "/v1/models/a/b", "application/merge-patch+json", []byte(`{"notes":"x"}`), "If-Match", h)
		if code != 400 {
			t.Errorf("If-Match %s: %d, want 400", h, code)
		}
	}
}

// TestConcurrentIfMatch: many writers with the same If-Match; exactly one wins.
func TestConcurrentIfMatch(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	if _, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument("a/b")), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	const writers = 16
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		wins     int
		refusals int
	)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ts.client.PatchModel(ctx, "a/b", map[string]any{"notes": fmt.Sprint("writer ", i)}, client.WriteOptions{IfMatch: "1"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case client.StatusOf(err) == 412:
				refusals++
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || refusals != writers-1 {
		t.Errorf("%d wins and %d refusals, want 1 and %d", wins, refusals, writers-1)
	}
}

func TestIdempotencyKey(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	doc := mustJSON(t, fullDocument("a/b"))
	code1, h1, body1 := ts.call(t, "POST", "/v1/models", "application/json", doc, "Idempotency-Key", "k-1")
	code2, h2, body2 := ts.call(t, "POST", "/v1/models", "application/json", doc, "Idempotency-Key", "k-1")
	if code1 != 201 || code2 != 201 || !bytes.Equal(body1, body2) || h2.Get("Idempotent-Replayed") != "true" || h1.Get("Idempotent-Replayed") != "" {
		t.Errorf("retry: %d %d replayed=%q, bodies equal %v", code1, code2, h2.Get("Idempotent-Replayed"), bytes.Equal(body1, body2))
	}
	revs, _ := ts.client.ListRevisions(context.Background(), "a/b", 0, "")
	if len(revs.Items) != 1 {
		t.Errorf("a retried create wrote %d revisions, want 1", len(revs.Items))
	}
	code, _, body := ts.call(t, "POST", "/v1/models", "application/json", mustJSON(t, fullDocument("a/c")), "Idempotency-Key", "k-1")
	if code != 422 || !strings.Contains(string(body), "different request") {
		t.Errorf("key reused for another request: %d %s, want 422", code, body)
	}
	// Without a key, a second create is a conflict, not a replay.
	if code, _, _ := ts.call(t, "POST", "/v1/models", "application/json", doc); code != 409 {
		t.Errorf("create without key: %d, want 409", code)
	}
}

func TestLifecycle(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	for i, id := range []string{"openai/gpt-4o", "openai/gpt-5"} {
		doc := fullDocument(id)
		// Distinct figures: models alike in all but name are held as
		// near-duplicates, and cannot be approved.
		doc["context_window"] = 400000 + i
		if _, err := ts.client.CreateModel(ctx, mustJSON(t, doc), client.JSON, client.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	change := func(id string, ch api.LifecycleChange) (int, api.Problem) {
		code, _, body := ts.call(t, "PUT", "/v1/models/"+id+"/lifecycle", "application/json", mustJSON(t, ch))
		if code >= 300 {
			return code, problemOf(t, body)
		}
		return code, api.Problem{}
	}
	if code, p := change("openai/gpt-4o", api.LifecycleChange{Status: api.StatusDeprecated, Reason: "r", Sunset: "2099-01-01"}); code != 409 ||
		!reflect.DeepEqual(p.Allowed, []api.Status{api.StatusActive, api.StatusArchived}) {
		t.Errorf("proposed → deprecated: %d %+v, want 409 allowing active, archived", code, p)
	}
	if code, _ := change("openai/gpt-4o", api.LifecycleChange{Status: api.StatusActive}); code != 422 {
		t.Errorf("transition without a reason: %d, want 422", code)
	}
	for _, id := range []string{"openai/gpt-4o", "openai/gpt-5"} {
		if code, p := change(id, api.LifecycleChange{Status: api.StatusActive, Reason: "approved"}); code != 200 {
			t.Fatalf("activate %s: %d %+v", id, code, p)
		}
	}
	if code, _ := change("openai/gpt-4o", api.LifecycleChange{Status: api.StatusDeprecated, Reason: "replaced"}); code != 422 {
		t.Errorf("deprecation without sunset: %d, want 422", code)
	}
	if code, _ := change("openai/gpt-4o", api.LifecycleChange{Status: api.StatusDeprecated, Reason: "replaced", Sunset: "2099-01-01", Successor: "openai/none"}); code != 422 {
		t.Errorf("deprecation with an unknown successor: %d, want 422", code)
	}
	if code, p := change("openai/gpt-4o", api.LifecycleChange{Status: api.StatusDeprecated, Reason: "replaced", Sunset: "2099-01-01", Successor: "openai/gpt-5"}); code != 200 {
		t.Fatalf("deprecate: %d %+v", code, p)
	}
	m, _ := ts.client.GetModel(ctx, "openai/gpt-4o")
	if lc := m.Lifecycle; lc.Status != api.StatusDeprecated || lc.Successor != "openai/gpt-5" || lc.Sunset != "2099-01-01" || lc.Reason != "replaced" || lc.ChangedBy == "" {
		t.Errorf("deprecated lifecycle = %+v", lc)
	}
	if code, _ := change("openai/gpt-4o", api.LifecycleChange{Status: api.StatusArchived, Reason: "sunset"}); code != 200 {
		t.Fatalf("archive: %d", code)
	}
	if code, p := change("openai/gpt-4o", api.LifecycleChange{Status: api.StatusActive, Reason: "back"}); code != 409 || len(p.Allowed) != 0 {
		t.Errorf("archived → active: %d %+v, want 409 with nothing allowed", code, p)
	}
	// Archived models are never erased.
	if code, _, _ := ts.call(t, "DELETE", "/v1/models/openai/gpt-4o", "", nil); code != 409 {
		t.Errorf("delete an archived model: %d, want 409", code)
	}
	revs, err := ts.client.ListRevisions(ctx, "openai/gpt-4o", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range revs.Items {
		actions = append(actions, fmt.Sprintf("%d:%s:%s", r.Revision, r.Action, r.Reason))
	}
	want := []string{"4:lifecycle:sunset", "3:lifecycle:replaced", "2:lifecycle:approved", "1:create:"}
	if !reflect.DeepEqual(actions, want) {
		t.Errorf("history = %v, want %v", actions, want)
	}
}

func TestDeleteProposed(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	if _, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument("a/b")), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := ts.client.DeleteModel(ctx, "a/b", client.WriteOptions{}); err != nil {
		t.Fatalf("delete a proposed model: %v", err)
	}
	if _, err := ts.client.GetModel(ctx, "a/b"); !client.IsNotFound(err) {
		t.Errorf("deleted model still there: %v", err)
	}
	revs, err := ts.client.ListRevisions(ctx, "a/b", 0, "")
	if err != nil || len(revs.Items) != 2 || revs.Items[0].Action != api.ActionDelete {
		t.Fatalf("history after delete: %+v, %v", revs, err)
	}
	// Registering the name again continues its history.
	m, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument("a/b")), client.JSON, client.WriteOptions{})
	if err != nil || m.ResourceVersion != "3" {
		t.Errorf("re-create: %+v, %v; want resource_version 3", m, err)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	for i := range 23 {
		doc := fullDocument(fmt.Sprintf("p%d/m-%02d", i%2, i))
		if i%3 == 0 {
			doc["labels"] = map[string]string{"team": "docs"}
		}
		if _, err := ts.client.CreateModel(ctx, mustJSON(t, doc), client.JSON, client.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	for m, err := range ts.client.AllModels(ctx, client.ListOptions{PageSize: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, m.ModelID)
	}
	if len(seen) != 23 || seen[0] != "p0/m-00" {
		t.Errorf("paged listing = %v", seen)
	}
	l, err := ts.client.ListModels(ctx, client.ListOptions{Provider: "p1", Labels: "team!=docs", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range l.Items {
		if m.Provider != "p1" || m.Labels["team"] == "docs" {
			t.Errorf("filter let through %s %v", m.ModelID, m.Labels)
		}
	}
	if len(l.Items) != 7 {
		t.Errorf("provider=p1,team!=docs matched %d, want 7 (11 in p1, 4 of them docs)", len(l.Items))
	}
	for _, q := range []string{"status=alive", "page_size=1001", "page_size=x", "labels=team%3D%3D%3D", "page_token=zzz", "colour=red", "role=general&role=none"} {
		code, _, body := ts.call(t, "GET", "/v1/models?"+q, "", nil)
		if code != 400 {
			t.Errorf("GET /v1/models?%s: %d %s, want 400", q, code, body)
		}
	}
}

func TestAliases(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	for _, id := range []string{"openai/gpt-5", "anthropic/claude-4-sonnet"} {
		if _, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument(id)), client.JSON, client.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := ts.client.MoveAlias(ctx, "hivellm/chair", api.AliasMove{Target: "openai/gpt-5", Reason: "vote 12"}, client.WriteOptions{})
	if err != nil || a.Target != "openai/gpt-5" || a.ResourceVersion != "1" {
		t.Fatalf("set alias: %+v, %v", a, err)
	}
	if _, err := ts.client.MoveAlias(ctx, "hivellm/chair", api.AliasMove{Target: "anthropic/claude-4-sonnet"}, client.WriteOptions{IfMatch: "1"}); err != nil {
		t.Fatalf("move alias: %v", err)
	}
	if _, err := ts.client.MoveAlias(ctx, "hivellm/chair", api.AliasMove{Target: "openai/gpt-5"}, client.WriteOptions{IfMatch: "1"}); client.StatusOf(err) != 412 {
		t.Errorf("move with a stale If-Match: %v, want 412", err)
	}
	if _, err := ts.client.MoveAlias(ctx, "hivellm/vice", api.AliasMove{Target: "openai/none"}, client.WriteOptions{}); client.StatusOf(err) != 422 {
		t.Errorf("alias to an unknown model: %v, want 422", err)
	}
	if _, err := ts.client.MoveAlias(ctx, "openai/gpt-5", api.AliasMove{Target: "anthropic/claude-4-sonnet"}, client.WriteOptions{}); client.StatusOf(err) != 409 {
		t.Errorf("alias shadowing a model: %v, want 409", err)
	}
	doc := fullDocument("hivellm/chair")
	if _, err := ts.client.CreateModel(ctx, mustJSON(t, doc), client.JSON, client.WriteOptions{}); client.StatusOf(err) != 409 {
		t.Errorf("model taking an alias's name: %v, want 409", err)
	}
	if err := ts.client.DeleteModel(ctx, "anthropic/claude-4-sonnet", client.WriteOptions{}); client.StatusOf(err) != 409 {
		t.Errorf("delete the target of an alias: %v, want 409", err)
	}
	if err := ts.client.DeleteAlias(ctx, "hivellm/chair", "term ended", client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	h, err := ts.client.AliasHistory(ctx, "hivellm/chair")
	if err != nil || len(h.Items) != 3 || h.Items[0].Target != "" || h.Items[0].Reason != "term ended" || h.Items[2].Reason != "vote 12" {
		t.Errorf("alias history = %+v, %v", h, err)
	}
	if _, err := ts.client.GetAlias(ctx, "hivellm/chair"); !client.IsNotFound(err) {
		t.Errorf("deleted alias: %v", err)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	for path, want := range map[string]string{
		"/healthz":                 "ok",
		"/readyz":                  "ok",
		"/schemas/model/v1.1.json": `"$schema"`,
		"/schemas/model/v1.0.json": `"$schema"`,
		"/openapi.json":            `"openapi"`,
	} {
		code, _, body := ts.call(t, "GET", path, "", nil)
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %.80s", path, code, body)
		}
	}
	ts.call(t, "GET", "/v1/models/a/b", "", nil)
	code, _, body := ts.call(t, "GET", "/metrics", "", nil)
	if code != 200 || !strings.Contains(string(body), `modelgov_http_requests_total{code="404",method="GET",route="/v1/models/{provider}/{model}"} 1`) ||
		!strings.Contains(string(body), `modelgov_http_request_duration_seconds_bucket{method="GET",route="/healthz"`) {
		t.Errorf("metrics lack per-route counts and latency histograms:\n%s", body)
	}
	code, h, _ := ts.call(t, "POST", "/healthz", "", nil)
	if code != 405 || h.Get("Allow") == "" {
		t.Errorf("POST /healthz: %d Allow %q, want 405 with Allow", code, h.Get("Allow"))
	}
	if code, _, _ := ts.call(t, "GET", "/schemas/../go.mod", "", nil); code != 404 && code != 301 && code != 307 {
		t.Errorf("schema path escape: %d", code)
	}
}

func TestRequestID(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	_, h, body := ts.call(t, "GET", "/v1/models/a/b", "", nil, "X-Request-Id", "abc-123")
	if h.Get("X-Request-Id") != "abc-123" || problemOf(t, body).RequestID != "abc-123" {
		t.Errorf("request id not echoed: %q %s", h.Get("X-Request-Id"), body)
	}
	_, h, _ = ts.call(t, "GET", "/healthz", "", nil)
	if len(h.Get("X-Request-Id")) < 16 {
		t.Errorf("no request id generated: %q", h.Get("X-Request-Id"))
	}
	_ = time.Now
}
