package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)

// sampleRecords is one record of every kind, with the values a careless
// encoding would change: JSON with spaces, nil and empty byte strings.
func sampleRecords() []*store.Record {
	later := t0.Add(time.Hour)
	zero, one, stderr := 0.0, 1.0, 0.004
	var hash [32]byte
	for i := range hash {
		hash[i] = byte(i * 7)
	}
	return []*store.Record{
		{Kind: store.KindPolicy, Policy: &api.Policy{Version: 1, Name: "b", Hash: "sha256:1", CreatedAt: t0, CreatedBy: "gov",
			Bundle: json.RawMessage("{\n  \"name\": \"b\" }")}},
		{Kind: store.KindActivation, Activation: &store.Activation{Version: 1, At: t0, By: "gov",
			Report: &api.ComplianceReport{PolicyVersion: 1, Checked: 2, NonCompliant: []api.ModelCompliance{{ModelID: "a/b", Deadline: &later}}}}},
		{Kind: store.KindModel, Model: &api.Model{SchemaVersion: api.SchemaVersion, ModelID: "a/b", Provider: "a", DisplayName: "<b> & ✓",
			Labels: map[string]string{"x": "y"}, ResourceVersion: "2", CreatedAt: &t0}},
		{Kind: store.KindRevision, Revision: &api.Revision{ModelID: "a/b", Revision: 2, Action: "delete", Actor: "alice", Time: t0}},
		{Kind: store.KindAlias, Alias: &api.Alias{Name: "h/c", Target: "a/b", ResourceVersion: "1", UpdatedAt: t0}},
		{Kind: store.KindAliasMove, AliasMove: &api.Alias{Name: "h/c", Target: "", ResourceVersion: "2", UpdatedAt: t0, Reason: "gone"}},
		{Kind: store.KindToken, Token: &store.Token{Token: api.Token{ID: "t1", Name: "ci", Roles: []string{}, Prefix: "mgv_t1",
			CreatedAt: t0, ExpiresAt: &later, RevokedAt: &later, RevokedBy: "admin"}, Hash: []byte{0, 1, 2, 255}}},
		{Kind: store.KindClaim, Claim: &store.Claim{Kind: store.ClaimKey, Value: "k1", ModelID: "a/b", At: t0}},
		{Kind: store.KindBenchmark, Benchmark: &api.Benchmark{Name: "hellaswag", Version: "1", Task: "multiple_choice",
			Metrics:   []api.BenchmarkMetric{{Name: "acc", Direction: api.HigherIsBetter, Min: &zero, Max: &one}, {Name: "ppl", Direction: api.LowerIsBetter}},
			CreatedAt: t0, CreatedBy: "gov"}},
		{Kind: store.KindEvaluation, Evaluation: &api.Evaluation{ID: "ev_0000000000000001", ModelID: "a/b",
			ResultRequest: api.ResultRequest{Benchmark: "hellaswag", BenchmarkVersion: "1",
				Values:   []api.MetricValue{{Metric: "acc", Value: 0.1 + 0.2, Stderr: &stderr}, {Metric: "ppl", Value: -1.5e-7}},
				Settings: map[string]any{"batch_size": 8.0, "split": "<validation> & ✓"}, EvaluatedAt: t0},
			Evaluator: "ci", RecordedAt: later, SupersededBy: "ev_0000000000000002"}},
		{Kind: store.KindAudit, Audit: &store.AuditRecord{Seq: 0, Time: t0, Principal: "p", Action: "a", Target: "t", Outcome: "o",
			Leaf: []byte("leaf\x00\xff")}},
		{Kind: store.KindAuditHash, AuditHash: &store.AuditHash{Index: 3, Hash: hash}},
		{Kind: store.KindEvent, Event: &api.Event{SpecVersion: api.CloudEventsVersion, ID: "1", Seq: 1, Source: "/s", Type: "t",
			Time: t0, DataContentType: "application/json", Data: json.RawMessage(`{ "a" : 1 }`)}},
		{Kind: store.KindEvent, Event: &api.Event{SpecVersion: api.CloudEventsVersion, ID: "2", Seq: 2, Source: "/s", Type: "t", Time: t0}},
		{Kind: store.KindWebhook, Webhook: &store.Webhook{Webhook: api.Webhook{ID: "wh_1", URL: "https://x/?a=1&b=2", Types: []string{},
			Status: "active", CreatedAt: t0, NextAttemptAt: &later}, Secret: "whsec_x"}},
		{Kind: store.KindDelivery, Delivery: &api.Delivery{ID: 7, WebhookID: "wh_1", EventSeq: 1, Attempt: 2, Time: t0, DurationMS: 1.25}},
	}
}

func writeSnapshot(t testing.TB, recs []*store.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	w := store.NewSnapshotWriter(&b)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write(%s): %v", r.Kind, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return b.Bytes()
}

func readSnapshot(r io.Reader) ([]*store.Record, error) {
	sr := store.NewSnapshotReader(r)
	var out []*store.Record
	for {
		rec, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	want := sampleRecords()
	file := writeSnapshot(t, want)
	got, err := readSnapshot(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d (%s) = %+v, want %+v", i, want[i].Kind, got[i], want[i])
		}
	}
	// An empty snapshot is a header alone.
	if got, err := readSnapshot(bytes.NewReader(writeSnapshot(t, nil))); err != nil || len(got) != 0 {
		t.Errorf("empty snapshot: %d records, %v", len(got), err)
	}
}

func TestSnapshotWriterRefusesMalformed(t *testing.T) {
	w := store.NewSnapshotWriter(io.Discard)
	for _, r := range []*store.Record{
		{Kind: store.KindModel},
		{Kind: "nonsense", Model: &api.Model{}},
		{Kind: store.KindModel, Model: &api.Model{}, Event: &api.Event{}},
	} {
		if err := w.Write(r); err == nil {
			t.Errorf("Write(%+v) = nil, want an error", r)
		}
	}
}

func TestSnapshotReaderRefuses(t *testing.T) {
	header := `{"format":"modelgov-snapshot","version":1,"created":"2026-01-02T03:04:05Z"}` + "\n"
	model := `{"kind":"model","model":{"model_id":"a/b"}}` + "\n"
	for _, tt := range []struct {
		name, input, want string
	}{
		{"empty", "", "no header"},
		{"not JSON", "hello\n", "line 1"},
		{"other format", `{"format":"tarball","version":1}` + "\n", `line 1: format "tarball"`},
		{"newer version", `{"format":"modelgov-snapshot","version":2}` + "\n", "line 1: version 2"},
		{"unknown kind", header + model + `{"kind":"spaceship","spaceship":{}}` + "\n", `line 3: snapshot record of unknown kind "spaceship"`},
		{"kind without its field", header + `{"kind":"event","model":{}}` + "\n", "line 2: snapshot record of kind event has no event"},
		{"two fields", header + `{"kind":"model","model":{},"event":{}}` + "\n", "line 2: snapshot record of kind model also holds a event"},
		{"short hash", header + `{"kind":"audit_hash","audit_hash":{"index":1,"hash":"abcd"}}` + "\n", "line 2: audit hash 1"},
		{"bad base64", header + `{"kind":"audit","audit":{"leaf":"!!"}}` + "\n", "line 2"},
		{"truncated", header + `{"kind":"model","mod`, "line 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readSnapshot(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("read %q: %v, want an error containing %q", tt.input, err, tt.want)
			}
		})
	}
}

// endless is an endless line of 'a'.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestSnapshotReaderBoundsLines(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 64 MiB")
	}
	header := `{"format":"modelgov-snapshot","version":1}` + "\n"
	_, err := readSnapshot(io.MultiReader(strings.NewReader(header), endless{}))
	if err == nil || !strings.Contains(err.Error(), "line 2: longer than") {
		t.Errorf("read an endless line: %v, want a line-length error", err)
	}
}

func FuzzSnapshotReader(f *testing.F) {
	f.Add(writeSnapshot(f, sampleRecords()))
	f.Add([]byte(`{"format":"modelgov-snapshot","version":1}` + "\n" + `{"kind":"event","event":{"data":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := readSnapshot(bytes.NewReader(data))
		if err != nil {
			return
		}
		// What the reader accepts is well formed, and writes back.
		for _, r := range recs {
			if err := r.Check(); err != nil {
				t.Fatalf("reader accepted a malformed record: %v", err)
			}
		}
		if _, err := readSnapshot(bytes.NewReader(writeSnapshot(t, recs))); err != nil {
			t.Fatalf("a snapshot read back does not read again: %v", err)
		}
	})
}
