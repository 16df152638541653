package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

// programWithMinScores is the default bundle holding generals to minimum
// scores.
func programWithMinScores(t *testing.T, required bool) *Program {
	t.Helper()
	b := mustParse(t, Default())
	b.Params["general_min_scores"] = map[string]any{"hellaswag": map[string]any{"acc_norm": 0.8},
		"hivellm/governance-checks": map[string]any{"total": 85.0}}
	b.Params["general_scores_required"] = required
	p, err := Compile(b, 2)
	if err != nil {
		t.Fatalf("Compile: %v %+v", err, fieldsOf(err))
	}
	return p
}

func scores(kv ...any) map[string]map[string]Score {
	out := map[string]map[string]Score{}
	for i := 0; i+2 < len(kv); i += 3 {
		b, m, v := kv[i].(string), kv[i+1].(string), kv[i+2].(float64)
		if out[b] == nil {
			out[b] = map[string]Score{}
		}
		out[b][m] = Score{Value: v, Stderr: 0.01, HasStderr: true, EvaluatedAt: testNow.Add(-time.Hour), Evaluation: "ev_1"}
	}
	return out
}

func TestGeneralMinScores(t *testing.T) {
	if !defaultProgram(t).UsesEvals() {
		t.Error("the default bundle reads evals (general-min-scores), but UsesEvals is false")
	}
	tests := []struct {
		name     string
		required bool
		evals    map[string]map[string]Score
		failed   bool
		message  string
	}{
		{name: "no result on a listed benchmark passes when results are not required"},
		{name: "no result fails when results are required", required: true, failed: true,
			message: "below: hellaswag acc_norm no result < 0.8, hivellm/governance-checks total no result < 85"},
		{name: "scores at or above the minimums pass", evals: scores("hellaswag", "acc_norm", 0.8, "hivellm/governance-checks", "total", 92.0)},
		{name: "a score below a minimum fails, named with its value", evals: scores("hellaswag", "acc_norm", 0.75,
			"hivellm/governance-checks", "total", 92.0), failed: true, message: "below: hellaswag acc_norm 0.75 < 0.8"},
		{name: "another metric of the benchmark does not stand in", evals: scores("hellaswag", "acc", 0.9), required: true, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := programWithMinScores(t, tt.required)
			in := classifyWith(maverick, 0)
			in.Facts.Evals = tt.evals
			d := p.Decide(in)
			var got *api.RuleResult
			for i, r := range d.Results {
				if r.ID == "general-min-scores" {
					got = &d.Results[i]
				}
			}
			if got == nil {
				t.Fatalf("no result of general-min-scores in %+v", d.Results)
			}
			if failed := got.Outcome != api.RulePassed; failed != tt.failed {
				t.Fatalf("general-min-scores: %s (%s), want failed %v", got.Outcome, got.Message, tt.failed)
			}
			if tt.message != "" && !strings.HasSuffix(got.Message, tt.message) {
				t.Errorf("message %q, want it to end %q", got.Message, tt.message)
			}
			if tt.failed == d.Allowed {
				t.Errorf("decision allowed %v with general-min-scores failing %v", d.Allowed, tt.failed)
			}
			// A specialist is not held to the general's minimums.
			spec := classify(maverick, api.RoleSpecialist, governor)
			spec.Facts.Evals = tt.evals
			for _, r := range p.Decide(spec).Results {
				if r.ID == "general-min-scores" {
					t.Errorf("general-min-scores judged a specialist")
				}
			}
		})
	}
	// A bundle whose rules do not read evals does not ask for them.
	b := mustParse(t, Default())
	b.Classification["general"] = slices.DeleteFunc(b.Classification["general"], func(r Rule) bool { return r.ID == "general-min-scores" })
	p, err := Compile(b, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.UsesEvals() {
		t.Error("UsesEvals is true for a bundle without a rule that reads evals")
	}
}

func TestEvalsWithinBounds(t *testing.T) {
	if !evalsWithinBounds(scores("hellaswag", "acc", 0.5)) || !evalsWithinBounds(nil) {
		t.Error("small evals are out of bounds")
	}
	big := map[string]map[string]Score{}
	for i := range MaxEvalBenchmarks + 1 {
		big[strings.Repeat("b", 10)+string(rune('a'+i%26))+strings.Repeat("x", i/26)] = nil
	}
	if evalsWithinBounds(big) {
		t.Error("too many benchmarks are within bounds")
	}
	if evalsWithinBounds(map[string]map[string]Score{strings.Repeat("b", maxBenchmarkName+1): nil}) {
		t.Error("a long benchmark name is within bounds")
	}
}
