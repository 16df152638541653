// Package benchdata generates the model documents the benchmarks seed
// registries with: realistic shapes (providers, families of FamilySize
// models, sizes in the default bundle's ranges, labels, capabilities), each
// depending on its index alone, so that a registry of 10k models is the
// first 10k of one of 1M and figures at different sizes compare. The
// in-process benchmarks (internal/httpapi) and the load generator
// (bench/loadgen) share them.
package benchdata

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
)

// FamilySize is the number of models of a family.
const FamilySize = 50

// The label and capability only the rare models carry.
const (
	RareTeam       = "audit"
	RareCapability = "audio-transcription"
)

// A provider publishes models of a few families.
type provider struct {
	name     string
	families []string
}

var providers = []provider{
	{"openai", []string{"gpt", "o", "whisper"}},
	{"anthropic", []string{"claude"}},
	{"google", []string{"gemini", "gemma"}},
	{"meta", []string{"llama"}},
	{"mistral", []string{"mistral", "mixtral", "codestral"}},
	{"cohere", []string{"command", "embed"}},
	{"alibaba", []string{"qwen"}},
	{"deepseek", []string{"deepseek"}},
	{"xai", []string{"grok"}},
	{"microsoft", []string{"phi"}},
}

var (
	variants     = []string{"instruct", "chat", "base", "code", "vision"}
	teams        = []string{"core", "research", "platform", "applied", "safety"}
	tiers        = []string{"prod", "staging", "test"}
	regions      = []string{"us", "eu", "apac"}
	costs        = []string{"low", "medium", "high"}
	capabilities = []string{"chat", "code", "reasoning", "tool-use", "vision", "embedding", "long-context"}
	// sizeClasses repeats classes to weigh them: mostly medium and large.
	sizeClasses = []api.SizeClass{api.SizeNano, api.SizeMini, api.SizeMini, api.SizeSmall, api.SizeSmall,
		api.SizeSmall, api.SizeSmall, api.SizeMedium, api.SizeMedium, api.SizeMedium, api.SizeMedium, api.SizeMedium,
		api.SizeLarge, api.SizeLarge, api.SizeLarge, api.SizeLarge, api.SizeLarge, api.SizeXL, api.SizeXL, api.SizeXXL}
	// sizeBounds are the parameter counts of each size class, [lower,
	// upper), as the default policy bundle has them.
	sizeBounds = map[api.SizeClass][2]int64{
		api.SizeNano: {100e6, 1e9}, api.SizeMini: {1e9, 4e9}, api.SizeSmall: {4e9, 15e9},
		api.SizeMedium: {15e9, 70e9}, api.SizeLarge: {70e9, 300e9}, api.SizeXL: {300e9, 1e12}, api.SizeXXL: {1e12, 2e12},
	}
)

// Family returns the provider and family of model i.
func Family(i int) (provider string, family string) {
	f := i / FamilySize
	p := providers[f%len(providers)]
	return p.name, fmt.Sprintf("%s-%d", p.families[(f/len(providers))%len(p.families)], f)
}

// ModelID returns the id of model i.
func ModelID(i int) string {
	p, family := Family(i)
	return fmt.Sprintf("%s/%s-%s-%06d", p, family, variants[i%len(variants)], i)
}

// Model returns the document of model i; rare makes it one of the rare
// models (label team=RareTeam, capability RareCapability), which the caller
// spreads as it needs. seededBy says who seeded it, in its notes.
func Model(i int, rare bool, seededBy string) *api.Model {
	r := rand.New(rand.NewPCG(uint64(i), 0x6d6f64656c676f76))
	p, family := Family(i)
	variant := variants[i%len(variants)]
	m := &api.Model{
		SchemaVersion: api.SchemaVersion,
		ModelID:       ModelID(i),
		Provider:      p,
		DisplayName:   fmt.Sprintf("%s %s %d", strings.ToUpper(family[:1])+family[1:], variant, i),
		Family:        family,
		Version:       fmt.Sprintf("%d.%d", 1+r.IntN(4), r.IntN(10)),
		ReleaseDate:   time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(1400)).Format("2006-01-02"),
		SizeClass:     sizeClasses[r.IntN(len(sizeClasses))],
		Parameters: &api.Parameters{
			Source: []api.ParameterSource{api.ParametersDeclared, api.ParametersEstimated}[r.IntN(2)]},
		ContextWindow:   api.Count(8192 << r.IntN(8)),
		MaxOutputTokens: api.Count(4096 << r.IntN(4)),
		Modalities:      &api.Modalities{Input: []string{"text"}, Output: []string{"text"}},
		License:         []string{"proprietary", "apache-2.0", "mit", "llama-community"}[r.IntN(4)],
		Endpoints: []api.Endpoint{{URL: "https://api." + p + ".example/v1/" + variant, API: "openai-chat",
			Description: "Public inference endpoint"}},
		Owners: []string{"ml-platform@example.com"},
		Labels: map[string]string{
			"team": teams[r.IntN(len(teams))],
			"tier": tiers[r.IntN(len(tiers))],
		},
		Annotations: map[string]string{"example.com/source": "benchmark seed"},
		Notes:       "Seeded by " + seededBy + ".",
	}
	// The default policy wants the parameter count inside the size class.
	bounds := sizeBounds[m.SizeClass]
	m.Parameters.Count = api.Count(bounds[0] + r.Int64N(bounds[1]-bounds[0])/1e6*1e6)
	if variant == "vision" {
		m.Modalities.Input = append(m.Modalities.Input, "image")
	}
	if r.IntN(3) != 0 {
		m.Labels["region"] = regions[r.IntN(len(regions))]
	}
	if r.IntN(2) == 0 {
		m.Labels["cost"] = costs[r.IntN(len(costs))]
	}
	m.Capabilities = []string{"chat"}
	for _, c := range capabilities[1:] {
		if r.IntN(4) == 0 {
			m.Capabilities = append(m.Capabilities, c)
		}
	}
	if rare {
		m.Labels["team"] = RareTeam
		m.Capabilities = append(m.Capabilities, RareCapability)
	}
	return m
}

// Lifecycle returns the lifecycle changes that bring model i to its status:
// 20% stay proposed, 55% become active, 15% deprecated, 5% suspended and 5%
// archived, so that a status filter selects a realistic fraction.
func Lifecycle(i int) []api.LifecycleChange {
	activate := api.LifecycleChange{Status: api.StatusActive, Reason: "approved by the review board"}
	switch rand.New(rand.NewPCG(uint64(i), 1)).IntN(20) {
	case 0, 1, 2, 3:
		return nil
	case 15, 16, 17:
		// A fixed sunset keeps the documents the same from run to run.
		return []api.LifecycleChange{activate,
			{Status: api.StatusDeprecated, Reason: "superseded by a newer version", Sunset: "2030-12-31"}}
	case 18:
		return []api.LifecycleChange{activate, {Status: api.StatusSuspended, Reason: "incident under review"}}
	case 19:
		return []api.LifecycleChange{{Status: api.StatusArchived, Reason: "proposal refused"}}
	}
	return []api.LifecycleChange{activate}
}
