package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store/sqlite"
)

// clock is a settable time for tests of deadlines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newService(t testing.TB) (*registry.Service, *clock) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "modelgov.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s, err := registry.New(registry.Config{Store: st, Schema: v, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Bootstrap(ctx); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	return s, c
}

var (
	governor   = registry.WriteOptions{Caller: registry.Caller{Principal: "gov", Roles: []string{"governor"}}}
	maintainer = registry.WriteOptions{Caller: registry.Caller{Principal: "owner", Roles: []string{"maintainer"}}}
	// steward maintains its models and governs: a 1.0 document's role and
	// status requests are a governor's, its fields a maintainer's.
	steward = registry.WriteOptions{Caller: registry.Caller{Principal: "owner", Roles: []string{"maintainer", "governor"}}}
)

func doc(id, sizeClass string, params float64, source string) []byte {
	provider := id[:slices.Index([]byte(id), '/')]
	m := map[string]any{"schema_version": "1.1", "model_id": id, "provider": provider, "display_name": id, "size_class": sizeClass}
	if params > 0 {
		m["parameters"] = map[string]any{"count": params, "source": source}
	}
	b, _ := json.Marshal(m)
	return b
}

func create(t *testing.T, s *registry.Service, id, sizeClass string, params float64) {
	t.Helper()
	if _, err := s.CreateModel(context.Background(), doc(id, sizeClass, params, "declared"), maintainer); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	proveIdentity(t, s, id, maintainer)
}

func failedRules(err error) []string {
	var e *errs.Error
	if !errorsAs(err, &e) || e.Decision == nil {
		return nil
	}
	var ids []string
	for _, r := range e.Decision.Failed() {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestFoundingRule(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	tests := []struct {
		id        string
		sizeClass string
		params    float64
		allowed   bool
		rules     []string // rules that must be among the failed ones
	}{
		{"mistral/mistral-7b-instruct", "small", 7e9, false, []string{"general-size-class", "general-parameters"}},
		{"openai/gpt-5-mini", "large", 0, false, []string{"general-not-small-variant"}},
		{"openai/o1-mini", "xl", 0, false, []string{"general-not-small-variant"}},
		{"xai/grok-3-mini", "medium", 0, false, []string{"general-size-class", "general-not-small-variant"}},
		{"meta/llama-3-1-405b", "xl", 405e9, true, nil},
		{"meta/llama-3-3-70b", "large", 70e9, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			create(t, s, tt.id, tt.sizeClass, tt.params)
			res, err := s.Classify(ctx, tt.id, api.Classification{Role: api.RoleGeneral, Reason: "vote"}, governor)
			if tt.allowed {
				if err != nil {
					t.Fatalf("classify as general: %v", err)
				}
				if res.Model.Role() != api.RoleGeneral || res.Model.Governance.PolicyVersion != 1 || res.Model.Governance.PolicyHash == "" {
					t.Errorf("governance = %+v, want general under policy version 1", res.Model.Governance)
				}
				return
			}
			if !errs.Is(err, errs.PolicyDenied) {
				t.Fatalf("classify as general: %v, want a policy denial", err)
			}
			got := failedRules(err)
			for _, r := range tt.rules {
				if !slices.Contains(got, r) {
					t.Errorf("failed rules %v lack %s", got, r)
				}
			}
			m, _ := s.GetModel(ctx, tt.id)
			if m.Role() != api.RoleNone || m.ResourceVersion != "3" { // created, key registered, verified
				t.Errorf("a refused classification changed the model: role %s rv %s", m.Role(), m.ResourceVersion)
			}
		})
	}
}

func TestDeniedDecisionExplains(t *testing.T) {
	s, _ := newService(t)
	create(t, s, "mistral/mistral-7b-instruct", "small", 7e9)
	_, err := s.Classify(context.Background(), "mistral/mistral-7b-instruct", api.Classification{Role: api.RoleGeneral, Reason: "r"}, governor)
	var e *errs.Error
	if !errorsAs(err, &e) || e.Decision == nil {
		t.Fatalf("err = %v, want a decision", err)
	}
	for _, r := range e.Decision.Failed() {
		if r.ID == "general-size-class" {
			if r.Message == "" || r.Values["model.size_class"] != "small" {
				t.Errorf("general-size-class result = %+v, want its message and the size class it saw", r)
			}
			return
		}
	}
	t.Errorf("no general-size-class in %+v", e.Decision.Failed())
}

func TestMetadataChangeMustKeepRole(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	create(t, s, "meta/llama-3-1-405b", "xl", 405e9)
	if _, err := s.Classify(ctx, "meta/llama-3-1-405b", api.Classification{Role: api.RoleGeneral, Reason: "vote"}, governor); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"size_class":"small","parameters":{"count":8e9}}`)
	_, err := s.PatchModel(ctx, "meta/llama-3-1-405b", patch, maintainer)
	if !errs.Is(err, errs.PolicyDenied) {
		t.Fatalf("shrinking a general: %v, want a policy denial", err)
	}
	// The same change, with the role lowered in the same write, is allowed:
	// a proposal 035 document asks for role and size together.
	v10 := []byte(`{"schema_version":"1.0","model_id":"meta/llama-3-1-405b","provider":"meta","display_name":"Llama","role":"specialist",
		"size_class":"small","capabilities":[],"status":"active","source_files":[],"created_at":"2025-09-07T00:00:00Z"}`)
	res, err := s.ApplyModel(ctx, v10, steward)
	if err != nil {
		t.Fatalf("shrink and lower together: %v", err)
	}
	if res.Model.Role() != api.RoleSpecialist || res.Model.SizeClass != api.SizeSmall {
		t.Errorf("after apply: role %s size %s", res.Model.Role(), res.Model.SizeClass)
	}
}

func TestP035ChecklistViolationRefused(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	// The ecosystem's checklist lists GPT-5-Mini as a new general. As a P035
	// document that claims a large size class, it is registered, but the
	// policy does not let it be a general: it takes the fallback role, and
	// its history says which rule kept the role from it.
	v10 := []byte(`{"schema_version":"1.0","model_id":"openai-gpt-5-mini","provider":"openai","display_name":"GPT-5-Mini",
		"role":"general","size_class":"large","capabilities":[],"status":"active","source_files":["gov/guidelines/MODELS_CHECKLIST.md"],
		"created_at":"2025-09-07T00:00:00Z"}`)
	res, err := s.CreateModel(ctx, v10, steward)
	if err != nil {
		t.Fatalf("create GPT-5-Mini from its 1.0 document: %v", err)
	}
	if res.Model.Role() != api.RoleSpecialist {
		t.Errorf("GPT-5-Mini is %s, want specialist (the fallback of general)", res.Model.Role())
	}
	revs, err := s.ListRevisions(ctx, "openai/gpt-5-mini", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := revs.Items[0].Reason; !containsAll(r, "role general requested", "not granted", "general-not-small-variant", "given specialist") {
		t.Errorf("the revision's reason %q does not say why general was not granted", r)
	}
	// Asked for by classification, the role is refused outright.
	_, err = s.Classify(ctx, "openai/gpt-5-mini", api.Classification{Role: api.RoleGeneral, Reason: "the checklist says so"}, steward)
	if !errs.Is(err, errs.PolicyDenied) || !slices.Contains(failedRules(err), "general-not-small-variant") {
		t.Fatalf("classify GPT-5-Mini as general: %v (rules %v)", err, failedRules(err))
	}
}

func TestEstimatedSizeNeedsGovernor(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	if _, err := s.CreateModel(ctx, doc("openai/gpt-5", "xxl", 1.8e12, "estimated"), maintainer); err != nil {
		t.Fatal(err)
	}
	proveIdentity(t, s, "openai/gpt-5", maintainer)
	admin := registry.WriteOptions{Caller: registry.Caller{Principal: "root", Roles: []string{"admin"}}}
	res, err := s.Classify(ctx, "openai/gpt-5", api.Classification{Role: api.RoleGeneral, Reason: "vote"}, admin)
	if err != nil {
		t.Fatalf("classify by an admin: %v", err)
	}
	if res.Model.Governance.SizeConfirmedBy != "root" {
		t.Errorf("size not confirmed by the classifier: %+v", res.Model.Governance)
	}
	// Changing the size afterwards clears the confirmation, so the general
	// no longer qualifies.
	if _, err := s.PatchModel(ctx, "openai/gpt-5", []byte(`{"parameters":{"count":1.7e12}}`), maintainer); !errs.Is(err, errs.PolicyDenied) {
		t.Errorf("changing the estimated size of a general: %v, want a policy denial", err)
	}
}

func TestForbiddenCaller(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	create(t, s, "meta/llama-3-1-405b", "xl", 405e9)
	_, err := s.Classify(ctx, "meta/llama-3-1-405b", api.Classification{Role: api.RoleGeneral, Reason: "self-promotion"}, maintainer)
	if !errs.Is(err, errs.Forbidden) {
		t.Errorf("classify by a maintainer: %v, want Forbidden", err)
	}
	_, err = s.ChangeLifecycle(ctx, "meta/llama-3-1-405b", api.LifecycleChange{Status: api.StatusActive, Reason: "approve myself"}, maintainer)
	if !errs.Is(err, errs.Forbidden) {
		t.Errorf("approve by a maintainer: %v, want Forbidden", err)
	}
	if _, err := s.ChangeLifecycle(ctx, "meta/llama-3-1-405b", api.LifecycleChange{Status: api.StatusActive, Reason: "approved"}, governor); err != nil {
		t.Errorf("approve by a governor: %v", err)
	}
}

func TestLastActiveGeneral(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	for _, id := range []string{"meta/llama-3-1-405b", "meta/llama-3-3-70b"} {
		create(t, s, id, map[string]string{"meta/llama-3-1-405b": "xl", "meta/llama-3-3-70b": "large"}[id],
			map[string]float64{"meta/llama-3-1-405b": 405e9, "meta/llama-3-3-70b": 70e9}[id])
		if _, err := s.ChangeLifecycle(ctx, id, api.LifecycleChange{Status: api.StatusActive, Reason: "approved"}, governor); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Classify(ctx, id, api.Classification{Role: api.RoleGeneral, Reason: "vote"}, governor); err != nil {
			t.Fatal(err)
		}
	}
	suspend := api.LifecycleChange{Status: api.StatusSuspended, Reason: "investigation"}
	if _, err := s.ChangeLifecycle(ctx, "meta/llama-3-1-405b", suspend, governor); err != nil {
		t.Fatalf("suspend one of two generals: %v", err)
	}
	_, err := s.ChangeLifecycle(ctx, "meta/llama-3-3-70b", suspend, governor)
	if !errs.Is(err, errs.PolicyDenied) || !slices.Contains(failedRules(err), "last-active-general") {
		t.Errorf("suspend the last active general: %v (rules %v)", err, failedRules(err))
	}
}

func TestExemption(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	create(t, s, "xai/grok-3-mini", "large", 0)
	// A maintainer cannot exempt; a governor can, for a named rule.
	req := api.ExemptionRequest{Rules: []string{"general-not-small-variant"}, Reason: "the name is historical", ExpiresAt: c.Now().Add(48 * time.Hour)}
	if _, err := s.GrantExemption(ctx, "xai/grok-3-mini", req, maintainer); !errs.Is(err, errs.Forbidden) {
		t.Errorf("exempt by a maintainer: %v, want Forbidden", err)
	}
	bad := req
	bad.Rules = []string{"no-such-rule"}
	if _, err := s.GrantExemption(ctx, "xai/grok-3-mini", bad, governor); !errs.Is(err, errs.Invalid) {
		t.Errorf("exempt from an unknown rule: %v, want Invalid", err)
	}
	res, err := s.GrantExemption(ctx, "xai/grok-3-mini", req, governor)
	if err != nil {
		t.Fatalf("exempt by a governor: %v", err)
	}
	if ex := res.Model.Governance.Exemptions; len(ex) != 1 || ex[0].GrantedBy != "gov" {
		t.Fatalf("exemptions = %+v", ex)
	}
	if _, err := s.Classify(ctx, "xai/grok-3-mini", api.Classification{Role: api.RoleGeneral, Reason: "exempted"}, governor); err != nil {
		t.Fatalf("classify an exempted model: %v", err)
	}
	// The exemption expires by itself: the periodic re-check then finds the
	// general out of compliance and gives it a deadline.
	c.Advance(49 * time.Hour)
	report, err := s.Recheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.NonCompliant) != 1 || report.NonCompliant[0].ModelID != "xai/grok-3-mini" {
		t.Errorf("re-check after expiry = %+v, want grok-3-mini out of compliance", report.NonCompliant)
	}
	m, _ := s.GetModel(ctx, "xai/grok-3-mini")
	if c := m.Governance.Compliance; c == nil || c.Status != api.NonCompliant || c.Deadline == nil {
		t.Errorf("compliance after expiry = %+v", c)
	}
}

// stricter returns the default bundle with generals needing 300B parameters
// and size class xl or xxl, and a grace period of a day.
func stricter(t *testing.T) []byte {
	t.Helper()
	var b map[string]any
	if err := yaml.Unmarshal(policy.Default(), &b); err != nil {
		t.Fatal(err)
	}
	b["name"] = "hivellm-stricter"
	params := b["params"].(map[string]any)
	params["general_min_parameters"] = 300e9
	params["general_size_classes"] = []string{"xl", "xxl"}
	params["grace_period"] = "24h"
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStricterBundleMarksAndLowers(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	generals := map[string]struct {
		sizeClass string
		params    float64
	}{
		"meta/llama-3-1-405b":  {"xl", 405e9},
		"meta/llama-3-3-70b":   {"large", 70e9},
		"alibaba/qwen-2-5-72b": {"large", 72e9},
	}
	for id, g := range generals {
		create(t, s, id, g.sizeClass, g.params)
		if _, err := s.Classify(ctx, id, api.Classification{Role: api.RoleGeneral, Reason: "vote"}, governor); err != nil {
			t.Fatal(err)
		}
	}
	create(t, s, "mistral/mistral-7b-instruct", "small", 7e9) // role none: not concerned
	p, err := s.UploadPolicy(ctx, stricter(t), governor)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if p.Version != 2 {
		t.Errorf("uploaded version %d, want 2 (the default is 1)", p.Version)
	}
	dry, err := s.ActivatePolicy(ctx, p.Version, true, governor)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alibaba/qwen-2-5-72b", "meta/llama-3-3-70b"}
	if got := reportIDs(dry.Report); !slices.Equal(got, want) {
		t.Errorf("dry run reports %v, want %v", got, want)
	}
	if active, _ := s.ActivePolicy(ctx); active.Version != 1 {
		t.Errorf("a dry run activated version %d", active.Version)
	}
	act, err := s.ActivatePolicy(ctx, p.Version, false, governor)
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	if got := reportIDs(act.Report); !slices.Equal(got, want) || act.Report.Checked != 4 {
		t.Errorf("activation report %v (checked %d), want %v of 4", got, act.Report.Checked, want)
	}
	comp, err := s.Compliance(ctx, 0, "")
	if err != nil || !slices.Equal(reportIDs(comp), want) {
		t.Errorf("compliance = %v, %v; want %v", reportIDs(comp), err, want)
	}
	m, _ := s.GetModel(ctx, "meta/llama-3-3-70b")
	if cm := m.Governance.Compliance; cm == nil || cm.Deadline == nil || !cm.Deadline.Equal(c.Now().Add(24*time.Hour)) || cm.PolicyVersion != 2 {
		t.Fatalf("compliance of llama-3-3-70b = %+v, want a deadline a day away", cm)
	}
	// Before the deadline nothing is lowered.
	c.Advance(23 * time.Hour)
	if n, err := s.EnforceDeadlines(ctx); err != nil || n != 0 {
		t.Errorf("enforce before the deadline: %d, %v", n, err)
	}
	// After it, exactly the non-compliant generals are lowered, through the
	// write path (a revision with action enforce).
	c.Advance(2 * time.Hour)
	if n, err := s.EnforceDeadlines(ctx); err != nil || n != 2 {
		t.Fatalf("enforce after the deadline: %d, %v; want 2", n, err)
	}
	for id := range generals {
		m, _ := s.GetModel(ctx, id)
		wantRole := api.RoleSpecialist
		if id == "meta/llama-3-1-405b" {
			wantRole = api.RoleGeneral
		}
		if m.Role() != wantRole || m.Governance.Compliance != nil {
			t.Errorf("%s: role %s compliance %+v, want %s and compliant", id, m.Role(), m.Governance.Compliance, wantRole)
		}
	}
	revs, _ := s.ListRevisions(ctx, "meta/llama-3-3-70b", 0, "")
	var actions []api.Action
	for _, r := range revs.Items {
		actions = append(actions, r.Action)
	}
	if !slices.Equal(actions, []api.Action{api.ActionEnforce, api.ActionCompliance, api.ActionClassify,
		api.ActionIdentity, api.ActionIdentity, api.ActionCreate}) {
		t.Errorf("history actions = %v", actions)
	}
	comp, _ = s.Compliance(ctx, 0, "")
	if len(comp.NonCompliant) != 0 {
		t.Errorf("still non-compliant after enforcement: %v", reportIDs(comp))
	}
}

func reportIDs(r *api.ComplianceReport) []string {
	var ids []string
	for _, m := range r.NonCompliant {
		ids = append(ids, m.ModelID)
	}
	slices.Sort(ids)
	return ids
}

func TestBadBundleRefused(t *testing.T) {
	s, _ := newService(t)
	bundle := []byte(`api_version: modelgov.dev/policy/v1
name: broken
validation:
  - id: typo
    expression: "modle.size_class == 'xl'"
    message: a typo
`)
	_, err := s.UploadPolicy(context.Background(), bundle, governor)
	var e *errs.Error
	if !errorsAs(err, &e) || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Pointer != "/validation/0/expression" {
		t.Fatalf("upload of a bundle that does not compile: %v (%+v)", err, e)
	}
	if msg := e.Fields[0].Message; !containsAll(msg, "1:", "modle") {
		t.Errorf("message %q does not give the position and the bad name", msg)
	}
	list, _ := s.ListPolicies(context.Background())
	if len(list.Items) != 1 {
		t.Errorf("a refused bundle was stored: %d versions", len(list.Items))
	}
}

func TestEvaluateDryRun(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	d, err := s.Evaluate(ctx, api.EvaluationRequest{Model: doc("openai/gpt-5-nano", "nano", 0, ""), Action: "model.classify", Role: api.RoleGeneral},
		registry.Caller{Principal: "gov", Roles: []string{"governor"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.PolicyVersion != 1 || len(d.Failed()) < 2 {
		t.Errorf("dry run = %+v, want refused by several rules", d)
	}
	if _, err := s.GetModel(ctx, "openai/gpt-5-nano"); !errs.Is(err, errs.NotFound) {
		t.Errorf("a dry run wrote the model: %v", err)
	}
	var passed int
	for _, r := range d.Results {
		if r.Outcome == api.RulePassed {
			passed++
		}
	}
	if passed == 0 {
		t.Errorf("explain mode lists no passed rule: %+v", d.Results)
	}
	_ = fmt.Sprint
}

// TestOnlyGovernorsManagePolicies: a bundle with no rules would let anyone
// make a mini model a general, so only governors and admins may upload or
// activate bundles, and a refusal is on record.
func TestOnlyGovernorsManagePolicies(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	open := []byte("api_version: modelgov.dev/policy/v1\nname: open\n")
	viewer := registry.WriteOptions{Caller: registry.Caller{Principal: "x", Roles: []string{"viewer"}}}
	for _, who := range []registry.WriteOptions{viewer, maintainer, {Caller: registry.Caller{Principal: "nobody"}}} {
		if _, err := s.UploadPolicy(ctx, open, who); !errs.Is(err, errs.Forbidden) {
			t.Errorf("upload by %v: %v, want Forbidden", who.Caller.Roles, err)
		}
		if _, err := s.ActivatePolicy(ctx, 1, false, who); !errs.Is(err, errs.Forbidden) {
			t.Errorf("activate by %v: %v, want Forbidden", who.Caller.Roles, err)
		}
	}
	if list, _ := s.ListPolicies(ctx); len(list.Items) != 1 {
		t.Errorf("refused uploads stored %d versions", len(list.Items)-1)
	}
	denied, err := s.AuditEntries(ctx, registry.AuditQuery{Outcome: "denied"})
	if err != nil || len(denied.Items) != 6 || denied.Items[0].Failed[0].ID != "policy-managers" {
		t.Errorf("denied entries = %+v, %v; want 6 naming policy-managers", denied, err)
	}
	p, err := s.UploadPolicy(ctx, open, governor)
	if err != nil {
		t.Fatalf("upload by a governor: %v", err)
	}
	if _, err := s.ActivatePolicy(ctx, p.Version, false, governor); err != nil {
		t.Errorf("activate by a governor: %v", err)
	}
}
