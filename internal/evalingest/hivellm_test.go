package evalingest

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/internal/errs"
)

func TestHiveLLM(t *testing.T) {
	b, err := HiveLLM(filepath.Join("testdata", "hivellm", "gov"))
	if err != nil {
		t.Fatal(err)
	}
	var evaluations, tests int
	for _, r := range b.Results {
		switch r.Request.Benchmark {
		case BenchmarkGovernanceChecks:
			evaluations++
		case BenchmarkModelTests:
			tests++
		}
	}
	if evaluations != 26 || tests != 25 {
		t.Fatalf("%d evaluations and %d test results, want 26 and 25", evaluations, tests)
	}

	gpt5 := resultAt(t, b, "evaluations[0]")
	if gpt5.Model != "OpenAI GPT-5 General" || gpt5.Request.BenchmarkVersion != "1.0.0" {
		t.Errorf("model %q version %q", gpt5.Model, gpt5.Request.BenchmarkVersion)
	}
	want := map[string]float64{"connectivity": 15, "command-tool-use": 14, "cursor-file-operations": 24,
		"task-completeness": 24, "compliance-safety": 10, "stability": 9, "total": 92}
	for metric, value := range want {
		if v := valueOf(t, gpt5, metric); v.Value != value {
			t.Errorf("evaluations[0] %s = %v, want %v", metric, v.Value, value)
		}
	}
	if id := gpt5.Request.Settings["source_id"]; id != "model_evaluations.json#openai-gpt-5-general@GPT5-GENERAL-EVAL-2025-09" {
		t.Errorf("source_id %v", id)
	}
	if gpt5.Request.Source != "metrics/model_evaluations.json#/evaluations/0" {
		t.Errorf("source %q", gpt5.Request.Source)
	}
	// The retest of 2025-09-07 is when R1-0528 was last evaluated.
	r1 := resultAt(t, b, "evaluations[2]")
	if at := r1.Request.EvaluatedAt; !at.Equal(time.Date(2025, 9, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("evaluations[2] evaluated_at %v", at)
	}
	kimi := resultAt(t, b, "evaluations[15]")
	if v := valueOf(t, kimi, "total"); v.Value != 100 {
		t.Errorf("kimi total %v", v.Value)
	}
	fast := resultAt(t, b, "evaluations[4]")
	if len(fast.Request.Values) != 0 || b.Importable(fast) || fast.Request.Settings["status"] != "rejected" {
		t.Errorf("rejected GPT-5 Fast: values %v importable %v", fast.Request.Values, b.Importable(fast))
	}
	if !b.Importable(gpt5) {
		t.Error("evaluations[0] is not importable")
	}

	// Portuguese check names come out in English.
	llama := resultAt(t, b, "models/llama-3.3-70b-instruct.json")
	if v := valueOf(t, llama, "cursor-file-operations"); v.Value != 22 || len(llama.Request.Values) != 6 {
		t.Errorf("llama values %+v", llama.Request.Values)
	}
	if llama.Request.Benchmark != BenchmarkModelTests || llama.Model != "Llama-3.3-70B-Instruct" {
		t.Errorf("llama benchmark %q model %q", llama.Request.Benchmark, llama.Model)
	}

	bm := benchmarkOf(t, b, BenchmarkGovernanceChecks, "1.0.0")
	if len(bm.Metrics) != 7 {
		t.Errorf("%d metrics, want 7", len(bm.Metrics))
	}
	for _, m := range bm.Metrics {
		if m.Direction != "higher" || m.Min == nil || m.Max == nil {
			t.Errorf("metric %+v", m)
		}
	}
	checkFloat(t, "connectivity max", metricOf(t, bm, "connectivity").Max, 15)
	checkFloat(t, "total max", metricOf(t, bm, "total").Max, 100)
	benchmarkOf(t, b, BenchmarkModelTests, ModelTestsVersion)
}

// TestHiveLLMInconsistencies lists every inconsistency of the real data,
// by kind.
func TestHiveLLMInconsistencies(t *testing.T) {
	b, err := HiveLLM(filepath.Join("testdata", "hivellm", "gov"))
	if err != nil {
		t.Fatal(err)
	}
	matching := func(substr string) []string {
		var out []string
		for _, p := range problemStrings(b, "") {
			if strings.Contains(p, substr) {
				out = append(out, p)
			}
		}
		return out
	}
	equalLists(t, "totals differing from their checks", matching("differs from the sum"), []string{
		"warning: evaluations[0].score: score 92 differs from the sum of its checks 96 (15+14+24+24+10+9); both are kept as given",
		"warning: evaluations[2].score: score 82 differs from the sum of its checks 79 (15+12+12+20+10+10); both are kept as given",
		"warning: evaluations[7].score: score 95 differs from the sum of its checks 100 (15+15+25+25+10+10); both are kept as given",
		"warning: evaluations[9].score: score 80 differs from the sum of its checks 73 (12+11+18+17+8+7); both are kept as given",
	})
	var rejected []string
	for _, i := range []int{4, 10, 11, 14, 17, 18, 20, 22, 23} {
		rejected = append(rejected, "error: evaluations["+strconv.Itoa(i)+`]: status "rejected" with a null score and no checks: kept without values`)
	}
	equalLists(t, "errors", problemStrings(b, SeverityError), rejected)
	equalLists(t, "history events outside the enum", matching(".event: breaks"), []string{
		"warning: evaluations[19].history[0].event: breaks model_evaluations.schema.json: must be one of initial_assessment, update, master_override",
		"warning: evaluations[2].history[1].event: breaks model_evaluations.schema.json: must be one of initial_assessment, update, master_override",
	})
	equalLists(t, "Portuguese", matching("Portuguese"), []string{
		`warning: models/llama-3.3-70b-instruct.json:checks: check names in Portuguese, mapped to the schema's English names: "Conectividade" → "Connectivity", "Uso de Comandos e Ferramentas" → "Command & Tool Use", "Operações de Arquivo do Cursor" → "Cursor File Operations", "Conclusão de Tarefas" → "Task Completeness", "Conformidade e Segurança" → "Compliance & Safety", "Estabilidade" → "Stability"`,
	})
	equalLists(t, "other entry inconsistencies", matching("evaluations[15].status"), []string{
		`warning: evaluations[15].status: status "contributor" without a master decision, but the protocol's thresholds give "general" for score 100`,
	})
	equalLists(t, "updatedAt before history", matching("is before the latest history event"), []string{
		"warning: evaluations[3].updatedAt: updatedAt 2025-01-09T00:00:00Z is before the latest history event (2025-09-07T00:00:00Z)",
		"warning: evaluations[8].updatedAt: updatedAt 2025-01-10T00:00:00Z is before the latest history event (2025-09-07T00:00:00Z)",
	})
	if dups := matching("the same model as"); len(dups) != 0 {
		t.Errorf("duplicate models reported: %v", dups)
	}
	// Every test result breaks its schema: "model" is required and
	// fullModel, modelFamily, modelVariant and version are not allowed.
	if n := len(matching(`:model: breaks model_test_result.schema.json: is required`)); n != 25 {
		t.Errorf("%d test results reported without model, want 25", n)
	}
	crossChecks := matching("differs from model_evaluations.json")
	var files []string
	for _, c := range crossChecks {
		files = append(files, strings.SplitN(strings.TrimPrefix(c, "warning: "), ":", 2)[0])
	}
	equalLists(t, "test results that differ from their evaluation", files, []string{
		"models/anthropic-claude-3-5-haiku.json", "models/deepseek-r1-0528-qwen3-8b.json", "models/deepseek-r1-0528.json",
		"models/deepseek-v3.1.json", "models/google-gemini-2-5-flash.json", "models/gpt-oss-20b.json",
		"models/llama-3.3-70b-instruct.json", "models/mistral-7b-instruct-v0.2.json", "models/mistral-small-24b-instruct.json",
		"models/openai-gpt-4o.json", "models/openai-gpt-5-fast.json", "models/openai-gpt-5-general.json",
		"models/qwen3-coder-30b.json", "models/qwen3-coder-480b-a35b-instruct.json", "models/xai-grok-3-mini.json",
	})
	if !slices.Contains(crossChecks, `warning: models/deepseek-v3.1.json: differs from model_evaluations.json evaluations[1] ("DeepSeek V3"): command-tool-use 15 vs 12; cursor-file-operations 25 vs 8; task-completeness 25 vs 10; compliance-safety 10 vs 9; stability 10 vs 8; sessionId "DEEPSEEK-V3-EVAL-2025-09" vs ""; selfClassification "general" vs status "contributor" (this file vs model_evaluations.json)`) {
		t.Errorf("no cross-check of deepseek-v3.1.json in %v", crossChecks)
	}
	equalLists(t, "unmatched", matching("no entry in model_evaluations.json"), []string{
		`warning: models/meta-ai-llama-3-1-405b.json: no entry in model_evaluations.json for "LLaMA-3.1-405b"`,
	})
}

func TestHiveLLMMissing(t *testing.T) {
	if _, err := HiveLLM(t.TempDir()); !errs.Is(err, errs.NotFound) {
		t.Errorf("error %v, want not found", err)
	}
}
