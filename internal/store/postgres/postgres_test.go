package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/storetest"
)

// testDSN returns the DSN of the test database, from
// MODELGOV_TEST_POSTGRES. Without it the test is skipped, unless CI=true:
// CI must not pass by skipping.
func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("MODELGOV_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but MODELGOV_TEST_POSTGRES is not set: set it to a PostgreSQL DSN, " +
				"e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		}
		t.Skip("MODELGOV_TEST_POSTGRES is not set: set it to a PostgreSQL DSN to run the PostgreSQL store's tests, " +
			"e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return dsn
}

// newSchema creates an empty schema in the test database and returns a DSN
// whose search_path is that schema, so that each test has a database of
// its own. The schema is dropped when the test ends, after the cleanups
// registered later (closing the stores) have run.
func newSchema(t *testing.T) string {
	t.Helper()
	dsn := testDSN(t)
	ctx := context.Background()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "mgtest_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to MODELGOV_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, dsn, schema)
}

// withSearchPath adds search_path=schema to a URL or key=value DSN.
func withSearchPath(t *testing.T, dsn, schema string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("MODELGOV_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openStore opens a store on dsn, closed when the test ends.
func openStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		dsn := newSchema(t)
		s, err := Open(context.Background(), dsn, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s // storetest closes it
	})
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := storetest.NewModel("openai/gpt-5", "active", "general", 1)
	if err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error { return tx.PutModel(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping after Close: want an error")
	}
	// Opening again runs the migrations again (a no-op) and finds the data.
	s = openStore(t, dsn)
	if _, err := s.GetModel(ctx, m.ModelID); err != nil {
		t.Errorf("GetModel after reopen: %v", err)
	}
	if _, err := Open(ctx, dsn, Options{MaxConns: -1}); err == nil {
		t.Error("Open with negative MaxConns: want an error")
	}
}

// hashReader reads the audit tree's stored hashes through a store reader.
type hashReader struct {
	ctx context.Context
	r   store.Reader
}

func (h hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	raw, err := h.r.ReadHashes(h.ctx, indexes)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(raw))
	for i, b := range raw {
		out[i] = b
	}
	return out, nil
}

// TestReplicas runs two stores on one database, as two registry processes
// would, each with several writers appending events and audit entries at
// once: the advisory lock serializes the transactions of both, so the
// event and audit sequences are gap-free, with no duplicates, and the
// audit tree is the tree of the stored leaves.
func TestReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	replicas := []*Store{openStore(t, dsn), openStore(t, dsn)}
	const writers, each = 6, 25
	var wg sync.WaitGroup
	errc := make(chan error, len(replicas)*writers)
	for r, s := range replicas {
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					name := fmt.Sprintf("r%d/w%d/%d", r, w, i)
					err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
						e := &api.Event{SpecVersion: api.CloudEventsVersion, Source: "/modelgov/test", Type: api.EventTypePrefix + "model.updated",
							Subject: name, Time: time.Now(), DataContentType: "application/json", Data: []byte(`{}`)}
						if err := tx.AppendEvent(ctx, e); err != nil {
							return err
						}
						size, err := tx.AuditSize(ctx)
						if err != nil {
							return err
						}
						rec := &store.AuditRecord{Seq: size, Time: time.Now(), Principal: name, Action: "model.update",
							Target: "a/b", Outcome: "allowed", Leaf: []byte(name)}
						hs, err := tlog.StoredHashes(size, rec.Leaf, hashReader{ctx, tx})
						if err != nil {
							return err
						}
						raw := make([][32]byte, len(hs))
						for i, h := range hs {
							raw[i] = h
						}
						return tx.AppendAudit(ctx, rec, tlog.StoredHashIndex(0, size), raw)
					})
					if err != nil {
						errc <- fmt.Errorf("%s: %w", name, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	const total = 2 * writers * each
	s := replicas[0]

	events, err := s.ListEvents(ctx, store.EventQuery{Limit: total + 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != total {
		t.Fatalf("%d events, want %d", len(events), total)
	}
	subjects := map[string]bool{}
	for i, e := range events {
		if e.Seq != int64(i+1) || e.ID != strconv.Itoa(i+1) {
			t.Fatalf("event %d has seq %d, id %q: a gap or a duplicate", i+1, e.Seq, e.ID)
		}
		if subjects[e.Subject] {
			t.Errorf("event %s appended twice", e.Subject)
		}
		subjects[e.Subject] = true
	}

	recs, err := s.AuditEntries(ctx, store.AuditQuery{Limit: total + 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != total {
		t.Fatalf("%d audit entries, want %d", len(recs), total)
	}
	var tree []tlog.Hash
	principals := map[string]bool{}
	for i, r := range recs {
		if r.Seq != int64(i) {
			t.Fatalf("audit entry %d has sequence number %d", i, r.Seq)
		}
		if principals[r.Principal] {
			t.Errorf("audit entry of %s appended twice", r.Principal)
		}
		principals[r.Principal] = true
		hs, err := tlog.StoredHashes(r.Seq, r.Leaf, memoryTree(tree))
		if err != nil {
			t.Fatal(err)
		}
		tree = append(tree, hs...)
	}
	stored, err := tlog.TreeHash(total, hashReader{ctx, replicas[1]})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := tlog.TreeHash(total, memoryTree(tree)); stored != want {
		t.Errorf("stored tree hash %v, want the tree of the stored leaves %v", stored, want)
	}
}

// memoryTree is an audit tree in memory.
type memoryTree []tlog.Hash

func (m memoryTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// TestNotify checks that a transaction that appended events notifies
// EventChannel with its last sequence number when it commits, and that an
// aborted one notifies nothing.
func TestNotify(t *testing.T) {
	ctx := context.Background()
	dsn := newSchema(t)
	s := openStore(t, dsn)
	listener, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN "+EventChannel); err != nil {
		t.Fatal(err)
	}
	event := func(subject string) *api.Event {
		return &api.Event{SpecVersion: api.CloudEventsVersion, Source: "/modelgov/test", Type: api.EventTypePrefix + "model.updated",
			Subject: subject, Time: time.Now(), DataContentType: "application/json", Data: []byte(`{}`)}
	}
	appendEvents := func(n int, fail error) error {
		return s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
			for i := range n {
				if err := tx.AppendEvent(ctx, event(fmt.Sprint("a/", i))); err != nil {
					return err
				}
			}
			return fail
		})
	}
	boom := errors.New("boom")
	if err := appendEvents(2, boom); !errors.Is(err, boom) {
		t.Fatalf("aborted ReadWrite = %v, want boom", err)
	}
	if err := appendEvents(0, nil); err != nil { // no event, no notification
		t.Fatal(err)
	}
	if err := appendEvents(3, nil); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := listener.WaitForNotification(wait)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	if n.Channel != EventChannel || n.Payload != "3" {
		t.Errorf("notification on %q with payload %q, want %q with the last sequence number 3", n.Channel, n.Payload, EventChannel)
	}
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if n, err := listener.WaitForNotification(short); err == nil {
		t.Errorf("unexpected second notification %q", n.Payload)
	}
}

func TestStampRange(t *testing.T) {
	for _, tt := range []struct {
		t  time.Time
		ok bool
	}{
		{time.Time{}, true},
		{time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)), true},
		{time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		v, err := stamp(tt.t).Int64Value()
		if (err == nil) != tt.ok {
			t.Errorf("stamp(%v): err = %v, want ok %v", tt.t, err, tt.ok)
			continue
		}
		if err != nil {
			continue
		}
		var back time.Time
		if err := (*stamp)(&back).ScanInt64(v); err != nil || !back.Equal(tt.t) || back.Location() != time.UTC {
			t.Errorf("stamp(%v) reads back as %v, %v", tt.t, back, err)
		}
	}
}
