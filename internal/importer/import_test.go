package importer

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
)

// sharedData is the shared folder of real public data (docs: SOURCES.md),
// present on the development machines and absent from a fresh clone.
const sharedData = "../../../shared/data"

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkBatch asserts the Batch's contract: each record has a Doc that
// passes schema 1.1 and no Problems, or Problems and no Doc.
func checkBatch(t testing.TB, b *Batch) (mapped, refused int) {
	t.Helper()
	v, err := validator()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range b.Records {
		switch {
		case r.Doc != nil && len(r.Problems) > 0:
			t.Errorf("%s: a Doc and Problems %v", r.Source, r.Problems)
		case r.Doc == nil && len(r.Problems) == 0:
			t.Errorf("%s: neither a Doc nor Problems", r.Source)
		case r.Doc != nil:
			mapped++
			if err := v.Validate(r.Doc); err != nil {
				t.Errorf("%s: mapped document fails the schema: %v", r.Source, err)
			}
			if r.Estimated != (len(r.Notes) > 0 && strings.Contains(strings.Join(r.Notes, " "), "estimated")) {
				t.Errorf("%s: Estimated %v but notes %q", r.Source, r.Estimated, r.Notes)
			}
			if p := r.Doc.Parameters; p != nil && r.Estimated && p.Source != api.ParametersEstimated {
				t.Errorf("%s: estimated size with parameters.source %q", r.Source, p.Source)
			}
		default:
			refused++
		}
	}
	return mapped, refused
}

func byKey(b *Batch) map[string]Record {
	m := map[string]Record{}
	for _, r := range b.Records {
		m[r.Key] = r
	}
	return m
}

func TestLiteLLMExcerpt(t *testing.T) {
	b, err := LiteLLM("model_prices_and_context_window.json", read(t, "testdata/import/litellm-excerpt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Format != FormatLiteLLM {
		t.Errorf("format %q", b.Format)
	}
	mapped, refused := checkBatch(t, b)
	if mapped != 20 || refused != 2 || len(b.Notes) != 3 {
		t.Errorf("mapped %d, refused %d, skipped %d; want 20, 2, 3 (notes %q)", mapped, refused, len(b.Notes), b.Notes)
	}
	recs := byKey(b)
	want := &api.Model{
		SchemaVersion: "1.1", ModelID: "openai/gpt-4o", Provider: "openai", DisplayName: "gpt-4o",
		ContextWindow: 128000, MaxOutputTokens: 16384,
		Modalities:   &api.Modalities{Input: []string{"file", "image", "text"}, Output: []string{"text"}},
		Capabilities: []string{"parallel-tools", "pdf-input", "prompt-caching", "structured-output", "system-messages", "tool-choice", "tools", "vision"},
		Labels:       map[string]string{"litellm.ai/mode": "chat", "litellm.ai/provider": "openai"},
		Annotations: map[string]string{
			"litellm.ai/cache_read_input_token_cost":   "0.00000125",
			"litellm.ai/input_cost_per_token":          "0.0000025",
			"litellm.ai/input_cost_per_token_batches":  "0.00000125",
			"litellm.ai/max_tokens":                    "16384",
			"litellm.ai/output_cost_per_token":         "0.00001",
			"litellm.ai/output_cost_per_token_batches": "0.000005",
			SourceKeyAnnotation:                        "gpt-4o",
		},
		SourceFiles: []string{"model_prices_and_context_window.json"},
	}
	if got := recs["gpt-4o"]; !reflect.DeepEqual(got.Doc, want) || got.Estimated || got.Source != "model_prices_and_context_window.json#/gpt-4o" {
		t.Errorf("gpt-4o:\n got %+v\nwant %+v", got.Doc, want)
	}

	ids := []struct{ key, id, display string }{
		{"azure/gpt-4o", "azure/gpt-4o", "gpt-4o"},
		{"vertex_ai/claude-sonnet-4-6@default", "vertex-ai/claude-sonnet-4-6-default", "claude-sonnet-4-6@default"},
		{"us.meta.llama3-2-90b-instruct-v1:0", "bedrock/us.meta.llama3-2-90b-instruct-v1-0", "us.meta.llama3-2-90b-instruct-v1:0"},
		{"fireworks_ai/accounts/fireworks/models/llama-v3p1-405b-instruct", "fireworks-ai/llama-v3p1-405b-instruct", "llama-v3p1-405b-instruct"},
		{"1024-x-1024/dall-e-2", "openai/1024-x-1024-dall-e-2", "1024-x-1024/dall-e-2"},
		{"gemini-2.0-flash-lite", "vertex-ai/gemini-2.0-flash-lite", "gemini-2.0-flash-lite"},
		{"amazon-nova/nova-pro-v1", "amazon-nova/nova-pro-v1", "nova-pro-v1"},
	}
	for _, c := range ids {
		r := recs[c.key]
		if r.Doc == nil || r.Doc.ModelID != c.id || r.Doc.DisplayName != c.display || r.Doc.Annotations[SourceKeyAnnotation] != c.key {
			t.Errorf("%s: got %+v, want id %s, display %s", c.key, r.Doc, c.id, c.display)
		}
	}

	// LiteLLM's 0 means "does not apply": no count, not a bad count.
	if d := recs["text-embedding-3-small"].Doc; d == nil || d.MaxOutputTokens != 0 || !reflect.DeepEqual(d.Modalities.Output, []string{"embedding"}) {
		t.Errorf("text-embedding-3-small: %+v", d)
	}

	sizes := []struct {
		key    string
		class  api.SizeClass
		count  api.Count
		active api.Count
	}{
		{"groq/llama-3.3-70b-versatile", api.SizeLarge, 70e9, 0},
		{"fireworks_ai/accounts/fireworks/models/llama-v3p1-405b-instruct", api.SizeXL, 405e9, 0},
		{"dashscope/qwen3-vl-235b-a22b-instruct", api.SizeLarge, 235e9, 22e9},
		{"bedrock/eu-west-3/mistral.mixtral-8x7b-instruct-v0:1", api.SizeMedium, 56e9, 0},
		{"gpt-4o-mini", api.SizeMini, 0, 0},
		{"gemini-2.0-flash-lite", api.SizeMini, 0, 0},
	}
	for _, c := range sizes {
		r := recs[c.key]
		if r.Doc == nil || !r.Estimated || r.Doc.SizeClass != c.class || len(r.Notes) != 1 {
			t.Errorf("%s: got %+v estimated %v notes %q, want class %s", c.key, r.Doc, r.Estimated, r.Notes, c.class)
			continue
		}
		var got *api.Parameters
		if c.count > 0 {
			got = &api.Parameters{Count: c.count, Active: c.active, Source: api.ParametersEstimated}
		}
		if !reflect.DeepEqual(r.Doc.Parameters, got) {
			t.Errorf("%s: parameters %+v, want %+v", c.key, r.Doc.Parameters, got)
		}
	}
	if r := recs["gpt-4o"]; r.Doc.SizeClass != "" || r.Doc.Parameters != nil {
		t.Errorf("gpt-4o: size %q %+v, want unknown", r.Doc.SizeClass, r.Doc.Parameters)
	}

	refusedWant := map[string]string{
		"deepseek/deepseek-chat":                  `duplicate: key "deepseek/deepseek-chat" maps to model_id "deepseek/deepseek-chat", as model_prices_and_context_window.json#/deepseek-chat (key "deepseek-chat") does`,
		"fireworks_ai/accounts/fireworks/models/": "no model id",
	}
	for key, msg := range refusedWant {
		r := recs[key]
		if r.Doc != nil || len(r.Problems) != 1 || r.Problems[0].Field != "/model_id" || !strings.Contains(r.Problems[0].Message, msg) {
			t.Errorf("%s: problems %+v, want /model_id %q", key, r.Problems, msg)
		}
	}
}

func TestOpenRouterExcerpt(t *testing.T) {
	data := read(t, "testdata/import/openrouter-excerpt.json") // a bare array
	b, err := OpenRouter("openrouter-models.json", data)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := OpenRouter("openrouter-models.json", []byte(`{"data":`+string(data)+`}`))
	if err != nil || len(wrapped.Records) != len(b.Records) {
		t.Fatalf("the {data: [...]} shape: %v, %d records", err, len(wrapped.Records))
	}
	if mapped, refused := checkBatch(t, b); mapped != 12 || refused != 0 {
		t.Errorf("mapped %d, refused %d; want 12, 0", mapped, refused)
	}
	recs := byKey(b)
	d := recs["openai/gpt-4o"].Doc
	if d == nil || d.ModelID != "openai/gpt-4o" || d.Provider != "openai" || d.DisplayName != "OpenAI: GPT-4o" ||
		d.ContextWindow != 128000 || d.MaxOutputTokens != 16384 ||
		!reflect.DeepEqual(d.Modalities, &api.Modalities{Input: []string{"file", "image", "text"}, Output: []string{"text"}}) ||
		!reflect.DeepEqual(d.Capabilities, []string{"json-mode", "pdf-input", "structured-output", "tool-choice", "tools", "vision", "web-search"}) ||
		d.Annotations["openrouter.ai/prompt-cost-per-token"] != "0.0000025" || d.Annotations["openrouter.ai/completion-cost-per-token"] != "0.00001" ||
		d.Labels["openrouter.ai/tokenizer"] != "GPT" || d.SizeClass != "" {
		t.Errorf("openai/gpt-4o: %+v", d)
	}
	for _, c := range []struct {
		key, id string
		class   api.SizeClass
	}{
		{"openai/gpt-oss-120b:free", "openai/gpt-oss-120b-free", api.SizeLarge},
		{"openai/gpt-oss-120b", "openai/gpt-oss-120b", api.SizeLarge},
		{"qwen/qwen3.5-35b-a3b", "qwen/qwen3.5-35b-a3b", api.SizeMedium},
		{"meta-llama/llama-3.3-70b-instruct", "meta-llama/llama-3.3-70b-instruct", api.SizeLarge},
		{"bytedance-seed/seed-2.0-mini", "bytedance-seed/seed-2.0-mini", api.SizeMini},
		{"openrouter/auto", "openrouter/auto", ""},
	} {
		r := recs[c.key]
		if r.Doc == nil || r.Doc.ModelID != c.id || r.Doc.SizeClass != c.class || r.Estimated != (c.class != "") {
			t.Errorf("%s: got %+v (estimated %v), want %s %q", c.key, r.Doc, r.Estimated, c.id, c.class)
		}
	}
	if a := recs["openrouter/auto"].Doc.Annotations["openrouter.ai/prompt-cost-per-token"]; a != "-1" {
		t.Errorf("openrouter/auto price %q, want -1 as the source writes it", a)
	}
}

func TestCSV(t *testing.T) {
	b, err := CSV("notable_ai_models.csv", read(t, "testdata/import/epoch-excerpt.csv"), read(t, "testdata/import/epoch-mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if mapped, refused := checkBatch(t, b); mapped != 18 || refused != 0 {
		t.Errorf("mapped %d, refused %d; want 18, 0", mapped, refused)
	}
	d := byKey(b)["Mixtral 8x7B"]
	want := &api.Model{SchemaVersion: "1.1", ModelID: "mistral-ai/mixtral-8x7b", Provider: "mistral-ai", DisplayName: "Mixtral 8x7B",
		ReleaseDate: "2023-12-11", SizeClass: api.SizeMedium, Parameters: &api.Parameters{Count: 46.7e9, Source: api.ParametersDeclared},
		Capabilities: []string{"language"}, Labels: map[string]string{"epoch.ai/accessibility": "open-weights"},
		Annotations: map[string]string{"epoch.ai/link": "https://mistral.ai/news/mixtral-of-experts/, https://arxiv.org/abs/2401.04088", SourceKeyAnnotation: "Mixtral 8x7B"},
		SourceFiles: []string{"notable_ai_models.csv"}}
	if !reflect.DeepEqual(d.Doc, want) || d.Estimated || d.Source != "notable_ai_models.csv:20" {
		t.Errorf("Mixtral 8x7B (%s):\n got %+v\nwant %+v", d.Source, d.Doc, want)
	}
	if _, err := CSV("x.csv", nil, []byte("format: json\nfields: {model_id: {path: a}}")); err == nil {
		t.Error("a json mapping was accepted for a CSV source")
	}
}

func TestCSVProblems(t *testing.T) {
	mapping := `
format: csv
vars:
  - {name: org, path: org, convert: provider}
  - {name: name, path: Name, convert: slug}
fields:
  model_id: {template: '{org}/{name}'}
  context_window: {path: ctx, convert: int}
  labels:
    tier: {path: tier, map: {gold: gold}, unmapped: error}
`
	src := "Name,org,ctx,tier\nAlpha,acme,4096,gold\nBeta,acme,lots,gold\n,acme,1,gold\nAlpha,Acme,2,gold\nGamma,acme,1,silver\n"
	b, err := CSV("m.csv", []byte(src), []byte(mapping))
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, b)
	want := []struct{ source, field, msg string }{
		{"m.csv:2", "", ""},
		{"m.csv:3", "/context_window", `"lots" is not a number`},
		{"m.csv:4", "/model_id", "no model id"},
		{"m.csv:5", "/model_id", `duplicate: m.csv:5 maps to model_id "acme/alpha", as m.csv:2`},
		{"m.csv:6", "/labels/tier", `"silver" (from tier) has no entry`},
	}
	for i, w := range want {
		r := b.Records[i]
		if r.Source != w.source {
			t.Errorf("record %d: source %s, want %s", i, r.Source, w.source)
		}
		if w.msg == "" {
			if r.Doc == nil {
				t.Errorf("%s: %v", r.Source, r.Problems)
			}
			continue
		}
		if len(r.Problems) == 0 || r.Problems[0].Field != w.field || !strings.Contains(r.Problems[0].Message, w.msg) {
			t.Errorf("%s: problems %+v, want %s %q", r.Source, r.Problems, w.field, w.msg)
		}
	}
}

func TestDocuments(t *testing.T) {
	dir := "testdata/import/documents"
	b, err := Documents(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mapped, refused := checkBatch(t, b); mapped != 2 || refused != 2 {
		t.Fatalf("mapped %d, refused %d; want 2, 2: %+v", mapped, refused, b.Records)
	}
	r := b.Records[0]
	if r.Doc.ModelID != "openai/gpt-5-general" || r.Role != api.RoleGeneral || !slices.Contains(r.Notes, "upgraded from schema 1.0") {
		t.Errorf("1.0 document: %+v", r)
	}
	several := filepath.Join(dir, "b-several.yaml")
	if r := b.Records[1]; r.Doc == nil || r.Doc.ModelID != "mistral/mistral-large-2" || r.Source != several+" (document 1)" {
		t.Errorf("document 1: %+v", r)
	}
	if r := b.Records[2]; r.Doc != nil || len(r.Problems) != 1 || r.Problems[0].Field != "/size_class" {
		t.Errorf("document 2: %+v", r)
	}
	if r := b.Records[3]; r.Doc != nil || !strings.HasPrefix(r.Problems[0].Message, "duplicate:") || !strings.Contains(r.Problems[0].Message, "(document 1)") {
		t.Errorf("document 3: %+v", r)
	}
	if _, err := Documents(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file gave no error")
	}
}

// TestFullCatalogues maps the whole of the real LiteLLM and OpenRouter
// files: every entry ends as a Doc, a refused record or a skip note.
func TestFullCatalogues(t *testing.T) {
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("the shared real data (%s) is absent, as in a fresh clone; the excerpts in testdata/import are tested instead", sharedData)
	}
	for _, c := range []struct {
		path      string
		mapper    func(string, []byte) (*Batch, error)
		entries   int
		minMapped int
	}{
		{"litellm/model_prices_and_context_window.json", LiteLLM, 2985, 2900},
		{"openrouter/openrouter-models.2026-02-27.json", OpenRouter, 344, 344},
	} {
		b, err := c.mapper(filepath.Base(c.path), read(t, filepath.Join(sharedData, c.path)))
		if err != nil {
			t.Fatal(err)
		}
		mapped, refused := checkBatch(t, b)
		kinds := map[string]int{}
		estimated := 0
		for _, r := range b.Records {
			for _, p := range r.Problems {
				kind, _, _ := strings.Cut(p.Message, ":")
				kinds[p.Field+" "+kind]++
			}
			if r.Estimated {
				estimated++
			}
		}
		t.Logf("%s: %d entries: %d mapped (%d with an estimated size), %d refused %v, %d skipped", c.path, c.entries, mapped, estimated, refused, kinds, len(b.Notes))
		if mapped+refused+len(b.Notes) != c.entries {
			t.Errorf("%s: %d mapped + %d refused + %d skipped != %d entries", c.path, mapped, refused, len(b.Notes), c.entries)
		}
		if mapped < c.minMapped {
			t.Errorf("%s: only %d mapped", c.path, mapped)
		}
	}
}

func TestEstimateSize(t *testing.T) {
	for _, c := range []struct {
		name   string
		class  api.SizeClass
		count  int64
		active int64
	}{
		{"llama-3.1-405b-instruct", api.SizeXL, 405e9, 0},
		{"qwen3-235b-a22b", api.SizeLarge, 235e9, 22e9},
		{"mixtral-8x22b", api.SizeLarge, 176e9, 0},
		{"qwen2.5-1.5b", api.SizeMini, 1.5e9, 0},
		{"opt-350m", api.SizeNano, 350e6, 0},
		{"gemma-2-9b-it", api.SizeSmall, 9e9, 0},
		{"phi-3-mini-128k", api.SizeMini, 0, 0},
		{"gpt-5-nano", api.SizeNano, 0, 0},
		{"claude-3-haiku", "", 0, 0},
		{"minimax-m1", "", 0, 0},
		{"text-embedding-3-large", "", 0, 0},
		{"command-r7b", "", 0, 0},
	} {
		est, ok := estimateSize(c.name)
		if est.class != c.class || est.count != c.count || est.active != c.active || ok != (c.class != "") {
			t.Errorf("estimateSize(%q) = %+v, %v; want %s %d %d", c.name, est, ok, c.class, c.count, c.active)
		}
	}
}

func TestParseMappingErrors(t *testing.T) {
	for _, c := range []struct{ mapping, want string }{
		{`format: xml`, `format: "xml" is not one of json, yaml, csv`},
		{`{format: json}`, "fields.model_id: missing"},
		{"format: json\nfields: {model_id: {path: a}, colour: {path: b}}", `unknown field "colour"`},
		{"format: json\nfields: {model_id: {path: a, template: b}}", "fields.model_id: give exactly one of"},
		{"format: json\nfields: {model_id: {path: a, convert: upper}}", `fields.model_id.convert: "upper" is not one of`},
		{"format: json\nfields: {model_id: {path: a, replace: [{pattern: '(', with: x}]}}", "fields.model_id.replace[0].pattern:"},
		{"format: json\nfields: {model_id: {template: '{a'}}", "fields.model_id.template:"},
		{"format: json\nfields: {model_id: {path: a}, labels: {'bad key!': {path: b}}}", `fields.labels: key "bad key!"`},
		{"format: json\nskip: [{field: a, in: [x]}]\nfields: {model_id: {path: a}}", "skip[0].reason: missing"},
		{"format: json\nvars: [{name: Bad, path: a}]\nfields: {model_id: {path: a}}", "vars[0].name"},
		{"format: csv\nrecords: {path: data}\nfields: {model_id: {path: a}}", "records.path: a CSV source has no paths"},
		{"format: json\nfields: {model_id: {path: a, unmapped: maybe}}", "fields.model_id.unmapped"},
	} {
		_, err := ParseMapping([]byte(c.mapping))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseMapping(%q) = %v, want an error containing %q", c.mapping, err, c.want)
		}
	}
	for _, f := range []string{"litellm", "openrouter"} {
		if _, err := BuiltinMapping(f); err != nil {
			t.Error(err)
		}
	}
}

func TestPaths(t *testing.T) {
	rec := map[string]any{"a": map[string]any{"b": []any{"x", map[string]any{"c": "y"}}}, "gpt-4.1": "dotted"}
	for path, want := range map[string]any{"a.b[0]": "x", "a.b[1].c": "y", "a.b[2]": nil, "gpt-4.1": "dotted", "a.z": nil, "a.b[x]": nil} {
		if got := walk(rec, path); !reflect.DeepEqual(got, want) {
			t.Errorf("walk(%q) = %v, want %v", path, got, want)
		}
	}
	for in, want := range map[string]string{"GPT-4o:free": "gpt-4o-free", "vertex_ai/claude@default": "vertex_ai-claude-default", "--A..b--": "a..b", "文心": ""} {
		if got := slug(in, "._-"); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseMapping(f *testing.F) {
	for _, name := range []string{"mappings/litellm.yaml", "mappings/openrouter.yaml", "testdata/import/epoch-mapping.yaml"} {
		f.Add(read(f, name))
	}
	f.Add([]byte("format: json\nfields: {model_id: {first: [{path: a}, {value: 1}]}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMapping(data)
		if err != nil {
			return
		}
		if _, err := m.Apply("fuzz", []byte(`{"a": {"b": 1}, "c": [1, "x", null]}`)); err != nil {
			return
		}
	})
}

func FuzzApply(f *testing.F) {
	m, err := BuiltinMapping(FormatLiteLLM)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(read(f, "testdata/import/litellm-excerpt.json"))
	f.Add([]byte(`{"x": {"litellm_provider": "A_b", "max_input_tokens": 1e400, "supports_vision": "maybe"}}`))
	f.Add([]byte(`{"y": [], "z": {"litellm_provider": {}, "mode": [1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := m.Apply("fuzz.json", data)
		if err != nil {
			return
		}
		checkBatch(t, b)
	})
}
