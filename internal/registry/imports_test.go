package registry_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

var admin = registry.WriteOptions{Caller: registry.Caller{Principal: "root", Roles: []string{api.RoleAdmin}}}

func importDoc(id, display, size string, params float64) []byte {
	m := map[string]any{"schema_version": "1.1", "model_id": id, "provider": strings.Split(id, "/")[0], "display_name": display}
	if size != "" {
		m["size_class"] = size
	}
	if params > 0 {
		m["parameters"] = map[string]any{"count": params, "source": "declared"}
	}
	b, _ := json.Marshal(m)
	return b
}

func rec(src, id, display, size string, params float64) api.ImportRecord {
	return api.ImportRecord{Source: src, Key: id, Document: importDoc(id, display, size, params)}
}

func auditSize(t *testing.T, s *registry.Service) int64 {
	t.Helper()
	cp, err := s.AuditEntries(context.Background(), registry.AuditQuery{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(cp.Items))
}

func outcomes(r *api.ImportReport) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.ModelID+":"+it.Outcome)
	}
	return out
}

func TestImportDryRunAndAllOrNothing(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	if _, err := s.CreateModel(ctx, importDoc("meta/llama-3-3-70b", "Llama 3.3 70B", "large", 70e9), admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateModel(ctx, importDoc("mistral/mistral-7b", "Mistral 7B", "small", 7e9), admin); err != nil {
		t.Fatal(err)
	}
	recs := []api.ImportRecord{
		rec("a.json#/0", "openai/gpt-4o", "GPT-4o", "", 0),
		rec("a.json#/1", "meta/llama-3-3-70b", "Llama 3.3 70B Instruct", "large", 70e9), // display name changed
		rec("a.json#/2", "mistral/mistral-7b", "Mistral 7B", "small", 7e9),              // the same
		{Source: "a.json#/3", Key: "bad", Document: []byte(`{"schema_version":"1.1","model_id":"Not An Id","provider":"x","display_name":"x"}`)},
		{Source: "a.json#/4", Key: "unmapped", Problems: []api.FieldError{{Pointer: "/context_window", Message: "\"lots\" is not a number"}}},
	}
	size := auditSize(t, s)
	last, _ := s.LastEventSeq(ctx)

	dry, err := s.Import(ctx, recs, registry.ImportOptions{DryRun: true, Format: "documents"}, admin)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	want := []string{"openai/gpt-4o:create", "meta/llama-3-3-70b:update", "mistral/mistral-7b:unchanged", ":invalid", ":invalid"}
	if got := outcomes(dry); !slices.Equal(got, want) {
		t.Errorf("dry run outcomes %v, want %v", got, want)
	}
	if ch := dry.Items[1].Changes; len(ch) != 1 || ch[0].Path != "/display_name" || ch[0].After != "Llama 3.3 70B Instruct" {
		t.Errorf("update diff = %+v, want display_name", ch)
	}
	if r := dry.Items[3].Reasons; len(r) == 0 || !strings.Contains(r[0], "/model_id") {
		t.Errorf("schema reasons = %v", r)
	}
	if r := dry.Items[4].Reasons; len(r) != 1 || !strings.Contains(r[0], "/context_window") {
		t.Errorf("mapping reasons = %v", r)
	}
	if dry.Totals != (api.ImportTotals{Create: 1, Update: 1, Unchanged: 1, Invalid: 2}) || dry.Applied || dry.Batch != "" {
		t.Errorf("dry run totals %+v applied %v batch %q", dry.Totals, dry.Applied, dry.Batch)
	}
	if dry.Compliance == nil || dry.Compliance.Checked != 3 {
		t.Errorf("the dry run's compliance report checked %+v, want the 3 models the import would leave", dry.Compliance)
	}
	// Nothing written by the dry run.
	if _, err := s.GetModel(ctx, "openai/gpt-4o"); !errs.Is(err, errs.NotFound) {
		t.Errorf("the dry run created a model: %v", err)
	}
	if auditSize(t, s) != size {
		t.Error("the dry run wrote to the audit log")
	}
	if seq, _ := s.LastEventSeq(ctx); seq != last {
		t.Error("the dry run wrote events")
	}

	// All or nothing: two invalid records, nothing imported.
	rep, err := s.Import(ctx, recs, registry.ImportOptions{Format: "documents"}, admin)
	if !errs.Is(err, errs.Invalid) || rep == nil || rep.Totals.Invalid != 2 || rep.Applied {
		t.Fatalf("an import with invalid records: %+v, %v; want refused with its report", rep, err)
	}
	if _, err := s.GetModel(ctx, "openai/gpt-4o"); !errs.Is(err, errs.NotFound) {
		t.Errorf("a refused import created a model: %v", err)
	}
	if m, _ := s.GetModel(ctx, "meta/llama-3-3-70b"); m.DisplayName != "Llama 3.3 70B" {
		t.Errorf("a refused import changed a model: %s", m.DisplayName)
	}
	if seq, _ := s.LastEventSeq(ctx); seq != last {
		t.Error("a refused import wrote events")
	}
	// Only admins import.
	if _, err := s.Import(ctx, recs, registry.ImportOptions{DryRun: true}, governor); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a governor's import: %v", err)
	}
}

// With partial, the valid records are imported; a role the policy refuses
// (a mini variant asked for as a general) is lowered and flagged; the
// batch is rolled back as new revisions, and a rollback refuses when a
// model changed since, unless forced.
func TestImportPartialAndRollback(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	if _, err := s.CreateModel(ctx, importDoc("meta/llama-3-3-70b", "Llama 3.3 70B", "large", 70e9), admin); err != nil {
		t.Fatal(err)
	}
	mini := rec("generals.yml:agents.generals[9]", "xai/grok-3-mini", "Grok 3 Mini", "mini", 0)
	mini.Role = api.RoleGeneral
	spec := rec("generals.yml:agents.collaborators[0]", "mistral/mistral-small-24b", "Mistral Small 24B", "medium", 24e9)
	spec.Role = api.RoleSpecialist
	recs := []api.ImportRecord{
		rec("a.json#/0", "openai/gpt-4o", "GPT-4o", "", 0),
		rec("a.json#/1", "meta/llama-3-3-70b", "Llama 3.3 70B Instruct", "large", 70e9),
		{Source: "a.json#/2", Key: "bad", Document: []byte(`{"schema_version":"1.1"}`)},
		mini, spec,
	}
	// Without partial, the refused role makes the import invalid.
	if rep, err := s.Import(ctx, recs[3:4], registry.ImportOptions{}, admin); !errs.Is(err, errs.Invalid) ||
		rep.Items[0].Outcome != api.ImportInvalid || !strings.Contains(strings.Join(rep.Items[0].Reasons, " "), "general-not-small-variant") {
		t.Fatalf("a mini variant asked for as a general, all or nothing: %+v, %v", rep, err)
	}
	rep, err := s.Import(ctx, recs, registry.ImportOptions{Partial: true, Format: "hivellm", Source: "test"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Applied || !strings.HasPrefix(rep.Batch, "imp_") || rep.Totals != (api.ImportTotals{Create: 3, Update: 1, Invalid: 1, Flagged: 1}) {
		t.Fatalf("partial import: batch %q totals %+v", rep.Batch, rep.Totals)
	}
	it := rep.Items[3]
	if it.Granted == api.RoleGeneral || it.Flagged == "" || !strings.Contains(it.Flagged, "general-not-small-variant") {
		t.Errorf("the mini variant: granted %s, flag %q; want lowered and flagged by the founding rule", it.Granted, it.Flagged)
	}
	if m, _ := s.GetModel(ctx, "xai/grok-3-mini"); m.Role() == api.RoleGeneral {
		t.Error("a mini variant was made a general")
	}
	if m, _ := s.GetModel(ctx, "mistral/mistral-small-24b"); m.Role() != api.RoleSpecialist {
		t.Errorf("the collaborator's role: %s, want specialist", m.Role())
	}
	denials, _ := s.AuditEntries(ctx, registry.AuditQuery{Model: "xai/grok-3-mini", Outcome: "denied"})
	if len(denials.Items) != 1 {
		t.Errorf("the refused general role left %d denials in the audit log, want 1", len(denials.Items))
	}
	batches, err := s.ListImports(ctx, admin.Caller)
	if err != nil || len(batches.Items) != 1 || len(batches.Items[0].Models) != 4 {
		t.Fatalf("import batches = %+v, %v", batches, err)
	}

	// A model changed since: the rollback refuses, unless forced.
	if _, err := s.PatchModel(ctx, "openai/gpt-4o", []byte(`{"notes":"edited by hand"}`), admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RollbackImport(ctx, rep.Batch, false, admin); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "openai/gpt-4o") {
		t.Fatalf("rollback over a later change: %v, want a conflict naming openai/gpt-4o", err)
	}
	b, err := s.RollbackImport(ctx, rep.Batch, true, admin)
	if err != nil || b.RolledBackAt == nil {
		t.Fatalf("forced rollback: %+v, %v", b, err)
	}
	for _, id := range []string{"openai/gpt-4o", "xai/grok-3-mini", "mistral/mistral-small-24b"} {
		if _, err := s.GetModel(ctx, id); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s, created by the import, survived its rollback: %v", id, err)
		}
	}
	m, _ := s.GetModel(ctx, "meta/llama-3-3-70b")
	if m.DisplayName != "Llama 3.3 70B" || m.ResourceVersion == "1" {
		t.Errorf("the updated model after the rollback: %q rv %s; want the old name as a new revision", m.DisplayName, m.ResourceVersion)
	}
	revs, _ := s.ListRevisions(ctx, "meta/llama-3-3-70b", 10, "")
	if revs == nil || len(revs.Items) < 3 || revs.Items[0].Reason != "rollback of import "+rep.Batch {
		t.Errorf("revisions after the rollback: %+v", revs)
	}
	if _, err := s.RollbackImport(ctx, rep.Batch, false, admin); !errs.Is(err, errs.Conflict) {
		t.Errorf("a second rollback: %v", err)
	}
	evs := eventsOf(t, s, registry.EventImportRolledBack)
	if len(evs) != 1 {
		t.Errorf("%d import.rolled_back events", len(evs))
	}
}
