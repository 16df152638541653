package evalingest

import (
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

func readCard(t *testing.T, name string) *Batch {
	t.Helper()
	b, err := ModelIndex(name, readTestdata(t, "hf-model-index", name))
	if err != nil {
		t.Fatal(err)
	}
	if b.Format != FormatModelIndex {
		t.Fatalf("format %q", b.Format)
	}
	return b
}

func TestModelIndexOpenLLMLeaderboard(t *testing.T) {
	b := readCard(t, "TinyLlama_TinyLlama-1.1B-intermediate-step-1431k-3T.md")
	if len(b.Results) != 6 {
		t.Fatalf("%d results, want 6", len(b.Results))
	}
	arc := resultAt(t, b, "model-index[0].results[0]")
	req := arc.Request
	if arc.Model != "TinyLlama-1.1B-intermediate-step-1431k-3T" || req.Benchmark != "ai2_arc" || req.BenchmarkVersion != "ARC-Challenge" {
		t.Errorf("model %q benchmark %q version %q", arc.Model, req.Benchmark, req.BenchmarkVersion)
	}
	if v := valueOf(t, arc, "acc_norm"); v.Value != 33.87 || v.Stderr != nil {
		t.Errorf("acc_norm %+v", v)
	}
	if req.NShot == nil || *req.NShot != 25 || req.Settings["split"] != "test" || req.Settings["source_name"] != "Open LLM Leaderboard" {
		t.Errorf("n-shot %v settings %v", req.NShot, req.Settings)
	}
	if !req.EvaluatedAt.IsZero() || req.Source != "TinyLlama_TinyLlama-1.1B-intermediate-step-1431k-3T.md#model-index[0].results[0]" {
		t.Errorf("evaluated_at %v source %q", req.EvaluatedAt, req.Source)
	}
	gsm := resultAt(t, b, "model-index[0].results[5]")
	if v := valueOf(t, gsm, "acc"); v.Value != 1.44 || gsm.Request.Benchmark != "gsm8k" || gsm.Request.BenchmarkVersion != "main" {
		t.Errorf("gsm8k %+v %q %q", v, gsm.Request.Benchmark, gsm.Request.BenchmarkVersion)
	}
	// Percentages: no [0, 1] range is invented.
	if m := metricOf(t, benchmarkOf(t, b, "gsm8k", "main"), "acc"); m.Max != nil || m.Direction != api.HigherIsBetter {
		t.Errorf("gsm8k acc %+v", m)
	}
	equalLists(t, "problems", problemStrings(b, ""), []string{
		`warning: model-index[0].results[1].dataset: no dataset config or revision; benchmark version recorded as "unspecified"`,
		"warning: model-index: the model card does not say when the evaluations ran; evaluated_at is left zero",
	})
}

func TestModelIndexPercentString(t *testing.T) {
	b := readCard(t, "Phind_Phind-CodeLlama-34B-v2.md")
	r := resultAt(t, b, "model-index[0].results[0]")
	if v := valueOf(t, r, "pass@1"); v.Value != 73.8 {
		t.Errorf("pass@1 = %v, want 73.8 (not divided)", v.Value)
	}
	if units, _ := r.Request.Settings["units"].(map[string]any); units["pass@1"] != "percent" {
		t.Errorf("units %v", r.Request.Settings["units"])
	}
	if r.Model != "Phind-CodeLlama-34B-v1" || r.Request.Benchmark != "openai_humaneval" {
		t.Errorf("model %q benchmark %q", r.Model, r.Request.Benchmark)
	}
	equalLists(t, "problems", problemStrings(b, ""), []string{
		`warning: model-index[0].results[0].dataset: no dataset config or revision; benchmark version recorded as "unspecified"`,
		`warning: model-index[0].results[0].metrics[0]: pass@1 value is the string "73.8%"; read as 73.8, unit percent (not divided by 100)`,
		"warning: model-index: the model card does not say when the evaluations ran; evaluated_at is left zero",
	})
}

func TestModelIndexRepeatedMetrics(t *testing.T) {
	b := readCard(t, "anthracite-org_magnum-v1-72b.md")
	if len(b.Results) != 6 {
		t.Fatalf("%d results, want 6", len(b.Results))
	}
	bbh := resultAt(t, b, "model-index[0].results[1]")
	if len(bbh.Request.Values) != 1 || valueOf(t, bbh, "acc_norm").Value != 57.65 || !b.Importable(bbh) {
		t.Errorf("bbh values %+v importable %v", bbh.Request.Values, b.Importable(bbh))
	}
	mmluPro := resultAt(t, b, "model-index[0].results[5]")
	if mmluPro.Request.Benchmark != "tiger-lab/mmlu-pro" || len(mmluPro.Request.Values) != 2 || b.Importable(mmluPro) {
		t.Errorf("mmlu-pro %q values %+v importable %v", mmluPro.Request.Benchmark, mmluPro.Request.Values, b.Importable(mmluPro))
	}
	equalLists(t, "errors", problemStrings(b, SeverityError), []string{
		"error: model-index[0].results[5].metrics[1]: acc is 49.85 here but 49.64 at model-index[0].results[5].metrics[0]; both are kept and the result is ambiguous",
	})
}

func TestModelIndexSameTypeDifferentNames(t *testing.T) {
	b := readCard(t, "jonatasgrosman_wav2vec2-large-xlsr-53-english.md")
	r := resultAt(t, b, "model-index[0].results[0]")
	want := map[string]float64{"wer:test-wer": 19.06, "cer:test-cer": 7.69, "wer:test-wer-lm": 14.81, "cer:test-cer-lm": 6.84}
	for metric, value := range want {
		if v := valueOf(t, r, metric); v.Value != value {
			t.Errorf("%s = %v, want %v", metric, v.Value, value)
		}
	}
	if d := metricOf(t, benchmarkOf(t, b, "common_voice", "unspecified"), "wer:test-wer-lm").Direction; d != api.LowerIsBetter {
		t.Errorf("wer direction %q", d)
	}
	bart := readCard(t, "facebook_bart-large-cnn.md")
	r = resultAt(t, bart, "model-index[0].results[0]")
	if v := valueOf(t, r, "rouge:rouge-1"); v.Value != 42.9486 || r.Request.BenchmarkVersion != "3.0.0" {
		t.Errorf("rouge-1 %v version %q", v.Value, r.Request.BenchmarkVersion)
	}
}

func TestModelIndexSpreads(t *testing.T) {
	b := readCard(t, "jat-project_jat.md")
	atari := resultAt(t, b, "model-index[0].results[0]")
	if v := valueOf(t, atari, "iqm_expert_normalized_total_reward"); v.Value != 0.14 || v.Stderr != nil {
		t.Errorf("iqm %+v", v)
	}
	alien := resultAt(t, b, "model-index[0].results[4]")
	if v := valueOf(t, alien, "total_reward"); v.Value != 1518.70 {
		t.Errorf("total_reward %v", v.Value)
	}
	if raws, _ := alien.Request.Settings["raw_values"].(map[string]any); raws["total_reward"] != "1518.70 +/- 568.14" {
		t.Errorf("raw values %v", alien.Request.Settings["raw_values"])
	}
	if errors := problemStrings(b, SeverityError); len(errors) != 0 {
		t.Errorf("errors %v", errors)
	}
}

func TestModelIndexWithoutResults(t *testing.T) {
	tests := []struct {
		name, card string
		want       []string
	}{
		{"alignment-handbook_zephyr-7b-sft-full.md", "", []string{"warning: model-index[0].results: results is empty"}},
		{"plain.md", "# A model\n\nNo front-matter.\n", []string{"error: no model-index: the card has no YAML front-matter"}},
		{"no-index.md", "---\nlicense: mit\ntags: [a]\n---\n# Card\n", []string{"error: no model-index"}},
		{"null-value.md", "---\nmodel-index:\n- name: m\n  results:\n  - dataset: {type: d, config: c}\n    metrics:\n    - {type: acc, value: null}\n    - {type: f1, value: n/a}\n---\n",
			[]string{
				"error: model-index[0].results[0].metrics[0]: acc value null is not a number; left out",
				`error: model-index[0].results[0].metrics[1]: f1 value "n/a" is not a number; left out`,
				"error: model-index[0].results[0]: no usable metric value; the result is kept without values",
				"warning: model-index: the model card does not say when the evaluations ran; evaluated_at is left zero",
			}},
	}
	for _, tt := range tests {
		data := []byte(tt.card)
		if tt.card == "" {
			data = readTestdata(t, "hf-model-index", tt.name)
		}
		b, err := ModelIndex(tt.name, data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		equalLists(t, tt.name, problemStrings(b, ""), tt.want)
	}
}

func TestModelIndexMalformed(t *testing.T) {
	tests := []struct {
		name, card string
	}{
		{"unclosed", "---\nmodel-index: []\n"},
		{"bad yaml", "---\nmodel-index: [\n---\n"},
		{"not a mapping", "---\n- a\n- b\n---\n"},
	}
	for _, tt := range tests {
		b, err := ModelIndex(tt.name, []byte(tt.card))
		if err == nil || b != nil || !errs.Is(err, errs.Malformed) {
			t.Errorf("%s: batch %v error %v; want a malformed error", tt.name, b, err)
		}
	}
}
