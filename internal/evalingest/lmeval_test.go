package evalingest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

func TestLMEvalHarnessV04(t *testing.T) {
	const name = "results_2025-01-21T00-40-03.356274.json"
	data := readTestdata(t, "lm-eval", name)
	b, err := LMEvalHarness(name, data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Format != FormatLMEval || len(b.Results) != 1 || len(b.Benchmarks) != 1 {
		t.Fatalf("format %q, %d results, %d benchmarks; want lm-eval-harness, 1, 1", b.Format, len(b.Results), len(b.Benchmarks))
	}
	r := resultAt(t, b, "results.mmlu_abstract_algebra")
	req := r.Request
	acc := valueOf(t, r, "acc")
	if acc.Value != 0.34 {
		t.Errorf("acc = %v, want 0.34", acc.Value)
	}
	checkFloat(t, "acc stderr", acc.Stderr, 0.047609522856952344)
	if req.NShot == nil || *req.NShot != 0 {
		t.Errorf("n_shot = %v, want 0", req.NShot)
	}
	wantAt := time.Date(2025, 1, 21, 0, 38, 59, 488846000, time.UTC)
	checks := []struct{ field, got, want string }{
		{"benchmark", req.Benchmark, "mmlu_abstract_algebra"},
		{"version", req.BenchmarkVersion, "1.0"},
		{"harness", req.Harness, "lm-evaluation-harness"},
		{"harness version", req.HarnessVersion, "git:e16afa2f"},
		{"evaluated_at", req.EvaluatedAt.Format(time.RFC3339Nano), wantAt.Format(time.RFC3339Nano)},
		{"digest", req.ArtifactDigest, digest(data)},
		{"source", req.Source, name + "#/results/mmlu_abstract_algebra"},
		{"model", r.Model, "/home/cs29824/matthew/lm-evaluation-harness/examples/dog_steer.csv"},
		{"settings.batch_size", req.Settings["batch_size"].(string), "auto"},
		{"settings.device", req.Settings["device"].(string), "cuda:0"},
		{"settings.dataset_path", req.Settings["dataset_path"].(string), "hails/mmlu_no_train"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if !strings.HasPrefix(req.ArtifactDigest, "sha256:") || len(req.ArtifactDigest) != 7+64 {
		t.Errorf("digest %q is not sha256:<64 hex>", req.ArtifactDigest)
	}
	bm := benchmarkOf(t, b, "mmlu_abstract_algebra", "1.0")
	if bm.Task != "multiple_choice" || bm.Source != "hails/mmlu_no_train" {
		t.Errorf("benchmark task %q source %q", bm.Task, bm.Source)
	}
	m := metricOf(t, bm, "acc")
	if m.Direction != api.HigherIsBetter {
		t.Errorf("acc direction %q", m.Direction)
	}
	checkFloat(t, "acc min", m.Min, 0)
	checkFloat(t, "acc max", m.Max, 1)
	equalLists(t, "problems", problemStrings(b, ""), []string{
		`warning: model_name: the model is named by a local path "/home/cs29824/matthew/lm-evaluation-harness/examples/dog_steer.csv"; the caller should give the model`,
	})
	if !b.Importable(r) {
		t.Error("the result is not importable")
	}
}

func TestLMEvalHarnessStderrNA(t *testing.T) {
	b, err := LMEvalHarness("cpu_regression_expected.json", readTestdata(t, "lm-eval", "cpu_regression_expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Results) != 3 {
		t.Fatalf("%d results, want 3", len(b.Results))
	}
	arc := resultAt(t, b, "results.arc_easy")
	if v := valueOf(t, arc, "acc"); v.Value != 0.3 || v.Stderr != nil {
		t.Errorf("arc_easy acc = %v ± %v, want 0.3 without stderr", v.Value, deref(v.Stderr))
	}
	wiki := resultAt(t, b, "results.wikitext")
	if v := valueOf(t, wiki, "word_perplexity"); v.Value != 130.4813590639406 {
		t.Errorf("wikitext word_perplexity = %v", v.Value)
	}
	if wiki.Request.BenchmarkVersion != "2.0" {
		t.Errorf("wikitext version %q, want 2.0", wiki.Request.BenchmarkVersion)
	}
	for _, metric := range []string{"bits_per_byte", "byte_perplexity", "word_perplexity"} {
		if d := metricOf(t, benchmarkOf(t, b, "wikitext", "2.0"), metric).Direction; d != api.LowerIsBetter {
			t.Errorf("wikitext %s direction %q, want lower", metric, d)
		}
	}
	if d := metricOf(t, benchmarkOf(t, b, "lambada_openai", "1.0"), "perplexity").Direction; d != api.LowerIsBetter {
		t.Errorf("lambada perplexity direction %q", d)
	}
	if !arc.Request.EvaluatedAt.IsZero() || arc.Request.HarnessVersion != "" || arc.Model != "" {
		t.Errorf("evaluated_at %v, harness version %q, model %q: want all empty", arc.Request.EvaluatedAt, arc.Request.HarnessVersion, arc.Model)
	}
	equalLists(t, "problems", problemStrings(b, ""), []string{
		"warning: config.model_args: the file names no model (no pretrained= in config.model_args, no model_name); the caller must give one",
		"warning: no date and no timestamp in the file name; evaluated_at is left zero",
		"warning: no harness version: neither lm_eval_version nor git_hash",
		"warning: n-samples.arc_easy: evaluated on 10 of 2376 samples",
		`warning: results.arc_easy: no standard error for acc ("N/A"), acc_norm ("N/A")`,
		"warning: n-samples.lambada_openai: evaluated on 10 of 5153 samples",
		`warning: results.lambada_openai: no standard error for acc ("N/A"), perplexity ("N/A")`,
		"warning: n-samples.wikitext: evaluated on 10 of 62 samples",
		`warning: results.wikitext: no standard error for bits_per_byte ("N/A"), byte_perplexity ("N/A"), word_perplexity ("N/A")`,
	})
}

func TestLMEvalHarnessGroup(t *testing.T) {
	const name = "meta-llama__Llama-3.1-8B__results_2025-03-06T22-33-41.820962.json"
	b, err := LMEvalHarness(name, readTestdata(t, "lm-eval", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Results) != 17 {
		t.Fatalf("%d results, want 17", len(b.Results))
	}
	glue := resultAt(t, b, "results.glue")
	f1 := valueOf(t, glue, "f1")
	if f1.Value != 0.544071992140836 {
		t.Errorf("glue f1 = %v", f1.Value)
	}
	checkFloat(t, "glue f1 stderr", f1.Stderr, 0.0026364579520904365)
	if v := valueOf(t, glue, "mcc"); v.Value != -0.012868008388016484 {
		t.Errorf("glue mcc = %v", v.Value)
	}
	if glue.Request.BenchmarkVersion != "unspecified" || glue.Request.NShot == nil || *glue.Request.NShot != 0 {
		t.Errorf("glue version %q n-shot %v", glue.Request.BenchmarkVersion, glue.Request.NShot)
	}
	if subs, _ := glue.Request.Settings["subtasks"].([]any); len(subs) != 9 {
		t.Errorf("glue subtasks %v, want 9", glue.Request.Settings["subtasks"])
	}
	cola := resultAt(t, b, "results.cola")
	if cola.Request.Settings["alias"] != " - cola" || cola.Model != "meta-llama/Llama-3.1-8B" {
		t.Errorf("cola alias %q model %q", cola.Request.Settings["alias"], cola.Model)
	}
	want := time.Date(2025, 3, 6, 22, 24, 49, 233285000, time.UTC)
	if !cola.Request.EvaluatedAt.Equal(want) {
		t.Errorf("evaluated_at %v, want %v", cola.Request.EvaluatedAt, want)
	}
	// mcc may be negative: no range is given to it.
	if m := metricOf(t, benchmarkOf(t, b, "cola", "1.0"), "mcc"); m.Min != nil || m.Direction != api.HigherIsBetter {
		t.Errorf("cola mcc %+v", m)
	}
	equalLists(t, "problems", problemStrings(b, ""), []string{
		"warning: git_hash: no harness version: git_hash is null and there is no lm_eval_version",
		`warning: results.glue: no version for task "glue"; recorded as "unspecified"`,
	})
}

func TestLMEvalHarnessLegacy(t *testing.T) {
	b, err := LMEvalHarness("opt__opt-125m.json", readTestdata(t, "lm-eval", "opt__opt-125m.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Results) != 65 {
		t.Fatalf("%d results, want 65", len(b.Results))
	}
	lambada := resultAt(t, b, "results.lambada_openai")
	ppl := valueOf(t, lambada, "ppl")
	if ppl.Value != 26.02103896885129 {
		t.Errorf("ppl = %v", ppl.Value)
	}
	checkFloat(t, "ppl stderr", ppl.Stderr, 0.9418773107503278)
	if lambada.Model != "facebook/opt-125m" || lambada.Request.BenchmarkVersion != "0" || lambada.Request.NShot == nil || *lambada.Request.NShot != 0 {
		t.Errorf("model %q version %q n-shot %v", lambada.Model, lambada.Request.BenchmarkVersion, lambada.Request.NShot)
	}
	if d := metricOf(t, benchmarkOf(t, b, "lambada_openai", "0"), "ppl").Direction; d != api.LowerIsBetter {
		t.Errorf("ppl direction %q", d)
	}
	hendrycks := resultAt(t, b, "results.hendrycksTest-abstract_algebra")
	if hendrycks.Request.Benchmark != "hendryckstest-abstract_algebra" || hendrycks.Request.Settings["task"] != "hendrycksTest-abstract_algebra" {
		t.Errorf("benchmark %q task %v", hendrycks.Request.Benchmark, hendrycks.Request.Settings["task"])
	}
	renamed := 0
	for _, p := range b.Problems {
		if strings.Contains(p.Message, "is not a valid benchmark name") {
			renamed++
		}
	}
	if renamed != 57 {
		t.Errorf("%d renamed tasks reported, want 57", renamed)
	}
}

func TestLMEvalHarnessMalformed(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	tests := []struct {
		name string
		data []byte
		kind errs.Kind
	}{
		{"not JSON", []byte("results: 1"), errs.Malformed},
		{"array", []byte(`[1, 2]`), errs.Malformed},
		{"no results", []byte(`{"config": {}}`), errs.Malformed},
		{"results not an object", []byte(`{"results": [1]}`), errs.Malformed},
		{"truncated", []byte(`{"results": {"a": {"acc": 0.`), errs.Malformed},
		{"trailing data", []byte(`{"results": {}} {}`), errs.Malformed},
		{"too deep", []byte(`{"results": ` + deep + `}`), errs.TooLarge},
		{"too large", append([]byte(`{"results": {}, "x": "`), append(bytes.Repeat([]byte("a"), MaxInputSize), '"', '}')...), errs.TooLarge},
	}
	for _, tt := range tests {
		b, err := LMEvalHarness(tt.name, tt.data)
		if err == nil || b != nil {
			t.Errorf("%s: got a batch and error %v; want an error", tt.name, err)
			continue
		}
		if !errs.Is(err, tt.kind) {
			t.Errorf("%s: error %q of kind %v, want %v", tt.name, err, errs.KindOf(err), tt.kind)
		}
		if !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%s: error %q does not name the file", tt.name, err)
		}
	}
}

func TestLMEvalHarnessOddValues(t *testing.T) {
	data := []byte(`{"results": {"gsm8k": {"exact_match,strict-match": 0.5, "exact_match_stderr,strict-match": 0.01,
		"exact_match,flexible-extract": 0.6, "exact_match_stderr,flexible-extract": "N/A", "bleu,none": "oops", "alias": "gsm8k"}},
		"versions": {"gsm8k": "3"}, "n-shot": {"gsm8k": 5}, "lm_eval_version": "0.4.7", "date": 1700000000}`)
	b, err := LMEvalHarness("x.json", data)
	if err != nil {
		t.Fatal(err)
	}
	r := resultAt(t, b, "results.gsm8k")
	if v := valueOf(t, r, "exact_match,strict-match"); v.Value != 0.5 || v.Stderr == nil || *v.Stderr != 0.01 {
		t.Errorf("strict-match %+v", v)
	}
	if v := valueOf(t, r, "exact_match,flexible-extract"); v.Value != 0.6 || v.Stderr != nil {
		t.Errorf("flexible-extract %+v", v)
	}
	if r.Request.HarnessVersion != "0.4.7" || r.Request.BenchmarkVersion != "3" || *r.Request.NShot != 5 {
		t.Errorf("harness %q version %q n-shot %d", r.Request.HarnessVersion, r.Request.BenchmarkVersion, *r.Request.NShot)
	}
	if fs, _ := r.Request.Settings["filters"].([]string); strings.Join(fs, ",") != "flexible-extract,none,strict-match" {
		t.Errorf("filters %v", r.Request.Settings["filters"])
	}
	if b.Importable(r) {
		t.Error("a result with a non-numeric value is importable")
	}
	equalLists(t, "errors", problemStrings(b, SeverityError), []string{
		`error: results.gsm8k: bleu is "oops", not a number; the value is left out`,
	})
}
