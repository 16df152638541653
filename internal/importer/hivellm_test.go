package importer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/schema"
)

// hiveTestdata is a copy of the HiveLLM files (cmmv-hive/ and gov/) as
// found in the ecosystem's repositories.
const hiveTestdata = "testdata/hivellm"

func hiveBatch(t *testing.T) *Batch {
	t.Helper()
	b, err := HiveLLM(hiveTestdata)
	if err != nil {
		t.Fatalf("HiveLLM(%s): %v", hiveTestdata, err)
	}
	return b
}

func hiveRecord(t *testing.T, b *Batch, id string) *Record {
	t.Helper()
	for i := range b.Records {
		if b.Records[i].Doc != nil && b.Records[i].Doc.ModelID == id {
			return &b.Records[i]
		}
	}
	t.Fatalf("no record %s", id)
	return nil
}

// TestHiveLLMRecords lists every model the files name, as reconciled.
func TestHiveLLMRecords(t *testing.T) {
	b := hiveBatch(t)
	want := []struct {
		id            string
		role          api.Role
		size          api.SizeClass
		estimated     bool
		count, active float64
		displayName   string
		sources       int
	}{
		{"ai2/aya-23-8b", api.RoleSpecialist, "small", true, 8e9, 0, "Aya-23 8B", 2},
		{"alibaba/qwen-2-5-14b", api.RoleSpecialist, "small", true, 14e9, 0, "Qwen2.5 14B Instruct", 1},
		{"alibaba/qwen-2-5-72b", api.RoleGeneral, "large", true, 72e9, 0, "Qwen2.5-72B Instruct", 1},
		{"alibaba/qwen-2-5-7b", api.RoleSpecialist, "small", true, 7e9, 0, "Qwen2.5 7B Instruct", 1},
		{"alibaba/qwen-3-235b-a22b", api.RoleSpecialist, "large", true, 235e9, 22e9, "Qwen3 235B A22B", 3},
		{"alibaba/qwen-3-32b", api.RoleGeneral, "medium", true, 32e9, 0, "Qwen3-32B", 1},
		{"alibaba/qwen-3-coder-30b", api.RoleExperimental, "medium", true, 30e9, 0, "Qwen3 Coder 30B", 2},
		{"alibaba/qwen-3-coder-480b-a35b", api.RoleExperimental, "xl", true, 480e9, 35e9, "Qwen3 Coder 480B A35B Instruct", 3},
		{"anthropic/claude-3-5-haiku", api.RoleSpecialist, "", false, 0, 0, "Claude 3.5 Haiku", 4},
		{"anthropic/claude-3-5-opus", api.RoleGeneral, "", false, 0, 0, "Claude 3.5 Opus", 1},
		{"anthropic/claude-3-5-sonnet", api.RoleGeneral, "", false, 0, 0, "Claude 3.5 Sonnet", 4},
		{"anthropic/claude-3-7-sonnet", api.RoleGeneral, "", false, 0, 0, "Claude-3.7-Sonnet-Latest", 4},
		{"anthropic/claude-3-opus", api.RoleGeneral, "", false, 0, 0, "Claude-3-Opus-Latest", 1},
		{"anthropic/claude-4-1-opus", api.RoleGeneral, "", false, 0, 0, "Anthropic Claude 4.1 Opus", 2},
		{"anthropic/claude-4-opus", api.RoleSpecialist, "", false, 0, 0, "Claude-4-Opus", 1},
		{"anthropic/claude-4-sonnet", api.RoleGeneral, "", false, 0, 0, "Claude-4-Sonnet", 4},
		{"bigcode/starcoder-2-15b", api.RoleSpecialist, "medium", true, 15e9, 0, "StarCoder2-15B", 3},
		{"cohere/command-r-plus", api.RoleGeneral, "", false, 0, 0, "Cohere Command R+", 1},
		{"deepseek/deepseek-coder", api.RoleGeneral, "", false, 0, 0, "DeepSeek-Coder", 1},
		{"deepseek/deepseek-coder-33b", api.RoleSpecialist, "medium", true, 33e9, 0, "DeepSeek-Coder 33B", 3},
		{"deepseek/deepseek-coder-6-7b", api.RoleSpecialist, "small", true, 6.7e9, 0, "DeepSeek-Coder 6.7B", 2},
		{"deepseek/deepseek-r1-0528", api.RoleSpecialist, "", false, 0, 0, "DeepSeek-R1-0528", 4},
		{"deepseek/deepseek-r1-0528-qwen-3-8b", api.RoleExperimental, "small", true, 8e9, 0, "DeepSeek-R1-0528 Qwen3 8B", 3},
		{"deepseek/deepseek-v3", api.RoleSpecialist, "", false, 0, 0, "DeepSeek-V3", 4},
		{"google/gemini-1-5-flash", api.RoleSpecialist, "", false, 0, 0, "Gemini 1.5 Flash", 1},
		{"google/gemini-1-5-pro", api.RoleGeneral, "", false, 0, 0, "Gemini 1.5 Pro", 1},
		{"google/gemini-2-0", api.RoleGeneral, "", false, 0, 0, "Gemini 2.0", 1},
		{"google/gemini-2-0-flash", api.RoleSpecialist, "", false, 0, 0, "Gemini 2.0 Flash", 2},
		{"google/gemini-2-0-flash-lite", api.RoleSpecialist, "mini", true, 0, 0, "Gemini-2.0-Flash-Lite", 1},
		{"google/gemini-2-5-flash", api.RoleGeneral, "", false, 0, 0, "Gemini-2.5-Flash-Latest", 3},
		{"google/gemini-2-5-pro", api.RoleGeneral, "", false, 0, 0, "Gemini 2.5 Pro", 4},
		{"meta/codellama-13b", api.RoleSpecialist, "small", true, 13e9, 0, "CodeLlama-13B", 2},
		{"meta/codellama-34b", api.RoleSpecialist, "medium", true, 34e9, 0, "CodeLlama 34B", 1},
		{"meta/llama-3-1-405b", api.RoleGeneral, "xl", true, 405e9, 0, "Llama 3.1 405B", 4},
		{"meta/llama-3-1-70b", api.RoleGeneral, "large", true, 70e9, 0, "Llama 3.1 70B", 1},
		{"meta/llama-3-1-8b", api.RoleSpecialist, "small", true, 8e9, 0, "Llama-3.1-8B-Instant", 2},
		{"meta/llama-3-11b", api.RoleSpecialist, "small", true, 11e9, 0, "Llama 3 11B Instruct", 2},
		{"meta/llama-3-3-70b", api.RoleGeneral, "large", true, 70e9, 0, "Llama-3.3-70B-Versatile", 4},
		{"meta/llama-3-8b", api.RoleSpecialist, "small", true, 8e9, 0, "Llama 3 8B Instruct", 2},
		{"microsoft/phi-3-5", api.RoleSpecialist, "", false, 0, 0, "Phi-3.5", 2},
		{"microsoft/phi-3-mini", api.RoleSpecialist, "mini", true, 0, 0, "Phi-3-mini", 3},
		{"mistral/codestral-22b", api.RoleSpecialist, "medium", true, 22e9, 0, "Codestral-22B", 1},
		{"mistral/mistral-7b", api.RoleSpecialist, "small", true, 7e9, 0, "Mistral 7B Instruct", 1},
		{"mistral/mistral-7b-v0-2", api.RoleExperimental, "small", true, 7e9, 0, "Mistral-7B-Instruct-v0.2", 3},
		{"mistral/mistral-large-2", api.RoleGeneral, "", false, 0, 0, "Mistral Large 2", 1},
		{"mistral/mistral-small-24b", api.RoleExperimental, "medium", true, 24e9, 0, "Mistral-Small-24B-Instruct", 3},
		{"mistral/mixtral-8x22b", api.RoleGeneral, "large", true, 0, 0, "Mixtral 8x22B", 1},
		{"moonshotai/kimi-k2", api.RoleSpecialist, "", false, 0, 0, "Kimi k2-instruct", 2},
		{"openai/gpt-4-1", api.RoleSpecialist, "", false, 0, 0, "GPT-4.1", 1},
		{"openai/gpt-4-1-mini", api.RoleSpecialist, "mini", true, 0, 0, "GPT-4.1-mini", 1},
		{"openai/gpt-4-turbo", api.RoleGeneral, "", false, 0, 0, "GPT-4-Turbo", 1},
		{"openai/gpt-4o", api.RoleSpecialist, "", false, 0, 0, "GPT-4o", 4},
		{"openai/gpt-4o-mini", api.RoleSpecialist, "mini", true, 0, 0, "GPT-4o-mini", 1},
		{"openai/gpt-5", api.RoleGeneral, "", false, 0, 0, "GPT-5", 4},
		{"openai/gpt-5-fast", api.RoleExperimental, "", false, 0, 0, "OpenAI GPT-5 Fast", 2},
		{"openai/gpt-5-mini", api.RoleGeneral, "mini", true, 0, 0, "GPT-5-Mini", 1},
		{"openai/gpt-5-nano", api.RoleSpecialist, "nano", true, 0, 0, "GPT-5-Nano", 1},
		{"openai/gpt-oss-120b", api.RoleGeneral, "large", true, 120e9, 0, "GPT-OSS-120B", 1},
		{"openai/gpt-oss-20b", api.RoleSpecialist, "medium", true, 20e9, 0, "GPT-OSS-20B", 3},
		{"openai/o1-mini", api.RoleGeneral, "mini", true, 0, 0, "O1-Mini", 1},
		{"openai/o4-mini", api.RoleExperimental, "mini", true, 0, 0, "O4 Mini", 1},
		{"xai/grok-3", api.RoleGeneral, "", false, 0, 0, "Grok-3", 1},
		{"xai/grok-3-beta", api.RoleGeneral, "", false, 0, 0, "xAI Grok-3 Beta", 2},
		{"xai/grok-3-mini", api.RoleSpecialist, "mini", true, 0, 0, "Grok-3-Mini", 3},
		{"xai/grok-beta", api.RoleGeneral, "", false, 0, 0, "Grok-Beta", 1},
		{"xai/grok-code-fast-1", api.RoleGeneral, "", false, 0, 0, "xAI Grok Code Fast 1", 3},
	}
	if b.Format != FormatHiveLLM {
		t.Errorf("Format = %q, want %q", b.Format, FormatHiveLLM)
	}
	var got []string
	for _, r := range b.Records {
		got = append(got, r.Doc.ModelID)
	}
	var ids []string
	for _, w := range want {
		ids = append(ids, w.id)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("model ids:\n got %q\nwant %q", got, ids)
	}
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		r := b.Records[i]
		d := r.Doc
		if r.Role != w.role || d.SizeClass != w.size || r.Estimated != w.estimated || d.DisplayName != w.displayName || len(d.SourceFiles) != w.sources {
			t.Errorf("%s: role %s, size %q, estimated %v, display name %q, %d sources; want %s, %q, %v, %q, %d",
				w.id, r.Role, d.SizeClass, r.Estimated, d.DisplayName, len(d.SourceFiles), w.role, w.size, w.estimated, w.displayName, w.sources)
		}
		var count, active api.Count
		if d.Parameters != nil {
			count, active = d.Parameters.Count, d.Parameters.Active
			if d.Parameters.Source != api.ParametersEstimated {
				t.Errorf("%s: parameters.source %q, want estimated (a count read from a name)", w.id, d.Parameters.Source)
			}
		}
		if count != api.Count(w.count) || active != api.Count(w.active) {
			t.Errorf("%s: parameters %d (active %d), want %d (%d)", w.id, count, active, api.Count(w.count), api.Count(w.active))
		}
		if len(r.Problems) > 0 {
			t.Errorf("%s: problems %v", w.id, r.Problems)
		}
		if err := v.Validate(d); err != nil {
			t.Errorf("%s: the document does not validate: %v", w.id, err)
		}
		if d.Provider+"/" != w.id[:len(d.Provider)+1] {
			t.Errorf("%s: provider %q", w.id, d.Provider)
		}
	}
}

// TestHiveLLMMerges checks that the spellings of one model in different
// files become one record, and that each merge is noted.
func TestHiveLLMMerges(t *testing.T) {
	b := hiveBatch(t)
	for _, want := range []string{
		"openai/gpt-5 ← cmmv-hive/generals.yml:agents.generals[0] (GPT-5), gov/guidelines/MODELS_CHECKLIST.md:12 (GPT-5), gov/metrics/model_evaluations.json:evaluations[0] (OpenAI GPT-5 General), gov/metrics/models/openai-gpt-5-general.json (OpenAI GPT-5 General)",
		"anthropic/claude-4-sonnet ← cmmv-hive/generals.yml:agents.generals[1] (Claude-4-Sonnet), gov/guidelines/MODELS_CHECKLIST.md:13 (Claude-4-Sonnet), gov/metrics/model_evaluations.json:evaluations[3] (Anthropic Claude-4 Sonnet), gov/metrics/models/anthropic-claude-4-sonnet.json (Anthropic Claude-4 Sonnet)",
		"meta/llama-3-1-405b ← cmmv-hive/generals.yml:agents.generals[5] (Llama 3.1 405B), gov/guidelines/MODELS_CHECKLIST.md:46 (Meta AI Llama-3.1-405B-Instruct), gov/metrics/model_evaluations.json:evaluations[19] (Meta AI Llama-3.1-405B-Instruct), gov/metrics/models/meta-ai-llama-3-1-405b.json (LLaMA-3.1-405b)",
		"meta/llama-3-3-70b ← gov/guidelines/MODELS_CHECKLIST.md:35 (Llama-3.3-70B-Versatile), gov/guidelines/MODELS_CHECKLIST.md:47 (Llama-3.3-70B-Instruct), gov/metrics/model_evaluations.json:evaluations[25] (Llama-3.3-70B-Instruct), gov/metrics/models/llama-3.3-70b-instruct.json (Llama-3.3-70B-Instruct)",
		"deepseek/deepseek-v3 ← cmmv-hive/generals.yml:agents.collaborators[11] (DeepSeek-V3), gov/guidelines/MODELS_CHECKLIST.md:20 (DeepSeek-V3), gov/metrics/model_evaluations.json:evaluations[1] (DeepSeek V3), gov/metrics/models/deepseek-v3.1.json (DeepSeek V3)",
		"anthropic/claude-3-7-sonnet ← gov/guidelines/MODELS_CHECKLIST.md:18 (Claude-3.7), gov/guidelines/MODELS_CHECKLIST.md:30 (Claude-3.7-Sonnet-Latest), gov/metrics/model_evaluations.json:evaluations[8] (Anthropic Claude 3.7 Sonnet), gov/metrics/models/anthropic-claude-3-7-sonnet.json (Anthropic Claude 3.7 Sonnet)",
		"xai/grok-code-fast-1 ← gov/guidelines/MODELS_CHECKLIST.md:21 (Grok Core Fast-1), gov/metrics/model_evaluations.json:evaluations[16] (xAI Grok Code Fast 1), gov/metrics/models/xai-grok-code-fast-1.json (xAI Grok Code Fast 1)",
		"xai/grok-3-mini ← gov/guidelines/MODELS_CHECKLIST.md:52 (Grok-3-Mini), gov/metrics/model_evaluations.json:evaluations[14] (xAI Grok-3 Mini), gov/metrics/models/xai-grok-3-mini.json (xai-grok-3-mini)",
		"microsoft/phi-3-mini ← cmmv-hive/generals.yml:agents.collaborators[6] (Phi-3-mini), gov/guidelines/MODELS_CHECKLIST.md:58 (Phi-3-mini), gov/guidelines/MODELS_CHECKLIST.md:59 (Phi-3 Mini)",
		"meta/llama-3-1-8b ← gov/guidelines/MODELS_CHECKLIST.md:54 (Llama-3.1-8B-Instant), gov/guidelines/MODELS_CHECKLIST.md:56 (Llama 3.1 8B)",
		"gov/guidelines/MODELS_CHECKLIST.md:18 (\"Claude-3.7\") is read as anthropic/claude-3-7-sonnet: Claude 3.7 Sonnet is Anthropic's only Claude 3.7 model",
		"gov/guidelines/MODELS_CHECKLIST.md:21 (\"Grok Core Fast-1\") is read as xai/grok-code-fast-1: \"Grok Core Fast-1\" is a typo of \"Grok Code Fast 1\"",
		"gov/metrics/models/deepseek-v3.1.json is named \"DeepSeek V3\" inside: it is filed under deepseek/deepseek-v3, not under its file name \"deepseek-v3.1\"",
	} {
		if !slices.Contains(b.Notes, want) {
			t.Errorf("no note %q", want)
		}
	}
	merged, merges := 0, 0
	for _, r := range b.Records {
		if len(r.Doc.SourceFiles) > 1 {
			merged++
		}
	}
	for _, n := range b.Notes {
		if strings.Contains(n, " ← ") {
			merges++
		}
	}
	if merged != 36 || merges != merged {
		t.Errorf("%d records from several places and %d merge notes, want 36 of each", merged, merges)
	}
	gpt5 := hiveRecord(t, b, "openai/gpt-5").Doc
	if want := []string{
		"cmmv-hive/generals.yml:agents.generals[0]", "gov/guidelines/MODELS_CHECKLIST.md:12",
		"gov/metrics/model_evaluations.json:evaluations[0]", "gov/metrics/models/openai-gpt-5-general.json",
	}; !slices.Equal(gpt5.SourceFiles, want) {
		t.Errorf("openai/gpt-5 source_files %q, want %q", gpt5.SourceFiles, want)
	}
	wantLabels := map[string]string{"hivellm.io/group": "generals", "hivellm.io/specialization": "consensus", "hivellm.io/evaluation-status": "general"}
	for k, v := range wantLabels {
		if gpt5.Labels[k] != v {
			t.Errorf("openai/gpt-5 label %s = %q, want %q", k, gpt5.Labels[k], v)
		}
	}
	wantAnn := map[string]string{
		"hivellm.io/roster-id": "gpt-5", "hivellm.io/enabled": "true", "hivellm.io/contributed": "true",
		"hivellm.io/weight": "1", "hivellm.io/locale": "en-US", "hivellm.io/checklist-status": "contributed",
		"hivellm.io/checklist-section": "Generals (high-capacity)", "hivellm.io/checklist-note": "reputation-weighted consensus (009)",
		"hivellm.io/evaluation-status": "general", "hivellm.io/evaluation-variant": "General", "hivellm.io/self-classification": "general",
	}
	for k, v := range wantAnn {
		if gpt5.Annotations[k] != v {
			t.Errorf("openai/gpt-5 annotation %s = %q, want %q", k, gpt5.Annotations[k], v)
		}
	}
}

// TestHiveLLMKeptApart checks that names that differ by a variant stay
// apart, with a note.
func TestHiveLLMKeptApart(t *testing.T) {
	b := hiveBatch(t)
	for _, id := range []string{"openai/gpt-5", "openai/gpt-5-fast", "xai/grok-3", "xai/grok-3-beta", "xai/grok-beta",
		"anthropic/claude-4-opus", "anthropic/claude-4-1-opus", "mistral/mistral-7b", "mistral/mistral-7b-v0-2"} {
		hiveRecord(t, b, id)
	}
	want := "openai/gpt-5 and openai/gpt-5-fast are kept apart: \"General\" names the role the session tested for, \"Fast\" a variant run with other settings and rejected on its own; a governor may merge them"
	if !slices.Contains(b.Notes, want) {
		t.Errorf("no note %q", want)
	}
	n := 0
	for _, note := range b.Notes {
		if strings.Contains(note, " are kept apart: ") {
			n++
		}
	}
	if n != 10 {
		t.Errorf("%d kept-apart notes, want 10", n)
	}
}

// TestHiveLLMSplits checks the entries that name two models.
func TestHiveLLMSplits(t *testing.T) {
	b := hiveBatch(t)
	want := "cmmv-hive/generals.yml:agents.generals[2] (\"Claude 3.5 Sonnet / Opus\") names 2 models: split by the table of known two-model entries into anthropic/claude-3-5-sonnet (Claude 3.5 Sonnet) and anthropic/claude-3-5-opus (Claude 3.5 Opus)"
	if !slices.Contains(b.Notes, want) {
		t.Errorf("no note %q", want)
	}
	var splits []string
	for _, n := range b.Notes {
		if i := strings.Index(n, " names 2 models"); i >= 0 {
			splits = append(splits, n[:i])
		}
	}
	wantSplits := []string{
		`cmmv-hive/generals.yml:agents.generals[2] ("Claude 3.5 Sonnet / Opus")`,
		`cmmv-hive/generals.yml:agents.generals[5] ("Llama 3.1 405B / 70B")`,
		`cmmv-hive/generals.yml:agents.generals[7] ("Mistral Large 2 / Mixtral 8x22B")`,
		`cmmv-hive/generals.yml:agents.collaborators[0] ("GPT-4o / GPT-4.1")`,
		`cmmv-hive/generals.yml:agents.collaborators[2] ("Gemini 2.0 Flash / 1.5 Flash")`,
		`cmmv-hive/generals.yml:agents.collaborators[3] ("Llama 3 8B / 11B Instruct")`,
		`cmmv-hive/generals.yml:agents.collaborators[4] ("Mistral 7B Instruct / Codestral-22B")`,
		`cmmv-hive/generals.yml:agents.collaborators[5] ("Qwen2.5 7B / 14B Instruct")`,
		`cmmv-hive/generals.yml:agents.collaborators[6] ("Phi-3-mini / Phi-3.5")`,
		`cmmv-hive/generals.yml:agents.collaborators[7] ("StarCoder2-15B / CodeLlama-13B")`,
		`cmmv-hive/generals.yml:agents.collaborators[8] ("DeepSeek-Coder 6.7B / 33B")`,
		`gov/guidelines/MODELS_CHECKLIST.md:55 ("Llama 3 8B / 11B Instruct")`,
		`gov/guidelines/MODELS_CHECKLIST.md:58 ("Phi-3-mini / Phi-3.5")`,
		`gov/guidelines/MODELS_CHECKLIST.md:60 ("StarCoder2-15B / CodeLlama-13B")`,
		`gov/guidelines/MODELS_CHECKLIST.md:62 ("DeepSeek-Coder 6.7B / 33B")`,
	}
	if !slices.Equal(splits, wantSplits) {
		t.Errorf("split entries:\n got %q\nwant %q", splits, wantSplits)
	}
	for _, id := range []string{"anthropic/claude-3-5-sonnet", "anthropic/claude-3-5-opus"} {
		r := hiveRecord(t, b, id)
		if r.Doc.Annotations["hivellm.io/split-from"] != "Claude 3.5 Sonnet / Opus" || r.Role != api.RoleGeneral {
			t.Errorf("%s: split-from %q, role %s", id, r.Doc.Annotations["hivellm.io/split-from"], r.Role)
		}
	}
}

// TestHiveLLMFoundingRule checks that the generals the founding rule
// refuses are carried as found and named.
func TestHiveLLMFoundingRule(t *testing.T) {
	b := hiveBatch(t)
	wantNotes := []string{
		"alibaba/qwen-3-32b is listed as a general (gov/guidelines/MODELS_CHECKLIST.md:37 (Qwen3-32B)) but its name makes it medium: the founding rule (large, 70B+) refuses it",
		"openai/gpt-5-mini is listed as a general (gov/guidelines/MODELS_CHECKLIST.md:25 (GPT-5-Mini)) but is a mini variant: the founding rule refuses it",
		"openai/o1-mini is listed as a general (gov/guidelines/MODELS_CHECKLIST.md:26 (O1-Mini)) but is a mini variant: the founding rule refuses it",
	}
	var got []string
	for _, n := range b.Notes {
		if strings.Contains(n, "the founding rule") {
			got = append(got, n)
		}
	}
	if !slices.Equal(got, wantNotes) {
		t.Errorf("founding-rule notes:\n got %q\nwant %q", got, wantNotes)
	}
	for _, c := range []struct {
		id, displayName string
		size            api.SizeClass
	}{
		{"openai/gpt-5-mini", "GPT-5-Mini", api.SizeMini},
		{"openai/o1-mini", "O1-Mini", api.SizeMini},
		{"alibaba/qwen-3-32b", "Qwen3-32B", api.SizeMedium},
	} {
		r := hiveRecord(t, b, c.id)
		if r.Role != api.RoleGeneral || r.Doc.SizeClass != c.size || !r.Estimated || r.Doc.DisplayName != c.displayName {
			t.Errorf("%s: role %s, size %s, estimated %v, display name %q; want general, %s, true, %q", c.id, r.Role, r.Doc.SizeClass, r.Estimated, r.Doc.DisplayName, c.size, c.displayName)
		}
		if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "the founding rule") }) {
			t.Errorf("%s: no founding-rule note in %q", c.id, r.Notes)
		}
	}
	// Small variants that no file lists as a general are not flagged.
	for _, id := range []string{"xai/grok-3-mini", "openai/gpt-5-nano", "openai/gpt-4o-mini", "microsoft/phi-3-mini"} {
		if r := hiveRecord(t, b, id); r.Role == api.RoleGeneral {
			t.Errorf("%s: role general", id)
		}
	}
}

// TestHiveLLMRoles checks the notes where the sources disagree on a role.
func TestHiveLLMRoles(t *testing.T) {
	b := hiveBatch(t)
	for _, want := range []string{
		"anthropic/claude-4-sonnet: role general requested, from cmmv-hive/generals.yml:agents.generals[1] (generals); but gov/metrics/model_evaluations.json:evaluations[3] says contributor (specialist); the roster (generals.yml) wins",
		"openai/gpt-4o: role specialist requested, from cmmv-hive/generals.yml:agents.collaborators[0] (collaborators); but gov/guidelines/MODELS_CHECKLIST.md:17 says Generals (high-capacity) (general), gov/metrics/model_evaluations.json:evaluations[10] says rejected (experimental); the roster (generals.yml) wins",
		"xai/grok-3-mini: role specialist requested, from gov/guidelines/MODELS_CHECKLIST.md:52 (New Collaborators (added 2025-09)); but gov/metrics/model_evaluations.json:evaluations[14] says rejected (experimental); the checklist (MODELS_CHECKLIST.md) over the evaluation wins",
	} {
		if !slices.Contains(b.Notes, want) {
			t.Errorf("no note %q", want)
		}
	}
	n := 0
	for _, note := range b.Notes {
		if strings.Contains(note, " requested, from ") {
			n++
		}
	}
	if n != 10 {
		t.Errorf("%d role-disagreement notes, want 10", n)
	}
	if want := "openai/gpt-5: no file gives a parameter count or a size marker; size_class is left empty and a governor must set it"; !slices.Contains(b.Notes, want) {
		t.Errorf("no note %q", want)
	}
}

// TestHiveLLMResults checks that the evaluation results are linked to the
// reconciled models.
func TestHiveLLMResults(t *testing.T) {
	b := hiveBatch(t)
	ids := map[string]bool{}
	for _, r := range b.Records {
		ids[r.Doc.ModelID] = true
	}
	perModel := map[string]int{}
	for _, r := range b.Results {
		if !ids[r.ModelID] {
			t.Errorf("result %s linked to %q, which is no record", r.Result.Where, r.ModelID)
		}
		perModel[r.ModelID]++
	}
	if len(b.Results) != 42 || len(perModel) != 25 {
		t.Errorf("%d results linked to %d models, want 42 linked to 25", len(b.Results), len(perModel))
	}
	for id, want := range map[string]int{
		"openai/gpt-5": 2, "openai/gpt-5-fast": 1, "xai/grok-3-mini": 1, "deepseek/deepseek-v3": 2,
		"meta/llama-3-1-405b": 2, "anthropic/claude-3-7-sonnet": 2, "openai/o4-mini": 0,
	} {
		if perModel[id] != want {
			t.Errorf("%s: %d results, want %d", id, perModel[id], want)
		}
	}
	unlinked := 0
	for _, n := range b.Notes {
		if strings.HasPrefix(n, "the result ") && strings.Contains(n, " is not linked: ") {
			unlinked++
		}
	}
	if unlinked != 9 {
		t.Errorf("%d unlinked results noted, want 9 (the rejected entries without a score)", unlinked)
	}
}

// TestHiveLLMRoot checks the directories HiveLLM accepts.
func TestHiveLLMRoot(t *testing.T) {
	fromGov, err := HiveLLM(filepath.Join(hiveTestdata, "gov"))
	if err != nil {
		t.Fatalf("HiveLLM(gov): %v", err)
	}
	if len(fromGov.Records) != len(hiveBatch(t).Records) {
		t.Errorf("from gov/: %d records, want the same as from its parent", len(fromGov.Records))
	}
	if _, err := HiveLLM(t.TempDir()); !errs.Is(err, errs.NotFound) {
		t.Errorf("HiveLLM(empty dir) = %v, want a NotFound error", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cmmv-hive"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(hiveTestdata, "cmmv-hive", "generals.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cmmv-hive", "generals.yml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := HiveLLM(dir)
	if err != nil {
		t.Fatalf("HiveLLM(roster only): %v", err)
	}
	if len(b.Records) != 32 || len(b.Results) != 0 {
		t.Errorf("roster only: %d records, %d results; want 32, 0", len(b.Records), len(b.Results))
	}
	if !strings.Contains(b.Notes[0], "found cmmv-hive/generals.yml; missing gov/guidelines/MODELS_CHECKLIST.md, gov/metrics/model_evaluations.json, gov/metrics/models/*.json") {
		t.Errorf("first note %q does not say what was found and missing", b.Notes[0])
	}
}
