package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/auth"
	"github.com/hivellm/modelgov/internal/httpapi"
	"github.com/hivellm/modelgov/internal/identity"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/registry"
)

// newToken creates an API token through POST /v1/tokens, as the admin.
func (s *testServer) newToken(t *testing.T, name string, roles ...string) *api.Token {
	t.Helper()
	var tok api.Token
	if err := json.Unmarshal(s.write(t, "POST", "/v1/tokens", mustJSON(t, api.TokenRequest{Name: name, Roles: roles})), &tok); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Token, "mgv_") || tok.ID == "" {
		t.Fatalf("token %s: %+v", name, tok)
	}
	return &tok
}

// as is a sender that authenticates with token.
type as struct {
	s     *testServer
	token string
}

func (a as) send(t *testing.T, method, path string, body []byte, header ...string) (int, http.Header, []byte) {
	t.Helper()
	return a.s.send(t, method, path, body, append(withToken(a.token), header...)...)
}

// auditSize is the number of entries in the audit log.
func (s *testServer) auditSize(t *testing.T) int {
	t.Helper()
	return len(s.auditEntries(t, url.Values{}))
}

// auditEntries returns the audit entries query selects.
func (s *testServer) auditEntries(t *testing.T, query url.Values) []*api.AuditEntry {
	t.Helper()
	q := url.Values{"page_size": {"1000"}}
	for k, v := range query {
		q[k] = v
	}
	var out []*api.AuditEntry
	for {
		var page api.AuditEntryList
		if err := json.Unmarshal(s.write(t, "GET", "/v1/audit/entries?"+q.Encode(), nil), &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextPageToken == "" {
			return out
		}
		q.Set("page_token", page.NextPageToken)
	}
}

// The principals of the access tests, each with a token of one role; none
// sends no credentials.
const none = "none"

var principals = []string{none, api.RoleViewer, api.RoleEvaluator, api.RoleMaintainer, api.RoleGovernor, api.RoleAdmin}

// principalNames names the principal of each role's token.
var principalNames = map[string]string{
	api.RoleViewer:     "vera",
	api.RoleEvaluator:  "evan",
	api.RoleMaintainer: "maya",
	api.RoleGovernor:   "gwen",
	api.RoleAdmin:      "root",
}

// maintainer is the principal that owns the models of the fixtures.
const maintainer = "maya"

// roleTokens creates, through the API, a token for each role of principals.
func roleTokens(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	out := map[string]string{none: ""}
	for role, name := range principalNames {
		out[role] = s.newToken(t, name, role).Token
	}
	return out
}

// cell is one route and principal of TestEveryRouteAndRole: the fixtures
// of its request are its own.
type cell struct {
	t *testing.T
	s *testServer
	n int
}

var cells atomic.Int64

func newCell(t *testing.T, s *testServer) *cell {
	return &cell{t: t, s: s, n: int(cells.Add(1))}
}

// id returns a model id of the cell's own provider, so that no two cells'
// models are alike.
func (c *cell) id(name string) string { return fmt.Sprintf("p%d/%s", c.n, name) }

// doc is a model document owned by the maintainer.
func (c *cell) doc(id string) map[string]any {
	d := fullDocument(id)
	d["owners"] = []string{maintainer}
	return d
}

// model creates, as the admin, a model owned by the maintainer.
func (c *cell) model(name string) string {
	id := c.id(name)
	c.s.write(c.t, "POST", "/v1/models", mustJSON(c.t, c.doc(id)))
	return id
}

// withKey creates a model and registers a key for it, as the admin.
func (c *cell) withKey(name string) (string, *api.Identity) {
	id := c.model(name)
	key := newKey(c.t, api.KeyEd25519)
	m := registerKey(c.t, c.s, id, key)
	return id, m.Identity
}

// cellRequest is what a cell sends. other is the same request naming, in
// place of the resource request names, one in the other state: a missing
// one for a request about an existing resource, an existing one for a
// request that creates; nil when the request names no resource.
type cellRequest struct {
	path   string
	body   []byte
	header []string
	other  *cellRequest
}

func get(path, other string) cellRequest {
	r := cellRequest{path: path}
	if other != "" {
		r.other = &cellRequest{path: other}
	}
	return r
}

// routeAccess is the access of one route, as the table states it.
type routeAccess struct {
	public bool
	// roles may use the route.
	roles []string
	// limited routes count against the rate limit.
	limited bool
	// refused names the roles that the route lets in but whose request
	// the registry refuses on its own rules (403), and why.
	refused map[string]string
	prep    func(c *cell) cellRequest
}

// The role sets of the table, written out: the table must not be derived
// from the server's own.
var (
	anyRole      = []string{api.RoleViewer, api.RoleEvaluator, api.RoleMaintainer, api.RoleGovernor, api.RoleAdmin}
	modelAuthors = []string{api.RoleMaintainer, api.RoleAdmin}
	modelCarers  = []string{api.RoleMaintainer, api.RoleGovernor, api.RoleAdmin}
	governing    = []string{api.RoleGovernor, api.RoleAdmin}
	adminOnly    = []string{api.RoleAdmin}
	// evaluating record evaluation results; cataloguing add benchmarks.
	evaluating  = []string{api.RoleEvaluator, api.RoleAdmin}
	cataloguing = []string{api.RoleEvaluator, api.RoleGovernor, api.RoleAdmin}
)

// accessTable is who may call each route, and a meaningful request for it.
func accessTable() map[string]routeAccess {
	missing := func(c *cell) string { return c.id("missing") }
	jsonPatch := []string{"Content-Type", "application/merge-patch+json"}
	yamlBody := []string{"Content-Type", "application/yaml"}
	inAnHour := func() string { return time.Now().Add(time.Hour).UTC().Format(time.RFC3339) }
	return map[string]routeAccess{
		"GET /healthz":           {public: true, prep: func(c *cell) cellRequest { return get("/healthz", "") }},
		"GET /readyz":            {public: true, prep: func(c *cell) cellRequest { return get("/readyz", "") }},
		"GET /openapi.json":      {public: true, prep: func(c *cell) cellRequest { return get("/openapi.json", "") }},
		"GET /schemas/{path...}": {public: true, prep: func(c *cell) cellRequest { return get("/schemas/model/v1.1.json", "") }},
		"GET /metrics":           {roles: anyRole, prep: func(c *cell) cellRequest { return get("/metrics", "") }},

		"POST /v1/models": {roles: modelAuthors, limited: true, prep: func(c *cell) cellRequest {
			taken := c.model("taken")
			return cellRequest{path: "/v1/models", body: mustJSON(c.t, c.doc(c.id("new"))),
				other: &cellRequest{path: "/v1/models", body: mustJSON(c.t, c.doc(taken))}}
		}},
		"GET /v1/models": {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/models", "") }},
		"POST /v1/models:apply": {roles: modelAuthors, limited: true, prep: func(c *cell) cellRequest {
			taken := c.model("taken")
			return cellRequest{path: "/v1/models:apply", body: mustJSON(c.t, c.doc(c.id("new"))),
				other: &cellRequest{path: "/v1/models:apply", body: mustJSON(c.t, c.doc(taken))}}
		}},
		"GET /v1/models/{provider}/{model}": {roles: anyRole, prep: func(c *cell) cellRequest {
			return get("/v1/models/"+c.model("base"), "/v1/models/"+missing(c))
		}},
		"PUT /v1/models/{provider}/{model}": {roles: modelAuthors, prep: func(c *cell) cellRequest {
			id := c.model("base")
			doc := c.doc(id)
			doc["notes"] = "replaced"
			return cellRequest{path: "/v1/models/" + id, body: mustJSON(c.t, doc),
				other: &cellRequest{path: "/v1/models/" + missing(c), body: mustJSON(c.t, c.doc(missing(c)))}}
		}},
		"PATCH /v1/models/{provider}/{model}": {roles: modelAuthors, prep: func(c *cell) cellRequest {
			return cellRequest{path: "/v1/models/" + c.model("base"), body: []byte(`{"notes":"patched"}`), header: jsonPatch,
				other: &cellRequest{path: "/v1/models/" + missing(c), body: []byte(`{"notes":"patched"}`), header: jsonPatch}}
		}},
		"DELETE /v1/models/{provider}/{model}": {roles: modelAuthors, prep: func(c *cell) cellRequest {
			return get("/v1/models/"+c.model("base"), "/v1/models/"+missing(c))
		}},
		"PUT /v1/models/{provider}/{model}/lifecycle": {roles: modelCarers, prep: func(c *cell) cellRequest {
			// An active model: its maintainer may deprecate it (only a
			// governor approves, suspends or archives).
			id := c.model("base")
			c.s.write(c.t, "PUT", "/v1/models/"+id+"/lifecycle", []byte(`{"status":"active","reason":"approved"}`))
			body := []byte(`{"status":"deprecated","reason":"replaced","sunset":"2099-01-01"}`)
			return cellRequest{path: "/v1/models/" + id + "/lifecycle", body: body,
				other: &cellRequest{path: "/v1/models/" + missing(c) + "/lifecycle", body: body}}
		}},
		"GET /v1/models/{provider}/{model}/revisions": {roles: anyRole, prep: func(c *cell) cellRequest {
			return get("/v1/models/"+c.model("base")+"/revisions", "/v1/models/"+missing(c)+"/revisions")
		}},
		"GET /v1/models/{provider}/{model}/revisions/{revision}": {roles: anyRole, prep: func(c *cell) cellRequest {
			return get("/v1/models/"+c.model("base")+"/revisions/1", "/v1/models/"+missing(c)+"/revisions/1")
		}},
		"PUT /v1/models/{provider}/{model}/classification": {roles: governing, prep: func(c *cell) cellRequest {
			body := []byte(`{"role":"specialist","reason":"a coder"}`)
			return cellRequest{path: "/v1/models/" + c.model("base") + "/classification", body: body,
				other: &cellRequest{path: "/v1/models/" + missing(c) + "/classification", body: body}}
		}},
		"POST /v1/models/{provider}/{model}/exemptions": {roles: governing, prep: func(c *cell) cellRequest {
			body := []byte(`{"rules":["general-size-class"],"reason":"pilot","expires_at":"` + inAnHour() + `"}`)
			return cellRequest{path: "/v1/models/" + c.model("base") + "/exemptions", body: body,
				other: &cellRequest{path: "/v1/models/" + missing(c) + "/exemptions", body: body}}
		}},
		"DELETE /v1/models/{provider}/{model}/exemptions/{id}": {roles: governing, prep: func(c *cell) cellRequest {
			id := c.model("base")
			var m api.Model
			if err := json.Unmarshal(c.s.write(c.t, "POST", "/v1/models/"+id+"/exemptions",
				[]byte(`{"rules":["general-size-class"],"reason":"pilot","expires_at":"`+inAnHour()+`"}`)), &m); err != nil {
				c.t.Fatal(err)
			}
			ex := m.Governance.Exemptions[0].ID
			return get("/v1/models/"+id+"/exemptions/"+ex+"?reason=done", "/v1/models/"+missing(c)+"/exemptions/"+ex+"?reason=done")
		}},
		"PUT /v1/models/{provider}/{model}/review": {roles: governing, prep: func(c *cell) cellRequest {
			// twin-b is nearly identical to twin-a: it is held for review.
			c.model("twin-a")
			twin := c.model("twin-b")
			body := []byte(`{"status":"cleared","reason":"a distinct model"}`)
			return cellRequest{path: "/v1/models/" + twin + "/review", body: body,
				other: &cellRequest{path: "/v1/models/" + missing(c) + "/review", body: body}}
		}},

		"GET /v1/models/{provider}/{model}/identity": {roles: anyRole, prep: func(c *cell) cellRequest {
			id, _ := c.withKey("base")
			return get("/v1/models/"+id+"/identity", "/v1/models/"+missing(c)+"/identity")
		}},
		"PUT /v1/models/{provider}/{model}/identity": {roles: modelCarers, limited: true, prep: func(c *cell) cellRequest {
			body := mustJSON(c.t, api.IdentityRegistration{PublicKey: newKey(c.t, api.KeyEd25519).Public().Base64()})
			return cellRequest{path: "/v1/models/" + c.model("base") + "/identity", body: body,
				other: &cellRequest{path: "/v1/models/" + missing(c) + "/identity", body: body}}
		}},
		"DELETE /v1/models/{provider}/{model}/identity": {roles: modelCarers, prep: func(c *cell) cellRequest {
			id, _ := c.withKey("base")
			return get("/v1/models/"+id+"/identity?reason=leaked", "/v1/models/"+missing(c)+"/identity?reason=leaked")
		}},
		"POST /v1/models/{provider}/{model}/identity/challenge": {roles: modelCarers, limited: true, prep: func(c *cell) cellRequest {
			id, _ := c.withKey("base")
			return cellRequest{path: "/v1/models/" + id + "/identity/challenge", other: &cellRequest{path: "/v1/models/" + missing(c) + "/identity/challenge"}}
		}},
		"POST /v1/models/{provider}/{model}/identity/verify": {roles: modelCarers, limited: true, prep: func(c *cell) cellRequest {
			id := c.model("base")
			key := newKey(c.t, api.KeyEd25519)
			registerKey(c.t, c.s, id, key)
			ch := challenge(c.t, c.s, id)
			body := mustJSON(c.t, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sign(c.t, key, []byte(ch.Nonce))})
			return cellRequest{path: "/v1/models/" + id + "/identity/verify", body: body,
				other: &cellRequest{path: "/v1/models/" + missing(c) + "/identity/verify", body: body}}
		}},
		"POST /v1/models/{provider}/{model}/identity/endorsements": {roles: modelCarers, limited: true,
			refused: map[string]string{api.RoleGovernor: "an endorsement is submitted by the endorser's owners (or an admin); the governor does not own it"},
			prep: func(c *cell) cellRequest {
				id, ident := c.withKey("base")
				endorser := c.model("endorser")
				key := proveIdentity(c.t, c.s, endorser)
				body := mustJSON(c.t, api.EndorsementRequest{Endorser: endorser, Signature: sign(c.t, key, api.EndorsementMessage(id, ident.KeyID))})
				return cellRequest{path: "/v1/models/" + id + "/identity/endorsements", body: body,
					other: &cellRequest{path: "/v1/models/" + missing(c) + "/identity/endorsements", body: body}}
			}},
		"DELETE /v1/models/{provider}/{model}/identity/endorsements/{endorser_provider}/{endorser_model}": {roles: modelCarers, prep: func(c *cell) cellRequest {
			id, ident := c.withKey("base")
			endorser := c.model("endorser")
			key := proveIdentity(c.t, c.s, endorser)
			if code, b := endorse(c.t, c.s, id, ident.KeyID, endorser, key); code != http.StatusOK {
				c.t.Fatalf("endorse %s: %d %s", id, code, b)
			}
			return get("/v1/models/"+id+"/identity/endorsements/"+endorser, "/v1/models/"+missing(c)+"/identity/endorsements/"+endorser)
		}},

		"POST /v1/policies": {roles: governing, prep: func(c *cell) cellRequest {
			return cellRequest{path: "/v1/policies", body: policy.Default(), header: yamlBody}
		}},
		"GET /v1/policies":           {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/policies", "") }},
		"GET /v1/policies/active":    {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/policies/active", "") }},
		"GET /v1/policies/{version}": {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/policies/1", "/v1/policies/999") }},
		"POST /v1/policies/{version}/activate": {roles: governing, prep: func(c *cell) cellRequest {
			return get("/v1/policies/1/activate", "/v1/policies/999/activate")
		}},
		"POST /v1/policy/evaluate": {roles: anyRole, prep: func(c *cell) cellRequest {
			return cellRequest{path: "/v1/policy/evaluate",
				body: []byte(`{"action":"model.classify","role":"general","model":` + string(mustJSON(c.t, c.doc(c.id("x")))) + `}`)}
		}},
		"POST /v1/policy/report": {roles: anyRole, prep: func(c *cell) cellRequest {
			return cellRequest{path: "/v1/policy/report", body: policy.Default(), header: yamlBody}
		}},
		"GET /v1/compliance": {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/compliance", "") }},

		"GET /v1/audit/entries":       {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/audit/entries?page_size=5", "") }},
		"GET /v1/audit/entries/{seq}": {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/audit/entries/0", "/v1/audit/entries/99999999") }},
		"GET /v1/audit/checkpoint":    {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/audit/checkpoint", "") }},
		"GET /v1/audit/key":           {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/audit/key", "") }},
		"GET /v1/audit/proof/inclusion": {roles: anyRole, prep: func(c *cell) cellRequest {
			return get("/v1/audit/proof/inclusion?index=0&size=1", "")
		}},
		"GET /v1/audit/proof/consistency": {roles: anyRole, prep: func(c *cell) cellRequest {
			return get("/v1/audit/proof/consistency?old=1&new=2", "")
		}},

		"GET /v1/events": {roles: anyRole, prep: func(c *cell) cellRequest {
			c.model("base")
			return get("/v1/events?type=io.modelgov.model.created&page_size=5", "")
		}},
		"GET /v1/watch": {roles: anyRole, prep: func(c *cell) cellRequest {
			// A stream does not end by itself, and the table reads whole
			// answers: StopStreams makes every later stream end after the
			// events it has (a complete 200), as at a shutdown.
			c.s.api.StopStreams()
			c.model("base")
			return get("/v1/watch?type=io.modelgov.model.created", "")
		}},

		"GET /v1/aliases": {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/aliases", "") }},
		"GET /v1/aliases/{namespace}/{name}": {roles: anyRole, prep: func(c *cell) cellRequest {
			return get("/v1/aliases/"+c.alias("chair"), "/v1/aliases/"+c.id("no-alias"))
		}},
		"PUT /v1/aliases/{namespace}/{name}": {roles: governing, prep: func(c *cell) cellRequest {
			body := mustJSON(c.t, api.AliasMove{Target: c.model("base"), Reason: "vote"})
			return cellRequest{path: "/v1/aliases/" + c.id("chair"), body: body,
				other: &cellRequest{path: "/v1/aliases/" + c.alias("vice"), body: body}}
		}},
		"DELETE /v1/aliases/{namespace}/{name}": {roles: governing, prep: func(c *cell) cellRequest {
			return get("/v1/aliases/"+c.alias("chair")+"?reason=retired", "/v1/aliases/"+c.id("no-alias")+"?reason=retired")
		}},
		"GET /v1/aliases/{namespace}/{name}/history": {roles: anyRole, prep: func(c *cell) cellRequest {
			return get("/v1/aliases/"+c.alias("chair")+"/history", "/v1/aliases/"+c.id("no-alias")+"/history")
		}},

		"POST /v1/webhooks": {roles: adminOnly, limited: true, prep: func(c *cell) cellRequest {
			return cellRequest{path: "/v1/webhooks", body: mustJSON(c.t, api.WebhookRequest{URL: newEndpoint(c.t).URL})}
		}},
		"GET /v1/webhooks": {roles: adminOnly, prep: func(c *cell) cellRequest { return get("/v1/webhooks", "") }},
		"GET /v1/webhooks/{id}": {roles: adminOnly, prep: func(c *cell) cellRequest {
			return get("/v1/webhooks/"+c.webhook(), "/v1/webhooks/wh_0000000000000000")
		}},
		"DELETE /v1/webhooks/{id}": {roles: adminOnly, prep: func(c *cell) cellRequest {
			return get("/v1/webhooks/"+c.webhook(), "/v1/webhooks/wh_0000000000000000")
		}},
		"POST /v1/webhooks/{id}/enable": {roles: adminOnly, prep: func(c *cell) cellRequest {
			return get("/v1/webhooks/"+c.webhook()+"/enable", "/v1/webhooks/wh_0000000000000000/enable")
		}},
		"POST /v1/webhooks/{id}/disable": {roles: adminOnly, prep: func(c *cell) cellRequest {
			return get("/v1/webhooks/"+c.webhook()+"/disable?reason=paused", "/v1/webhooks/wh_0000000000000000/disable?reason=paused")
		}},
		"GET /v1/webhooks/{id}/deliveries": {roles: adminOnly, prep: func(c *cell) cellRequest {
			id, _ := c.delivery()
			return get("/v1/webhooks/"+id+"/deliveries", "/v1/webhooks/wh_0000000000000000/deliveries")
		}},
		"POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver": {roles: adminOnly, limited: true, prep: func(c *cell) cellRequest {
			id, d := c.delivery()
			return get(fmt.Sprintf("/v1/webhooks/%s/deliveries/%d/redeliver", id, d), "/v1/webhooks/wh_0000000000000000/deliveries/1/redeliver")
		}},

		"POST /v1/benchmarks": {roles: cataloguing, prep: func(c *cell) cellRequest {
			// other: the same benchmark again, which is in the catalogue.
			taken := quiz(c.benchmark())
			return cellRequest{path: "/v1/benchmarks", body: mustJSON(c.t, quiz(c.id("new-quiz"))),
				other: &cellRequest{path: "/v1/benchmarks", body: mustJSON(c.t, taken)}}
		}},
		"GET /v1/benchmarks": {roles: anyRole, prep: func(c *cell) cellRequest {
			c.benchmark()
			return get("/v1/benchmarks", "")
		}},
		"GET /v1/benchmarks/{name...}": {roles: anyRole, prep: func(c *cell) cellRequest {
			return get("/v1/benchmarks/"+c.benchmark()+"?version=1", "/v1/benchmarks/"+c.id("missing"))
		}},
		"POST /v1/models/{provider}/{model}/evaluations": {roles: evaluating, prep: func(c *cell) cellRequest {
			body := mustJSON(c.t, result(c.benchmark(), 0.7, 0.01, time.Now().Add(-time.Hour)))
			return cellRequest{path: "/v1/models/" + c.model("base") + "/evaluations", body: body,
				other: &cellRequest{path: "/v1/models/" + missing(c) + "/evaluations", body: body}}
		}},
		"GET /v1/models/{provider}/{model}/evaluations": {roles: anyRole, prep: func(c *cell) cellRequest {
			id, bench, _ := c.evaluation("base")
			return get("/v1/models/"+id+"/evaluations?benchmark="+bench+"&valid=true", "/v1/models/"+missing(c)+"/evaluations")
		}},
		"POST /v1/evaluations:batch": {roles: evaluating, prep: func(c *cell) cellRequest {
			bench := c.id("batch-quiz")
			return cellRequest{path: "/v1/evaluations:batch", body: batch(c.t, c.model("base"), bench),
				other: &cellRequest{path: "/v1/evaluations:batch", body: batch(c.t, missing(c), bench)}}
		}},
		"GET /v1/evaluations/{id}": {roles: anyRole, prep: func(c *cell) cellRequest {
			_, _, ev := c.evaluation("base")
			return get("/v1/evaluations/"+ev, "/v1/evaluations/ev_0000000000000000")
		}},
		"GET /v1/leaderboards/{name...}": {roles: anyRole, prep: func(c *cell) cellRequest {
			_, bench, _ := c.evaluation("base")
			return get("/v1/leaderboards/"+bench+"?metric=acc", "/v1/leaderboards/"+c.id("missing"))
		}},
		"GET /v1/compare": {roles: anyRole, prep: func(c *cell) cellRequest {
			a, _, _ := c.evaluation("a")
			b, _, _ := c.evaluation("b")
			return get("/v1/compare?a="+a+"&b="+b, "/v1/compare?a="+a+"&b="+missing(c))
		}},

		"GET /v1/whoami": {roles: anyRole, prep: func(c *cell) cellRequest { return get("/v1/whoami", "") }},
		"POST /v1/tokens": {roles: adminOnly, limited: true, prep: func(c *cell) cellRequest {
			return cellRequest{path: "/v1/tokens", body: mustJSON(c.t, api.TokenRequest{Name: fmt.Sprintf("bot-%d", c.n), Roles: []string{api.RoleViewer}})}
		}},
		"GET /v1/tokens": {roles: adminOnly, prep: func(c *cell) cellRequest { return get("/v1/tokens", "") }},

		// Imports, their batches and backups are the admins': an import
		// creates and changes models of any owner, and a backup holds the
		// webhook secrets and the tokens' hashes.
		"POST /v1/imports": {roles: adminOnly, prep: func(c *cell) cellRequest {
			return cellRequest{path: "/v1/imports", body: importRequest(c.t, false, false, importRecord(c.t, c.doc(c.id("imported-here")), ""))}
		}},
		"GET /v1/imports": {roles: adminOnly, prep: func(c *cell) cellRequest {
			c.importBatch()
			return get("/v1/imports", "")
		}},
		"GET /v1/imports/{id}": {roles: adminOnly, prep: func(c *cell) cellRequest {
			return get("/v1/imports/"+c.importBatch(), "/v1/imports/imp_0000000000000000")
		}},
		"POST /v1/imports/{id}/rollback": {roles: adminOnly, prep: func(c *cell) cellRequest {
			return get("/v1/imports/"+c.importBatch()+"/rollback", "/v1/imports/imp_0000000000000000/rollback")
		}},
		"GET /v1/backup": {roles: adminOnly, prep: func(c *cell) cellRequest { return get("/v1/backup", "") }},
		"DELETE /v1/tokens/{id}": {roles: adminOnly, prep: func(c *cell) cellRequest {
			tok := c.s.newToken(c.t, fmt.Sprintf("bot-%d", c.n), api.RoleViewer)
			return get("/v1/tokens/"+tok.ID, "/v1/tokens/tok_0000000000000000")
		}},
	}
}

// alias points a new alias of the cell at a new model, as the admin.
func (c *cell) alias(name string) string {
	alias := c.id(name)
	c.s.write(c.t, "PUT", "/v1/aliases/"+alias, mustJSON(c.t, api.AliasMove{Target: c.model(name + "-target")}))
	return alias
}

// routeKey names a route as the table does.
func routeKey(r httpapi.Route) string { return r.Method + " " + r.Pattern }

// TestEveryRouteAndRole sends a meaningful request to every route as every
// principal: no credentials, then a token of each role. No credentials is
// 401 with WWW-Authenticate (but on the public routes); a role the route
// does not let in is 403, the same whether the resource it names exists or
// not; a role it lets in is neither, unless the table says why the
// registry refuses that role's request (403). The table states who may
// call each route: a route without a row fails the test.
func TestEveryRouteAndRole(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	tokens := roleTokens(t, s)
	table := accessTable()

	routes := s.api.Routes()
	served := map[string]bool{}
	for _, r := range routes {
		served[routeKey(r)] = true
	}
	for key := range table {
		if !served[key] {
			t.Errorf("the table has a row for %s, which the server does not serve", key)
		}
	}
	for _, r := range routes {
		key := routeKey(r)
		row, ok := table[key]
		if !ok {
			t.Errorf("route %s has no row in the access table: add one saying which roles may use it", key)
			continue
		}
		// The table and the server's declared access agree.
		if r.Access.Public != row.public || r.Access.Limited != row.limited || !sameSet(r.Access.Roles, row.roles) {
			t.Errorf("%s: the server declares %+v; the table says public %v, roles %v, limited %v", key, r.Access, row.public, row.roles, row.limited)
		}
		t.Run(strings.NewReplacer("/", "_", " ", "_").Replace(key), func(t *testing.T) {
			for _, p := range principals {
				c := newCell(t, s)
				req := row.prep(c)
				code, h, body := s.send(t, r.Method, req.path, req.body, append(withToken(tokens[p]), req.header...)...)
				allowed := row.public || slices.Contains(row.roles, p)
				switch why, refused := row.refused[p]; {
				case row.public:
					if code == http.StatusUnauthorized || code == http.StatusForbidden || code >= 300 {
						t.Errorf("%s on a public route: %d %s", p, code, body)
					}
				case p == none:
					if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("without credentials: %d WWW-Authenticate %q %s, want 401 with a Bearer challenge", code, h.Get("WWW-Authenticate"), body)
					}
					sameRefusal(t, s, r.Method, req, tokens[p], code, body)
				case !allowed:
					if code != http.StatusForbidden || problemOf(t, body).Type != "/problems/forbidden" {
						t.Errorf("%s, which the route does not let in: %d %s, want 403", p, code, body)
					}
					sameRefusal(t, s, r.Method, req, tokens[p], code, body)
				case refused:
					if code != http.StatusForbidden || problemOf(t, body).Type != "/problems/forbidden" {
						t.Errorf("%s: %d %s, want 403 from the registry: %s", p, code, body, why)
					}
				default:
					if code < 200 || code > 299 {
						t.Errorf("%s, which the route lets in: %d %s, want it to succeed", p, code, body)
					}
				}
			}
		})
	}
}

// sameRefusal checks that the refusal of req (status code, body) says
// nothing of whether the resource it names exists: req.other, which names
// one in the other state, is refused alike.
func sameRefusal(t *testing.T, s *testServer, method string, req cellRequest, token string, code int, body []byte) {
	t.Helper()
	if req.other == nil {
		return
	}
	o := req.other
	otherCode, _, otherBody := s.send(t, method, o.path, o.body, append(withToken(token), o.header...)...)
	p, q := problemOf(t, body), problemOf(t, otherBody)
	if otherCode != code || p.Type != q.Type || p.Title != q.Title || p.Detail != q.Detail {
		t.Errorf("the refusal tells whether the resource exists:\n%s %s: %d %+v\n%s %s: %d %+v", method, req.path, code, p, method, o.path, otherCode, q)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestMaintainersActOnTheirOwnModels: a maintainer edits, deletes and
// proves the identity of the models it owns, and of no other, and its
// refused attempts are on the record; a governor classifies but does not
// edit documents. (TestReadersWriteNothing: evaluators and viewers.)
func TestMaintainersActOnTheirOwnModels(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	maya := as{s, s.newToken(t, "maya", api.RoleMaintainer).Token}
	otto := as{s, s.newToken(t, "otto", api.RoleMaintainer).Token}
	gwen := as{s, s.newToken(t, "gwen", api.RoleGovernor).Token}

	// A maintainer's model without owners is its own; one it registers
	// for another owner is refused.
	mineDoc := fullDocument("acme/mine")
	delete(mineDoc, "owners")
	if code, _, body := maya.send(t, "POST", "/v1/models", mustJSON(t, mineDoc)); code != http.StatusCreated {
		t.Fatalf("maya creates acme/mine: %d %s", code, body)
	}
	var mine api.Model
	if err := json.Unmarshal(s.write(t, "GET", "/v1/models/acme/mine", nil), &mine); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mine.Owners, []string{"maya"}) {
		t.Errorf("owners of a maintainer's model = %v, want [maya]", mine.Owners)
	}
	for _, doc := range []map[string]any{fullDocument("acme/alices"), fullDocument("acme/both")} {
		if doc["model_id"] == "acme/both" {
			doc["owners"] = []string{"otto", "alice"}
		}
		if code, _, body := maya.send(t, "POST", "/v1/models", mustJSON(t, doc)); code != http.StatusForbidden {
			t.Errorf("maya registers %s for %v: %d %s, want 403", doc["model_id"], doc["owners"], code, body)
		}
	}
	theirsDoc := fullDocument("zeta/theirs")
	theirsDoc["owners"] = []string{"otto"}
	theirsDoc["context_window"] = 100000
	if code, _, body := otto.send(t, "POST", "/v1/models", mustJSON(t, theirsDoc)); code != http.StatusCreated {
		t.Fatalf("otto creates zeta/theirs: %d %s", code, body)
	}
	ottoKey := newKey(t, api.KeyEd25519)
	registerKey(t, otto, "zeta/theirs", ottoKey)
	bareDoc := fullDocument("zeta/bare") // without an identity
	bareDoc["owners"] = []string{"otto"}
	bareDoc["context_window"] = 200000
	if code, _, body := otto.send(t, "POST", "/v1/models", mustJSON(t, bareDoc)); code != http.StatusCreated {
		t.Fatalf("otto creates zeta/bare: %d %s", code, body)
	}
	version := func(id string) string {
		var m api.Model
		if err := json.Unmarshal(s.write(t, "GET", "/v1/models/"+id, nil), &m); err != nil {
			t.Fatal(err)
		}
		return m.ResourceVersion
	}

	// maya and otto's models.
	before, bareBefore := version("zeta/theirs"), version("zeta/bare")
	ch := challenge(t, otto, "zeta/theirs")
	changed := fullDocument("zeta/theirs")
	changed["owners"] = []string{"otto", "maya"} // taking it over
	refusals := []struct {
		name, method, path string
		body               []byte
		header             []string
	}{
		{"replace", "PUT", "/v1/models/zeta/theirs", mustJSON(t, changed), nil},
		{"patch", "PATCH", "/v1/models/zeta/theirs", []byte(`{"owners":["maya"]}`), []string{"Content-Type", "application/merge-patch+json"}},
		{"delete", "DELETE", "/v1/models/zeta/theirs", nil, nil},
		{"lifecycle", "PUT", "/v1/models/zeta/theirs/lifecycle", []byte(`{"status":"archived","reason":"mine now"}`), nil},
		{"register a key", "PUT", "/v1/models/zeta/bare/identity",
			mustJSON(t, api.IdentityRegistration{PublicKey: newKey(t, api.KeyEd25519).Public().Base64()}), nil},
		// Refused as not maya's before anything is said of the key it holds.
		{"register another key", "PUT", "/v1/models/zeta/theirs/identity",
			mustJSON(t, api.IdentityRegistration{PublicKey: newKey(t, api.KeyEd25519).Public().Base64()}), nil},
		{"ask for a challenge", "POST", "/v1/models/zeta/theirs/identity/challenge", nil, nil},
		{"answer a challenge", "POST", "/v1/models/zeta/theirs/identity/verify",
			mustJSON(t, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sign(t, ottoKey, []byte(ch.Nonce))}), nil},
		{"revoke the identity", "DELETE", "/v1/models/zeta/theirs/identity?reason=mine", nil, nil},
	}
	for _, r := range refusals {
		size := s.auditSize(t)
		code, _, body := maya.send(t, r.method, r.path, r.body, r.header...)
		if code != http.StatusForbidden || problemOf(t, body).Type != "/problems/forbidden" {
			t.Errorf("maya may not %s otto's model: %d %s, want 403", r.name, code, body)
		}
		got := s.auditEntries(t, url.Values{"from": {fmt.Sprint(size)}})
		if len(got) != 1 || got[0].Outcome != "denied" || got[0].Principal != "maya" || !strings.HasPrefix(got[0].Target, "zeta/") {
			t.Errorf("maya's refused %s recorded %+v, want one denied entry", r.name, got)
		}
	}
	if v, bare := version("zeta/theirs"), version("zeta/bare"); v != before || bare != bareBefore {
		t.Errorf("maya's refused writes changed otto's models: resource_versions %s, %s → %s, %s", before, bareBefore, v, bare)
	}
	// maya's refused answer did not spend otto's nonce.
	if code, body := answer(t, otto, "zeta/theirs", ch.Nonce, sign(t, ottoKey, []byte(ch.Nonce))); code != http.StatusOK {
		t.Errorf("otto answers its challenge after maya's refused answer: %d %s", code, body)
	}

	// maya's own model.
	mineChanged := fullDocument("acme/mine")
	mineChanged["owners"] = []string{"maya"}
	mineChanged["notes"] = "replaced"
	for _, w := range []struct {
		name, method, path string
		body               []byte
		header             []string
		status             int
	}{
		{"replace", "PUT", "/v1/models/acme/mine", mustJSON(t, mineChanged), nil, http.StatusOK},
		{"patch", "PATCH", "/v1/models/acme/mine", []byte(`{"notes":"patched"}`), []string{"Content-Type", "application/merge-patch+json"}, http.StatusOK},
	} {
		if code, _, body := maya.send(t, w.method, w.path, w.body, w.header...); code != w.status {
			t.Errorf("maya may %s its own model: %d %s, want %d", w.name, code, body, w.status)
		}
	}
	proveIdentity(t, maya, "acme/mine")
	if ident := identityOf(t, s, "acme/mine"); ident.Owner != "maya" || ident.RegisteredBy != "maya" {
		t.Errorf("identity registered by maya: owner %q, registered by %q", ident.Owner, ident.RegisteredBy)
	}

	// A governor classifies any model, and edits no document.
	if code, _, body := gwen.send(t, "PUT", "/v1/models/acme/mine/classification", []byte(`{"role":"specialist","reason":"a coder"}`)); code != http.StatusOK {
		t.Errorf("gwen classifies acme/mine: %d %s", code, body)
	}
	before = version("acme/mine")
	for _, w := range []struct {
		name, method, path string
		body               []byte
		header             []string
	}{
		{"create", "POST", "/v1/models", mustJSON(t, fullDocument("gov/new")), nil},
		{"replace", "PUT", "/v1/models/acme/mine", mustJSON(t, mineChanged), nil},
		{"patch", "PATCH", "/v1/models/acme/mine", []byte(`{"notes":"governed"}`), []string{"Content-Type", "application/merge-patch+json"}},
		{"delete", "DELETE", "/v1/models/acme/mine", nil, nil},
	} {
		if code, _, body := gwen.send(t, w.method, w.path, w.body, w.header...); code != http.StatusForbidden {
			t.Errorf("gwen may not %s a model document: %d %s, want 403", w.name, code, body)
		}
	}
	if v := version("acme/mine"); v != before {
		t.Errorf("gwen's refused writes changed acme/mine: resource_version %s → %s", before, v)
	}

	// An endorsement is submitted by the endorser's owners: a governor who
	// owns the endorser may, one who does not may not.
	endorserDoc := fullDocument("gov/endorser")
	endorserDoc["owners"] = []string{"gwen"}
	s.write(t, "POST", "/v1/models", mustJSON(t, endorserDoc))
	endorserKey := proveIdentity(t, s, "gov/endorser")
	mayaKeyID := identityOf(t, s, "acme/mine").KeyID
	if code, body := endorse(t, gwen, "acme/mine", mayaKeyID, "gov/endorser", endorserKey); code != http.StatusOK {
		t.Errorf("gwen endorses with a model she owns: %d %s", code, body)
	}
	if code, body := endorse(t, gwen, "gov/endorser", identityOf(t, s, "gov/endorser").KeyID, "zeta/theirs", ottoKey); code != http.StatusForbidden {
		t.Errorf("gwen endorses with otto's model: %d %s, want 403", code, body)
	}

	if code, _, body := maya.send(t, "DELETE", "/v1/models/acme/mine/identity/endorsements/gov/endorser", nil); code != http.StatusForbidden {
		t.Errorf("maya withdraws gwen's endorsement: %d %s, want 403", code, body)
	}
	if code, _, body := maya.send(t, "DELETE", "/v1/models/acme/mine", nil); code != http.StatusNoContent {
		t.Errorf("maya deletes its own model: %d %s", code, body)
	}
}

// TestAnonymousRead: where reads are open, a request without credentials
// reads as an anonymous viewer, and writes still need credentials (401);
// bad credentials are refused, never taken for no credentials.
func TestAnonymousRead(t *testing.T) {
	s := newTestServer(t, serverConfig{anonymousRead: true})
	anonymous := withToken("")

	code, _, body := s.send(t, "GET", "/v1/whoami", nil, anonymous...)
	var p api.Principal
	if err := json.Unmarshal(body, &p); err != nil || code != http.StatusOK {
		t.Fatalf("GET /v1/whoami without credentials: %d %s (%v)", code, body, err)
	}
	if p.Name != "anonymous" || !slices.Equal(p.Roles, []string{api.RoleViewer}) || p.Method != "anonymous" || p.TokenID != "" {
		t.Errorf("whoami without credentials = %+v, want anonymous, viewer, method anonymous", p)
	}

	table := accessTable()
	for _, r := range s.api.Routes() {
		key := routeKey(r)
		row, ok := table[key]
		if !ok || row.public {
			continue // TestEveryRouteAndRole fails for a route without a row
		}
		req := row.prep(newCell(t, s))
		size := s.auditSize(t)
		code, h, body := s.send(t, r.Method, req.path, req.body, append(anonymous, req.header...)...)
		switch {
		case slices.Contains(row.roles, api.RoleViewer):
			if code < 200 || code > 299 {
				t.Errorf("%s without credentials, as a viewer: %d %s, want it to succeed", key, code, body)
			}
		default:
			if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s without credentials: %d %s, want 401 with a Bearer challenge", key, code, body)
			}
			if got := s.auditSize(t); got != size {
				t.Errorf("%s without credentials recorded %d entries", key, got-size)
			}
		}
	}

	// Bad credentials are refused, even for a read.
	unknown, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	revoked := s.newToken(t, "gone", api.RoleViewer)
	s.write(t, "DELETE", "/v1/tokens/"+revoked.ID, nil)
	for name, h := range map[string]string{
		"unknown token":      "Bearer " + unknown,
		"bad checksum":       "Bearer " + corrupt(unknown),
		"revoked token":      "Bearer " + revoked.Token,
		"not a token":        "Bearer not-a-token",
		"empty bearer":       "Bearer ",
		"basic credentials":  "Basic dXNlcjpwYXNz",
		"junk JWT, no OIDC":  "Bearer " + junkJWT("https://issuer.example"),
		"token without type": s.token,
	} {
		for _, path := range []string{"/v1/whoami", "/v1/models"} {
			code, hdr, body := s.send(t, "GET", path, nil, "Authorization", h)
			if code != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("GET %s with %s: %d %s, want 401 (not an anonymous read)", path, name, code, body)
			}
		}
	}
}

// corrupt changes the last character of a token secret, which breaks its
// checksum.
func corrupt(secret string) string {
	last := secret[len(secret)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return secret[:len(secret)-1] + string(repl)
}

// junkJWT is a JWT in form, from issuer, whose signature is random bytes.
func junkJWT(issuer string) string {
	enc := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	sig := make([]byte, 256)
	for i := range sig {
		sig[i] = byte(i * 7)
	}
	return enc(`{"alg":"RS256","kid":"key-1","typ":"JWT"}`) + "." +
		enc(fmt.Sprintf(`{"iss":%q,"sub":"mallory","aud":"modelgov","roles":["admin"],"exp":%d}`, issuer, time.Now().Add(time.Hour).Unix())) + "." +
		base64.RawURLEncoding.EncodeToString(sig)
}

// secretPattern matches what may be an API token secret: mgv_ and 40 or
// more characters of its alphabet.
var secretPattern = regexp.MustCompile(`mgv_[0-9A-Za-z]{40,}`)

// TestRevokedAndExpiredTokensRefusedAtOnce: a revoked token is refused by
// the very next request, an expired one as soon as it expires, a malformed
// one always; and a token's secret is answered once, when it is created.
func TestRevokedAndExpiredTokensRefusedAtOnce(t *testing.T) {
	clock := &auditClock{now: time.Now().UTC()}
	s := newTestServer(t, serverConfig{now: clock.Now})
	whoami := func(token string) (int, http.Header, []byte) {
		t.Helper()
		return s.send(t, "GET", "/v1/whoami", nil, withToken(token)...)
	}
	refused := func(what, token, reason string) {
		t.Helper()
		code, h, body := whoami(token)
		p := problemOf(t, body)
		if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") || p.Type != "/problems/unauthenticated" {
			t.Errorf("%s: %d %s, want 401 with a Bearer challenge", what, code, body)
		}
		if !strings.Contains(p.Detail, reason) {
			t.Errorf("%s: detail %q does not say %q", what, p.Detail, reason)
		}
		if len(token) > 8 && (strings.Contains(string(body), token) || strings.Contains(string(body), token[4:])) {
			t.Errorf("%s: the answer repeats the token: %s", what, body)
		}
	}

	// Created: the secret is in this answer only, which is not to be cached.
	code, h, body := s.send(t, "POST", "/v1/tokens", []byte(`{"name":"temp","roles":["viewer"]}`))
	var tok api.Token
	if err := json.Unmarshal(body, &tok); err != nil || code != http.StatusCreated {
		t.Fatalf("create a token: %d %s (%v)", code, body, err)
	}
	if !secretPattern.MatchString(tok.Token) || len(tok.Token) != 53 || tok.Prefix != tok.Token[:8] || h.Get("Cache-Control") != "no-store" {
		t.Errorf("created token %+v, Cache-Control %q: want its 53-character secret, its prefix, no-store", tok, h.Get("Cache-Control"))
	}
	code, _, body = whoami(tok.Token)
	var p api.Principal
	if err := json.Unmarshal(body, &p); err != nil || code != http.StatusOK || p.Name != "temp" || p.TokenID != tok.ID || p.Method != "token" ||
		!slices.Equal(p.Roles, []string{api.RoleViewer}) {
		t.Fatalf("whoami with the new token: %d %s", code, body)
	}
	for _, path := range []string{"/v1/tokens", "/v1/audit/entries?page_size=1000"} {
		listed := s.write(t, "GET", path, nil)
		if bytes.Contains(listed, []byte(tok.Token)) || bytes.Contains(listed, []byte(tok.Token[4:])) || secretPattern.Match(listed) {
			t.Errorf("GET %s shows a secret: %s", path, listed)
		}
		if path == "/v1/tokens" && !bytes.Contains(listed, []byte(`"prefix":"`+tok.Prefix+`"`)) {
			t.Errorf("GET /v1/tokens does not list %s by its prefix: %s", tok.ID, listed)
		}
	}

	// Revoked: the next request is refused.
	var revoked api.Token
	if err := json.Unmarshal(s.write(t, "DELETE", "/v1/tokens/"+tok.ID, nil), &revoked); err != nil {
		t.Fatal(err)
	}
	if revoked.RevokedAt == nil || revoked.RevokedBy != registry.BootstrapTokenName || revoked.Token != "" {
		t.Errorf("revoked token %+v", revoked)
	}
	refused("the revoked token", tok.Token, "revoked")
	if code, _, body := s.send(t, "DELETE", "/v1/tokens/"+tok.ID, nil); code != http.StatusOK {
		t.Errorf("revoke it again: %d %s", code, body)
	}
	if code, _, body := s.send(t, "DELETE", "/v1/tokens/tok_0000000000000000", nil); code != http.StatusNotFound {
		t.Errorf("revoke an unknown token: %d %s, want 404", code, body)
	}

	// Expiring a second from now: refused once the second has passed.
	at := clock.Now().Add(time.Second)
	code, _, body = s.send(t, "POST", "/v1/tokens", mustJSON(t, api.TokenRequest{Name: "brief", Roles: []string{api.RoleViewer}, ExpiresAt: &at}))
	var brief api.Token
	if err := json.Unmarshal(body, &brief); err != nil || code != http.StatusCreated {
		t.Fatalf("create an expiring token: %d %s (%v)", code, body, err)
	}
	if code, _, body := whoami(brief.Token); code != http.StatusOK || !bytes.Contains(body, []byte(`"expires_at"`)) {
		t.Errorf("whoami with the expiring token: %d %s", code, body)
	}
	clock.advance(time.Second)
	refused("the expired token", brief.Token, "expired")
	for _, past := range []time.Time{clock.Now(), clock.Now().Add(-time.Hour), clock.Now().Add(registry.MaxTokenLifetime + time.Hour)} {
		if code, _, body := s.send(t, "POST", "/v1/tokens", mustJSON(t, api.TokenRequest{Name: "x", Roles: []string{api.RoleViewer}, ExpiresAt: &past})); code != http.StatusUnprocessableEntity {
			t.Errorf("a token expiring at %v: %d %s, want 422", past, code, body)
		}
	}

	// Malformed, or well formed and unknown.
	unknown, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	refused("a token with a bad checksum", corrupt(unknown), "not a modelgov API token")
	refused("a truncated token", unknown[:len(unknown)-1], "not a modelgov API token")
	refused("mgv_ alone", "mgv_", "not a modelgov API token")
	refused("an unknown token", unknown, "not valid")
}

// TestRegistrationFloodIsThrottled: a principal that registers faster than
// its rate limit is answered 429 with Retry-After past its burst, and
// nothing of the throttled requests is stored; other principals, and reads,
// are not held back.
func TestRegistrationFloodIsThrottled(t *testing.T) {
	s := newTestServer(t, serverConfig{rateLimit: httpapi.RateLimit{PerSecond: 1, Burst: 5}})
	flooder := as{s, s.newToken(t, "flooder", api.RoleMaintainer).Token}
	other := as{s, s.newToken(t, "other", api.RoleMaintainer).Token}

	const n = 20
	start := time.Now()
	var created, throttled []string
	for i := range n {
		id := fmt.Sprintf("flood/m-%02d", i)
		doc := fullDocument(id)
		doc["owners"] = []string{"flooder"}
		doc["context_window"] = 1000 + i
		code, h, body := flooder.send(t, "POST", "/v1/models", mustJSON(t, doc))
		switch code {
		case http.StatusCreated:
			created = append(created, id)
		case http.StatusTooManyRequests:
			throttled = append(throttled, id)
			secs, err := strconv.Atoi(h.Get("Retry-After"))
			if err != nil || secs < 1 {
				t.Errorf("request %d: 429 with Retry-After %q, want a positive number of seconds", i, h.Get("Retry-After"))
			}
			if p := problemOf(t, body); p.Type != "/problems/rate-limited" || p.Status != http.StatusTooManyRequests {
				t.Errorf("request %d: 429 problem %+v", i, p)
			}
		default:
			t.Fatalf("request %d: %d %s", i, code, body)
		}
		if i < 5 && code != http.StatusCreated {
			t.Errorf("request %d, within the burst of 5: %d", i, code)
		}
	}
	// The bucket refills one a second while the flood runs.
	refilled := int(time.Since(start).Seconds()) + 1
	if len(created) < 5 || len(created) > 5+refilled || len(throttled) < n-5-refilled {
		t.Errorf("%d of %d registrations got through in %v, %d throttled; want the burst of 5 and about one a second",
			len(created), n, time.Since(start), len(throttled))
	}
	for _, id := range throttled {
		if code, _, _ := s.send(t, "GET", "/v1/models/"+id, nil); code != http.StatusNotFound {
			t.Errorf("throttled registration %s was stored: GET %d", id, code)
		}
	}
	var list api.ModelList
	if err := json.Unmarshal(s.write(t, "GET", "/v1/models?provider=flood&page_size=100", nil), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != len(created) {
		t.Errorf("%d models stored, %d registrations answered 201", len(list.Items), len(created))
	}
	if got := s.auditEntries(t, url.Values{"actor": {"flooder"}}); len(got) != len(created) {
		t.Errorf("%d audit entries by the flooder, %d registrations got through", len(got), len(created))
	}

	// Reads are not limited; another principal has a bucket of its own.
	if code, _, body := flooder.send(t, "GET", "/v1/models", nil); code != http.StatusOK {
		t.Errorf("the flooder reads: %d %s", code, body)
	}
	for i := range 5 {
		doc := fullDocument(fmt.Sprintf("calm/m-%d", i))
		doc["owners"] = []string{"other"}
		doc["context_window"] = 2000 + i
		if code, _, body := other.send(t, "POST", "/v1/models", mustJSON(t, doc)); code != http.StatusCreated {
			t.Errorf("another maintainer's registration %d during the flood: %d %s", i, code, body)
		}
	}
	// The flooder's identity operations share its bucket.
	if code, h, _ := flooder.send(t, "POST", "/v1/models/"+created[0]+"/identity/challenge", nil); code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Errorf("an identity operation of the throttled flooder: %d, want 429", code)
	}
}

// deniedEntries returns the denied audit entries about model id.
func (s *testServer) deniedEntries(t *testing.T, id string) []*api.AuditEntry {
	t.Helper()
	return s.auditEntries(t, url.Values{"model": {id}, "outcome": {"denied"}})
}

// failedIDs lists the rules of an audit entry that refused.
func failedIDs(e *api.AuditEntry) []string {
	ids := []string{}
	for _, f := range e.Failed {
		ids = append(ids, f.ID)
	}
	return ids
}

// TestIdentityChallenge: only the holder of a model's registered key
// verifies its identity, by signing a fresh nonce issued for that model,
// once, before it expires; and a key speaks for one model only.
func TestIdentityChallenge(t *testing.T) {
	clock := &auditClock{now: time.Now().UTC()}
	s := newTestServer(t, serverConfig{now: clock.Now})
	for i, id := range []string{"acme/alpha", "beta/bravo", "gamma/charlie", "delta/dee", "echo/eko"} {
		doc := fullDocument(id)
		doc["context_window"] = 1000 + i
		s.write(t, "POST", "/v1/models", mustJSON(t, doc))
	}
	status := func(id string) string {
		t.Helper()
		ident := identityOf(t, s, id)
		if ident == nil {
			return api.IdentityNone
		}
		return ident.Status
	}
	// refusedProof checks that a refused answer is on the record.
	refusedProof := func(what, id, says string) {
		t.Helper()
		got := s.deniedEntries(t, id)
		if len(got) == 0 {
			t.Errorf("%s: no denied entry for %s", what, id)
			return
		}
		e := got[len(got)-1]
		if e.Action != "model.identity" || !slices.Equal(failedIDs(e), []string{"identity-proof"}) || !strings.Contains(e.Failed[0].Message, says) {
			t.Errorf("%s: entry %+v, want model.identity denied by identity-proof saying %q", what, e.AuditRecord, says)
		}
	}

	// A signature by another key than the registered one.
	alphaKey := newKey(t, api.KeyEd25519)
	registerKey(t, s, "acme/alpha", alphaKey)
	ch := challenge(t, s, "acme/alpha")
	if want := clock.Now().Add(registry.ChallengeLifetime); !ch.ExpiresAt.Equal(want) || ch.KeyID != alphaKey.Public().KeyID() {
		t.Errorf("challenge %+v, want one for key %s expiring at %v", ch, alphaKey.Public().KeyID(), want)
	}
	denied := len(s.deniedEntries(t, "acme/alpha"))
	forged := sign(t, newKey(t, api.KeyEd25519), []byte(ch.Nonce))
	if code, body := answer(t, s, "acme/alpha", ch.Nonce, forged); code != http.StatusUnprocessableEntity {
		t.Errorf("a forged signature: %d %s, want 422", code, body)
	}
	if st := status("acme/alpha"); st != api.IdentityUnverified {
		t.Errorf("after a forged signature the identity is %s, want unverified", st)
	}
	if got := s.deniedEntries(t, "acme/alpha"); len(got) != denied+1 {
		t.Errorf("a forged signature added %d denied entries, want 1", len(got)-denied)
	}
	refusedProof("a forged signature", "acme/alpha", "")
	// Its nonce is spent: the right signature comes too late.
	if code, body := answer(t, s, "acme/alpha", ch.Nonce, sign(t, alphaKey, []byte(ch.Nonce))); code != http.StatusUnprocessableEntity {
		t.Errorf("the nonce of a refused answer, answered again: %d %s, want 422", code, body)
	}

	// A replayed answer.
	ch = challenge(t, s, "acme/alpha")
	good := sign(t, alphaKey, []byte(ch.Nonce))
	if code, body := answer(t, s, "acme/alpha", ch.Nonce, good); code != http.StatusOK {
		t.Fatalf("the holder's answer: %d %s", code, body)
	}
	if st := status("acme/alpha"); st != api.IdentityVerified {
		t.Errorf("after the holder's answer the identity is %s, want verified", st)
	}
	if code, body := answer(t, s, "acme/alpha", ch.Nonce, good); code != http.StatusUnprocessableEntity {
		t.Errorf("the same answer again: %d %s, want 422", code, body)
	}
	refusedProof("a replayed answer", "acme/alpha", "already used")

	// An expired nonce.
	bravoKey := newKey(t, api.KeyEd25519)
	registerKey(t, s, "beta/bravo", bravoKey)
	ch = challenge(t, s, "beta/bravo")
	clock.advance(registry.ChallengeLifetime + time.Second)
	if code, body := answer(t, s, "beta/bravo", ch.Nonce, sign(t, bravoKey, []byte(ch.Nonce))); code != http.StatusUnprocessableEntity {
		t.Errorf("an expired nonce: %d %s, want 422", code, body)
	}
	if st := status("beta/bravo"); st != api.IdentityUnverified {
		t.Errorf("after an expired nonce the identity is %s, want unverified", st)
	}
	refusedProof("an expired nonce", "beta/bravo", "expired")
	// A nonce answered at the last moment is good.
	ch = challenge(t, s, "beta/bravo")
	clock.advance(registry.ChallengeLifetime - time.Second)
	if code, body := answer(t, s, "beta/bravo", ch.Nonce, sign(t, bravoKey, []byte(ch.Nonce))); code != http.StatusOK {
		t.Errorf("a nonce answered before it expires: %d %s", code, body)
	}

	// A nonce issued for one model does not verify another, even signed by
	// the other's key.
	charlieKey := newKey(t, api.KeyEd25519)
	registerKey(t, s, "gamma/charlie", charlieKey)
	alphaChallenge := challenge(t, s, "acme/alpha")
	if code, body := answer(t, s, "gamma/charlie", alphaChallenge.Nonce, sign(t, charlieKey, []byte(alphaChallenge.Nonce))); code != http.StatusUnprocessableEntity {
		t.Errorf("alpha's nonce for charlie: %d %s, want 422", code, body)
	}
	if st := status("gamma/charlie"); st != api.IdentityUnverified {
		t.Errorf("after another model's nonce charlie's identity is %s, want unverified", st)
	}
	refusedProof("another model's nonce", "gamma/charlie", "unknown")

	// A key speaks for one model: alpha's key for dee is refused, on the
	// record.
	denied = len(s.deniedEntries(t, "delta/dee"))
	code, _, body := s.send(t, "PUT", "/v1/models/delta/dee/identity", mustJSON(t, api.IdentityRegistration{PublicKey: alphaKey.Public().Base64()}))
	if code != http.StatusConflict || !strings.Contains(problemOf(t, body).Detail, "acme/alpha") {
		t.Errorf("alpha's key for dee: %d %s, want 409 naming acme/alpha", code, body)
	}
	if got := s.deniedEntries(t, "delta/dee"); len(got) != denied+1 || got[len(got)-1].Action != "model.identity" ||
		!slices.Equal(failedIDs(got[len(got)-1]), []string{"identity-unique"}) {
		t.Errorf("alpha's key for dee recorded %+v, want one model.identity denied by identity-unique", got)
	}
	if st := status("delta/dee"); st != api.IdentityNone {
		t.Errorf("dee's identity after the refusal: %s, want none", st)
	}

	// secp256k1 keys, end to end: proof, and an endorsement.
	k1 := newKey(t, api.KeySecp256k1)
	proveIdentityWith(t, s, "echo/eko", k1)
	ident := identityOf(t, s, "echo/eko")
	if ident.KeyType != api.KeySecp256k1 || ident.KeyID != k1.Public().KeyID() || ident.Status != api.IdentityVerified {
		t.Errorf("secp256k1 identity %+v", ident)
	}
	if code, body := endorse(t, s, "acme/alpha", alphaKey.Public().KeyID(), "echo/eko", k1); code != http.StatusOK {
		t.Errorf("an endorsement signed with a secp256k1 key: %d %s", code, body)
	}
	if ident := identityOf(t, s, "acme/alpha"); len(ident.Endorsements) != 1 || ident.Endorsements[0].By != "echo/eko" || ident.Endorsements[0].KeyID != k1.Public().KeyID() {
		t.Errorf("alpha's endorsements: %+v", ident.Endorsements)
	}
	// An endorsement signed over another message is refused.
	wrong := mustJSON(t, api.EndorsementRequest{Endorser: "echo/eko", Signature: sign(t, k1, api.EndorsementMessage("beta/bravo", alphaKey.Public().KeyID()))})
	if code, _, body := s.send(t, "POST", "/v1/models/acme/alpha/identity/endorsements", wrong); code != http.StatusUnprocessableEntity {
		t.Errorf("an endorsement of another model's message: %d %s, want 422", code, body)
	}
}

// TestGeneralNeedsEndorsements: under the default policy a general needs
// a verified identity and the endorsements of generals of other owners:
// none for the first, then as many as there are such owners, up to 2; the
// endorsements of one owner's generals count once.
func TestGeneralNeedsEndorsements(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	gov := as{s, s.newToken(t, "gov", api.RoleGovernor).Token}
	owners := map[string]as{}
	for _, name := range []string{"ann", "bob", "cat", "dan"} {
		owners[name] = as{s, s.newToken(t, name, api.RoleMaintainer).Token}
	}
	keys := map[string]*identity.PrivateKey{}
	// model registers a model of owner (its provider), proves its identity
	// as the owner, and returns its id.
	model := func(owner, name string) string {
		t.Helper()
		id := owner + "/" + name
		doc := fullDocument(id)
		delete(doc, "owners") // the maintainer's own
		if code, _, body := owners[owner].send(t, "POST", "/v1/models", mustJSON(t, doc)); code != http.StatusCreated {
			t.Fatalf("%s registers %s: %d %s", owner, id, code, body)
		}
		keys[id] = proveIdentity(t, owners[owner], id)
		if ident := identityOf(t, s, id); ident.Owner != owner {
			t.Fatalf("identity of %s is owned by %q, want %s", id, ident.Owner, owner)
		}
		return id
	}
	endorseBy := func(id, endorser string) {
		t.Helper()
		owner, _, _ := strings.Cut(endorser, "/")
		if code, body := endorse(t, owners[owner], id, keys[id].Public().KeyID(), endorser, keys[endorser]); code != http.StatusOK {
			t.Fatalf("%s endorses %s: %d %s", endorser, id, code, body)
		}
	}
	classify := func(id string) (int, api.Problem) {
		t.Helper()
		code, _, body := gov.send(t, "PUT", "/v1/models/"+id+"/classification", []byte(`{"role":"general","reason":"vote"}`))
		if code == http.StatusOK {
			return code, api.Problem{}
		}
		return code, problemOf(t, body)
	}
	refused := func(id, says string) {
		t.Helper()
		code, p := classify(id)
		var failed []string
		if p.Decision != nil {
			for _, r := range p.Decision.Failed() {
				failed = append(failed, r.ID)
			}
		}
		if code != http.StatusUnprocessableEntity || !slices.Equal(failed, []string{"general-endorsements"}) || !strings.Contains(p.Detail, says) {
			t.Errorf("classify %s as general: %d %+v (failed %v), want 422 from general-endorsements saying %q", id, code, p, failed, says)
		}
	}
	allowed := func(id string) {
		t.Helper()
		if code, p := classify(id); code != http.StatusOK {
			t.Fatalf("classify %s as general: %d %+v", id, code, p)
		}
	}

	// The first general needs no endorsement; the first of a second owner,
	// one.
	atlas := model("ann", "atlas")
	allowed(atlas)
	borealis := model("bob", "borealis")
	refused(borealis, "needs the endorsements of 1 general")
	endorseBy(borealis, atlas)
	allowed(borealis)

	// With generals of two other owners, two endorsements are needed.
	cirrus := model("cat", "cirrus")
	refused(cirrus, "this model has 0 that count")
	endorseBy(cirrus, atlas)
	refused(cirrus, "this model has 1 that counts")
	endorseBy(cirrus, borealis)
	allowed(cirrus)

	// Two generals of one owner count once.
	apex := model("ann", "apex")
	endorseBy(apex, borealis)
	endorseBy(apex, cirrus)
	allowed(apex)
	delta := model("dan", "delta")
	endorseBy(delta, atlas)
	endorseBy(delta, apex)
	if ident := identityOf(t, s, delta); len(ident.Endorsements) != 2 {
		t.Fatalf("delta's endorsements: %+v", ident.Endorsements)
	}
	refused(delta, "this model has 1 that counts")
	endorseBy(delta, cirrus)
	allowed(delta)
}

// syncBuffer is a buffer that several goroutines may write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newIssuer serves an OpenID Connect discovery document and an empty key
// set: every token it is asked about fails its signature check.
func newIssuer(t *testing.T) string {
	t.Helper()
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"authorization_endpoint":%q,"token_endpoint":%q,`+
			`"response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`,
			issuer, issuer+"/keys", issuer+"/authorize", issuer+"/token")
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"keys":[]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	issuer = srv.URL
	return issuer
}

// TestSecretsNeverLogged: the server's logs, at debug level, say that
// credentials were refused and why, and never show a token's secret (nor
// its body without the mgv_ prefix) or a JWT.
func TestSecretsNeverLogged(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	issuer := newIssuer(t)
	oidc, err := auth.NewOIDC(context.Background(), auth.OIDCConfig{Issuer: issuer, Audience: "modelgov"})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, serverConfig{logger: logger, oidc: oidc})

	good := s.newToken(t, "good", api.RoleMaintainer)
	revoked := s.newToken(t, "revoked", api.RoleViewer)
	s.write(t, "DELETE", "/v1/tokens/"+revoked.ID, nil)
	unknown, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	jwt := junkJWT(issuer)

	// Good use, with writes that log (a near-duplicate held for review).
	for _, id := range []string{"acme/model-a", "acme/model-b"} {
		doc := fullDocument(id)
		doc["owners"] = []string{"good"}
		if code, _, body := s.send(t, "POST", "/v1/models", mustJSON(t, doc), withToken(good.Token)...); code != http.StatusCreated {
			t.Fatalf("create %s with the good token: %d %s", id, code, body)
		}
	}
	proveIdentity(t, as{s, good.Token}, "acme/model-a")
	refusals := map[string]string{
		"unknown":   "Bearer " + unknown,
		"malformed": "Bearer " + corrupt(good.Token),
		"truncated": "Bearer " + good.Token[:40],
		"revoked":   "Bearer " + revoked.Token,
		"jwt":       "Bearer " + jwt,
		"basic":     "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+s.token)),
		"no scheme": good.Token,
	}
	for name, h := range refusals {
		for _, path := range []string{"/v1/whoami", "/v1/models"} {
			if code, _, body := s.send(t, "GET", path, nil, "Authorization", h); code != http.StatusUnauthorized {
				t.Errorf("GET %s with a %s credential: %d %s, want 401", path, name, code, body)
			}
		}
		if code, _, body := s.send(t, "POST", "/v1/models", mustJSON(t, fullDocument("acme/never")), "Authorization", h); code != http.StatusUnauthorized {
			t.Errorf("POST /v1/models with a %s credential: %d %s, want 401", name, code, body)
		}
	}

	out := logs.String()
	for name, secret := range map[string]string{"admin": s.token, "good": good.Token, "revoked": revoked.Token, "unknown": unknown,
		"malformed": corrupt(good.Token)} {
		if strings.Contains(out, secret) || strings.Contains(out, secret[4:]) {
			t.Errorf("the log shows the %s token's secret", name)
		}
	}
	if m := secretPattern.FindString(out); m != "" {
		t.Errorf("the log shows something shaped like a secret: %s", m)
	}
	if strings.Contains(out, good.Token[:40]) {
		t.Error("the log shows a truncated secret")
	}
	for part := range strings.SplitSeq(jwt, ".") {
		if strings.Contains(out, part) {
			t.Errorf("the log shows part of the JWT: %.20s...", part)
		}
	}
	if strings.Contains(out, base64.StdEncoding.EncodeToString([]byte("admin:"+s.token))) {
		t.Error("the log shows the basic credentials")
	}
	refused := strings.Count(out, `"msg":"authentication refused"`)
	if want := len(refusals) * 3; refused != want {
		t.Errorf("the log records %d refused authentications, want %d:\n%s", refused, want, out)
	}
	for _, reason := range []string{"revoked", "OIDC", "not a modelgov API token", "not valid", "Bearer"} {
		if !strings.Contains(out, reason) {
			t.Errorf("the log never says %q of the refusals", reason)
		}
	}
	if !strings.Contains(out, "held for review") {
		t.Errorf("the log lacks the registry's own messages (a near-duplicate held for review):\n%s", out)
	}
}

// TestReadersWriteNothing: an evaluator and a viewer are refused every
// write route (403) but the ones the table lets them use (an evaluator
// records evaluation results and adds benchmarks), and their attempts
// leave no trace in the audit log; the dry runs of the policy, which write
// nothing, are theirs too.
func TestReadersWriteNothing(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	readers := map[string]string{
		api.RoleEvaluator: s.newToken(t, "evan", api.RoleEvaluator).Token,
		api.RoleViewer:    s.newToken(t, "vera", api.RoleViewer).Token,
	}
	dryRuns := map[string]bool{"POST /v1/policy/evaluate": true, "POST /v1/policy/report": true}
	table := accessTable()
	writes := 0
	for _, r := range s.api.Routes() {
		key := routeKey(r)
		row, ok := table[key]
		if !ok || r.Method == "GET" {
			continue // TestEveryRouteAndRole fails for a route without a row
		}
		writes++
		for role, token := range readers {
			if slices.Contains(row.roles, role) {
				continue // evaluators record results and add benchmarks
			}
			req := row.prep(newCell(t, s))
			size := s.auditSize(t)
			code, _, body := s.send(t, r.Method, req.path, req.body, append(withToken(token), req.header...)...)
			switch {
			case dryRuns[key]:
				if code != http.StatusOK {
					t.Errorf("%s by the %s: %d %s, want 200", key, role, code, body)
				}
			case code != http.StatusForbidden:
				t.Errorf("%s by the %s: %d %s, want 403", key, role, code, body)
			}
			if got := s.auditSize(t); got != size {
				t.Errorf("%s by the %s added %d audit entries", key, role, got-size)
			}
		}
	}
	if writes == 0 {
		t.Error("no write route walked")
	}
}
