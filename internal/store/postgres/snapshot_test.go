package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
	"github.com/hivellm/modelgov/internal/store/storetest"
)

// TestSnapshotFromSQLite moves a registry as `modelgov migrate` does:
// SQLite, to a snapshot file, to PostgreSQL; exporting PostgreSQL again
// gives the same records.
func TestSnapshotFromSQLite(t *testing.T) {
	dsn := newSchema(t)
	ctx := context.Background()
	dir := t.TempDir()
	lite, err := sqlite.Open(ctx, filepath.Join(dir, "modelgov.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	defer lite.Close()
	storetest.FillSnapshot(t, lite)
	want := storetest.Export(t, lite)

	path := filepath.Join(dir, "registry.snapshot")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := store.NewSnapshotWriter(f)
	if err := lite.Export(ctx, w.Write); err != nil {
		t.Fatalf("Export to a file: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pg := openStore(t, dsn)
	if err := pg.Import(ctx, store.NewSnapshotReader(f).Next); err != nil {
		t.Fatalf("Import from the file: %v", err)
	}
	storetest.SameRecords(t, storetest.Export(t, pg), want)
}

// TestImportThroughput imports a large registry built in memory: 100,000
// models of 2 revisions each, 200,000 audit entries with their stored
// hashes and 200,000 events. It runs only with MODELGOV_BENCH_IMPORT=1.
func TestImportThroughput(t *testing.T) {
	if os.Getenv("MODELGOV_BENCH_IMPORT") != "1" {
		t.Skip("set MODELGOV_BENCH_IMPORT=1 to measure the import of a large registry")
	}
	dsn := newSchema(t)
	recs := largeRegistry(100_000, 200_000, 200_000)
	s := openStore(t, dsn)
	ctx := context.Background()
	start := time.Now()
	if err := s.Import(ctx, storetest.Records(recs)); err != nil {
		t.Fatalf("Import: %v", err)
	}
	took := time.Since(start)
	t.Logf("imported %d records in %v: %.0f records/s", len(recs), took.Round(time.Millisecond), float64(len(recs))/took.Seconds())

	start = time.Now()
	n := 0
	if err := s.Export(ctx, func(*store.Record) error { n++; return nil }); err != nil {
		t.Fatalf("Export: %v", err)
	}
	took = time.Since(start)
	t.Logf("exported %d records in %v: %.0f records/s", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	if n != len(recs) {
		t.Errorf("exported %d records, imported %d", n, len(recs))
	}
}

func largeRegistry(models, audits, events int) []*store.Record {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var recs []*store.Record
	revisions := make([]*store.Record, 0, 2*models)
	for i := range models {
		m := storetest.NewModel(fmt.Sprintf("provider%d/model-%07d", i%50, i), "active", api.RoleSpecialist, 2)
		m.Family = fmt.Sprint("family-", i%1000)
		m.Labels = map[string]string{"team": fmt.Sprint("team-", i%20), "tier": "gold"}
		m.Capabilities = []string{"code", "reasoning"}
		m.ContextWindow = api.Count(128000 + i%7)
		recs = append(recs, &store.Record{Kind: store.KindModel, Model: m})
		first := *m
		first.ResourceVersion = "1"
		revisions = append(revisions,
			&store.Record{Kind: store.KindRevision, Revision: &api.Revision{ModelID: m.ModelID, Revision: 1, Action: "create",
				Actor: "alice", Time: t0, Model: &first}},
			&store.Record{Kind: store.KindRevision, Revision: &api.Revision{ModelID: m.ModelID, Revision: 2, Action: "update",
				Actor: "bob", Time: t0.Add(time.Minute), Model: m}})
	}
	recs = append(recs, revisions...)
	for i := range audits {
		leaf := fmt.Appendf(nil, `{"seq":%d,"time":"2026-01-02T03:04:05Z","principal":"alice","action":"model.update","target":"provider%d/model-%07d","outcome":"allowed","request_id":"req-%d"}`,
			i, i%50, i%models, i)
		recs = append(recs, &store.Record{Kind: store.KindAudit, Audit: &store.AuditRecord{Seq: int64(i), Time: t0,
			Principal: "alice", Action: "model.update", Target: fmt.Sprintf("provider%d/model-%07d", i%50, i%models),
			Outcome: "allowed", Leaf: leaf}})
	}
	for i := range tlog.StoredHashCount(int64(audits)) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		recs = append(recs, &store.Record{Kind: store.KindAuditHash, AuditHash: &store.AuditHash{Index: i, Hash: sha256.Sum256(b[:])}})
	}
	for i := 1; i <= events; i++ {
		recs = append(recs, &store.Record{Kind: store.KindEvent, Event: &api.Event{SpecVersion: api.CloudEventsVersion,
			ID: fmt.Sprint(i), Seq: int64(i), Source: "/modelgov", Type: api.EventTypePrefix + "model.updated",
			Subject: fmt.Sprintf("provider%d/model-%07d", i%50, i%models), Time: t0, DataContentType: "application/json",
			Data: fmt.Appendf(nil, `{"action":"update","principal":"bob","revision":2,"audit_seq":%d}`, i)}})
	}
	return recs
}
