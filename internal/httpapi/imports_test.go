package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/httpapi"
	"github.com/hivellm/modelgov/internal/store"
)

// importRecord is a record of doc, as an importer maps it, asking for role
// ("" for none). The request is built by encoding/json from api types, so
// that the document goes on the wire as the api package encodes it.
func importRecord(t *testing.T, doc map[string]any, role api.Role) api.ImportRecord {
	t.Helper()
	id, _ := doc["model_id"].(string)
	return api.ImportRecord{Source: "catalog.json#" + id, Key: id, Document: mustJSON(t, doc), Role: role}
}

// importRequest is the body of POST /v1/imports.
func importRequest(t *testing.T, dryRun, partial bool, recs ...api.ImportRecord) []byte {
	t.Helper()
	return mustJSON(t, api.ImportRequest{Source: "catalog.json", Format: "test", DryRun: dryRun, Partial: partial, Records: recs})
}

// importReport decodes an import's answer.
func importReport(t *testing.T, body []byte) api.ImportReport {
	t.Helper()
	var rep api.ImportReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("answer is not an import report: %v: %s", err, body)
	}
	return rep
}

// importBatch applies, as the admin, an import of one new model of the
// cell, and returns the batch's id.
func (c *cell) importBatch() string {
	c.t.Helper()
	body := importRequest(c.t, false, false, importRecord(c.t, c.doc(c.id("imported")), ""))
	code, h, b := c.s.send(c.t, "POST", "/v1/imports", body)
	rep := importReport(c.t, b)
	if code != http.StatusCreated || !strings.HasPrefix(rep.Batch, "imp_") || h.Get("Location") != "/v1/imports/"+rep.Batch {
		c.t.Fatalf("import: %d Location %q %s", code, h.Get("Location"), b)
	}
	return rep.Batch
}

// registryState is what an import that changes nothing must leave alone:
// the models (by resource version), the size of the audit log, the events.
type registryState struct {
	models map[string]string
	audit  int
	events int
}

func (s *testServer) state(t *testing.T) registryState {
	t.Helper()
	ctx := context.Background()
	st := registryState{models: map[string]string{}, audit: s.size(t)}
	var l api.ModelList
	s.getJSON(t, "/v1/models?page_size=1000", &l)
	for _, m := range l.Items {
		st.models[m.ModelID] = m.ResourceVersion
	}
	evs, err := s.client.ListEvents(ctx, client.ListEventsOptions{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	st.events = len(evs.Items)
	return st
}

func (a registryState) same(b registryState) bool {
	return a.audit == b.audit && a.events == b.events && fmt.Sprint(a.models) == fmt.Sprint(b.models)
}

// itemOf finds the item of a model id in a report.
func itemOf(t *testing.T, rep api.ImportReport, key string) api.ImportItem {
	t.Helper()
	for _, it := range rep.Items {
		if it.Key == key {
			return it
		}
	}
	t.Fatalf("the report has no item for %s: %+v", key, rep.Items)
	return api.ImportItem{}
}

// importFixture is a registry with two models and the records of an
// import: one new model, one update of acme/existing (its notes), one
// record the same as acme/same, one document the schema refuses and one
// record the importer could not map.
func importFixture(t *testing.T) (*testServer, []api.ImportRecord) {
	t.Helper()
	s := newTestServer(t, serverConfig{})
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("acme/existing")))
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("acme/same")))
	changed := fullDocument("acme/existing")
	changed["notes"] = "imported"
	bad := map[string]any{"schema_version": "1.1", "model_id": "acme/bad", "provider": "acme", "size_class": "galactic"}
	recs := []api.ImportRecord{
		importRecord(t, fullDocument("acme/new"), ""),
		importRecord(t, changed, ""),
		importRecord(t, fullDocument("acme/same"), ""),
		importRecord(t, bad, ""),
		{Source: "catalog.json#4", Key: "acme/unmapped", Problems: []api.FieldError{{Pointer: "/size", Message: "not a size"}}},
	}
	return s, recs
}

// checkFixtureReport checks the report of the fixture's import.
func checkFixtureReport(t *testing.T, rep api.ImportReport) {
	t.Helper()
	if want := (api.ImportTotals{Create: 1, Update: 1, Unchanged: 1, Invalid: 2}); rep.Totals != want {
		t.Errorf("totals %+v, want %+v", rep.Totals, want)
	}
	if len(rep.Items) != 5 {
		t.Fatalf("%d items, want one per record: %+v", len(rep.Items), rep.Items)
	}
	if it := itemOf(t, rep, "acme/new"); it.Outcome != api.ImportCreate || it.ModelID != "acme/new" || it.Source != "catalog.json#acme/new" {
		t.Errorf("new model: %+v", it)
	}
	it := itemOf(t, rep, "acme/existing")
	if it.Outcome != api.ImportUpdate || len(it.Changes) != 1 || it.Changes[0].Path != "/notes" ||
		it.Changes[0].Before != "a note" || it.Changes[0].After != "imported" {
		t.Errorf("update: %+v, want one change of /notes from %q to %q", it, "a note", "imported")
	}
	if it := itemOf(t, rep, "acme/same"); it.Outcome != api.ImportUnchanged || len(it.Changes) != 0 {
		t.Errorf("unchanged: %+v", it)
	}
	if it := itemOf(t, rep, "acme/bad"); it.Outcome != api.ImportInvalid || len(it.Reasons) == 0 {
		t.Errorf("a document the schema refuses: %+v, want invalid with reasons", it)
	}
	if it := itemOf(t, rep, "acme/unmapped"); it.Outcome != api.ImportInvalid || !slices.Equal(it.Reasons, []string{"/size: not a size"}) {
		t.Errorf("an unmapped record: %+v, want invalid with its problem as the reason", it)
	}
	if rep.Compliance == nil {
		t.Error("the report has no compliance report")
	}
}

func TestImportDryRunChangesNothing(t *testing.T) {
	s, recs := importFixture(t)
	before := s.state(t)
	code, h, body := s.send(t, "POST", "/v1/imports", importRequest(t, true, false, recs...))
	if code != http.StatusOK || h.Get("Location") != "" {
		t.Fatalf("dry run: %d Location %q %s, want 200 without a Location", code, h.Get("Location"), body)
	}
	rep := importReport(t, body)
	if !rep.DryRun || rep.Applied || rep.Batch != "" {
		t.Errorf("dry run: dry_run %v applied %v batch %q", rep.DryRun, rep.Applied, rep.Batch)
	}
	checkFixtureReport(t, rep)
	if after := s.state(t); !after.same(before) {
		t.Errorf("a dry run changed the registry:\n%+v\n%+v", before, after)
	}
	var l api.ImportBatchList
	s.getJSON(t, "/v1/imports", &l)
	if len(l.Items) != 0 {
		t.Errorf("a dry run left a batch: %+v", l.Items)
	}
}

func TestImportAllOrNothing(t *testing.T) {
	s, recs := importFixture(t)
	before := s.state(t)
	code, _, body := s.send(t, "POST", "/v1/imports", importRequest(t, false, false, recs...))
	p := problemOf(t, body)
	if code != http.StatusUnprocessableEntity || p.Import == nil {
		t.Fatalf("an import with invalid records: %d %s, want 422 with the report in import", code, body)
	}
	if p.Import.Applied || p.Import.Batch != "" || p.Import.DryRun {
		t.Errorf("the refused import's report: applied %v batch %q dry_run %v", p.Import.Applied, p.Import.Batch, p.Import.DryRun)
	}
	checkFixtureReport(t, *p.Import)
	if after := s.state(t); !after.same(before) {
		t.Errorf("a refused import changed the registry:\n%+v\n%+v", before, after)
	}
	// Only valid records, one of them unchanged: applied.
	code, _, body = s.send(t, "POST", "/v1/imports", importRequest(t, false, false, recs[:3]...))
	if rep := importReport(t, body); code != http.StatusCreated || !rep.Applied || rep.Totals.Invalid != 0 {
		t.Errorf("an import of valid records: %d %s", code, body)
	}
	// The same again changes nothing: 200, no batch.
	before = s.state(t)
	code, h, body := s.send(t, "POST", "/v1/imports", importRequest(t, false, false, recs[:3]...))
	rep := importReport(t, body)
	if code != http.StatusOK || h.Get("Location") != "" || rep.Applied || rep.Batch != "" || rep.Totals.Unchanged != 3 {
		t.Errorf("an import that changes nothing: %d Location %q %s, want 200 with 3 unchanged and no batch", code, h.Get("Location"), body)
	}
	if after := s.state(t); !after.same(before) {
		t.Errorf("an import that changes nothing changed the registry:\n%+v\n%+v", before, after)
	}
}

func TestImportPartialAndRollback(t *testing.T) {
	ctx := context.Background()
	s, recs := importFixture(t)
	size := s.size(t)
	evs, err := s.client.ListEvents(ctx, client.ListEventsOptions{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	after := evs.Items[len(evs.Items)-1].Seq
	code, h, body := s.send(t, "POST", "/v1/imports", importRequest(t, false, true, recs...), "X-Request-Id", "req-import")
	rep := importReport(t, body)
	if code != http.StatusCreated || !strings.HasPrefix(rep.Batch, "imp_") || !rep.Applied || rep.DryRun ||
		h.Get("Location") != "/v1/imports/"+rep.Batch {
		t.Fatalf("partial import: %d Location %q %s, want 201 with the batch", code, h.Get("Location"), body)
	}
	checkFixtureReport(t, rep)
	batch := rep.Batch
	var m api.Model
	s.getJSON(t, "/v1/models/acme/new", &m)
	s.getJSON(t, "/v1/models/acme/existing", &m)
	if m.Notes != "imported" {
		t.Errorf("acme/existing notes %q after the import", m.Notes)
	}
	for _, id := range []string{"acme/bad", "acme/unmapped"} {
		if code, _, _ := s.send(t, "GET", "/v1/models/"+id, nil); code != http.StatusNotFound {
			t.Errorf("the invalid record %s was stored: %d", id, code)
		}
	}

	// The batch: what it touched, and its revisions before.
	var b api.ImportBatch
	s.getJSON(t, "/v1/imports/"+batch, &b)
	want := []api.ImportTouch{{ModelID: "acme/new", Before: 0, After: 1}, {ModelID: "acme/existing", Before: 1, After: 2}}
	if b.ID != batch || b.Source != "catalog.json" || b.Format != "test" || b.CreatedBy == "" || b.RolledBackAt != nil ||
		!slices.Equal(b.Models, want) || b.Totals != rep.Totals {
		t.Errorf("batch %+v, want the models %+v", b, want)
	}
	var l api.ImportBatchList
	s.getJSON(t, "/v1/imports", &l)
	if len(l.Items) != 1 || l.Items[0].ID != batch {
		t.Errorf("imports %+v, want %s", l.Items, batch)
	}
	if code, _, _ := s.send(t, "GET", "/v1/imports/imp_0000000000000000", nil); code != http.StatusNotFound {
		t.Errorf("an unknown import: %d, want 404", code)
	}

	// On the record: each model write, then the import.
	var actions []string
	for _, e := range s.since(t, size) {
		actions = append(actions, e.Action+" "+e.Target)
		if e.RequestID != "req-import" || e.Outcome != "allowed" {
			t.Errorf("entry %+v, want allowed with the request's id", e)
		}
	}
	if wantActions := []string{"model.create acme/new", "model.update acme/existing", "import.apply import/" + batch}; !slices.Equal(actions, wantActions) {
		t.Errorf("recorded %v, want %v", actions, wantActions)
	}
	evs, err = s.client.ListEvents(ctx, client.ListEventsOptions{After: after, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs.Items {
		types = append(types, e.Type+" "+e.Subject)
	}
	if wantTypes := []string{"io.modelgov.model.created acme/new", "io.modelgov.model.updated acme/existing",
		"io.modelgov.import.applied import/" + batch}; !slices.Equal(types, wantTypes) {
		t.Errorf("events %v, want %v", types, wantTypes)
	}

	// Rolled back: the model it created is gone, the one it updated is as
	// it was, and both are on the record.
	size, after = s.size(t), evs.Items[len(evs.Items)-1].Seq
	code, _, body = s.send(t, "POST", "/v1/imports/"+batch+"/rollback", nil, "X-Request-Id", "req-rollback")
	if code != http.StatusOK {
		t.Fatalf("rollback: %d %s", code, body)
	}
	if err := json.Unmarshal(body, &b); err != nil || b.RolledBackAt == nil || b.RolledBackBy == "" {
		t.Errorf("rolled back batch %s (%v)", body, err)
	}
	if code, _, _ := s.send(t, "GET", "/v1/models/acme/new", nil); code != http.StatusNotFound {
		t.Errorf("the model the import created is still there after the rollback: %d", code)
	}
	m = api.Model{}
	s.getJSON(t, "/v1/models/acme/existing", &m)
	if m.Notes != "a note" || m.ResourceVersion != "3" {
		t.Errorf("acme/existing after the rollback: notes %q revision %s, want the notes before the import as revision 3", m.Notes, m.ResourceVersion)
	}
	actions = nil
	for _, e := range s.since(t, size) {
		actions = append(actions, e.Action+" "+e.Target)
	}
	if wantActions := []string{"model.delete acme/new", "model.update acme/existing", "import.rollback import/" + batch}; !slices.Equal(actions, wantActions) {
		t.Errorf("rollback recorded %v, want %v", actions, wantActions)
	}
	evs, err = s.client.ListEvents(ctx, client.ListEventsOptions{After: after, Types: []string{"io.modelgov.import.rolled_back"}})
	if err != nil || len(evs.Items) != 1 || evs.Items[0].Subject != "import/"+batch {
		t.Errorf("rolled_back events: %+v (%v)", evs, err)
	}
	// Once only.
	code, _, body = s.send(t, "POST", "/v1/imports/"+batch+"/rollback", nil)
	if code != http.StatusConflict || problemOf(t, body).Type != "/problems/conflict" {
		t.Errorf("a second rollback: %d %s, want 409", code, body)
	}
	if code, _, _ := s.send(t, "POST", "/v1/imports/imp_0000000000000000/rollback", nil); code != http.StatusNotFound {
		t.Errorf("rollback of an unknown import: %d, want 404", code)
	}
	if code, _, _ := s.send(t, "POST", "/v1/imports/"+batch+"/rollback?force=perhaps", nil); code != http.StatusBadRequest {
		t.Errorf("rollback with a bad force: %d, want 400", code)
	}
}

func TestImportRollbackOfChangedModels(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("acme/kept")))
	changed := fullDocument("acme/kept")
	changed["notes"] = "imported"
	code, _, body := s.send(t, "POST", "/v1/imports", importRequest(t, false, false, importRecord(t, changed, "")))
	rep := importReport(t, body)
	if code != http.StatusCreated {
		t.Fatalf("import: %d %s", code, body)
	}
	// Changed since the import: refused, unless forced.
	s.write(t, "PATCH", "/v1/models/acme/kept", []byte(`{"notes":"edited by hand"}`), "Content-Type", "application/merge-patch+json")
	code, _, body = s.send(t, "POST", "/v1/imports/"+rep.Batch+"/rollback", nil)
	if p := problemOf(t, body); code != http.StatusConflict || !strings.Contains(p.Detail, "acme/kept") {
		t.Errorf("rollback over a later change: %d %s, want 409 naming acme/kept", code, body)
	}
	var m api.Model
	s.getJSON(t, "/v1/models/acme/kept", &m)
	if m.Notes != "edited by hand" {
		t.Errorf("a refused rollback changed the model: notes %q", m.Notes)
	}
	code, _, body = s.send(t, "POST", "/v1/imports/"+rep.Batch+"/rollback?force=false", nil)
	if code != http.StatusConflict {
		t.Errorf("rollback with force=false over a later change: %d %s, want 409", code, body)
	}
	s.write(t, "POST", "/v1/imports/"+rep.Batch+"/rollback?force=true", nil)
	s.getJSON(t, "/v1/models/acme/kept", &m)
	if m.Notes != "a note" {
		t.Errorf("after a forced rollback: notes %q, want %q", m.Notes, "a note")
	}
	entries := s.since(t, s.size(t)-1)
	if e := entries[0]; e.Action != "import.rollback" || !strings.Contains(e.Reason, "forced") {
		t.Errorf("forced rollback entry %+v, want import.rollback saying it was forced", e)
	}
}

// A role the policy refuses: under partial the model takes the highest
// role down the fallback chain that the policy allows, flagged; otherwise
// the record is invalid and nothing is imported.
func TestImportRoleLoweredAndFlagged(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	rec := importRecord(t, fullDocument("openai/gpt-9-mini"), api.RoleGeneral)

	code, _, body := s.send(t, "POST", "/v1/imports", importRequest(t, false, false, rec))
	p := problemOf(t, body)
	if code != http.StatusUnprocessableEntity || p.Import == nil || p.Import.Totals.Invalid != 1 {
		t.Fatalf("a refused role without partial: %d %s, want 422 with the record invalid", code, body)
	}
	it := p.Import.Items[0]
	if it.Outcome != api.ImportInvalid || !slices.ContainsFunc(it.Reasons, func(r string) bool { return strings.HasPrefix(r, "general-not-small-variant") }) {
		t.Errorf("refused role: %+v, want invalid with the rule general-not-small-variant", it)
	}
	if code, _, _ := s.send(t, "GET", "/v1/models/openai/gpt-9-mini", nil); code != http.StatusNotFound {
		t.Errorf("a refused import stored the model: %d", code)
	}

	code, _, body = s.send(t, "POST", "/v1/imports", importRequest(t, false, true, rec))
	rep := importReport(t, body)
	if code != http.StatusCreated || rep.Totals.Create != 1 || rep.Totals.Flagged != 1 {
		t.Fatalf("a refused role with partial: %d %s, want 201 with the record created and flagged", code, body)
	}
	it = rep.Items[0]
	if it.Outcome != api.ImportCreate || it.Role != api.RoleGeneral || it.Granted == api.RoleGeneral || it.Granted == "" ||
		!strings.Contains(it.Flagged, "general-not-small-variant") {
		t.Errorf("lowered role: %+v, want asked general, granted lower, flagged by general-not-small-variant", it)
	}
	var m api.Model
	s.getJSON(t, "/v1/models/openai/gpt-9-mini", &m)
	if m.Role() != it.Granted {
		t.Errorf("the model's role is %s; the report says %s", m.Role(), it.Granted)
	}
	// The refusal is on the record, as a denied classification.
	denied := s.entries(t, map[string][]string{"outcome": {"denied"}, "model": {"openai/gpt-9-mini"}})
	if len(denied) == 0 || !slices.Contains(denied[len(denied)-1].failedIDs(), "general-not-small-variant") {
		t.Errorf("denied entries of the lowered role: %+v", denied)
	}
}

// progressLines reads an import's progress stream.
func progressLines(t *testing.T, body []byte) []httpapi.ImportProgress {
	t.Helper()
	var out []httpapi.ImportProgress
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var p httpapi.ImportProgress
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("progress line %q: %v", sc.Bytes(), err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		t.Fatalf("an empty progress stream")
	}
	return out
}

func TestImportProgressStream(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	var recs []api.ImportRecord
	for i := range 150 {
		recs = append(recs, importRecord(t, fullDocument(fmt.Sprintf("bulk/m-%03d", i)), ""))
	}
	code, h, body := s.send(t, "POST", "/v1/imports?progress=ndjson", importRequest(t, false, false, recs...))
	if code != http.StatusOK || h.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("progress stream: %d %s", code, h.Get("Content-Type"))
	}
	lines := progressLines(t, body)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want two of progress and the report: %s", len(lines), body)
	}
	for i, want := range []int{100, 150} {
		if p := lines[i]; p.Done != want || p.Total != 150 || p.Report != nil || p.Problem != nil {
			t.Errorf("line %d: %+v, want done %d of 150", i, p, want)
		}
	}
	last := lines[2]
	if last.Report == nil || !last.Report.Applied || last.Report.Totals.Create != 150 || !strings.HasPrefix(last.Report.Batch, "imp_") {
		t.Fatalf("last line %+v, want the report of an applied import", last)
	}
	var b api.ImportBatch
	s.getJSON(t, "/v1/imports/"+last.Report.Batch, &b)
	if len(b.Models) != 150 {
		t.Errorf("the streamed import's batch touched %d models, want 150", len(b.Models))
	}

	// A refused import: the stream ends with the problem, its report in it.
	bad := append(recs[:1:1], api.ImportRecord{Key: "broken", Problems: []api.FieldError{{Message: "no model id"}}})
	code, _, body = s.send(t, "POST", "/v1/imports?progress=ndjson", importRequest(t, false, false, bad...))
	lines = progressLines(t, body)
	last = lines[len(lines)-1]
	if code != http.StatusOK || len(lines) != 2 || lines[0].Done != 2 || last.Problem == nil || last.Problem.Status != 422 ||
		last.Problem.Import == nil || last.Problem.Import.Totals.Invalid != 1 {
		t.Errorf("a refused streamed import: %d %s, want progress then a 422 problem with the report", code, body)
	}
	if code, _, _ := s.send(t, "POST", "/v1/imports?progress=sse", importRequest(t, true, false, recs[:1]...)); code != http.StatusBadRequest {
		t.Errorf("an unknown progress stream: %d, want 400", code)
	}
}

func TestImportRequestRefusals(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	for _, c := range []struct {
		name string
		body []byte
		code int
	}{
		{"no records", []byte(`{"records":[]}`), http.StatusUnprocessableEntity},
		{"an unknown field", []byte(`{"records":[],"everything":true}`), http.StatusBadRequest},
		{"not JSON", []byte(`records: []`), http.StatusBadRequest},
	} {
		if code, _, body := s.send(t, "POST", "/v1/imports", c.body); code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.code)
		}
	}
}

// GET /v1/backup is a snapshot that store.NewSnapshotReader reads, with
// the imported models.
func TestBackupOverHTTP(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	code, _, body := s.send(t, "POST", "/v1/imports", importRequest(t, false, false,
		importRecord(t, fullDocument("acme/one"), ""), importRecord(t, fullDocument("acme/two"), "")))
	if code != http.StatusCreated {
		t.Fatalf("import: %d %s", code, body)
	}
	code, h, body := s.send(t, "GET", "/v1/backup", nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/x-ndjson" || h.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("backup: %d %v", code, h)
	}
	first, _, _ := bytes.Cut(body, []byte("\n"))
	var header struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(first, &header); err != nil || header.Format != "modelgov-snapshot" || header.Version != 1 {
		t.Errorf("first line %s: want the snapshot header (%v)", first, err)
	}
	r := store.NewSnapshotReader(bytes.NewReader(body))
	models, kinds := map[string]bool{}, map[string]int{}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		kinds[rec.Kind]++
		if rec.Model != nil {
			models[rec.Model.ModelID] = true
		}
	}
	if !models["acme/one"] || !models["acme/two"] {
		t.Errorf("the backup's models %v lack the imported ones", models)
	}
	for _, k := range []string{"policy", "audit", "event", "token"} {
		if kinds[k] == 0 {
			t.Errorf("the backup has no %s record: %v", k, kinds)
		}
	}
	if code, _, _ := s.send(t, "GET", "/v1/backup?full=1", nil); code != http.StatusBadRequest {
		t.Errorf("backup with an unknown parameter: %d, want 400", code)
	}
}

// Only admins import, read imports, roll back and back up.
func TestImportsAreForAdmins(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	tokens := roleTokens(t, s)
	c := newCell(t, s)
	batch := c.importBatch()
	body := importRequest(t, false, false, importRecord(t, c.doc(c.id("other")), ""))
	size := s.size(t)
	for _, role := range []string{api.RoleViewer, api.RoleEvaluator, api.RoleMaintainer, api.RoleGovernor} {
		for _, r := range []struct {
			method, path string
			body         []byte
		}{
			{"POST", "/v1/imports", body},
			{"POST", "/v1/imports?progress=ndjson", body},
			{"GET", "/v1/imports", nil},
			{"GET", "/v1/imports/" + batch, nil},
			{"POST", "/v1/imports/" + batch + "/rollback", nil},
			{"GET", "/v1/backup", nil},
		} {
			code, _, b := (as{s: s, token: tokens[role]}).send(t, r.method, r.path, r.body)
			if code != http.StatusForbidden || problemOf(t, b).Type != "/problems/forbidden" {
				t.Errorf("%s %s as %s: %d %s, want 403", r.method, r.path, role, code, b)
			}
		}
	}
	if code, _, _ := (as{s: s}).send(t, "GET", "/v1/backup", nil); code != http.StatusUnauthorized {
		t.Errorf("backup without credentials: %d, want 401", code)
	}
	if got := s.size(t); got != size {
		t.Errorf("refused requests changed the audit log: %d → %d entries", size, got)
	}
	if code, _, _ := s.send(t, "GET", "/v1/models/"+c.id("other"), nil); code != http.StatusNotFound {
		t.Errorf("a refused import stored its model: %d", code)
	}
}

// On the wire a record's document is the model document itself, a JSON
// object (or null for a record the importer could not map), as the OpenAPI
// document says: not a string.
func TestImportDocumentIsAJSONObject(t *testing.T) {
	wire, err := json.Marshal(api.ImportRecord{Key: "k", Document: []byte(`{"model_id":"acme/wire"}`)})
	if err != nil || !bytes.Contains(wire, []byte(`"document":{"model_id":"acme/wire"}`)) {
		t.Errorf("api.ImportRecord encodes as %s (%v), want the document as a JSON object", wire, err)
	}
	s := newTestServer(t, serverConfig{})
	code, _, body := s.send(t, "POST", "/v1/imports", []byte(`{"dry_run": true, "records": [
	  {"key": "acme/wire", "document": {"model_id": "acme/wire", "provider": "acme", "display_name": "Wire", "size_class": "large"}},
	  {"key": "broken", "document": null, "problems": [{"pointer": "/size", "message": "not a size"}]}]}`))
	if code != http.StatusOK {
		t.Fatalf("an import whose documents are JSON objects: %d %s, want 200", code, body)
	}
	if rep := importReport(t, body); rep.Totals.Create != 1 || rep.Totals.Invalid != 1 {
		t.Errorf("report %s, want one create and one invalid", body)
	}
}
