package policy

import (
	"unicode/utf8"

	"github.com/hivellm/modelgov/api"
)

// Every rule's worst-case cost is estimated at compile time from the
// largest values its variables can hold (the shapes in shape.go), and a
// rule that may cost more than MaxCost is refused. An input within those
// bounds therefore cannot make a compiled rule reach the limit, and its
// rules run without metering their cost, which saves about a fifth of a
// decision. An input beyond them (a document that skipped schema
// validation, a principal of a megabyte) runs every rule metered, and a
// rule that reaches the limit fails closed.
//
// withinBounds mirrors requestShape and modelShape; TestWithinBounds keeps
// them in step.

// withinBounds reports whether every value a rule can read of in is within
// the bounds its cost estimate assumed.
func withinBounds(in *Input) bool {
	c := in.Caller
	if len(c.Principal) > 256 || len(c.Roles) > 64 || len(in.Action) > 32 {
		return false
	}
	for _, r := range c.Roles {
		if len(r) > 64 {
			return false
		}
	}
	return modelWithinBounds(in.Model) && modelWithinBounds(in.Old) && evalsWithinBounds(in.Facts.Evals)
}

// evalsWithinBounds reports whether evals is within evalsShape.
func evalsWithinBounds(ev map[string]map[string]Score) bool {
	if len(ev) > MaxEvalBenchmarks {
		return false
	}
	for b, metrics := range ev {
		if len(b) > maxBenchmarkName || len(metrics) > MaxBenchmarkMetrics {
			return false
		}
		for m := range metrics {
			if len(m) > maxMetricName {
				return false
			}
		}
	}
	return true
}

// modelWithinBounds reports whether m is within modelShape: whether every
// string and list a rule can read is no longer than the model schema
// allows. Lengths are compared in bytes, at least the characters the
// schema counts.
func modelWithinBounds(m *api.Model) bool {
	if m == nil {
		return true
	}
	ok := strs(192, m.ModelID) && strs(63, m.Provider) && strs(256, m.DisplayName) && strs(128, m.Family, m.Version, m.License) &&
		strs(10, m.ReleaseDate) && strs(6, string(m.SizeClass)) && strs(65536, m.Notes) &&
		list(64, 32, m.Capabilities) && list(32, 256, m.Owners) && list(256, 1024, m.EvalRefs) && list(256, 1024, m.SourceFiles) &&
		freeMap(64, 317, 63, m.Labels) && freeMap(64, 317, 16384, m.Annotations) && len(m.Endpoints) <= 32
	if !ok {
		return false
	}
	if p := m.Parameters; p != nil && !strs(9, string(p.Source)) {
		return false
	}
	if md := m.Modalities; md != nil && !(list(16, 32, md.Input) && list(16, 32, md.Output)) {
		return false
	}
	for _, e := range m.Endpoints {
		if !strs(2048, e.URL) || !strs(128, e.API) || !strs(1024, e.Description) {
			return false
		}
	}
	if g := m.Governance; g != nil {
		if !strs(12, string(g.Role)) || !strs(4096, g.Reason) || !strs(256, g.ClassifiedBy, g.SizeConfirmedBy) ||
			!strs(128, g.PolicyHash) || len(g.Exemptions) > 64 {
			return false
		}
		for _, x := range g.Exemptions {
			if !strs(64, x.ID) || !strs(4096, x.Reason) || !strs(256, x.GrantedBy) || !list(64, 128, x.Rules) {
				return false
			}
		}
		if r := g.Review; r != nil && (!strs(7, r.Status) || !strs(4096, r.Reason) || !list(64, 192, r.SimilarTo)) {
			return false
		}
	}
	if l := m.Lifecycle; l != nil && (!strs(10, string(l.Status), l.Sunset, string(l.SuspendedFrom)) ||
		!strs(4096, l.Reason) || !strs(256, l.ChangedBy) || !strs(192, l.Successor)) {
		return false
	}
	if id := m.Identity; id != nil {
		if !strs(10, id.Status) || !strs(9, id.KeyType) || !strs(32, id.KeyID) || !strs(256, id.Owner) ||
			!strs(71, id.ArtifactDigest) || len(id.Endorsements) > 256 {
			return false
		}
		for _, e := range id.Endorsements {
			if !strs(192, e.By) || !strs(32, e.KeyID) {
				return false
			}
		}
	}
	return true
}

// strs reports whether every s is at most n characters long.
func strs(n int, ss ...string) bool {
	for _, s := range ss {
		if len(s) > n && utf8.RuneCountInString(s) > n {
			return false
		}
	}
	return true
}

func list(n, each int, xs []string) bool {
	return len(xs) <= n && strs(each, xs...)
}

func freeMap(n, key, value int, m map[string]string) bool {
	if len(m) > n {
		return false
	}
	for k, v := range m {
		if !strs(key, k) || !strs(value, v) {
			return false
		}
	}
	return true
}
