package policy

import (
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
)

// TestWithinBounds: a model at the largest size the schema allows is within
// bounds; one value over them, anywhere a rule can read, is not, and so
// runs metered.
func TestWithinBounds(t *testing.T) {
	s := strings.Repeat
	full := func() *api.Model {
		m := &api.Model{ModelID: "p/" + s("m", 190), Provider: s("p", 63), DisplayName: s("d", 256), Family: s("f", 128),
			Notes: s("n", 65536), Capabilities: make([]string, 64), Owners: []string{s("o", 256)},
			Labels: map[string]string{s("k", 317): s("v", 63)}, Annotations: map[string]string{"a": s("v", 16384)},
			EvalRefs: make([]string, 256), Endpoints: []api.Endpoint{{URL: s("u", 2048)}},
			Governance: &api.Governance{Reason: s("r", 4096), Review: &api.Review{SimilarTo: make([]string, 64)}},
			Identity:   &api.Identity{Owner: s("o", 256), Endorsements: make([]api.Endorsement, 256)}}
		return m
	}
	in := &Input{Model: full(), Old: full(), Caller: Caller{Principal: s("p", 256), Roles: make([]string, 64)}}
	if !withinBounds(in) {
		t.Fatal("a model at the schema's limits is out of bounds")
	}
	for name, over := range map[string]func(*Input){
		"principal":     func(in *Input) { in.Caller.Principal += "x" },
		"roles":         func(in *Input) { in.Caller.Roles = append(in.Caller.Roles, "x") },
		"a role":        func(in *Input) { in.Caller.Roles[0] = s("r", 65) },
		"display name":  func(in *Input) { in.Model.DisplayName += "x" },
		"notes of old":  func(in *Input) { in.Old.Notes += "x" },
		"capabilities":  func(in *Input) { in.Model.Capabilities = append(in.Model.Capabilities, "x") },
		"a capability":  func(in *Input) { in.Model.Capabilities[0] = s("c", 33) },
		"an owner":      func(in *Input) { in.Model.Owners[0] += "x" },
		"labels":        func(in *Input) { in.Model.Labels[s("k", 318)] = "v" },
		"an annotation": func(in *Input) { in.Model.Annotations["a"] += "x" },
		"eval refs":     func(in *Input) { in.Model.EvalRefs = append(in.Model.EvalRefs, "x") },
		"an endpoint":   func(in *Input) { in.Model.Endpoints[0].URL += "x" },
		"a reason":      func(in *Input) { in.Model.Governance.Reason += "x" },
		"similar models": func(in *Input) {
			in.Model.Governance.Review.SimilarTo = append(in.Model.Governance.Review.SimilarTo, "x")
		},
		"endorsements": func(in *Input) {
			in.Model.Identity.Endorsements = append(in.Model.Identity.Endorsements, api.Endorsement{})
		},
		"identity owner": func(in *Input) { in.Old.Identity.Owner += "x" },
	} {
		in := &Input{Model: full(), Old: full(), Caller: Caller{Principal: s("p", 256), Roles: make([]string, 64)}}
		over(in)
		if withinBounds(in) {
			t.Errorf("%s over the schema's limit is within bounds", name)
		}
	}
	// Characters, not bytes: 256 two-byte letters are a display name of 256.
	m := full()
	m.DisplayName = s("é", 256)
	if !modelWithinBounds(m) {
		t.Error("256 two-byte characters are out of bounds")
	}
}
