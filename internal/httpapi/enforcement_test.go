package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/policy"
)

// notModelWrites are the write routes that manage the policy itself or
// only ask it questions; they are governed by caller roles, not by the
// bundle (a bundle that refused them could never be replaced). Nor are the
// API tokens, which are not models, or identity challenges, which store a
// one-time nonce and change no model (the verification that answers one is
// a model write, judged by the bundle).
var notModelWrites = map[string]bool{
	"POST /v1/policies":                                     true,
	"POST /v1/policies/{version}/activate":                  true,
	"POST /v1/policy/evaluate":                              true, // a dry run: writes nothing
	"POST /v1/policy/report":                                true, // a dry run: writes nothing
	"POST /v1/tokens":                                       true,
	"DELETE /v1/tokens/{id}":                                true,
	"POST /v1/models/{provider}/{model}/identity/challenge": true,
	// Webhook subscriptions are not models either: admins manage them.
	"POST /v1/webhooks":                                      true,
	"DELETE /v1/webhooks/{id}":                               true,
	"POST /v1/webhooks/{id}/enable":                          true,
	"POST /v1/webhooks/{id}/disable":                         true,
	"POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver": true,
	// Evaluation results and the benchmarks catalogue are judged by the
	// caller's roles (evaluators, and governors for the catalogue), not by
	// the bundle: a result is a measurement, not a change of a model. The
	// model changes a result causes (a regression flag set or cleared, a
	// compliance re-check) are the registry's own marks, made as
	// system:modelgov.
	"POST /v1/benchmarks":                            true,
	"POST /v1/models/{provider}/{model}/evaluations": true,
	"POST /v1/evaluations:batch":                     true,
}

// TestNoWriteRouteSkipsThePolicy walks every registered write route with a
// bundle that refuses every action, and checks that each is refused by it
// and changes nothing.
func TestNoWriteRouteSkipsThePolicy(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	if _, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument("a/b")), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument("g/h")), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.MoveAlias(ctx, "hivellm/chair", api.AliasMove{Target: "a/b"}, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := ts.client.GrantExemption(ctx, "a/b", api.ExemptionRequest{Rules: []string{"general-size-class"}, Reason: "test",
		ExpiresAt: time.Now().Add(time.Hour)}, client.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exemption := m.Governance.Exemptions[0].ID
	// Identities: a/b's is verified and endorsed by k/l's; i/j has none; a/c,
	// nearly identical to a/b, is held for a governor's review.
	for _, id := range []string{"i/j", "k/l", "a/c"} {
		if _, err := ts.client.CreateModel(ctx, mustJSON(t, fullDocument(id)), client.JSON, client.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	key := proveIdentity(t, ts, "a/b")
	endorserKey := proveIdentity(t, ts, "k/l")
	endorsement := string(mustJSON(t, api.EndorsementRequest{Endorser: "k/l",
		Signature: sign(t, endorserKey, api.EndorsementMessage("a/b", key.Public().KeyID()))}))
	if code, body := endorse(t, ts, "a/b", key.Public().KeyID(), "k/l", endorserKey); code != 200 {
		t.Fatalf("endorse a/b: %d %s", code, body)
	}
	if c, _ := ts.client.GetModel(ctx, "a/c"); c.Governance.Review == nil || c.Governance.Review.Status != api.ReviewPending {
		t.Fatalf("a/c is not held for review: %+v", c.Governance)
	}
	// An import applied before the freeze, which created imp/created.
	code, _, body := ts.send(t, "POST", "/v1/imports", importRequest(t, false, false, importRecord(t, fullDocument("imp/created"), "")))
	if code != 201 {
		t.Fatalf("import: %d %s", code, body)
	}
	batch := importReport(t, body).Batch
	before, _ := ts.client.GetModel(ctx, "a/b")
	beforeOthers := map[string]string{}
	for _, id := range []string{"i/j", "k/l", "a/c", "imp/created"} {
		m, _ := ts.client.GetModel(ctx, id)
		beforeOthers[id] = m.ResourceVersion
	}

	// The default bundle plus a rule that refuses every action.
	var bundle map[string]any
	if err := yaml.Unmarshal(policy.Default(), &bundle); err != nil {
		t.Fatal(err)
	}
	perms, _ := bundle["permissions"].([]any)
	bundle["permissions"] = append(perms, map[string]any{"id": "freeze", "actions": []string{"*"}, "expression": "false",
		"message": "the registry is frozen"})
	frozen, _ := json.Marshal(bundle)
	p, err := ts.client.UploadPolicy(ctx, frozen, client.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.ActivatePolicy(ctx, p.Version, false); err != nil {
		t.Fatal(err)
	}

	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	// A challenge is not judged by the bundle; its answer is.
	ch := challenge(t, ts, "a/b")
	verification := string(mustJSON(t, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sign(t, key, []byte(ch.Nonce))}))
	requests := map[string]struct{ path, contentType, body string }{
		"POST /v1/models":                                      {"/v1/models", "application/json", string(mustJSON(t, fullDocument("c/d")))},
		"POST /v1/models:apply":                                {"/v1/models:apply", "application/json", string(mustJSON(t, fullDocument("e/f")))},
		"PUT /v1/models/{provider}/{model}":                    {"/v1/models/a/b", "application/json", strings.Replace(string(mustJSON(t, fullDocument("a/b"))), `"a note"`, `"changed"`, 1)},
		"PATCH /v1/models/{provider}/{model}":                  {"/v1/models/a/b", "application/merge-patch+json", `{"notes":"changed"}`},
		"DELETE /v1/models/{provider}/{model}":                 {"/v1/models/g/h", "", ""},
		"PUT /v1/models/{provider}/{model}/lifecycle":          {"/v1/models/a/b/lifecycle", "application/json", `{"status":"active","reason":"r"}`},
		"PUT /v1/models/{provider}/{model}/classification":     {"/v1/models/a/b/classification", "application/json", `{"role":"specialist","reason":"r"}`},
		"POST /v1/models/{provider}/{model}/exemptions":        {"/v1/models/a/b/exemptions", "application/json", fmt.Sprintf(`{"rules":["freeze"],"reason":"r","expires_at":%q}`, exp)},
		"DELETE /v1/models/{provider}/{model}/exemptions/{id}": {"/v1/models/a/b/exemptions/" + exemption, "", ""},
		"PUT /v1/aliases/{namespace}/{name}":                   {"/v1/aliases/hivellm/vice", "application/json", `{"target":"a/b"}`},
		"DELETE /v1/aliases/{namespace}/{name}":                {"/v1/aliases/hivellm/chair", "", ""},
		"PUT /v1/models/{provider}/{model}/review":             {"/v1/models/a/c/review", "application/json", `{"status":"cleared","reason":"r"}`},
		"PUT /v1/models/{provider}/{model}/identity": {"/v1/models/i/j/identity", "application/json",
			string(mustJSON(t, api.IdentityRegistration{PublicKey: newKey(t, api.KeyEd25519).Public().Base64()}))},
		"DELETE /v1/models/{provider}/{model}/identity":                                                   {"/v1/models/a/b/identity?reason=r", "", ""},
		"POST /v1/models/{provider}/{model}/identity/verify":                                              {"/v1/models/a/b/identity/verify", "application/json", verification},
		"POST /v1/models/{provider}/{model}/identity/endorsements":                                        {"/v1/models/a/b/identity/endorsements", "application/json", endorsement},
		"DELETE /v1/models/{provider}/{model}/identity/endorsements/{endorser_provider}/{endorser_model}": {"/v1/models/a/b/identity/endorsements/k/l", "", ""},
	}
	// An import writes its records through the write path, one by one, in
	// one transaction: the bundle refuses each record, which the report
	// lists as invalid with the rule, and the import, all or nothing, is
	// refused as a whole with that report (422), not with the decision of
	// one write (403). Its rollback restores each model through the write
	// path: the bundle refuses the first restoring write, and with it the
	// rollback (403, the decision of that write).
	imported := fullDocument("a/b")
	imported["notes"] = "imported"
	importBody := importRequest(t, false, false, importRecord(t, fullDocument("imp/new"), ""), importRecord(t, imported, ""))
	perRecord := map[string]struct {
		path, body string
		check      func(t *testing.T, code int, body []byte)
	}{
		"POST /v1/imports": {"/v1/imports", string(importBody), func(t *testing.T, code int, body []byte) {
			p := problemOf(t, body)
			if code != 422 || p.Import == nil || p.Import.Applied || p.Import.Totals.Invalid != 2 || len(p.Import.Items) != 2 {
				t.Errorf("POST /v1/imports: %d %s, want 422 with every record invalid", code, body)
				return
			}
			for _, it := range p.Import.Items {
				if it.Outcome != api.ImportInvalid || !slices.ContainsFunc(it.Reasons, func(r string) bool { return strings.HasPrefix(r, "freeze: ") }) {
					t.Errorf("POST /v1/imports: item %+v, want invalid by the freeze rule", it)
				}
			}
		}},
		"POST /v1/imports/{id}/rollback": {"/v1/imports/" + batch + "/rollback", "", func(t *testing.T, code int, body []byte) {
			p := problemOf(t, body)
			if code != 403 || p.Decision == nil || len(p.Decision.Failed()) == 0 || p.Decision.Failed()[0].ID != "freeze" {
				t.Errorf("POST /v1/imports/{id}/rollback: %d %s, want 403 from the freeze rule", code, body)
			}
		}},
	}
	walked := 0
	for _, r := range ts.api.Routes() {
		if r.Method == "GET" {
			continue
		}
		route := r.Method + " " + r.Pattern
		if notModelWrites[route] {
			continue
		}
		if pr, ok := perRecord[route]; ok {
			walked++
			code, _, body := ts.call(t, r.Method, pr.path, "application/json", []byte(pr.body))
			pr.check(t, code, body)
			continue
		}
		req, ok := requests[route]
		if !ok {
			t.Errorf("write route %s is not covered by this test: add a request for it", route)
			continue
		}
		walked++
		code, _, body := ts.call(t, r.Method, req.path, req.contentType, []byte(req.body))
		if code != 403 {
			t.Errorf("%s: %d %s, want 403 from the freeze rule", route, code, body)
			continue
		}
		p := problemOf(t, body)
		if p.Decision == nil || len(p.Decision.Failed()) == 0 || p.Decision.Failed()[0].ID != "freeze" {
			t.Errorf("%s: decision %+v does not name the freeze rule", route, p.Decision)
		}
	}
	if walked != len(requests)+len(perRecord) {
		t.Errorf("walked %d write routes, have requests for %d: a route was removed or renamed", walked, len(requests))
	}
	after, _ := ts.client.GetModel(ctx, "a/b")
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("refused writes changed the model: resource_version %s → %s", before.ResourceVersion, after.ResourceVersion)
	}
	if _, err := ts.client.GetModel(ctx, "g/h"); err != nil {
		t.Errorf("a refused delete erased g/h: %v", err)
	}
	for id, rv := range beforeOthers {
		if m, _ := ts.client.GetModel(ctx, id); m.ResourceVersion != rv {
			t.Errorf("refused writes changed %s: resource_version %s → %s", id, rv, m.ResourceVersion)
		}
	}
	for _, id := range []string{"c/d", "e/f", "imp/new"} {
		if _, err := ts.client.GetModel(ctx, id); !client.IsNotFound(err) {
			t.Errorf("a refused create stored %s: %v", id, err)
		}
	}
	if a, err := ts.client.GetAlias(ctx, "hivellm/chair"); err != nil || a.Target != "a/b" {
		t.Errorf("a refused alias removal changed it: %+v, %v", a, err)
	}
	var b api.ImportBatch
	if err := json.Unmarshal(ts.write(t, "GET", "/v1/imports/"+batch, nil), &b); err != nil || b.RolledBackAt != nil {
		t.Errorf("a refused rollback marked the import rolled back: %+v (%v)", b, err)
	}
}

func TestPolicyAPI(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	active, err := ts.client.GetPolicy(ctx, 0)
	if err != nil || active.Version != 1 || active.Name != "hivellm-default" || !active.Active {
		t.Fatalf("active policy of a new registry = %+v, %v; want the default as version 1", active, err)
	}
	// A bundle that does not compile is refused with the rule's position.
	code, _, body := ts.call(t, "POST", "/v1/policies", "application/yaml", []byte(`api_version: modelgov.dev/policy/v1
name: broken
validation:
  - id: ok
    expression: "true"
    message: fine
  - id: typo
    expression: "model.size_class == 'xl' && modle.provider == 'x'"
    message: typo
`))
	p := problemOf(t, body)
	if code != 422 || len(p.Errors) != 1 || p.Errors[0].Pointer != "/validation/1/expression" || !strings.Contains(p.Errors[0].Message, "1:") {
		t.Errorf("broken bundle: %d %+v", code, p)
	}
	// Dry run of a classification: the 7B model is refused, with reasons.
	d, err := ts.client.Evaluate(ctx, api.EvaluationRequest{Model: mustJSON(t, map[string]any{"model_id": "mistral/mistral-7b", "provider": "mistral",
		"display_name": "Mistral 7B", "size_class": "small", "parameters": map[string]any{"count": 7e9, "source": "declared"}}),
		Action: "model.classify", Role: api.RoleGeneral})
	if err != nil || d.Allowed || len(d.Failed()) < 2 {
		t.Errorf("evaluate: %+v, %v", d, err)
	}
	list, err := ts.client.ListPolicies(ctx)
	if err != nil || len(list.Items) != 1 {
		t.Errorf("policies after a refused upload: %+v, %v", list, err)
	}
	code, _, _ = ts.call(t, "GET", "/schemas/policy/v1.json", "", nil)
	if code != 200 {
		t.Errorf("policy schema: %d", code)
	}
}
