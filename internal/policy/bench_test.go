package policy

import (
	"fmt"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

// benchGeneral is a general as the registry stores it: every block set.
func benchGeneral() *api.Model {
	since := time.Date(2025, 9, 7, 0, 0, 0, 0, time.UTC)
	return &api.Model{
		SchemaVersion: api.SchemaVersion, ModelID: "openai/gpt-5", Provider: "openai", DisplayName: "GPT-5",
		Family: "gpt-5", ReleaseDate: "2025-08-07", SizeClass: api.SizeXL,
		Parameters:    &api.Parameters{Count: 1_800_000_000_000 / 2, Source: api.ParametersEstimated},
		ContextWindow: 400000, MaxOutputTokens: 128000,
		Modalities:   &api.Modalities{Input: []string{"text", "image"}, Output: []string{"text"}},
		Capabilities: []string{"code", "reasoning", "tools"},
		Endpoints:    []api.Endpoint{{URL: "https://api.openai.com/v1", API: "openai"}},
		Owners:       []string{"core-team"},
		Labels:       map[string]string{"team": "core", "tier": "frontier"},
		EvalRefs:     []string{"eval-openai-gpt-5-2025-09-07"},
		SourceFiles:  []string{"metrics/models/openai-gpt-5-general.json"},
		Governance: &api.Governance{Role: api.RoleGeneral, Reason: "elected", ClassifiedBy: "alice",
			SizeConfirmedBy: "alice", PolicyVersion: 1},
		Lifecycle: &api.Lifecycle{Status: api.StatusActive, Since: since, ChangedBy: "alice"},
		Identity: &api.Identity{KeyType: api.KeyEd25519, PublicKey: "MCowBQYDK2VwAyEA", KeyID: "8d9c2a61f0e94b7d3c5e1a2b4f6d8e0a",
			Status: api.IdentityVerified, Owner: "openai", RegisteredAt: since, RegisteredBy: "alice", VerifiedAt: &since,
			ExpiresAt: since.AddDate(1, 0, 0),
			Endorsements: []api.Endorsement{
				{By: "meta/llama-4-maverick", KeyID: "0a1b2c3d4e5f60718293a4b5c6d7e8f9", At: since},
				{By: "qwen/qwen3-235b-a22b", KeyID: "f9e8d7c6b5a4938271605f4e3d2c1b0a", At: since}}},
	}
}

// benchFacts are what the registry knows around benchGeneral: its two
// endorsers, generals of other owners with verified identities.
func benchFacts() Facts {
	return Facts{VerifiedGeneralOwners: 5, Endorsers: map[string]Endorser{
		"meta/llama-4-maverick": {Role: api.RoleGeneral, IdentityStatus: api.IdentityVerified,
			KeyID: "0a1b2c3d4e5f60718293a4b5c6d7e8f9", Owner: "meta"},
		"qwen/qwen3-235b-a22b": {Role: api.RoleGeneral, IdentityStatus: api.IdentityVerified,
			KeyID: "f9e8d7c6b5a4938271605f4e3d2c1b0a", Owner: "qwen"}}}
}

func benchProgram(b *testing.B) *Program {
	b.Helper()
	bundle, err := Parse(Default())
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(bundle, 1)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkDecide is the default bundle's full decision on the update of a
// general: one validation rule and the seven classification rules of
// generals (two endorsements counted), every one of them passing.
func BenchmarkDecide(b *testing.B) {
	p := benchProgram(b)
	old := benchGeneral()
	next := benchGeneral()
	next.Notes = "updated"
	in := &Input{Action: ActionUpdate, Model: next, Old: old, Caller: Caller{Principal: "bob", Roles: []string{"maintainer"}},
		Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Facts: benchFacts()}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if d := p.Decide(in); !d.Allowed {
			b.Fatalf("refused: %+v", d.Failed())
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the process's CPU time per operation since cpu (in
// nanoseconds), garbage collection included: on a machine shared with
// other work, it is steadier than the wall-clock ns/op.
func reportCPU(b *testing.B, cpu int64) {
	if used := processCPU() - cpu; cpu > 0 && used > 0 {
		b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkCheck100k re-checks 100,000 varied models, as the registry does
// when a bundle is activated; it reports seconds per 100k models and how
// many rules failed. Sizes, roles and names vary; about one model in ten
// breaks a rule (a count outside its class, a small variant or an
// unconfirmed estimated size among the generals), and a failure costs more
// than a pass, since it builds its message and values.
func BenchmarkCheck100k(b *testing.B) {
	p := benchProgram(b)
	models := make([]*api.Model, 100_000)
	classes := []api.SizeClass{api.SizeNano, api.SizeMini, api.SizeSmall, api.SizeMedium, api.SizeLarge, api.SizeXL, api.SizeXXL}
	counts := []api.Count{5e8, 3e9, 8e9, 30e9, 120e9, 400e9, 2e12} // one in each class
	others := []api.Role{api.RoleNone, api.RoleSpecialist, api.RoleExperimental}
	for i := range models {
		m := benchGeneral()
		c := i % len(classes)
		m.ModelID = fmt.Sprintf("provider-%d/model-%d", i%97, i)
		m.DisplayName = fmt.Sprintf("Model %d", i)
		m.SizeClass = classes[c]
		m.Parameters = &api.Parameters{Count: counts[c], Source: api.ParametersDeclared}
		m.Governance.Role = others[i%len(others)]
		if c >= 4 && i%2 == 0 {
			m.Governance.Role = api.RoleGeneral
		}
		switch {
		case i%20 == 0:
			m.Parameters.Count = counts[(c+1)%len(counts)]
		case i%23 == 0:
			m.ModelID += "-mini"
		case i%29 == 0:
			m.Parameters.Source = api.ParametersEstimated
			m.Governance.SizeConfirmedBy = ""
		}
		models[i] = m
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	facts := benchFacts()
	b.ReportAllocs()
	cpu := processCPU()
	failing := 0
	for b.Loop() {
		failing = 0
		for _, m := range models {
			failing += len(p.Check(m, now, &facts))
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/100k")
	b.ReportMetric(float64(failing), "failing")
	reportCPU(b, cpu)
}

// BenchmarkCompile parses and compiles the default bundle, as the registry
// does once per bundle version.
func BenchmarkCompile(b *testing.B) {
	data := Default()
	b.ReportAllocs()
	for b.Loop() {
		bundle, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compile(bundle, 1); err != nil {
			b.Fatal(err)
		}
	}
}
