package evalingest

import (
	"testing"

	"github.com/hivellm/modelgov/internal/errs"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		dir, name, want string
	}{
		{"lm-eval", "results_2025-01-21T00-40-03.356274.json", FormatLMEval},
		{"lm-eval", "arc_easy-v0-res.json", FormatLMEval},
		{"hf-model-index", "Phind_Phind-CodeLlama-34B-v2.md", FormatModelIndex},
		{"hivellm/gov/metrics", "model_evaluations.json", FormatHiveLLM},
		{"hivellm/gov/metrics/models", "openai-gpt-4o.json", FormatHiveLLM},
	}
	for _, tt := range tests {
		got, err := Detect(tt.name, readTestdata(t, tt.dir, tt.name))
		if err != nil || got != tt.want {
			t.Errorf("Detect(%s) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "# README\n", `{"x": 1}`, `{"results": `} {
		if got, err := Detect("x", []byte(bad)); err == nil || !errs.Is(err, errs.Malformed) {
			t.Errorf("Detect(%q) = %q, %v; want a malformed error", bad, got, err)
		}
	}
}
