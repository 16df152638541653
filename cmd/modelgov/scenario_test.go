package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

// gemmaAndGPT5 is what a user pipes into "model apply -f -": a new model,
// and openai/gpt-5 of testdata/first-session.yaml with one more label.
const gemmaAndGPT5 = `schema_version: "1.1"
model_id: openai/gpt-5
provider: openai
display_name: GPT-5
family: gpt-5
size_class: xxl
parameters: {count: 1.8e12, source: estimated}
context_window: 400000
capabilities: [code, reasoning, tools]
labels: {team: core, tier: prod}
---
schema_version: "1.1"
model_id: google/gemma-2-9b
provider: google
display_name: Gemma 2 9B
size_class: small
parameters: {count: 9e9, source: declared}
labels: {team: core, tier: test}
`

// TestCLIScenario is the session of the README that a new user runs: the
// real server, and the real client in one process per command.
func TestCLIScenario(t *testing.T) {
	srv := startServer(t, t.TempDir())
	mg := srv.cli()
	sunset := time.Now().UTC().AddDate(1, 0, 0).Format("2006-01-02")
	past := time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02")

	t.Run("apply creates the models of a file of two documents", func(t *testing.T) {
		got := mg.succeed(t, "", "model", "apply", "-f", "testdata/first-session.yaml")
		want := "openai/gpt-5 created\nopenai/gpt-5-general created\n"
		if got != want {
			t.Errorf("apply -f testdata/first-session.yaml printed\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("apply of the same file again changes nothing", func(t *testing.T) {
		got := mg.succeed(t, "", "model", "apply", "-f", "testdata/first-session.yaml")
		want := "openai/gpt-5 unchanged\nopenai/gpt-5-general unchanged\n"
		if got != want {
			t.Errorf("second apply printed\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("a legacy general proves its identity, then is classified general", func(t *testing.T) {
		// Proposal 036: a general needs a verified identity, which no model
		// has before it exists; the 1.0 document's role request was given
		// the fallback role, and its history says why.
		var m api.Model
		decodeStrictJSON(t, mg.succeed(t, "", "model", "get", "openai/gpt-5-general", "-o", "json"), &m)
		if m.Role() != api.RoleSpecialist || !strings.Contains(m.Governance.Reason, "general-verified-identity") {
			t.Fatalf("openai/gpt-5-general after apply: role %s, reason %q; want specialist, for want of an identity", m.Role(), m.Governance.Reason)
		}
		mg.proveIdentity(t, "openai/gpt-5-general")
		out := mg.succeed(t, "", "model", "classify", "openai/gpt-5-general", "--role", "general", "--reason", "proposal 035 example entry")
		if !strings.Contains(out, "is general") {
			t.Errorf("classify printed %q", out)
		}
	})

	t.Run("apply of a folder reads its .json, .yaml and .yml files in name order", func(t *testing.T) {
		got := mg.succeed(t, "", "model", "apply", "-f", "testdata/catalogue")
		want := "anthropic/claude-haiku created\nmistral/mistral-large-2 created\n"
		if got != want {
			t.Errorf("apply -f testdata/catalogue printed\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("apply reads standard input with -f -", func(t *testing.T) {
		got := mg.succeed(t, gemmaAndGPT5, "model", "apply", "-f", "-")
		want := "openai/gpt-5 updated\ngoogle/gemma-2-9b created\n"
		if got != want {
			t.Errorf("apply -f - printed\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("apply refuses a document with unknown fields, naming each by JSON pointer", func(t *testing.T) {
		res := mg.fail(t, "", "model", "apply", "-f", "testdata/invalid/unknown-field.yaml")
		for _, want := range []string{
			"testdata/invalid/unknown-field.yaml: invalid document",
			`/contxt_window: unknown field "contxt_window"`,
			`/parameters/precision: unknown field "precision"`,
			"1 of 1 documents were refused",
		} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
			}
		}
		if res.stdout != "" {
			t.Errorf("stdout = %q, want nothing", res.stdout)
		}
		if res := mg.fail(t, "", "model", "get", "meta/llama-3-70b"); !strings.Contains(res.stderr, "not found") {
			t.Errorf("the refused model can be read, or the error does not say it is not found:\n%s", res.stderr)
		}
	})

	t.Run("list -o json shows every model with its fields", func(t *testing.T) {
		var list api.ModelList
		decodeStrictJSON(t, mg.succeed(t, "", "model", "list", "-o", "json"), &list)
		want := []modelSummary{
			{ID: "anthropic/claude-haiku", Provider: "anthropic", DisplayName: "Claude Haiku", Size: api.SizeSmall,
				Role: api.RoleSpecialist, Status: api.StatusActive, Version: "1", Capabilities: []string{"tool-use", "summarization"}},
			{ID: "google/gemma-2-9b", Provider: "google", DisplayName: "Gemma 2 9B", Size: api.SizeSmall,
				Role: api.RoleNone, Status: api.StatusProposed, Version: "1", Labels: map[string]string{"team": "core", "tier": "test"}},
			{ID: "mistral/mistral-large-2", Provider: "mistral", DisplayName: "Mistral Large 2", Size: api.SizeLarge,
				Role: api.RoleNone, Status: api.StatusProposed, Version: "1", Labels: map[string]string{"team": "research"},
				Capabilities: []string{"code", "tool-use"}},
			{ID: "openai/gpt-5", Provider: "openai", DisplayName: "GPT-5", Size: api.SizeXXL,
				Role: api.RoleNone, Status: api.StatusProposed, Version: "2", Labels: map[string]string{"team": "core", "tier": "prod"},
				Capabilities: []string{"code", "reasoning", "tools"}},
			{ID: "openai/gpt-5-general", Provider: "openai", DisplayName: "GPT-5 (General)", Size: api.SizeXL,
				Role: api.RoleGeneral, Status: api.StatusActive, Version: "4", Capabilities: []string{"code", "reasoning", "tools"}},
		}
		var got []modelSummary
		for _, m := range list.Items {
			got = append(got, summarizeModel(m))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("model list -o json:\ngot  %+v\nwant %+v", got, want)
		}

		byID := map[string]*api.Model{}
		for _, m := range list.Items {
			byID[m.ModelID] = m
		}
		if m := byID["openai/gpt-5"]; m != nil {
			if m.Family != "gpt-5" || m.ContextWindow != 400000 ||
				m.Parameters == nil || *m.Parameters != (api.Parameters{Count: 1_800_000_000_000, Source: api.ParametersEstimated}) {
				t.Errorf("openai/gpt-5: family %q, context window %d, parameters %+v; want gpt-5, 400000, 1.8e12 estimated",
					m.Family, m.ContextWindow, m.Parameters)
			}
		}
		if m := byID["openai/gpt-5-general"]; m != nil {
			wantAnnotations := map[string]string{
				"modelgov.dev/p035-model-id":   "openai-gpt-5-general",
				"modelgov.dev/p035-created-at": "2025-09-07T00:00:00Z",
				"modelgov.dev/p035-updated-at": "2025-09-07T00:00:00Z",
			}
			if !reflect.DeepEqual(m.Annotations, wantAnnotations) {
				t.Errorf("openai/gpt-5-general annotations = %v, want %v", m.Annotations, wantAnnotations)
			}
			if !slices.Equal(m.EvalRefs, []string{"eval-openai-gpt-5-2025-09-07"}) ||
				!slices.Equal(m.SourceFiles, []string{"metrics/models/openai-gpt-5-general.json"}) ||
				m.Notes != "Primary large model entry for generals group." || m.SchemaVersion != api.SchemaVersion {
				t.Errorf("openai/gpt-5-general lost what its 1.0 document said: %+v", m)
			}
		}
	})

	t.Run("list filters", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want []string
		}{
			{[]string{"--role", "specialist"}, []string{"anthropic/claude-haiku"}},
			{[]string{"--role", "general"}, []string{"openai/gpt-5-general"}},
			{[]string{"--role", "experimental"}, nil},
			{[]string{"-l", "team=core"}, []string{"google/gemma-2-9b", "openai/gpt-5"}},
			{[]string{"-l", "team=core,tier!=test"}, []string{"openai/gpt-5"}},
			{[]string{"-l", "!team"}, []string{"anthropic/claude-haiku", "openai/gpt-5-general"}},
			{[]string{"--provider", "openai"}, []string{"openai/gpt-5", "openai/gpt-5-general"}},
			{[]string{"--status", "active"}, []string{"anthropic/claude-haiku", "openai/gpt-5-general"}},
			{[]string{"--provider", "openai", "--status", "proposed", "-l", "team=core"}, []string{"openai/gpt-5"}},
			{[]string{"-q", "gemma"}, []string{"google/gemma-2-9b"}},
			{[]string{"--capability", "tool-use"}, []string{"anthropic/claude-haiku", "mistral/mistral-large-2"}},
			// Display names sort byte by byte: "GPT-5 (General)" before "Gemma 2 9B".
			{[]string{"--sort", "display_name"}, []string{"anthropic/claude-haiku", "openai/gpt-5", "openai/gpt-5-general", "google/gemma-2-9b", "mistral/mistral-large-2"}},
			{[]string{"--sort", "display_name", "--provider", "openai"}, []string{"openai/gpt-5", "openai/gpt-5-general"}},
			{[]string{"--compliance", "non_compliant"}, nil},
			{[]string{"--compliance", "compliant", "--role", "general"}, []string{"openai/gpt-5-general"}},
		} {
			var list api.ModelList
			decodeStrictJSON(t, mg.succeed(t, "", append([]string{"model", "list", "-o", "json"}, tt.args...)...), &list)
			if got := modelIDs(list.Items); !slices.Equal(got, tt.want) {
				t.Errorf("model list %s = %v, want %v", strings.Join(tt.args, " "), got, tt.want)
			}
		}
	})

	t.Run("list prints a table, one page at a time unless --all", func(t *testing.T) {
		out := mg.succeed(t, "", "model", "list")
		if got, want := tableColumn(out, 0), []string{"MODEL", "anthropic/claude-haiku", "google/gemma-2-9b",
			"mistral/mistral-large-2", "openai/gpt-5", "openai/gpt-5-general"}; !slices.Equal(got, want) {
			t.Errorf("model list, first column = %v, want %v; output:\n%s", got, want, out)
		}

		res := mg.run(t, "", "model", "list", "--page-size", "2")
		if got, want := tableColumn(res.stdout, 0), []string{"MODEL", "anthropic/claude-haiku", "google/gemma-2-9b"}; !slices.Equal(got, want) {
			t.Errorf("model list --page-size 2, first column = %v, want %v", got, want)
		}
		if !strings.Contains(res.stderr, "more models: --page-token ") {
			t.Errorf("model list --page-size 2 does not say there are more models; stderr: %q", res.stderr)
		}

		var list api.ModelList
		decodeStrictJSON(t, mg.succeed(t, "", "model", "list", "--page-size", "2", "--all", "-o", "json"), &list)
		if len(list.Items) != 5 || list.NextPageToken != "" {
			t.Errorf("model list --page-size 2 --all: %d models, next page token %q; want all 5 and no token",
				len(list.Items), list.NextPageToken)
		}
	})

	t.Run("refused lifecycle changes exit non-zero and say why", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			args []string
			want []string // in stderr
		}{{
			name: "proposed cannot be deprecated",
			args: []string{"openai/gpt-5", "--to", "deprecated", "--reason", "too early", "--sunset", sunset},
			want: []string{"cannot go from proposed to deprecated", "allowed: active, archived"},
		}, {
			name: "active cannot go back to proposed",
			args: []string{"openai/gpt-5-general", "--to", "proposed", "--reason", "undo"},
			want: []string{"cannot go from active to proposed", "allowed: deprecated, suspended"},
		}, {
			name: "a model cannot move to the status it has",
			args: []string{"openai/gpt-5-general", "--to", "active", "--reason", "again"},
			want: []string{"already active", "deprecated", "suspended"},
		}, {
			name: "an unknown status is named",
			args: []string{"openai/gpt-5", "--to", "retired", "--reason", "r"},
			want: []string{`/status: unknown status "retired"`, "proposed, active, deprecated, suspended, archived"},
		}, {
			name: "deprecation needs a sunset date",
			args: []string{"anthropic/claude-haiku", "--to", "deprecated", "--reason", "r"},
			want: []string{"/sunset: a sunset date (YYYY-MM-DD) is required when deprecating"},
		}, {
			name: "a sunset date in the past",
			args: []string{"anthropic/claude-haiku", "--to", "deprecated", "--reason", "r", "--sunset", past},
			want: []string{"/sunset: the sunset date " + past + " is in the past"},
		}, {
			name: "the successor must be active",
			args: []string{"anthropic/claude-haiku", "--to", "deprecated", "--reason", "r", "--sunset", sunset,
				"--successor", "mistral/mistral-large-2"},
			want: []string{`/successor: model "mistral/mistral-large-2" is proposed; a successor must be active`},
		}, {
			name: "the policy keeps the last active general active",
			args: []string{"openai/gpt-5-general", "--to", "deprecated", "--reason", "r", "--sunset", sunset},
			want: []string{"denied by policy", "last-active-general", "a general cannot leave active while it is the last active general"},
		}, {
			name: "a reason is required",
			args: []string{"openai/gpt-5", "--to", "active"},
			want: []string{`required flag(s) "reason" not set`},
		}} {
			t.Run(tt.name, func(t *testing.T) {
				res := mg.fail(t, "", append([]string{"model", "lifecycle"}, tt.args...)...)
				for _, want := range tt.want {
					if !strings.Contains(res.stderr, want) {
						t.Errorf("model lifecycle %s: stderr does not say %q:\n%s", strings.Join(tt.args, " "), want, res.stderr)
					}
				}
			})
		}
	})

	t.Run("lifecycle moves a model and prints its new status", func(t *testing.T) {
		got := mg.succeed(t, "", "model", "lifecycle", "openai/gpt-5", "--to", "active", "--reason", "approved by vote 12")
		if want := "openai/gpt-5 is active (resource_version 3)\n"; got != want {
			t.Errorf("lifecycle --to active printed %q, want %q", got, want)
		}
		got = mg.succeed(t, "", "model", "lifecycle", "anthropic/claude-haiku", "--to", "deprecated",
			"--reason", "replaced by openai/gpt-5", "--sunset", sunset, "--successor", "openai/gpt-5")
		if want := "anthropic/claude-haiku is deprecated (resource_version 2)\n"; got != want {
			t.Errorf("lifecycle --to deprecated printed %q, want %q", got, want)
		}
	})

	t.Run("history shows every revision newest first, with action and reason", func(t *testing.T) {
		for _, tt := range []struct {
			model string
			want  []string // REVISION ACTION ACTOR STATUS ROLE REASON, without TIME
		}{{
			model: "openai/gpt-5",
			want: []string{
				"3 lifecycle admin active none approved by vote 12",
				"2 update admin proposed none -",
				"1 create admin proposed none -",
			},
		}, {
			model: "anthropic/claude-haiku",
			want: []string{
				"2 lifecycle admin deprecated specialist replaced by openai/gpt-5",
				"1 create admin active specialist -",
			},
		}} {
			out := mg.succeed(t, "", "model", "history", tt.model)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"REVISION", "TIME", "ACTION", "ACTOR", "STATUS", "ROLE", "REASON"}) {
				t.Errorf("model history %s: header %v", tt.model, got)
			}
			var got []string
			for _, line := range lines[1:] {
				f := strings.Fields(line)
				if len(f) < 7 {
					t.Fatalf("model history %s: short line %q", tt.model, line)
				}
				if _, err := time.Parse(time.RFC3339, f[1]); err != nil {
					t.Errorf("model history %s: time %q is not RFC 3339", tt.model, f[1])
				}
				got = append(got, strings.Join(append(f[:1:1], f[2:]...), " "))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("model history %s:\ngot  %q\nwant %q", tt.model, got, tt.want)
			}
		}
	})

	t.Run("get -o json is the model document", func(t *testing.T) {
		var m api.Model
		decodeStrictJSON(t, mg.succeed(t, "", "model", "get", "anthropic/claude-haiku", "-o", "json"), &m)
		if m.ModelID != "anthropic/claude-haiku" || m.ResourceVersion != "2" || m.Role() != api.RoleSpecialist || m.Lifecycle == nil {
			t.Fatalf("model get -o json: %+v", m)
		}
		got := *m.Lifecycle
		want := api.Lifecycle{Status: api.StatusDeprecated, Since: got.Since, Reason: "replaced by openai/gpt-5",
			ChangedBy: "admin", Successor: "openai/gpt-5", Sunset: sunset}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("lifecycle = %+v, want %+v", got, want)
		}
		if m.CreatedAt == nil || m.UpdatedAt == nil || m.UpdatedAt.Before(*m.CreatedAt) {
			t.Errorf("created_at %v, updated_at %v", m.CreatedAt, m.UpdatedAt)
		}

		if out := mg.succeed(t, "", "model", "get", "openai/gpt-5-general"); !strings.Contains(out, "model_id: openai/gpt-5-general\n") {
			t.Errorf("model get prints YAML by default; got:\n%s", out)
		}
	})

	t.Run("aliases point at models and keep their history", func(t *testing.T) {
		if got, want := mg.succeed(t, "", "alias", "set", "hivellm/chair", "openai/gpt-5", "--reason", "elected"),
			"hivellm/chair → openai/gpt-5\n"; got != want {
			t.Errorf("alias set printed %q, want %q", got, want)
		}
		if got, want := mg.succeed(t, "", "alias", "set", "hivellm/chair", "mistral/mistral-large-2", "--reason", "re-elected"),
			"hivellm/chair → mistral/mistral-large-2\n"; got != want {
			t.Errorf("alias set printed %q, want %q", got, want)
		}
		var a api.Alias
		decodeStrictJSON(t, mg.succeed(t, "", "alias", "get", "hivellm/chair", "-o", "json"), &a)
		if a.Name != "hivellm/chair" || a.Target != "mistral/mistral-large-2" || a.ResourceVersion != "2" || a.Reason != "re-elected" {
			t.Errorf("alias get -o json = %+v", a)
		}
		hist := mg.succeed(t, "", "alias", "history", "hivellm/chair")
		if got, want := tableColumn(hist, 1), []string{"TARGET", "mistral/mistral-large-2", "openai/gpt-5"}; !slices.Equal(got, want) {
			t.Errorf("alias history, targets = %v, want %v; output:\n%s", got, want, hist)
		}
		if got, want := tableColumn(hist, 2), []string{"VERSION", "2", "1"}; !slices.Equal(got, want) {
			t.Errorf("alias history, versions = %v, want %v", got, want)
		}
		if got, want := tableColumn(mg.succeed(t, "", "alias", "list"), 0), []string{"ALIAS", "hivellm/chair"}; !slices.Equal(got, want) {
			t.Errorf("alias list = %v, want %v", got, want)
		}
	})

	t.Run("delete erases only proposed models that no alias points at", func(t *testing.T) {
		res := mg.fail(t, "", "model", "delete", "openai/gpt-5")
		if want := "model openai/gpt-5 is active: only a proposed model can be deleted; archive it through its lifecycle instead"; !strings.Contains(res.stderr, want) {
			t.Errorf("delete of an active model: stderr does not say %q:\n%s", want, res.stderr)
		}
		res = mg.fail(t, "", "model", "delete", "mistral/mistral-large-2")
		if want := "is the target of alias hivellm/chair"; !strings.Contains(res.stderr, want) {
			t.Errorf("delete of an alias's target: stderr does not say %q:\n%s", want, res.stderr)
		}
		if got, want := mg.succeed(t, "", "model", "delete", "google/gemma-2-9b"), "google/gemma-2-9b deleted\n"; got != want {
			t.Errorf("delete of a proposed model printed %q, want %q", got, want)
		}
		if res := mg.fail(t, "", "model", "get", "google/gemma-2-9b"); !strings.Contains(res.stderr, "not found") {
			t.Errorf("a deleted model can still be read, or the error does not say not found:\n%s", res.stderr)
		}
		if got := tableColumn(mg.succeed(t, "", "model", "history", "google/gemma-2-9b"), 2); !slices.Equal(got, []string{"ACTION", "delete", "create"}) {
			t.Errorf("the history of a deleted model shows actions %v, want delete then create", got)
		}
	})

	t.Run("alias delete removes the alias and records the removal", func(t *testing.T) {
		if got, want := mg.succeed(t, "", "alias", "delete", "hivellm/chair", "--reason", "retired"), "hivellm/chair deleted\n"; got != want {
			t.Errorf("alias delete printed %q, want %q", got, want)
		}
		if res := mg.fail(t, "", "alias", "get", "hivellm/chair"); !strings.Contains(res.stderr, "not found") {
			t.Errorf("a deleted alias can still be read:\n%s", res.stderr)
		}
		if got, want := tableColumn(mg.succeed(t, "", "alias", "history", "hivellm/chair"), 1),
			[]string{"TARGET", "-", "mistral/mistral-large-2", "openai/gpt-5"}; !slices.Equal(got, want) {
			t.Errorf("alias history after delete, targets = %v, want %v", got, want)
		}
	})
}

// modelSummary is what "model list" shows of a model, and what a user
// checks first.
type modelSummary struct {
	ID, Provider, DisplayName string
	Size                      api.SizeClass
	Role                      api.Role
	Status                    api.Status
	Version                   string
	Labels                    map[string]string
	Capabilities              []string
}

func summarizeModel(m *api.Model) modelSummary {
	return modelSummary{ID: m.ModelID, Provider: m.Provider, DisplayName: m.DisplayName, Size: m.SizeClass,
		Role: m.Role(), Status: m.Status(), Version: m.ResourceVersion, Labels: m.Labels, Capabilities: m.Capabilities}
}

func modelIDs(models []*api.Model) []string {
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ModelID)
	}
	return ids
}

// tableColumn returns the i-th whitespace-separated field of each line of a table.
func tableColumn(table string, i int) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		if f := strings.Fields(line); len(f) > i {
			out = append(out, f[i])
		}
	}
	return out
}

func decodeStrictJSON(t *testing.T, text string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v; the text:\n%s", v, err, text)
	}
}
