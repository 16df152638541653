package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
)

const evalTestdata = "../../internal/evalingest/testdata"

// TestEvalIngest: real evaluation outputs ingest from the command line,
// with an evaluator's token: an lm-evaluation-harness results file (its
// values recorded exactly, then an ingest of it again records nothing), a
// model card's model-index (dry run), and the HiveLLM records, whose
// models are found by display name and whose unrecordable entries are
// reported. A maintainer may not record results.
func TestEvalIngest(t *testing.T) {
	srv := startServer(t, t.TempDir())
	admin := srv.cli()
	admin.succeed(t, `
schema_version: "1.1"
model_id: meta/llama-3-1-8b
provider: meta
display_name: Llama 3.1 8B
size_class: small
---
schema_version: "1.1"
model_id: openai/gpt-5
provider: openai
display_name: OpenAI GPT-5 General
size_class: xl
---
schema_version: "1.1"
model_id: google/gemini-2-5-pro
provider: google
display_name: Google Gemini 2.5 Pro
size_class: xl
`, "model", "apply", "-f", "-")
	tokenFile := filepath.Join(t.TempDir(), "eval.token")
	writeToken(t, admin, tokenFile, "eval-bot", "evaluator")
	eval := commandLine{url: srv.URL, tokenFile: tokenFile}
	maintFile := filepath.Join(t.TempDir(), "maint.token")
	writeToken(t, admin, maintFile, "mallory", "maintainer")

	file := filepath.Join(evalTestdata, "lm-eval", "meta-llama__Llama-3.1-8B__results_2025-03-06T22-33-41.820962.json")
	res := commandLine{url: srv.URL, tokenFile: maintFile}.fail(t, "", "eval", "ingest", file, "--model", "meta/llama-3-1-8b", "--create-benchmarks")
	if !strings.Contains(res.stderr, "403") && !strings.Contains(strings.ToLower(res.stderr), "forbidden") && !strings.Contains(res.stderr, "evaluator") {
		t.Errorf("a maintainer's ingest: %s", res.stderr)
	}
	out := eval.succeed(t, "", "eval", "ingest", file, "--model", "meta/llama-3-1-8b", "--create-benchmarks")
	if !strings.Contains(out, "recorded ") {
		t.Fatalf("ingest printed:\n%s", out)
	}
	var history []api.Evaluation
	if err := json.Unmarshal([]byte(eval.succeed(t, "", "eval", "history", "meta/llama-3-1-8b", "-o", "json")), &history); err != nil || len(history) == 0 {
		t.Fatalf("eval history: %d results, %v", len(history), err)
	}
	for _, e := range history {
		if e.Evaluator != "eval-bot" || e.Harness != "lm-evaluation-harness" || !strings.HasPrefix(e.ArtifactDigest, "sha256:") ||
			e.Settings["source_id"] == nil || len(e.Values) == 0 {
			t.Errorf("recorded result %+v", e)
		}
	}
	again := eval.succeed(t, "", "eval", "ingest", file, "--model", "meta/llama-3-1-8b", "--create-benchmarks")
	if !strings.Contains(again, "already recorded: skipped") || !strings.Contains(again, "0 results would be recorded") {
		t.Errorf("a second ingest of the same file printed:\n%s", again)
	}
	first := history[0]
	board := eval.succeed(t, "", "leaderboard", first.Benchmark, "--version", first.BenchmarkVersion)
	if !strings.Contains(board, "meta/llama-3-1-8b") {
		t.Errorf("leaderboard of %s:\n%s", first.Benchmark, board)
	}

	card := filepath.Join(evalTestdata, "hf-model-index", "TinyLlama_TinyLlama-1.1B-intermediate-step-1431k-3T.md")
	out = eval.succeed(t, "", "eval", "ingest", card, "--model", "meta/llama-3-1-8b", "--create-benchmarks", "--dry-run")
	if !strings.Contains(out, "hf-model-index:") || !strings.Contains(out, "dry run: nothing recorded") {
		t.Errorf("a model card's dry run printed:\n%s", out)
	}

	gov := filepath.Join(evalTestdata, "hivellm", "gov")
	res = eval.fail(t, "", "eval", "ingest", gov, "--format", "hivellm", "--create-benchmarks")
	if !strings.Contains(res.stdout, "cannot record") || !strings.Contains(res.stderr, "nothing was recorded") {
		t.Errorf("an all-or-nothing hivellm ingest with unknown models:\nstdout %s\nstderr %s", res.stdout, res.stderr)
	}
	out = eval.succeed(t, "", "eval", "ingest", gov, "--format", "hivellm", "--create-benchmarks", "--partial")
	for _, want := range []string{"differs from", "give no scores: kept as results without values", "recorded "} {
		if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			t.Errorf("hivellm ingest output lacks %q:\n%s", want, out)
		}
	}
	var gpt []api.Evaluation
	if err := json.Unmarshal([]byte(eval.succeed(t, "", "eval", "history", "openai/gpt-5", "-o", "json", "--benchmark", "hivellm/governance-checks")), &gpt); err != nil || len(gpt) != 1 {
		t.Fatalf("GPT-5's governance checks: %d, %v", len(gpt), err)
	}
	total := -1.0
	for _, v := range gpt[0].Values {
		if v.Metric == "total" {
			total = v.Value
		}
	}
	if total != 92 {
		t.Errorf("GPT-5's recorded total = %v, want 92 as the file says (its checks sum to 96: never fixed)", total)
	}
	// A rejected entry (null score, no checks) is kept, without values.
	var fast []api.Evaluation
	admin.succeed(t, `
schema_version: "1.1"
model_id: openai/gpt-5-fast
provider: openai
display_name: OpenAI GPT-5 Fast
size_class: large
`, "model", "apply", "-f", "-")
	eval.succeed(t, "", "eval", "ingest", gov, "--format", "hivellm", "--partial")
	if err := json.Unmarshal([]byte(eval.succeed(t, "", "eval", "history", "openai/gpt-5-fast", "-o", "json", "--benchmark", "hivellm/governance-checks")), &fast); err != nil || len(fast) != 1 {
		t.Fatalf("GPT-5 Fast's records: %d, %v", len(fast), err)
	}
	if len(fast[0].Values) != 0 || !strings.HasPrefix(fast[0].Notes, "no scores: ") || fast[0].Settings["status"] != "rejected" {
		t.Errorf("the rejected entry was recorded as %+v", fast[0])
	}
	cmp := eval.succeed(t, "", "eval", "compare", "openai/gpt-5", "google/gemini-2-5-pro")
	if !strings.Contains(cmp, "hivellm/governance-checks") || !strings.Contains(cmp, "total") {
		t.Errorf("eval compare printed:\n%s", cmp)
	}
}

// writeToken creates a token through the admin and writes its secret.
func writeToken(t *testing.T, admin commandLine, path, name, role string) {
	t.Helper()
	secret := strings.TrimSpace(admin.succeed(t, "", "token", "create", "--name", name, "--role", role))
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
