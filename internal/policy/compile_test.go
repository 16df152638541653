package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// bundleWith returns a bundle with one validation rule per expression.
func bundleWith(exprs ...string) *Bundle {
	b := &Bundle{APIVersion: APIVersion, Name: "test", Params: map[string]any{
		"classes": []any{"large", "xl"}, "pattern": "(?i)-mini$", "bad_pattern": "([a-", "min": 70e9}}
	for i, e := range exprs {
		b.Validation = append(b.Validation, Rule{ID: "rule-" + string(rune('a'+i)), Expression: e})
	}
	return b
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want string // the start of the message at /validation/0/expression
	}{
		{"undeclared reference", "model.size_class == modle.x", "1:21: undeclared reference to 'modle' (did you mean 'model'?)"},
		{"syntax error", "model.size_class ==", "1:20: Syntax error: "},
		{"syntax error on line 2", "model.size_class == 'x' &&\n  (model.family = 'y')", "2:17: Syntax error: "},
		{"not a bool", "model.parameters.count + 1", "1:1: the expression must evaluate to a bool, not int"},
		{"string literal", "'yes'", "1:1: the expression must evaluate to a bool, not string"},
		{"unknown field", "model.size_clas == 'xl'", "1:6: model has no field 'size_clas' (did you mean 'size_class'?)"},
		{"unknown nested field", "model.parameters.total > 0", "1:17: model.parameters has no field 'total' (it has active, count, source)"},
		{"unknown param", "model.size_class in params.classs", "1:27: params has no field 'classs' (did you mean 'classes'?)"},
		{"unknown param, far from any", "params.minimum > 0", "1:7: params has no field 'minimum' (it has bad_pattern, classes, min, pattern)"},
		{"field of a string", "model.size_class.name == 'x'", "1:17: model.size_class has no fields: it is not a map"},
		{"unknown request field", "request.user == 'x'", "1:8: request has no field 'user'"},
		{"unknown identity field", "model.identity.statuss == 'verified'",
			"1:15: model.identity has no field 'statuss' (did you mean 'status'?)"},
		{"unknown identity field of old", "old.identity.general_endorsement >= 2",
			"1:13: old.identity has no field 'general_endorsement' (did you mean 'general_endorsements'?)"},
		{"unknown review field", "model.governance.review.similar == []",
			"1:24: model.governance.review has no field 'similar' (it has reason, similar_to, status)"},
		{"unknown registry field", "registry.verified_general_owner > 0",
			"1:9: registry has no field 'verified_general_owner' (did you mean 'verified_general_owners'?)"},
		{"field of a count", "model.identity.general_endorsements.size > 0",
			"1:36: model.identity.general_endorsements has no fields: it is not a map"},
		{"bad regex literal", "model.model_id.matches('([a-')", "1:24: \"([a-\" is not a valid regular expression (RE2): error parsing regexp: "},
		{"bad regex param", "model.model_id.matches(params.bad_pattern)", "1:30: params.bad_pattern is not a valid regular expression (RE2): "},
		{"nested comprehensions", "model.eval_refs.all(a, model.eval_refs.all(b, model.eval_refs.all(c, a != b || b != c)))",
			"1:1: the expression may cost up to "},
		{"comprehension over an unbounded list", "model.labels.all(k, lists.range(size(model.notes)).all(i, i >= 0))",
			"1:1: the expression may cost up to "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(bundleWith(tt.expr), 1)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded", tt.expr)
			}
			if p != nil {
				t.Error("Compile returned a program and an error")
			}
			var e *errs.Error
			if !asError(err, &e) || e.Kind != errs.Invalid || e.Msg != "the policy bundle does not compile" {
				t.Fatalf("error = %#v, want errs.Invalid %q", err, "the policy bundle does not compile")
			}
			if len(e.Fields) == 0 || e.Fields[0].Pointer != "/validation/0/expression" || !strings.HasPrefix(e.Fields[0].Message, tt.want) {
				t.Fatalf("Compile(%q) fields = %+v, want /validation/0/expression %q...", tt.expr, e.Fields, tt.want)
			}
		})
	}
}

func asError(err error, target **errs.Error) bool {
	e, ok := err.(*errs.Error)
	*target = e
	return ok
}

func TestCompileReportsEveryBadRule(t *testing.T) {
	b := bundleWith("true", "modle.x", "model.size_class == 'xl'", "1")
	b.Classification = map[string][]Rule{"general": {{ID: "g", Expression: "model.role =="}}}
	b.Transitions = []TransitionRule{{ID: "t", To: []api.Status{api.StatusActive}, Expression: "registry.generals > 1"}}
	b.Permissions = []PermissionRule{{ID: "p", Actions: []string{"*"}, Expression: "size(request.roles)",
		MessageExpression: "request.principal + 1"}}
	_, err := Compile(b, 1)
	var got []string
	for _, f := range fieldsOf(err) {
		got = append(got, f.Pointer)
	}
	want := []string{"/classification/general/0/expression", "/validation/1/expression", "/validation/3/expression",
		"/transitions/0/expression", "/permissions/0/expression", "/permissions/0/message_expression"}
	if !slices.Equal(got, want) {
		t.Errorf("pointers = %v\nwant       %v\n(%+v)", got, want, fieldsOf(err))
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, expr := range []string{
		// dyn results are checked when evaluated
		"model.labels.team",
		"has(model.labels.team) && model.labels.team == 'core'",
		"!has(params.nothing) && has(params.classes)",
		// a comprehension variable may shadow a variable
		"[1, 2].all(params, params > 0)",
		"model.endpoints.all(e, e.url.startsWith('https://'))",
		"model.capabilities.all(a, model.capabilities.exists(b, a == b))",
		"model.governance.exemptions.all(x, x.expires_at > now)",
		"model.lifecycle.since < now - duration('1h')",
		"model.capabilities.exists(c, c.matches(params.pattern))",
		"model.model_id.lowerAscii().split('/')[0] == model.provider",
		"sets.contains(params.classes, [model.size_class])",
		"math.greatest(model.context_window, 1) > 0",
		"model.labels.?team.orValue('none') != ''",
		"cel.bind(n, model.parameters.count, n == 0 || n >= params.min)",
		"old == null || old.size_class == model.size_class",
		"request.action in ['model.create', 'model.update'] && request.from != request.to",
		"registry.active_generals >= 0",
		"registry.verified_general_owners >= 0",
		"model.identity.status in ['verified', 'unverified', 'expired', 'revoked', 'none']",
		"model.identity.verified_at < now && model.identity.expires_at > now + duration('720h')",
		"model.identity.endorsements.exists(e, e.counted && e.by.startsWith('meta/') && e.at < now && e.key_id != '')",
		"model.identity.endorsements.filter(e, e.counted).size() == model.identity.general_endorsements",
		"old == null || old.identity.key_id == model.identity.key_id",
		"model.governance.review.status != 'pending' || model.governance.review.similar_to.all(s, s != model.model_id)",
		"math.least(2, registry.verified_general_owners) <= model.identity.general_endorsements",
	} {
		if _, err := Compile(bundleWith(expr), 1); err != nil {
			t.Errorf("Compile(%q): %v %+v", expr, err, fieldsOf(err))
		}
	}
}
