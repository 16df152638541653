package main

import (
	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/benchdata"
)

// The documents are those of the in-process benchmarks
// (internal/benchdata), so that their filters select the same fractions
// here; model i's document depends on i alone, so that a seed extended from
// 10k to 100k to 1M models holds the same first 10k models as a seed of 10k,
// and runs over registries of different sizes compare.

// rareEvery spaces the models that carry the rare label and capability:
// one in rareEvery.
const rareEvery = 2000

// modelID returns the id of model i.
func modelID(i int) string { return benchdata.ModelID(i) }

// modelDoc returns the document of model i.
func modelDoc(i int) *api.Model {
	return benchdata.Model(i, i%rareEvery == rareEvery/2, "bench/loadgen")
}

// lifecycle returns the lifecycle changes that bring model i to its status.
func lifecycle(i int) []api.LifecycleChange { return benchdata.Lifecycle(i) }
