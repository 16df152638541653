package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

var (
	governor   = Caller{Principal: "alice", Roles: []string{"governor"}}
	maintainer = Caller{Principal: "bob", Roles: []string{"maintainer"}}
	testNow    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// newModel returns an active model with role none, changed by the options.
func newModel(id, display string, class api.SizeClass, count api.Count, opts ...func(*api.Model)) *api.Model {
	provider, _, _ := strings.Cut(id, "/")
	m := &api.Model{SchemaVersion: api.SchemaVersion, ModelID: id, Provider: provider, DisplayName: display, SizeClass: class,
		Capabilities: []string{"code", "reasoning"},
		Governance:   &api.Governance{Role: api.RoleNone},
		Lifecycle:    &api.Lifecycle{Status: api.StatusActive, Since: testNow.Add(-24 * time.Hour)}}
	if count > 0 {
		m.Parameters = &api.Parameters{Count: count, Source: api.ParametersDeclared}
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

func role(r api.Role) func(*api.Model)     { return func(m *api.Model) { m.Governance.Role = r } }
func status(s api.Status) func(*api.Model) { return func(m *api.Model) { m.Lifecycle.Status = s } }
func estimated(m *api.Model)               { m.Parameters.Source = api.ParametersEstimated }
func confirmedBy(who string) func(*api.Model) {
	return func(m *api.Model) { m.Governance.SizeConfirmedBy = who }
}
func exemption(expires time.Time, rules ...string) func(*api.Model) {
	return func(m *api.Model) {
		m.Governance.Exemptions = append(m.Governance.Exemptions, api.Exemption{ID: "x1", Rules: rules,
			Reason: "vote 12", GrantedBy: "alice", GrantedAt: testNow.Add(-time.Hour), ExpiresAt: expires})
	}
}

// verified gives the model an identity owned by owner, verified two days
// before testNow, its key id derived from the model id.
func verified(owner string) func(*api.Model) {
	return func(m *api.Model) {
		at := testNow.Add(-48 * time.Hour)
		m.Identity = &api.Identity{KeyType: api.KeyEd25519, PublicKey: "MCowBQYDK2VwAyEA", KeyID: keyID(m.ModelID),
			Status: api.IdentityVerified, Owner: owner, RegisteredAt: at, RegisteredBy: owner, VerifiedAt: &at,
			ExpiresAt: at.Add(365 * 24 * time.Hour)}
	}
}

// keyID is a key id for a test key named name.
func keyID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16])
}

// changed returns a copy of m changed by the options.
func changed(m *api.Model, opts ...func(*api.Model)) *api.Model {
	c := m.Clone()
	for _, o := range opts {
		o(c)
	}
	return c
}

// classify is the input of a classification of m to role r.
func classify(m *api.Model, r api.Role, caller Caller) *Input {
	return &Input{Action: ActionClassify, Old: m, Model: changed(m, role(r)), Caller: caller, Now: testNow}
}

// transition is the input of a lifecycle transition of m to s.
func transition(m *api.Model, s api.Status, caller Caller, activeGenerals int64) *Input {
	return &Input{Action: ActionLifecycle, Old: m, Model: changed(m, status(s)), Caller: caller, Now: testNow,
		Facts: Facts{ActiveGenerals: activeGenerals}}
}

func defaultProgram(t testing.TB) *Program {
	t.Helper()
	p, err := Compile(mustParse(t, Default()), 1)
	if err != nil {
		t.Fatalf("Compile: %v %+v", err, fieldsOf(err))
	}
	return p
}

// Real-looking models, each with a verified identity of its provider's, so
// that the general rules of proposal 035 are tested on their own (the
// identity rules of proposal 036 are tested in identity_test.go).
var (
	llama7B   = newModel("meta/llama-2-7b", "Llama 2 7B", api.SizeSmall, 7e9, verified("meta"))
	gpt5Mini  = newModel("openai/gpt-5-mini", "GPT-5 mini", api.SizeLarge, 0, verified("openai"))
	maverick  = newModel("meta/llama-4-maverick", "Llama 4 Maverick", api.SizeXL, 400e9, verified("meta"))
	qwen235B  = newModel("qwen/qwen3-235b-a22b", "Qwen3 235B A22B", api.SizeLarge, 235e9, verified("qwen"))
	gpt5      = newModel("openai/gpt-5", "GPT-5", api.SizeXXL, 1.8e12, estimated, verified("openai"))
	generalXL = newModel("meta/llama-4-maverick", "Llama 4 Maverick", api.SizeXL, 400e9, role(api.RoleGeneral), verified("meta"))
)

func TestDecideDefaultBundle(t *testing.T) {
	p := defaultProgram(t)
	tests := []struct {
		name      string
		in        *Input
		allowed   bool
		failed    []string                   // ids of failed and error results, in order
		outcomes  map[string]api.RuleOutcome // a subset of the results
		forbidden []string
		values    map[string]map[string]any // a subset of the values of some results
		message   map[string]string         // a subset of the messages
	}{
		{
			name:    "a 7B model asks to be a general",
			in:      classify(llama7B, api.RoleGeneral, governor),
			allowed: false,
			failed:  []string{"general-size-class", "general-parameters"},
			outcomes: map[string]api.RuleOutcome{"classify-by-governor": api.RulePassed, "size-class-matches-parameters": api.RulePassed,
				"general-not-small-variant": api.RulePassed, "general-estimated-size-confirmed": api.RulePassed},
			values: map[string]map[string]any{
				"general-size-class": {"model.size_class": "small", "params.general_size_classes": []any{"large", "xl", "xxl"}},
				"general-parameters": {"model.parameters.count": int64(7e9), "params.general_min_parameters": int64(70e9)},
			},
			message: map[string]string{"general-size-class": "a general must be of size class large, xl or xxl (proposal 035)"},
		},
		{
			name:    "openai/gpt-5-mini is a small variant, even with size class large",
			in:      classify(gpt5Mini, api.RoleGeneral, governor),
			allowed: false,
			failed:  []string{"general-not-small-variant"},
			values: map[string]map[string]any{"general-not-small-variant": {"model.model_id": "openai/gpt-5-mini",
				"model.display_name": "GPT-5 mini"}},
		},
		{
			name:    "a 400B model of class xl becomes a general",
			in:      classify(maverick, api.RoleGeneral, governor),
			allowed: true,
			outcomes: map[string]api.RuleOutcome{"classify-by-governor": api.RulePassed, "size-class-matches-parameters": api.RulePassed,
				"general-size-class": api.RulePassed, "general-not-small-variant": api.RulePassed,
				"general-parameters": api.RulePassed, "general-estimated-size-confirmed": api.RulePassed},
		},
		{
			name:    "a 235B A22B mixture of experts is large, by its total parameters",
			in:      classify(qwen235B, api.RoleGeneral, governor),
			allowed: true,
		},
		{
			name:    "a specialist has no classification rules in the default bundle",
			in:      classify(llama7B, api.RoleSpecialist, governor),
			allowed: true,
			outcomes: map[string]api.RuleOutcome{"classify-by-governor": api.RulePassed,
				"size-class-matches-parameters": api.RulePassed},
		},
		{
			name: "a general's update lowering parameters.count to 8e9 is refused",
			in: &Input{Action: ActionUpdate, Old: generalXL, Caller: maintainer, Now: testNow,
				Model: changed(generalXL, func(m *api.Model) { m.Parameters.Count = 8e9 })},
			allowed: false,
			failed:  []string{"size-class-matches-parameters", "general-parameters"},
			message: map[string]string{"size-class-matches-parameters": "parameters.count 8000000000 is the size of class small, " +
				"not xl (300000000000 <= count < 1000000000000)"},
		},
		{
			name:    "an estimated size needs a governor's confirmation",
			in:      classify(gpt5, api.RoleGeneral, governor),
			allowed: false,
			failed:  []string{"general-estimated-size-confirmed"},
			values: map[string]map[string]any{"general-estimated-size-confirmed": {"model.parameters.source": "estimated",
				"model.governance.size_confirmed_by": ""}},
		},
		{
			name:    "a confirmed estimated size counts",
			in:      classify(changed(gpt5, confirmedBy("alice")), api.RoleGeneral, governor),
			allowed: true,
		},
		{
			name: "an active exemption releases the model",
			in: classify(changed(llama7B, exemption(testNow.Add(time.Hour), "general-size-class", "general-parameters")),
				api.RoleGeneral, governor),
			allowed: true,
			outcomes: map[string]api.RuleOutcome{"general-size-class": api.RuleExempted, "general-parameters": api.RuleExempted,
				"general-not-small-variant": api.RulePassed},
			values: map[string]map[string]any{"general-size-class": {"model.size_class": "small"}},
		},
		{
			name:    "an expired exemption does not",
			in:      classify(changed(llama7B, exemption(testNow, "general-size-class", "general-parameters")), api.RoleGeneral, governor),
			allowed: false,
			failed:  []string{"general-size-class", "general-parameters"},
		},
		{
			name:     "an exemption from one rule leaves the others",
			in:       classify(changed(llama7B, exemption(testNow.Add(time.Hour), "general-size-class")), api.RoleGeneral, governor),
			allowed:  false,
			failed:   []string{"general-parameters"},
			outcomes: map[string]api.RuleOutcome{"general-size-class": api.RuleExempted},
		},
		{
			name:      "only a governor classifies",
			in:        classify(maverick, api.RoleGeneral, maintainer),
			allowed:   false,
			failed:    []string{"classify-by-governor"},
			forbidden: []string{"classify-by-governor"},
			values:    map[string]map[string]any{"classify-by-governor": {"request.roles": []string{"maintainer"}}},
			message:   map[string]string{"classify-by-governor": "only a governor or an admin may classify a model"},
		},
		{
			name:      "an exemption never releases a permission rule",
			in:        classify(changed(maverick, exemption(testNow.Add(time.Hour), "classify-by-governor")), api.RoleGeneral, maintainer),
			allowed:   false,
			failed:    []string{"classify-by-governor"},
			forbidden: []string{"classify-by-governor"},
		},
		{
			name:      "a caller without a role is refused too",
			in:        classify(maverick, api.RoleGeneral, Caller{Principal: "anonymous"}),
			allowed:   false,
			failed:    []string{"classify-by-governor"},
			forbidden: []string{"classify-by-governor"},
			values:    map[string]map[string]any{"classify-by-governor": {"request.roles": []string{}}},
		},
		{
			name:    "an admin classifies",
			in:      classify(maverick, api.RoleGeneral, Caller{Principal: "root", Roles: []string{"reader", "admin"}}),
			allowed: true,
		},
		{
			name:      "only a governor approves a proposed model",
			in:        transition(changed(maverick, status(api.StatusProposed)), api.StatusActive, maintainer, 0),
			allowed:   false,
			failed:    []string{"lifecycle-approval"},
			forbidden: []string{"lifecycle-approval"},
		},
		{
			name:     "a governor approves a proposed model",
			in:       transition(changed(maverick, status(api.StatusProposed)), api.StatusActive, governor, 0),
			allowed:  true,
			outcomes: map[string]api.RuleOutcome{"lifecycle-approval": api.RulePassed, "size-class-matches-parameters": api.RulePassed},
		},
		{
			name:     "the owner deprecates a model: no transition rule applies but last-active-general",
			in:       transition(maverick, api.StatusDeprecated, maintainer, 1),
			allowed:  true,
			outcomes: map[string]api.RuleOutcome{"last-active-general": api.RulePassed},
		},
		{
			name:    "the last active general cannot leave active",
			in:      transition(generalXL, api.StatusDeprecated, governor, 1),
			allowed: false,
			failed:  []string{"last-active-general"},
			values: map[string]map[string]any{"last-active-general": {"old.role": "general",
				"registry.active_generals": int64(1), "params.min_active_generals": int64(1)}},
			message: map[string]string{"last-active-general": "a general cannot leave active while it is the last active general"},
		},
		{
			name:     "a general leaves active while another stays",
			in:       transition(generalXL, api.StatusSuspended, governor, 2),
			allowed:  true,
			outcomes: map[string]api.RuleOutcome{"lifecycle-suspend-archive": api.RulePassed, "last-active-general": api.RulePassed},
		},
		{
			name:      "suspending takes a governor",
			in:        transition(maverick, api.StatusSuspended, maintainer, 3),
			allowed:   false,
			failed:    []string{"lifecycle-suspend-archive"},
			forbidden: []string{"lifecycle-suspend-archive"},
		},
		{
			name:    "a create is judged by validation and the classification of its role",
			in:      &Input{Action: ActionCreate, Model: changed(llama7B, func(m *api.Model) { m.SizeClass = api.SizeXL }), Caller: maintainer, Now: testNow},
			allowed: false,
			failed:  []string{"size-class-matches-parameters"},
			message: map[string]string{"size-class-matches-parameters": "parameters.count 7000000000 is the size of class small, " +
				"not xl (300000000000 <= count < 1000000000000)"},
		},
		{
			name:    "a deletion has no model to judge",
			in:      &Input{Action: ActionDelete, Old: llama7B, Caller: maintainer, Now: testNow},
			allowed: true,
		},
		{
			name:    "moving an alias is not a model's action",
			in:      &Input{Action: ActionAliasMove, Caller: maintainer, Now: testNow},
			allowed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(tt.in)
			if d.Allowed != tt.allowed {
				t.Errorf("Allowed = %v, want %v\n%s", d.Allowed, tt.allowed, dumpJSON(d))
			}
			if d.Action != string(tt.in.Action) || d.PolicyVersion != 1 || d.PolicyHash != p.Hash() {
				t.Errorf("Action, PolicyVersion, PolicyHash = %q %d %q", d.Action, d.PolicyVersion, d.PolicyHash)
			}
			var failed, forbidden []string
			for _, r := range d.Failed() {
				failed = append(failed, r.ID)
			}
			for _, r := range d.Results {
				if r.Forbidden {
					forbidden = append(forbidden, r.ID)
				}
			}
			if !slices.Equal(failed, tt.failed) {
				t.Errorf("failed = %v, want %v\n%s", failed, tt.failed, dumpJSON(d))
			}
			if !slices.Equal(forbidden, tt.forbidden) {
				t.Errorf("forbidden = %v, want %v", forbidden, tt.forbidden)
			}
			for id, want := range tt.outcomes {
				if r := result(d, id); r == nil || r.Outcome != want {
					t.Errorf("%s: %+v, want outcome %s", id, r, want)
				}
			}
			for id, want := range tt.values {
				r := result(d, id)
				if r == nil {
					t.Errorf("no result %s", id)
					continue
				}
				for path, v := range want {
					if got := r.Values[path]; !reflect.DeepEqual(got, v) {
						t.Errorf("%s: Values[%s] = %#v, want %#v", id, path, got, v)
					}
				}
			}
			for id, want := range tt.message {
				if r := result(d, id); r == nil || r.Message != want {
					t.Errorf("%s: message %+v, want %q", id, r, want)
				}
			}
			for _, r := range d.Results {
				if r.Outcome == api.RulePassed && (r.Values != nil || r.Message != "") {
					t.Errorf("passed rule %s explains itself: %+v", r.ID, r)
				}
				if r.Outcome != api.RulePassed && r.Message == "" {
					t.Errorf("rule %s has outcome %s and no message", r.ID, r.Outcome)
				}
			}
			if _, err := json.Marshal(d); err != nil {
				t.Errorf("the decision does not encode: %v", err)
			}
		})
	}
}

func result(d *api.Decision, id string) *api.RuleResult {
	for i := range d.Results {
		if d.Results[i].ID == id {
			return &d.Results[i]
		}
	}
	return nil
}

func dumpJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestDecideResultOrder(t *testing.T) {
	p := defaultProgram(t)
	m := changed(maverick, role(api.RoleGeneral), status(api.StatusProposed))
	in := &Input{Action: ActionLifecycle, Old: m, Model: changed(m, status(api.StatusActive)), Caller: governor, Now: testNow}
	d := p.Decide(in)
	var got []string
	for _, r := range d.Results {
		got = append(got, r.Section+"/"+r.ID)
	}
	want := []string{"validation/size-class-matches-parameters", "classification.general/general-size-class",
		"classification.general/general-not-small-variant", "classification.general/general-parameters",
		"classification.general/general-estimated-size-confirmed", "classification.general/general-verified-identity",
		"classification.general/general-endorsements", "classification.general/general-review-cleared",
		"classification.general/general-min-scores", "transitions/lifecycle-approval", "transitions/review-before-approval"}
	if !slices.Equal(got, want) {
		t.Errorf("results = %v\nwant      %v", got, want)
	}
}

func TestSmallVariantPattern(t *testing.T) {
	p := defaultProgram(t)
	for _, tt := range []struct {
		id, display string
		small       bool
	}{
		{"openai/gpt-5-mini", "GPT-5", true},
		{"openai/o1-mini", "o1", true},
		{"xai/grok-3-mini", "Grok 3", true},
		{"google/gemini-2.0-flash-lite", "Gemini 2.0", true},
		{"microsoft/phi-3-mini", "Phi-3", true},
		{"openai/gpt-5-nano", "GPT-5", true},
		{"openai/gpt-5", "GPT-5 (low)", true},
		{"openai/gpt-5", "GPT-5 Mini", true},
		{"acme/tiny_llama", "TinyLlama", true},
		{"minimax/minimax-m1", "MiniMax M1", false},
		{"google/gemini-2.5-pro", "Gemini 2.5 Pro", false},
		{"meta/llama-3.3-70b", "Llama 3.3 70B", false},
		{"anthropic/claude-opus-4", "Claude Opus 4", false},
		{"acme/flow-1", "Yellowstone", false},
	} {
		m := newModel(tt.id, tt.display, api.SizeXL, 0, role(api.RoleGeneral))
		r := result(p.Decide(&Input{Action: ActionUpdate, Old: m, Model: m, Now: testNow}), "general-not-small-variant")
		if got := r.Outcome == api.RuleFailed; got != tt.small {
			t.Errorf("%s %q: small variant = %v, want %v (%+v)", tt.id, tt.display, got, tt.small, r)
		}
	}
}

// testProgram compiles a bundle of the given rules.
func testProgram(t *testing.T, b *Bundle) *Program {
	t.Helper()
	b.APIVersion, b.Name = APIVersion, "test"
	p, err := Compile(b, 2)
	if err != nil {
		t.Fatalf("Compile: %v %+v", err, fieldsOf(err))
	}
	return p
}

func TestDecideRuleActionsAndErrors(t *testing.T) {
	p := testProgram(t, &Bundle{
		Params: map[string]any{"min": 70.5e9, "team": "core"},
		Validation: []Rule{
			{ID: "license-named", Expression: "model.license != ''", Message: "name the license", Action: RuleWarn},
			{ID: "team-label", Expression: "model.labels.team == params.team", Message: "the core team owns every model"},
			{ID: "dyn-result", Expression: "model.size_class"},
			{ID: "float-param", Expression: "model.parameters.count >= params.min"},
			// Estimated for callers of at most 64 roles and principals of 256 bytes.
			{ID: "roles-bounded", Expression: "request.roles.all(r, !request.principal.contains(r))"},
		},
	})
	manyRoles := make([]string, 200)
	for i := range manyRoles {
		manyRoles[i] = fmt.Sprintf("role-%d", i)
	}
	m := newModel("meta/llama-3.1-70b", "Llama 3.1 70B", api.SizeLarge, 71e9)
	caller := Caller{Principal: strings.Repeat("bob", 40000), Roles: manyRoles}
	d := p.Decide(&Input{Action: ActionCreate, Model: m, Caller: caller, Now: testNow})
	if d.Allowed {
		t.Fatalf("allowed a write whose rules cannot be evaluated:\n%s", dumpJSON(d))
	}
	want := map[string]api.RuleOutcome{
		"license-named": api.RuleWarned,
		"team-label":    api.RuleError,  // no label team: a missing key fails closed
		"dyn-result":    api.RuleError,  // a string, not a bool
		"float-param":   api.RulePassed, // 71e9 >= 70.5e9: an int and a double compare
		"roles-bounded": api.RuleError,  // over the cost limit at run time
	}
	for id, outcome := range want {
		if r := result(d, id); r == nil || r.Outcome != outcome {
			t.Errorf("%s: %+v, want outcome %s", id, r, outcome)
		}
	}
	for id, text := range map[string]string{"team-label": "no such key", "dyn-result": "not a bool",
		"roles-bounded": "cost limit"} {
		if r := result(d, id); r == nil || !strings.Contains(r.Message, text) {
			t.Errorf("%s: message %q, want it to say %q", id, r.Message, text)
		}
	}
	if r := result(d, "license-named"); r.Message != "name the license" || r.Values["model.license"] != "" {
		t.Errorf("warned rule: %+v", r)
	}
	m.Parameters.Count = 70e9
	if r := result(p.Decide(&Input{Action: ActionCreate, Model: m, Now: testNow}), "float-param"); r.Outcome != api.RuleFailed {
		t.Errorf("70e9 >= 70.5e9: %+v", r)
	}
}

func TestDecideVariables(t *testing.T) {
	p := testProgram(t, &Bundle{
		Params: map[string]any{"fallback": map[string]any{"general": "specialist"}, "classes": []any{"large"}},
		Validation: []Rule{
			{ID: "create-has-no-old", Expression: "request.action != 'model.create' || old == null"},
			{ID: "update-has-old", Expression: "request.action != 'model.update' || old.model_id == model.model_id"},
			{ID: "request", Expression: "request.principal == 'alice' && 'governor' in request.roles && request.role == model.role"},
			{ID: "statuses", Expression: "request.to == model.status && request.from == (old == null ? '' : old.status)"},
			{ID: "has", Expression: "has(params.fallback.general) && !has(params.fallback.none) && has(model.labels.team)"},
			{ID: "shadowing", Expression: "[1, 2].all(params, params > 0) && params.classes.exists(c, c == 'large')"},
			{ID: "zero-values", Expression: "model.parameters.count == 0 && model.modalities.input == [] && model.context_window == 0 && " +
				"model.governance.exemptions == [] && model.lifecycle.successor == '' && model.endpoints == []"},
			{ID: "whole-objects", Expression: "size(model.parameters) == 3 && 'count' in model.parameters && " +
				"model.governance.role == model.role && (old == null || old.lifecycle == model.lifecycle)"},
			{ID: "timestamps", Expression: "model.lifecycle.since < now && now - model.lifecycle.since == duration('24h')"},
			{ID: "registry", Expression: "registry.active_generals == 0 && registry.verified_general_owners == 0"},
			{ID: "identity-zero-values", Expression: "model.identity.status == 'none' && model.identity.key_type == '' && " +
				"model.identity.key_id == '' && model.identity.owner == '' && model.identity.artifact_digest == '' && " +
				"model.identity.verified_at == timestamp('0001-01-01T00:00:00Z') && " +
				"model.identity.expires_at == timestamp('0001-01-01T00:00:00Z') && " +
				"model.identity.endorsements == [] && model.identity.general_endorsements == 0 && " +
				"model.governance.review.status == '' && model.governance.review.reason == '' && " +
				"model.governance.review.similar_to == []"},
		},
	})
	m := newModel("acme/tiny", "Tiny", api.SizeNano, 0, func(m *api.Model) { m.Labels = map[string]string{"team": "core"} })
	for _, in := range []*Input{
		{Action: ActionCreate, Model: m, Caller: governor, Now: testNow},
		{Action: ActionUpdate, Model: m, Old: m, Caller: governor, Now: testNow},
	} {
		d := p.Decide(in)
		if !d.Allowed || len(d.Results) != 11 {
			t.Errorf("%s:\n%s", in.Action, dumpJSON(d))
		}
	}
	if failing := p.Check(m, testNow, nil); len(failing) != 1 || failing[0].ID != "request" {
		t.Errorf("Check: %+v, want only request (no caller in a check)", failing)
	}
}

func TestDecidePermissionExpression(t *testing.T) {
	p := testProgram(t, mustParse(t, readFile(t, "testdata/strict.yaml")))
	owned := newModel("meta/llama-3.3-70b", "Llama 3.3 70B", api.SizeLarge, 70e9, func(m *api.Model) {
		m.Owners = []string{"bob"}
		m.License = "llama3.3"
	})
	for _, tt := range []struct {
		caller  Caller
		allowed bool
	}{
		{Caller{Principal: "bob"}, true},
		{Caller{Principal: "mallory"}, false},
		{Caller{Principal: "alice", Roles: []string{"governor"}}, true},
	} {
		d := p.Decide(&Input{Action: ActionPatch, Old: owned, Model: changed(owned, func(m *api.Model) { m.Owners = []string{"mallory"} }),
			Caller: tt.caller, Now: testNow})
		r := result(d, "owners-update")
		if d.Allowed != tt.allowed || r == nil || r.Forbidden == tt.allowed {
			t.Errorf("%s: %s", tt.caller.Principal, dumpJSON(d))
		}
	}
	d := p.Decide(&Input{Action: ActionCreate, Model: changed(owned, func(m *api.Model) { m.License = "" }), Now: testNow})
	if !d.Allowed || result(d, "license-named").Outcome != api.RuleWarned || result(d, "owners-update") != nil {
		t.Errorf("create:\n%s", dumpJSON(d))
	}
}

func TestCheck(t *testing.T) {
	p := defaultProgram(t)
	small := changed(llama7B, role(api.RoleGeneral))
	tests := []struct {
		name string
		m    *api.Model
		want []string
	}{
		{"a compliant general", generalXL, nil},
		{"a small general", small, []string{"general-size-class", "general-parameters"}},
		{"an exempted small general", changed(small, exemption(testNow.Add(time.Hour), "general-parameters")), []string{"general-size-class"}},
		{"an expired exemption", changed(small, exemption(testNow.Add(-time.Hour), "general-parameters")),
			[]string{"general-size-class", "general-parameters"}},
		{"the same model as a specialist", changed(small, role(api.RoleSpecialist)), nil},
		{"a mislabelled specialist", changed(llama7B, role(api.RoleSpecialist), func(m *api.Model) { m.SizeClass = api.SizeMini }),
			[]string{"size-class-matches-parameters"}},
		{"a model without blocks", &api.Model{ModelID: "a/b", Provider: "a", DisplayName: "B"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Check(tt.m, testNow, nil)
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
				if r.Outcome != api.RuleFailed && r.Outcome != api.RuleError {
					t.Errorf("Check returned %s with outcome %s", r.ID, r.Outcome)
				}
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("Check = %v, want %v", ids, tt.want)
			}
		})
	}
	if got := p.Check(nil, testNow, nil); got != nil {
		t.Errorf("Check(nil) = %v", got)
	}
}

func TestDecideConcurrently(t *testing.T) {
	p := defaultProgram(t)
	inputs := []*Input{classify(llama7B, api.RoleGeneral, governor), classify(maverick, api.RoleGeneral, governor),
		transition(generalXL, api.StatusArchived, governor, 1)}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		want[i] = dumpJSON(p.Decide(in))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(inputs)
				if got := dumpJSON(p.Decide(inputs[k])); got != want[k] {
					t.Errorf("decision %d differs when taken concurrently:\n%s\nwant\n%s", k, got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}
