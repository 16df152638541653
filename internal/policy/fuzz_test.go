package policy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

// FuzzParse checks that Parse never panics, that what it accepts survives
// a round trip through its JSON form with the same hash, and that a bundle
// that also compiles decides and checks sample models without panicking.
func FuzzParse(f *testing.F) {
	f.Add(Default())
	f.Add(readFile(f, "testdata/strict.yaml"))
	f.Add(readFile(f, "testdata/strict.json"))
	for _, seed := range []string{
		"api_version: modelgov.dev/policy/v1\nname: x\nvalidation:\n  - {id: a, expression: 'model.size_class =='}\n",
		"api_version: modelgov.dev/policy/v1\nname: x\nvalidation:\n  - {id: a, expression: 'modle.x'}\n  - {id: a, expression: 'true'}\n",
		"api_version: modelgov.dev/policy/v1\nname: x\nparams: {re: '(', n: 1e9, l: [1, [2, {a: b}]]}\n" +
			"validation:\n  - {id: a, expression: 'model.model_id.matches(params.re)'}\n  - {id: b, expression: 'params.l[1][1].a == \"b\"'}\n",
		"api_version: modelgov.dev/policy/v1\nname: x\nclassification:\n  general:\n    - {id: a, expression: 'model.labels.x == \"y\"', action: warn}\n" +
			"transitions:\n  - {id: t, expression: 'old.role != \"general\"', message_expression: 'old.model_id + \" stays\"'}\n" +
			"permissions:\n  - {id: p, actions: ['*'], roles: [governor], expression: 'request.principal != \"\"'}\n",
		`{"api_version": "modelgov.dev/policy/v1", "name": "x", "params": {"a": 1e400}}`,
		`{"api_version": "modelgov.dev/policy/v1", "name": "x", "validation": [{"id": "a", "expression": "[1,2].map(x, x * 2)[0] == 2"}]}`,
		"api_version: modelgov.dev/policy/v1\nname: x\nvalidation:\n  - {id: a, expression: 'model.identity.endorsements.exists(e, e.counted)'}\n" +
			"  - {id: b, expression: 'model.identity == old.identity && model.governance.review.similar_to == []'}\n" +
			"  - {id: c, expression: 'model.identity.general_endorsements >= registry.verified_general_owners'}\n",
		`{"name": 1}`, `{`, `[]`, `null`, "a: [", "\uFEFF{}", "- a\n- b\n", "&a [*a, *a]",
	} {
		f.Add([]byte(seed))
	}
	m := newModel("meta/llama-4-maverick", "Llama 4 Maverick", api.SizeXL, 400e9, role(api.RoleGeneral),
		exemption(testNow.Add(time.Hour), "a"), func(m *api.Model) { m.Labels = map[string]string{"x": "y"} },
		verified("meta"), endorsedBy("anthropic/claude-opus-4", "google/gemini-2.5-pro", "google/gemma-3-27b"))
	facts := Facts{VerifiedGeneralOwners: 3, Endorsers: endorsers()}
	inputs := []*Input{
		classify(m, api.RoleGeneral, governor),
		transition(m, api.StatusDeprecated, maintainer, 1),
		{Action: ActionCreate, Model: m, Now: testNow},
		{Action: ActionUpdate, Model: m, Old: m, Now: testNow, Facts: facts},
		{Action: ActionDelete, Old: m, Now: testNow},
		{Action: ActionAliasMove, Now: testNow},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			if b != nil {
				t.Fatalf("Parse returned both %+v and %v", b, err)
			}
			return
		}
		encoded, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal the bundle parsed from %q: %v", data, err)
		}
		again, err := Parse(encoded)
		if err != nil {
			t.Fatalf("Parse(%s) of the bundle parsed from %q: %v %+v", encoded, data, err, fieldsOf(err))
		}
		if Hash(again) != Hash(b) || Hash(b) == "" {
			t.Fatalf("hash of %q changed after a round trip: %s, then %s", data, Hash(b), Hash(again))
		}
		p, err := Compile(b, 1)
		if err != nil {
			return
		}
		for _, in := range inputs {
			d := p.Decide(in)
			if _, err := json.Marshal(d); err != nil {
				t.Fatalf("the decision of %q does not encode: %v", data, err)
			}
		}
		p.Check(m, testNow, nil)
		p.Check(m, testNow, &facts)
		p.Check(&api.Model{}, testNow, nil)
	})
}
