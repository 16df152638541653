package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	oaserrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/datamodel"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/httpapi"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/server"
	"github.com/hivellm/modelgov/internal/store/sqlite"
	"github.com/hivellm/modelgov/internal/webhook"
)

// openAPIDocument parses the embedded OpenAPI document and builds its model,
// failing the test on any parse or build error.
func openAPIDocument(t *testing.T) (libopenapi.Document, *v3.Document) {
	t.Helper()
	// Build errors are returned; the library's own log would repeat them.
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler)
	doc, err := libopenapi.NewDocumentWithConfiguration(api.OpenAPI(), cfg)
	if err != nil {
		t.Fatalf("parse api/openapi.yaml: %v", err)
	}
	if got := doc.GetVersion(); got != "3.1.0" {
		t.Fatalf("api/openapi.yaml declares openapi %q, want 3.1.0", got)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build the model of api/openapi.yaml: %v", err)
	}
	return doc, &m.Model
}

// newContractServer returns the real server, assembled as the modelgov
// server assembles it, over a new SQLite database in a temporary directory,
// and the admin token the first start wrote there. Its HTTP API is
// srv.Handler. It delivers webhooks to loopback addresses too (the
// receivers of the tests are there), but only when asked to redeliver: it
// does not run, so its dispatcher does not.
func newContractServer(t *testing.T) (*server.Server, string) {
	t.Helper()
	dir := t.TempDir()
	srv, err := server.New(context.Background(), server.Config{
		DataDir:             dir,
		Logger:              slog.New(slog.DiscardHandler),
		WebhookAllowPrivate: true,
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	token, err := os.ReadFile(filepath.Join(dir, server.AdminTokenFile))
	if err != nil {
		t.Fatalf("the admin token of the first start: %v", err)
	}
	return srv, strings.TrimSpace(string(token))
}

// newUnreadyServer returns the HTTP API over a new SQLite database, but
// with a readiness check that always fails, as when the database is down,
// and without an audit signing key; and an admin token.
func newUnreadyServer(t *testing.T) (*httpapi.Server, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "modelgov.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	sv, err := schema.New()
	if err != nil {
		t.Fatalf("schema validator: %v", err)
	}
	reg, err := registry.New(registry.Config{Store: st, Schema: sv})
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	down := func(context.Context) error { return errors.New("database is down") }
	srv, err := httpapi.New(httpapi.Config{Registry: reg, Schemas: schema.Files(), Ready: down,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("httpapi.New: %v", err)
	}
	return srv, adminToken(t, reg).Token
}

// TestOpenAPIDocumentIsValid checks the document against the OpenAPI 3.1
// meta-schema, after openAPIDocument has checked that it parses and that
// every reference resolves.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, _ := openAPIDocument(t)
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator.NewValidator: %v", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("the document breaks the OpenAPI 3.1 schema: %s", describeViolation(e))
		}
	}
}

// TestOpenAPIOperations checks what every operation must say: an
// operationId (unique), a summary, and problem details as the body of every
// error response.
func TestOpenAPIOperations(t *testing.T) {
	_, model := openAPIDocument(t)
	ids := map[string]string{}
	for path, item := range model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			name := strings.ToUpper(method) + " " + path
			if op.OperationId == "" {
				t.Errorf("%s has no operationId", name)
			} else if other, dup := ids[op.OperationId]; dup {
				t.Errorf("%s and %s share operationId %q", other, name, op.OperationId)
			}
			ids[op.OperationId] = name
			if op.Summary == "" {
				t.Errorf("%s has no summary", name)
			}
			if op.Responses == nil || op.Responses.Codes.GetOrZero("500") == nil {
				t.Errorf("%s does not document 500", name)
				continue
			}
			for code, resp := range op.Responses.Codes.FromOldest() {
				if code < "400" || path == "/metrics" {
					continue // /metrics is served by promhttp, whose errors are plain text
				}
				var types []string
				for mt := range resp.Content.KeysFromOldest() {
					types = append(types, mt)
				}
				mt := resp.Content.GetOrZero(api.ProblemContentType)
				if len(types) != 1 || mt == nil {
					t.Errorf("%s %s: content types %v, want only %s", name, code, types, api.ProblemContentType)
					continue
				}
				if ref := mt.Schema.GetReference(); ref != "#/components/schemas/Problem" {
					t.Errorf("%s %s: schema %q, want #/components/schemas/Problem", name, code, ref)
				}
			}
		}
	}
}

// TestOpenAPIDocumentMatchesRoutes checks that the document describes
// exactly the operations the server registers.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	_, model := openAPIDocument(t)
	documented := map[string]bool{}
	for path, item := range model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().KeysFromOldest() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	srv, _ := newContractServer(t)
	for _, r := range srv.Handler.Routes() {
		// A "{name...}" wildcard is one path parameter in OpenAPI.
		served[r.Method+" "+strings.ReplaceAll(r.Pattern, "...}", "}")] = true
	}
	for _, op := range sortedOperations(served) {
		if !documented[op] {
			t.Errorf("the server serves %s, which the document leaves out", op)
		}
	}
	for _, op := range sortedOperations(documented) {
		if !served[op] {
			t.Errorf("the document describes %s, which the server does not serve", op)
		}
	}
}

func sortedOperations(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// A contractStep is one request of the contract scenario and the status it
// must get.
type contractStep struct {
	name   string
	method string
	path   string
	header map[string]string
	body   string
	status int
	// badRequest is true for a request that breaks the document on purpose:
	// the validator must refuse it, as the server does.
	badRequest bool
	// anonymous sends the request without credentials; the others carry
	// the admin token.
	anonymous bool
	// check, when set, looks further at the answer.
	check func(t *testing.T, resp *http.Response, body []byte)
}

const contractGPT5 = `{
  "schema_version": "1.1",
  "model_id": "openai/gpt-5",
  "provider": "openai",
  "display_name": "GPT-5",
  "family": "gpt-5",
  "release_date": "2025-08-07",
  "size_class": "xxl",
  "parameters": {"count": 2e12, "source": "estimated"},
  "context_window": 400000,
  "max_output_tokens": 128000,
  "modalities": {"input": ["text", "image"], "output": ["text"]},
  "capabilities": ["reasoning", "code", "tool-use"],
  "license": "proprietary",
  "endpoints": [{"url": "https://api.openai.com/v1/responses", "api": "openai-responses"}],
  "owners": ["platform-team"],
  "labels": {"team": "core", "example.com/tier": "frontier"},
  "annotations": {"example.com/ticket": "GOV-12"},
  "eval_refs": ["evals/gpt-5.json#mmlu"],
  "source_files": ["catalog/openai.yaml"],
  "notes": "The flagship."
}`

const contractLlamaYAML = `model_id: meta/llama-3.1-8b-instruct
provider: meta
display_name: Llama 3.1 8B Instruct
size_class: small
parameters:
  count: 8.0e9
  source: declared
capabilities: [code]
labels:
  team: research
`

// contractBundle is a policy bundle that lets only governors move or
// delete aliases, which no caller is until authentication exists.
const contractBundle = `api_version: modelgov.dev/policy/v1
name: governors-move-aliases
description: Only governors move or delete aliases.
permissions:
  - id: aliases-by-governor
    actions: [alias.move, alias.delete]
    roles: [governor]
    message: only a governor may move or delete an alias
`

// A proposal 035 (schema 1.0) document asks for a role and a status.
const contractQwen10 = `{
  "schema_version": "1.0",
  "model_id": "qwen-qwen3-235b",
  "provider": "Qwen",
  "display_name": "Qwen3 235B",
  "role": "general",
  "size_class": "xl",
  "capabilities": ["Reasoning", "Tool Use"],
  "status": "active",
  "source_files": ["p035/models.json"],
  "created_at": "2025-05-01T00:00:00Z"
}`

// contractImport is the body of an import of two records, one of them
// unmapped, with more fields (`"dry_run": true`, ...).
func contractImport(more string) string {
	return `{"source": "catalog.json", "format": "modelgov", ` + more + `, "records": [
	  {"source": "catalog.json#0", "key": "imported", "role": "specialist", "notes": ["the size class is the catalogue's"],
	   "document": {"schema_version": "1.1", "model_id": "acme/imported", "provider": "acme", "display_name": "Imported",
	     "size_class": "large", "parameters": {"count": 7e10, "source": "declared"}, "capabilities": ["code"]}},
	  {"source": "catalog.json#1", "key": "broken", "document": null,
	   "problems": [{"pointer": "/size_class", "message": "not a size class"}]}]}`
}

// TestOpenAPIContract runs a user's scenario against the real server and
// checks every request and every answer against the document: the status
// codes, headers and bodies the server gives must be the ones documented,
// and the requests the server refuses as malformed must break the document
// too.
func TestOpenAPIContract(t *testing.T) {
	doc, _ := openAPIDocument(t)
	v, errs := validator.NewValidator(doc,
		config.WithFormatAssertions(),
		config.WithStandardBodyDecoders(), // YAML request bodies
	)
	if len(errs) > 0 {
		t.Fatalf("validator.NewValidator: %v", errors.Join(errs...))
	}
	srv, token := newContractServer(t)
	ts := httptest.NewServer(srv.Handler)
	defer ts.Close()
	// receiver is a webhook endpoint that answers 204 and keeps the last
	// delivery it received.
	var (
		receivedMu   sync.Mutex
		received     *http.Request
		receivedBody []byte
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		receivedMu.Lock()
		received, receivedBody = r, body
		receivedMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	jsonHeader := map[string]string{"Content-Type": "application/json"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	hasHeader := func(name, want string) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, resp *http.Response, _ []byte) {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
	}
	contains := func(wants ...string) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, body []byte) {
			for _, want := range wants {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("body %s\ndoes not contain %s", body, want)
				}
			}
		}
	}
	lacks := func(unwanted string) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, body []byte) {
			if bytes.Contains(body, []byte(unwanted)) {
				t.Errorf("body %s\ncontains %s", body, unwanted)
			}
		}
	}
	vars := map[string]string{}
	// containsVars is contains of wants with {name} replaced by vars[name]
	// when the check runs.
	containsVars := func(wants ...string) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, resp *http.Response, body []byte) {
			ws := slices.Clone(wants)
			for i := range ws {
				for name, value := range vars {
					ws[i] = strings.ReplaceAll(ws[i], "{"+name+"}", value)
				}
			}
			contains(ws...)(t, resp, body)
		}
	}
	// capture keeps, as vars[name], the JSON string that follows prefix in
	// the body, for a later step's path to use as {name}.
	capture := func(name, prefix string) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, body []byte) {
			_, rest, ok := bytes.Cut(body, []byte(prefix))
			value, _, closed := bytes.Cut(rest, []byte(`"`))
			if !ok || !closed || len(value) == 0 {
				t.Fatalf("body %s\nhas no value after %s", body, prefix)
			}
			vars[name] = string(value)
		}
	}
	inAMonth := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	// key is gpt-5's identity key; signChallenge keeps, as vars["nonce"]
	// and vars["signature"], the nonce of a challenge and key's signature.
	key := newKey(t, api.KeyEd25519)
	signChallenge := func(t *testing.T, _ *http.Response, body []byte) {
		var ch api.Challenge
		if err := json.Unmarshal(body, &ch); err != nil || ch.Nonce == "" {
			t.Fatalf("challenge %s: %v", body, err)
		}
		vars["nonce"], vars["signature"] = ch.Nonce, sign(t, key, []byte(ch.Nonce))
	}
	// logDelivery keeps the new webhook's id and secret, as vars["webhook"]
	// and vars["secret"], and logs a failed delivery to it of the first
	// model's creation, as the dispatcher would have (the contract server
	// does not run its dispatcher); vars["delivery"] is the delivery's id
	// and vars["message"] its webhook-id.
	logDelivery := func(t *testing.T, _ *http.Response, body []byte) {
		var hook api.Webhook
		if err := json.Unmarshal(body, &hook); err != nil || hook.ID == "" || hook.Secret == "" {
			t.Fatalf("created webhook %s: %v", body, err)
		}
		vars["webhook"], vars["secret"] = hook.ID, hook.Secret
		ctx := context.Background()
		evs, err := srv.Registry.PendingEvents(ctx, 0, []string{"io.modelgov.model.created"}, 1)
		if err != nil || len(evs) != 1 {
			t.Fatalf("the first model.created event: %v (%d events)", err, len(evs))
		}
		ev := evs[0]
		d := &api.Delivery{WebhookID: hook.ID, EventSeq: ev.Seq, EventType: ev.Type, MessageID: webhook.MessageID(hook.ID, ev.Seq),
			Attempt: 1, Time: time.Now().UTC(), Status: http.StatusInternalServerError,
			Error: "webhook: endpoint answered 500 Internal Server Error", DurationMS: 12.5, Response: "try later"}
		if _, err := srv.Registry.RecordDelivery(ctx, d, hook.Cursor, time.Now().Add(5*time.Second)); err != nil || d.ID == 0 {
			t.Fatalf("record a delivery: %v (id %d)", err, d.ID)
		}
		vars["delivery"], vars["message"] = strconv.FormatInt(d.ID, 10), d.MessageID
	}
	// signedRedelivery checks the answer to a redelivery and that the
	// receiver got the event, signed with the webhook's secret.
	signedRedelivery := func(t *testing.T, _ *http.Response, body []byte) {
		var d api.Delivery
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("redelivery %s: %v", body, err)
		}
		if !d.OK || d.Status != http.StatusNoContent || d.RedeliveryOf == 0 || d.By != "admin" || d.MessageID != vars["message"] {
			t.Errorf("redelivery %s: want ok, status 204, redelivery_of, by admin and message_id %s", body, vars["message"])
		}
		receivedMu.Lock()
		r, got := received, receivedBody
		receivedMu.Unlock()
		if r == nil {
			t.Fatal("the receiver got no delivery")
		}
		if id := r.Header.Get("webhook-id"); id != vars["message"] {
			t.Errorf("webhook-id %q, want %q", id, vars["message"])
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		ts, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
		if err != nil {
			t.Fatalf("webhook-timestamp %q: %v", r.Header.Get("webhook-timestamp"), err)
		}
		want, err := webhook.Sign(vars["secret"], vars["message"], time.Unix(ts, 0), got)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		if sig := r.Header.Get("webhook-signature"); sig != want {
			t.Errorf("webhook-signature %q, want %q", sig, want)
		}
		var ev api.Event
		if err := json.Unmarshal(got, &ev); err != nil || ev.Seq != d.EventSeq || ev.Type != "io.modelgov.model.created" {
			t.Errorf("delivered %s: want the event %d, io.modelgov.model.created (%v)", got, d.EventSeq, err)
		}
	}

	// Evaluation results: the first is signed by gpt-5's identity key.
	at := func(d time.Duration) string {
		return time.Now().Add(-d).UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	signedResult := api.ResultRequest{Benchmark: "hellaswag", BenchmarkVersion: "1",
		Values: []api.MetricValue{{Metric: "acc_norm", Value: 0.81, Stderr: ptr(0.004)}, {Metric: "acc", Value: 0.78}},
		NShot:  ptr(10), Settings: map[string]any{"batch_size": "auto", "limit": nil}, Harness: "lm-evaluation-harness",
		HarnessVersion: "0.4.5", EvaluatedAt: time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second),
		ArtifactDigest: "sha256:" + strings.Repeat("ab", 32), Source: "results_2025-08-07.json"}
	msg, err := api.EvaluationMessage("openai/gpt-5", signedResult)
	if err != nil {
		t.Fatal(err)
	}
	signedResult.Signature, signedResult.KeyID = sign(t, key, msg), key.Public().KeyID()
	const hellaswag = `{"name": "hellaswag", "version": "1", "task": "multiple_choice", "source": "https://rowanzellers.com/hellaswag",
	  "metrics": [{"name": "acc_norm", "direction": "higher", "min": 0, "max": 1, "description": "length-normalised accuracy"},
	              {"name": "acc", "direction": "higher", "min": 0, "max": 1}]}`

	steps := []contractStep{
		{name: "health", method: "GET", path: "/healthz", status: 200},
		{name: "readiness", method: "GET", path: "/readyz", status: 200},
		{name: "openapi document", method: "GET", path: "/openapi.json", status: 200},
		{name: "model schema", method: "GET", path: "/schemas/model%2Fv1.1.json", status: 200,
			check: contains(`"$id": "https://modelgov.dev/schemas/model/v1.1.json"`)},
		{name: "unknown schema", method: "GET", path: "/schemas/model%2Fv9.json", status: 404},

		{name: "create from JSON", method: "POST", path: "/v1/models", body: contractGPT5, status: 201,
			header: with(jsonHeader, "Idempotency-Key", "create-gpt-5-1", "X-Request-Id", "contract-create"),
			check:  hasHeader("Location", "/v1/models/openai/gpt-5")},
		{name: "create replayed", method: "POST", path: "/v1/models", body: contractGPT5, status: 201,
			header: with(jsonHeader, "Idempotency-Key", "create-gpt-5-1"),
			check:  hasHeader("Idempotent-Replayed", "true")},
		{name: "create twice", method: "POST", path: "/v1/models", body: contractGPT5, header: jsonHeader, status: 409},
		{name: "create from YAML through apply", method: "POST", path: "/v1/models:apply", body: contractLlamaYAML, status: 201,
			header: map[string]string{"Content-Type": "application/yaml"}},
		{name: "apply unchanged", method: "POST", path: "/v1/models:apply", body: contractLlamaYAML, status: 200,
			header: map[string]string{"Content-Type": "application/yaml"},
			check:  hasHeader("Modelgov-Outcome", "unchanged")},
		{name: "create from a 1.0 document", method: "POST", path: "/v1/models", body: contractQwen10, header: jsonHeader, status: 201,
			check: contains(`"status":"active"`)},

		{name: "get", method: "GET", path: "/v1/models/openai/gpt-5", status: 200,
			check: hasHeader("ETag", `"1"`)},
		{name: "get not modified", method: "GET", path: "/v1/models/openai/gpt-5", status: 304,
			header: map[string]string{"If-None-Match": `"1"`}},
		{name: "list with filters", method: "GET", path: "/v1/models?provider=openai&status=proposed&labels=team%3Dcore,example.com%2Ftier&size_class=xxl", status: 200,
			check: contains(`"model_id":"openai/gpt-5"`)},
		{name: "list a page", method: "GET", path: "/v1/models?page_size=1&capability=code", status: 200,
			check: contains(`"next_page_token"`)},
		{name: "patch", method: "PATCH", path: "/v1/models/openai/gpt-5", status: 200,
			header: map[string]string{"Content-Type": "application/merge-patch+json", "If-Match": `"1"`},
			body:   `{"display_name": "GPT-5 (2025-08)", "notes": null, "labels": {"tier": "prod"}}`,
			check:  hasHeader("ETag", `"2"`)},
		{name: "activate", method: "PUT", path: "/v1/models/openai/gpt-5/lifecycle", status: 200,
			header: with(jsonHeader, "If-Match", `"2"`), body: `{"status": "active", "reason": "approved by the board"}`,
			check: contains(`"status":"active"`)},
		{name: "replace", method: "PUT", path: "/v1/models/openai/gpt-5", status: 200,
			header: with(jsonHeader, "If-Match", "3"),
			body:   `{"model_id": "openai/gpt-5", "provider": "openai", "display_name": "GPT-5", "size_class": "xxl"}`,
			check:  hasHeader("Modelgov-Outcome", "updated")},
		{name: "revisions", method: "GET", path: "/v1/models/openai/gpt-5/revisions?page_size=10", status: 200,
			check: contains(`"action":"lifecycle"`)},
		{name: "first revision", method: "GET", path: "/v1/models/openai/gpt-5/revisions/1", status: 200,
			check: contains(`"request_id":"contract-create"`)},

		{name: "without credentials", method: "GET", path: "/v1/models/openai/gpt-5", status: 401, anonymous: true, badRequest: true,
			check: hasHeader("WWW-Authenticate", `Bearer realm="modelgov"`)},
		{name: "whoami", method: "GET", path: "/v1/whoami", status: 200, check: contains(`"name":"admin"`, `"method":"token"`)},
		{name: "no identity yet", method: "GET", path: "/v1/models/openai/gpt-5/identity", status: 404},
		{name: "register an identity", method: "PUT", path: "/v1/models/openai/gpt-5/identity", status: 200, header: jsonHeader,
			body:  `{"key_type": "ed25519", "public_key": "` + key.Public().Base64() + `"}`,
			check: contains(`"key_id":"`+key.Public().KeyID()+`"`, `"status":"unverified"`)},
		{name: "identity challenge", method: "POST", path: "/v1/models/openai/gpt-5/identity/challenge", status: 201,
			check: signChallenge},
		{name: "verify the identity", method: "POST", path: "/v1/models/openai/gpt-5/identity/verify", status: 200, header: jsonHeader,
			body: `{"nonce": "{nonce}", "signature": "{signature}"}`, check: contains(`"status":"verified"`)},
		{name: "replayed challenge answer", method: "POST", path: "/v1/models/openai/gpt-5/identity/verify", status: 422, header: jsonHeader,
			body: `{"nonce": "{nonce}", "signature": "{signature}"}`},
		{name: "get identity", method: "GET", path: "/v1/models/openai/gpt-5/identity", status: 200,
			check: contains(`"status":"verified"`)},
		{name: "create a token", method: "POST", path: "/v1/tokens", status: 201, header: jsonHeader,
			body: `{"name": "ci-bot", "roles": ["maintainer"]}`, check: capture("token", `"id":"`)},
		{name: "list tokens", method: "GET", path: "/v1/tokens", status: 200, check: lacks(`"token":"mgv_`)},
		{name: "revoke a token", method: "DELETE", path: "/v1/tokens/{token}", status: 200, check: contains(`"revoked_by":"admin"`)},

		{name: "create a webhook", method: "POST", path: "/v1/webhooks", status: 201, header: jsonHeader,
			body: `{"url": "` + receiver.URL + `/hooks/modelgov?key=k1", "types": ["io.modelgov.model.created", "io.modelgov.webhook.disabled"], "description": "contract"}`,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				hasHeader("Cache-Control", "no-store")(t, resp, body)
				contains(`"secret":"whsec_`, `"status":"active"`)(t, resp, body)
				logDelivery(t, resp, body)
				hasHeader("Location", "/v1/webhooks/"+vars["webhook"])(t, resp, body)
			}},
		{name: "webhook to a bad URL", method: "POST", path: "/v1/webhooks", status: 422, header: jsonHeader,
			body: `{"url": "ftp://hooks.example.com/modelgov"}`, check: contains(`"pointer":"/url"`)},
		{name: "webhook of an unknown type", method: "POST", path: "/v1/webhooks", status: 422, header: jsonHeader, badRequest: true,
			body: `{"url": "https://hooks.example.com/modelgov", "types": ["io.modelgov.model.eaten"]}`, check: contains(`"pointer":"/types/0"`)},
		{name: "webhook with an unknown field", method: "POST", path: "/v1/webhooks", status: 400, header: jsonHeader, badRequest: true,
			body: `{"url": "https://hooks.example.com/modelgov", "secret": "whsec_mine"}`},
		{name: "webhooks without credentials", method: "GET", path: "/v1/webhooks", status: 401, anonymous: true, badRequest: true},
		{name: "list webhooks", method: "GET", path: "/v1/webhooks", status: 200,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				contains(`"id":"`+vars["webhook"]+`"`, `"types":["io.modelgov.model.created","io.modelgov.webhook.disabled"]`)(t, resp, body)
				lacks(`whsec_`)(t, resp, body)
			}},
		{name: "get a webhook", method: "GET", path: "/v1/webhooks/{webhook}", status: 200, check: lacks(`whsec_`)},
		{name: "unknown webhook", method: "GET", path: "/v1/webhooks/wh_0000000000000000", status: 404},
		{name: "webhook deliveries", method: "GET", path: "/v1/webhooks/{webhook}/deliveries?page_size=10", status: 200,
			check: contains(`"ok":false`, `"status":500`, `"response":"try later"`)},
		{name: "redeliver", method: "POST", path: "/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver", status: 200,
			check: signedRedelivery},
		{name: "redeliver an unknown delivery", method: "POST", path: "/v1/webhooks/{webhook}/deliveries/999999/redeliver", status: 404},
		{name: "webhook deliveries, a page", method: "GET", path: "/v1/webhooks/{webhook}/deliveries?page_size=1", status: 200,
			check: contains(`"redelivery_of":`, `"by":"admin"`, `"next_before":`)},
		{name: "bad deliveries before", method: "GET", path: "/v1/webhooks/{webhook}/deliveries?before=0", status: 400, badRequest: true},
		{name: "disable a webhook", method: "POST", path: "/v1/webhooks/{webhook}/disable?reason=maintenance", status: 200,
			check: contains(`"status":"disabled"`, `"disabled_reason":"maintenance"`)},
		{name: "enable a webhook", method: "POST", path: "/v1/webhooks/{webhook}/enable", status: 200,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				contains(`"status":"active"`)(t, resp, body)
				lacks(`"disabled_reason"`)(t, resp, body)
			}},
		{name: "enable an active webhook", method: "POST", path: "/v1/webhooks/{webhook}/enable", status: 200,
			check: contains(`"status":"active"`)},
		{name: "webhook events", method: "GET", path: "/v1/events?type=io.modelgov.webhook.created,io.modelgov.webhook.disabled,io.modelgov.webhook.enabled", status: 200,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				contains(`"type":"io.modelgov.webhook.created"`, `"type":"io.modelgov.webhook.disabled"`, `"type":"io.modelgov.webhook.enabled"`,
					`"subject":"webhook/`+vars["webhook"]+`"`, `"webhook":{"id":"`+vars["webhook"]+`"`)(t, resp, body)
				lacks(`whsec_`)(t, resp, body)
			}},
		{name: "delete a webhook", method: "DELETE", path: "/v1/webhooks/{webhook}", status: 200, check: lacks(`whsec_`)},
		{name: "deleted webhook", method: "GET", path: "/v1/webhooks/{webhook}/deliveries", status: 404},
		{name: "classification refused by the policy", method: "PUT", path: "/v1/models/meta/llama-3.1-8b-instruct/classification",
			header: jsonHeader, body: `{"role": "general", "reason": "promote"}`, status: 422,
			check: contains(`"type":"/problems/policy-denied"`)},
		{name: "classify", method: "PUT", path: "/v1/models/openai/gpt-5/classification", status: 200,
			header: jsonHeader, body: `{"role": "general", "reason": "frontier model"}`,
			check: contains(`"role":"general"`)},
		{name: "invalid classification", method: "PUT", path: "/v1/models/openai/gpt-5/classification", status: 422,
			header: jsonHeader, body: `{"role": "emperor", "reason": "why not"}`, badRequest: true},
		{name: "grant an exemption", method: "POST", path: "/v1/models/openai/gpt-5/exemptions", status: 200,
			header: jsonHeader, body: `{"rules": ["general-parameters"], "reason": "count under review", "expires_at": "` + inAMonth + `"}`,
			check: capture("exemption", `"exemptions":[{"id":"`)},
		{name: "revoke the exemption", method: "DELETE", path: "/v1/models/openai/gpt-5/exemptions/{exemption}?reason=reviewed", status: 200,
			check: lacks(`"exemptions"`)},
		{name: "unknown exemption", method: "DELETE", path: "/v1/models/openai/gpt-5/exemptions/0000", status: 404},
		{name: "exemption from an unknown rule", method: "POST", path: "/v1/models/openai/gpt-5/exemptions", status: 422,
			header: jsonHeader, body: `{"rules": ["no-such-rule"], "reason": "r", "expires_at": "` + inAMonth + `"}`,
			check: contains(`"pointer":"/rules/0"`)},

		{name: "list policies", method: "GET", path: "/v1/policies", status: 200, check: contains(`"name":"hivellm-default"`)},
		{name: "active policy", method: "GET", path: "/v1/policies/active", status: 200, check: contains(`"active":true`)},
		{name: "policy version", method: "GET", path: "/v1/policies/1", status: 200},
		{name: "unknown policy version", method: "GET", path: "/v1/policies/9", status: 404},
		{name: "bad policy version", method: "GET", path: "/v1/policies/0", status: 400, badRequest: true},
		{name: "dry-run activation", method: "POST", path: "/v1/policies/1/activate?dry_run=true", status: 200,
			check: contains(`"dry_run":true`)},
		{name: "evaluate", method: "POST", path: "/v1/policy/evaluate", status: 200, header: jsonHeader,
			body:  `{"model": {"model_id": "openai/gpt-5-mini", "provider": "openai", "display_name": "GPT-5 mini", "size_class": "small"}, "action": "model.classify", "role": "general"}`,
			check: contains(`"allowed":false`, `"id":"general-not-small-variant","section":"classification.general","outcome":"failed"`)},
		{name: "report on a candidate bundle", method: "POST", path: "/v1/policy/report", status: 200,
			header: map[string]string{"Content-Type": "application/yaml"}, body: contractBundle},
		{name: "compliance", method: "GET", path: "/v1/compliance?page_size=10", status: 200},
		{name: "upload a policy", method: "POST", path: "/v1/policies", status: 201,
			header: map[string]string{"Content-Type": "application/yaml"}, body: contractBundle,
			check: hasHeader("Location", "/v1/policies/2")},
		{name: "invalid policy", method: "POST", path: "/v1/policies", status: 422, badRequest: true, header: jsonHeader,
			body: `{"api_version": "modelgov.dev/policy/v1", "name": "Not A Slug"}`},

		{name: "create alias", method: "PUT", path: "/v1/aliases/hivellm/chair", status: 201, header: jsonHeader,
			body:  `{"target": "openai/gpt-5", "reason": "the chair model"}`,
			check: hasHeader("Location", "/v1/aliases/hivellm/chair")},
		{name: "alias unchanged", method: "PUT", path: "/v1/aliases/hivellm/chair", status: 200, header: jsonHeader,
			body: `{"target": "openai/gpt-5"}`},
		{name: "move alias", method: "PUT", path: "/v1/aliases/hivellm/chair", status: 200,
			header: with(jsonHeader, "If-Match", `"1"`), body: `{"target": "qwen/qwen3-235b", "reason": "rotation"}`},
		{name: "get alias", method: "GET", path: "/v1/aliases/hivellm/chair", status: 200,
			check: hasHeader("ETag", `"2"`)},
		{name: "list aliases", method: "GET", path: "/v1/aliases?target=qwen%2Fqwen3-235b", status: 200,
			check: contains(`"name":"hivellm/chair"`)},
		{name: "alias history", method: "GET", path: "/v1/aliases/hivellm/chair/history", status: 200},
		{name: "delete alias", method: "DELETE", path: "/v1/aliases/hivellm/chair?reason=retired", status: 204},
		{name: "history of a deleted alias", method: "GET", path: "/v1/aliases/hivellm/chair/history", status: 200,
			check: contains(`"target":""`)},
		{name: "delete proposed model", method: "DELETE", path: "/v1/models/meta/llama-3.1-8b-instruct", status: 204},
		{name: "revisions of a deleted model", method: "GET", path: "/v1/models/meta/llama-3.1-8b-instruct/revisions", status: 200,
			check: contains(`"action":"delete"`)},

		{name: "unknown model", method: "GET", path: "/v1/models/openai/gpt-0", status: 404},
		{name: "unknown alias", method: "GET", path: "/v1/aliases/hivellm/nobody", status: 404},
		{name: "unknown revision", method: "GET", path: "/v1/models/openai/gpt-5/revisions/99", status: 404},
		{name: "invalid document", method: "POST", path: "/v1/models", header: jsonHeader, status: 422, badRequest: true,
			body:  `{"model_id": "OpenAI/GPT 5", "provider": "openai", "display_name": ""}`,
			check: contains(`"pointer":"/model_id"`)},
		{name: "server-owned field", method: "POST", path: "/v1/models", header: jsonHeader, status: 422,
			body:  `{"model_id": "openai/o3", "provider": "openai", "display_name": "o3", "lifecycle": {"status": "active", "since": "2025-01-01T00:00:00Z"}}`,
			check: contains(`"pointer":"/lifecycle"`)},
		{name: "invalid lifecycle change", method: "PUT", path: "/v1/models/openai/gpt-5/lifecycle", header: jsonHeader, status: 422,
			body: `{"status": "deprecated", "reason": "old", "sunset": "2001-01-01"}`},
		{name: "bad lifecycle transition", method: "PUT", path: "/v1/models/openai/gpt-5/lifecycle", header: jsonHeader, status: 409,
			body:  `{"status": "archived", "reason": "done"}`,
			check: contains(`"allowed":["deprecated","suspended"]`)},
		{name: "delete an active model", method: "DELETE", path: "/v1/models/openai/gpt-5", status: 409,
			check: contains(`"allowed":`)},
		{name: "stale If-Match", method: "PATCH", path: "/v1/models/openai/gpt-5", status: 412,
			header: map[string]string{"Content-Type": "application/merge-patch+json", "If-Match": `"1"`},
			body:   `{"notes": "late"}`},
		{name: "stale resource_version in a patch", method: "PATCH", path: "/v1/models/openai/gpt-5", status: 412,
			header: map[string]string{"Content-Type": "application/json"}, body: `{"resource_version": "1"}`},
		{name: "weak If-Match", method: "DELETE", path: "/v1/models/openai/gpt-5", status: 400, badRequest: true,
			header: map[string]string{"If-Match": `W/"4"`}},
		{name: "wrong content type", method: "POST", path: "/v1/models", status: 415, badRequest: true,
			header: map[string]string{"Content-Type": "text/plain"}, body: contractGPT5,
			check: hasHeader("Accept", "application/json, application/yaml, application/x-yaml, text/yaml")},
		{name: "body over the limit", method: "POST", path: "/v1/models", status: 413, badRequest: true, header: jsonHeader,
			body: `{"model_id": "openai/big", "provider": "openai", "display_name": "big", "notes": "` + strings.Repeat("x", httpapi.DefaultMaxBody) + `"}`},
		{name: "bad status filter", method: "GET", path: "/v1/models?status=retired", status: 400, badRequest: true},
		{name: "bad page size", method: "GET", path: "/v1/models?page_size=5000", status: 400, badRequest: true},
		{name: "bad revision number", method: "GET", path: "/v1/models/openai/gpt-5/revisions/0", status: 400, badRequest: true},
		{name: "bad page token", method: "GET", path: "/v1/aliases?page_token=nonsense", status: 400},
		{name: "bad label selector", method: "GET", path: "/v1/models?labels=team%20in%20core", status: 400},
		{name: "unknown alias target", method: "PUT", path: "/v1/aliases/hivellm/chair", header: jsonHeader, status: 422,
			body: `{"target": "openai/gpt-0"}`},
		{name: "alias named like a model", method: "PUT", path: "/v1/aliases/openai/gpt-5", header: jsonHeader, status: 409,
			body: `{"target": "qwen/qwen3-235b"}`},

		{name: "create a benchmark", method: "POST", path: "/v1/benchmarks", status: 201, header: jsonHeader, body: hellaswag,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				hasHeader("Location", "/v1/benchmarks/hellaswag?version=1")(t, resp, body)
				contains(`"created_by":"admin"`)(t, resp, body)
			}},
		{name: "the same benchmark again", method: "POST", path: "/v1/benchmarks", status: 200, header: jsonHeader, body: hellaswag},
		{name: "a benchmark version with other metrics", method: "POST", path: "/v1/benchmarks", status: 409, header: jsonHeader,
			body: `{"name": "hellaswag", "version": "1", "metrics": [{"name": "acc", "direction": "higher"}]}`},
		{name: "a benchmark metric without a direction", method: "POST", path: "/v1/benchmarks", status: 422, header: jsonHeader, badRequest: true,
			body: `{"name": "arc", "version": "1", "metrics": [{"name": "acc", "direction": "up"}]}`, check: contains(`"pointer":"/metrics/0/direction"`)},
		{name: "list benchmarks", method: "GET", path: "/v1/benchmarks", status: 200, check: contains(`"name":"hellaswag"`)},
		{name: "get a benchmark", method: "GET", path: "/v1/benchmarks/hellaswag?version=1", status: 200, check: contains(`"direction":"higher"`)},
		{name: "unknown benchmark", method: "GET", path: "/v1/benchmarks/hivellm%2Fnothing", status: 404},
		{name: "record a signed result", method: "POST", path: "/v1/models/openai/gpt-5/evaluations", status: 201, header: jsonHeader,
			body: string(mustJSON(t, signedResult)),
			check: func(t *testing.T, resp *http.Response, body []byte) {
				contains(`"signed_by":"openai/gpt-5"`, `"evaluator":"admin"`)(t, resp, body)
				capture("evaluation", `"id":"`)(t, resp, body)
				hasHeader("Location", "/v1/evaluations/"+vars["evaluation"])(t, resp, body)
			}},
		{name: "correct a result", method: "POST", path: "/v1/models/openai/gpt-5/evaluations", status: 201, header: jsonHeader,
			body: `{"benchmark": "hellaswag", "benchmark_version": "1", "values": [{"metric": "acc_norm", "value": 0.82, "stderr": 0.004}],
			  "evaluated_at": "` + signedResult.EvaluatedAt.Format(time.RFC3339) + `", "supersedes": "{evaluation}", "notes": "rescored"}`,
			check: contains(`"supersedes":"`)},
		{name: "correct a corrected result", method: "POST", path: "/v1/models/openai/gpt-5/evaluations", status: 409, header: jsonHeader,
			body: `{"benchmark": "hellaswag", "benchmark_version": "1", "values": [{"metric": "acc_norm", "value": 0.83}],
			  "evaluated_at": "` + signedResult.EvaluatedAt.Format(time.RFC3339) + `", "supersedes": "{evaluation}"}`},
		{name: "a regression", method: "POST", path: "/v1/models/openai/gpt-5/evaluations", status: 201, header: jsonHeader,
			body:  `{"benchmark": "hellaswag", "benchmark_version": "1", "values": [{"metric": "acc_norm", "value": 0.70, "stderr": 0.004}], "evaluated_at": "` + at(24*time.Hour) + `"}`,
			check: contains(`"regression":{"metric":"acc_norm"`, `"before":0.82`)},
		{name: "a model flagged", method: "GET", path: "/v1/models/openai/gpt-5", status: 200,
			check: contains(`"regressions":[{"benchmark":"hellaswag","metric":"acc_norm"`)},
		{name: "a result of an unknown benchmark", method: "POST", path: "/v1/models/openai/gpt-5/evaluations", status: 422, header: jsonHeader,
			body:  `{"benchmark": "arc", "benchmark_version": "1", "values": [{"metric": "acc", "value": 0.5}], "evaluated_at": "` + at(time.Hour) + `"}`,
			check: contains(`"pointer":"/benchmark"`)},
		{name: "a result without values", method: "POST", path: "/v1/models/openai/gpt-5/evaluations", status: 422, header: jsonHeader, badRequest: true,
			body:  `{"benchmark": "hellaswag", "benchmark_version": "1", "values": [], "evaluated_at": "` + at(time.Hour) + `"}`,
			check: contains(`"pointer":"/values"`)},
		{name: "a result of an unknown model", method: "POST", path: "/v1/models/openai/gpt-0/evaluations", status: 404, header: jsonHeader,
			body: `{"benchmark": "hellaswag", "benchmark_version": "1", "values": [{"metric": "acc", "value": 0.5}], "evaluated_at": "` + at(time.Hour) + `"}`},
		{name: "record a batch", method: "POST", path: "/v1/evaluations:batch", status: 201, header: jsonHeader,
			body: `{"benchmarks": [{"name": "mmlu", "version": "1", "metrics": [{"name": "acc", "direction": "higher", "min": 0, "max": 1}]}],
			  "results": [
			    {"model_id": "openai/gpt-5", "benchmark": "mmlu", "benchmark_version": "1", "values": [{"metric": "acc", "value": 0.9, "stderr": 0.003}], "evaluated_at": "` + at(2*time.Hour) + `"},
			    {"model_id": "qwen/qwen3-235b", "benchmark": "mmlu", "benchmark_version": "1", "values": [{"metric": "acc", "value": 0.85, "stderr": 0.003}], "evaluated_at": "` + at(2*time.Hour) + `"}]}`,
			check: contains(`"model_id":"qwen/qwen3-235b"`)},
		{name: "a batch with a bad result", method: "POST", path: "/v1/evaluations:batch", status: 422, header: jsonHeader,
			body: `{"results": [
			    {"model_id": "openai/gpt-5", "benchmark": "mmlu", "benchmark_version": "1", "values": [{"metric": "acc", "value": 0.9}], "evaluated_at": "` + at(time.Hour) + `"},
			    {"model_id": "qwen/qwen3-235b", "benchmark": "mmlu", "benchmark_version": "1", "values": [{"metric": "acc", "value": 1.5}], "evaluated_at": "` + at(time.Hour) + `"}]}`,
			// (The registry's own checks of a batch's results, in its
			// transaction, point into the result, not into the batch.)
			check: contains(`"pointer":"/`, `/values/0/value"`)},
		{name: "history", method: "GET", path: "/v1/models/openai/gpt-5/evaluations?benchmark=hellaswag&version=1&page_size=1", status: 200,
			check: contains(`"next_page_token":"`, `"benchmark":"hellaswag"`)},
		{name: "valid history in a time range", method: "GET", path: "/v1/models/openai/gpt-5/evaluations?valid=true&since=" + url.QueryEscape(at(100*time.Hour)) +
			"&until=" + url.QueryEscape(at(0)), status: 200, check: lacks(`"superseded_by"`)},
		{name: "history with a bad filter", method: "GET", path: "/v1/models/openai/gpt-5/evaluations?valid=maybe", status: 400, badRequest: true},
		{name: "get a result", method: "GET", path: "/v1/evaluations/{evaluation}", status: 200, check: contains(`"superseded_by":"ev_`, `"key_id":"`)},
		{name: "unknown result", method: "GET", path: "/v1/evaluations/ev_0000000000000000", status: 404},
		{name: "leaderboard", method: "GET", path: "/v1/leaderboards/hellaswag?version=1&metric=acc_norm&role=general&status=active&offset=0&page_size=10", status: 200,
			check: contains(`"rank":1,"model_id":"openai/gpt-5","role":"general","status":"active","value":0.7`)},
		{name: "leaderboard of an unknown metric", method: "GET", path: "/v1/leaderboards/hellaswag?metric=f1", status: 404},
		{name: "leaderboard of a bad role", method: "GET", path: "/v1/leaderboards/hellaswag?role=emperor", status: 400, badRequest: true},
		{name: "compare", method: "GET", path: "/v1/compare?a=openai%2Fgpt-5&b=qwen%2Fqwen3-235b", status: 200,
			check: contains(`"benchmark":"mmlu"`, `"better":"openai/gpt-5"`, `"difference":`)},
		{name: "compare one model", method: "GET", path: "/v1/compare?a=openai%2Fgpt-5", status: 400, badRequest: true},
		{name: "evaluation events", method: "GET", path: "/v1/events?type=io.modelgov.benchmark.created,io.modelgov.evaluation.recorded,io.modelgov.evaluation.regressed&page_size=100", status: 200,
			check: contains(`"type":"io.modelgov.benchmark.created"`, `"type":"io.modelgov.evaluation.recorded"`, `"type":"io.modelgov.evaluation.regressed"`,
				`"subject":"benchmark/hellaswag@1"`, `"evaluation":{"id":"`)},

		{name: "import dry run", method: "POST", path: "/v1/imports", status: 200, header: jsonHeader, body: contractImport(`"dry_run": true`),
			check: contains(`"dry_run":true`, `"applied":false`, `"outcome":"create"`, `"outcome":"invalid"`, `"reasons":["/size_class: not a size class"]`)},
		{name: "import refused", method: "POST", path: "/v1/imports", status: 422, header: jsonHeader, body: contractImport(`"partial": false`),
			check: contains(`"type":"/problems/invalid-document"`, `"import":{`, `"invalid":1`)},
		{name: "import without records", method: "POST", path: "/v1/imports", status: 422, header: jsonHeader, badRequest: true,
			body: `{"records": []}`},
		{name: "import with an unknown progress stream", method: "POST", path: "/v1/imports?progress=sse", status: 400, header: jsonHeader, badRequest: true,
			body: contractImport(`"dry_run": true`)},
		{name: "import partial", method: "POST", path: "/v1/imports", status: 201, header: jsonHeader, body: contractImport(`"partial": true`),
			check: func(t *testing.T, resp *http.Response, body []byte) {
				contains(`"applied":true`, `"granted":"specialist"`)(t, resp, body)
				capture("import", `"batch":"`)(t, resp, body)
				hasHeader("Location", "/v1/imports/"+vars["import"])(t, resp, body)
			}},
		{name: "import with progress", method: "POST", path: "/v1/imports?progress=ndjson", status: 200, header: jsonHeader, body: contractImport(`"dry_run": true`),
			check: func(t *testing.T, resp *http.Response, body []byte) {
				hasHeader("Content-Type", "application/x-ndjson")(t, resp, body)
				contains(`{"done":2,"total":2}`+"\n", `{"report":{"dry_run":true`)(t, resp, body)
			}},
		{name: "list imports", method: "GET", path: "/v1/imports", status: 200, check: containsVars(`"id":"{import}"`)},
		{name: "get an import", method: "GET", path: "/v1/imports/{import}", status: 200,
			check: contains(`"models":[{"model_id":"acme/imported","before":0,"after":2}]`)},
		{name: "unknown import", method: "GET", path: "/v1/imports/imp_0000000000000000", status: 404},
		{name: "roll back with a bad force", method: "POST", path: "/v1/imports/{import}/rollback?force=perhaps", status: 400, badRequest: true},
		{name: "roll back an import", method: "POST", path: "/v1/imports/{import}/rollback?force=false", status: 200,
			check: contains(`"rolled_back_at":"`, `"rolled_back_by":"admin"`)},
		{name: "roll back an import twice", method: "POST", path: "/v1/imports/{import}/rollback", status: 409},
		{name: "import events", method: "GET", path: "/v1/events?type=io.modelgov.import.applied,io.modelgov.import.rolled_back", status: 200,
			check: containsVars(`"type":"io.modelgov.import.applied"`, `"type":"io.modelgov.import.rolled_back"`, `"subject":"import/{import}"`)},
		{name: "backup", method: "GET", path: "/v1/backup", status: 200,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				hasHeader("Content-Type", "application/x-ndjson")(t, resp, body)
				hasHeader("Cache-Control", "no-store")(t, resp, body)
				contains(`{"format":"modelgov-snapshot","version":1,`, `"kind":"model"`)(t, resp, body)
			}},

		{name: "activate a policy", method: "POST", path: "/v1/policies/2/activate", status: 200,
			check: contains(`"active":true`)},
		{name: "write forbidden by the policy", method: "PUT", path: "/v1/aliases/hivellm/judge", status: 403, header: jsonHeader,
			body:  `{"target": "openai/gpt-5"}`,
			check: contains(`"type":"/problems/forbidden"`, `"forbidden":true`)},

		{name: "audit entries", method: "GET", path: "/v1/audit/entries?outcome=denied&page_size=5", status: 200,
			check: contains(`"outcome":"denied"`)},
		{name: "audit entry", method: "GET", path: "/v1/audit/entries/1", status: 200, check: contains(`"seq":1,`)},
		{name: "unknown audit entry", method: "GET", path: "/v1/audit/entries/999999", status: 404},
		{name: "audit checkpoint", method: "GET", path: "/v1/audit/checkpoint", status: 200},
		{name: "audit key", method: "GET", path: "/v1/audit/key", status: 200},
		{name: "inclusion proof", method: "GET", path: "/v1/audit/proof/inclusion?index=1&size=4", status: 200},
		{name: "consistency proof", method: "GET", path: "/v1/audit/proof/consistency?old=2&new=5", status: 200},
		{name: "proof without a size", method: "GET", path: "/v1/audit/proof/inclusion?index=1", status: 400, badRequest: true},
		{name: "bad audit time", method: "GET", path: "/v1/audit/entries?since=yesterday", status: 400, badRequest: true},

		{name: "events", method: "GET", path: "/v1/events?type=io.modelgov.model.created,io.modelgov.model.deleted&page_size=2", status: 200,
			check: contains(`"specversion":"1.0"`, `"type":"io.modelgov.model.created"`, `"next_after":`)},
		{name: "events about a model", method: "GET", path: "/v1/events?subject=openai%2Fgpt-5&after=1", status: 200,
			check: contains(`"subject":"openai/gpt-5"`)},
		{name: "bad events after", method: "GET", path: "/v1/events?after=-1", status: 400, badRequest: true},

		{name: "metrics", method: "GET", path: "/metrics", status: 200,
			check: contains(`modelgov_http_requests_total{code="201",method="POST",route="/v1/models"}`)},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			for name, value := range vars {
				s.path = strings.ReplaceAll(s.path, "{"+name+"}", value)
				s.body = strings.ReplaceAll(s.body, "{"+name+"}", value)
			}
			if !s.anonymous {
				s.header = with(s.header, "Authorization", "Bearer "+token)
			}
			resp, body := contractExchange(t, ts.URL, s)
			if resp.StatusCode != s.status {
				t.Fatalf("%s %s: status %d, want %d; body: %s", s.method, s.path, resp.StatusCode, s.status, body)
			}
			if s.check != nil {
				s.check(t, resp, body)
			}

			req := contractRequest(t, ts.URL, s)
			ok, reqErrs := v.ValidateHttpRequest(req)
			switch {
			case s.badRequest && ok:
				t.Errorf("%s %s: the document accepts this request, which the server refuses with %d", s.method, s.path, s.status)
			case !s.badRequest:
				for _, e := range reqErrs {
					t.Errorf("%s %s: the request breaks the document: %s", s.method, s.path, describeViolation(e))
				}
			}

			resp.Body = io.NopCloser(bytes.NewReader(body))
			if _, respErrs := v.ValidateHttpResponse(contractRequest(t, ts.URL, s), resp); len(respErrs) > 0 {
				for _, e := range respErrs {
					t.Errorf("%s %s: the %d response breaks the document: %s\nbody: %.2000s", s.method, s.path, resp.StatusCode, describeViolation(e), body)
				}
			}
		})
	}
}

// TestOpenAPIContractUnavailable checks the answers of a server that
// cannot answer: a database that does not answer, no audit signing key.
func TestOpenAPIContractUnavailable(t *testing.T) {
	doc, _ := openAPIDocument(t)
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator.NewValidator: %v", errors.Join(errs...))
	}
	h, token := newUnreadyServer(t)
	ts := httptest.NewServer(h)
	defer ts.Close()

	for _, path := range []string{"/readyz", "/v1/audit/checkpoint", "/v1/audit/key"} {
		s := contractStep{method: "GET", path: path, header: map[string]string{"Authorization": "Bearer " + token}}
		resp, body := contractExchange(t, ts.URL, s)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s: status %d, want 503; body: %s", path, resp.StatusCode, body)
			continue
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if ok, respErrs := v.ValidateHttpRequestResponse(contractRequest(t, ts.URL, s), resp); !ok {
			for _, e := range respErrs {
				t.Errorf("GET %s: %s", path, describeViolation(e))
			}
		}
	}
}

// contractRequest builds the request of a step; each call gives a fresh body.
func contractRequest(t *testing.T, base string, s contractStep) *http.Request {
	t.Helper()
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	req, err := http.NewRequest(s.method, base+s.path, body)
	if err != nil {
		t.Fatalf("new request %s %s: %v", s.method, s.path, err)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	return req
}

// contractExchange sends the request of a step and returns the answer and its body.
func contractExchange(t *testing.T, base string, s contractStep) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(contractRequest(t, base, s))
	if err != nil {
		t.Fatalf("%s %s: %v", s.method, s.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the body: %v", s.method, s.path, err)
	}
	return resp, body
}

// describeViolation writes a validation error with its schema failures.
func describeViolation(e *oaserrors.ValidationError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Message, e.Reason)
	if e.SpecLine > 0 {
		fmt.Fprintf(&b, " (openapi.yaml line %d)", e.SpecLine)
	}
	for _, f := range e.SchemaValidationErrors {
		fmt.Fprintf(&b, "\n\t%s at %s (%s)", f.Reason, f.FieldPath, f.KeywordLocation)
	}
	return b.String()
}
