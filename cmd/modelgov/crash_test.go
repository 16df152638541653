package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", to check the database file

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/server"
)

// The crash test's load: writers each register models one after the other
// and move each through these lifecycle changes, until the server dies.
const (
	crashCycles  = 3
	crashWriters = 8
	// The server is killed once it has acknowledged crashMinAcks writes and
	// crashMinRun has passed, so that it dies with writes in flight.
	crashMinAcks = 50
	crashMinRun  = 300 * time.Millisecond
)

var crashLifecycle = []api.LifecycleChange{
	{Status: api.StatusActive, Reason: "approved"},
	{Status: api.StatusSuspended, Reason: "incident"},
	{Status: api.StatusActive, Reason: "incident resolved"},
	{Status: api.StatusDeprecated, Reason: "replaced", Sunset: "2099-12-31"},
	{Status: api.StatusArchived, Reason: "sunset"},
}

// TestCrashRecovery starts the real binary, writes from several goroutines,
// kills the process with SIGKILL in the middle, restarts it, and checks
// that every write that got a 2xx answer is there, whole, and that the
// store opens cleanly; three times over the same data directory.
func TestCrashRecovery(t *testing.T) {
	dataDir := t.TempDir()
	var acked []*api.Model // every write answered 2xx, as the server answered it
	for cycle := 1; cycle <= crashCycles; cycle++ {
		// No rate limit: the writers are one principal hammering on purpose.
		srv := startServer(t, dataDir, "--rate-limit", "0")
		if cycle > 1 {
			checkRecovered(t, srv, acked)
		}
		start := time.Now()
		got, inFlight := writeUntilKilled(t, srv, cycle)
		acked = append(acked, got...)
		t.Logf("cycle %d: %d writes acknowledged in %v, %d in flight when the server was killed",
			cycle, len(got), time.Since(start).Round(time.Millisecond), inFlight)
		if t.Failed() {
			return
		}
	}
	checkRecovered(t, startServer(t, dataDir, "--rate-limit", "0"), acked)
}

// writeUntilKilled runs crashWriters writers against srv and kills srv with
// SIGKILL while they write. It returns the acknowledged writes and how many
// writers had a request in flight at the kill.
func writeUntilKilled(t *testing.T, srv *serverProcess, cycle int) (acked []*api.Model, inFlight int) {
	t.Helper()
	c := newTestClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		count   atomic.Int64
		sending atomic.Int64 // writers with a request sent and not yet answered
		wg      sync.WaitGroup
		results = make([][]*api.Model, crashWriters)
		refused = make([]error, crashWriters)
	)
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// ack records a write's answer; it reports whether to go on.
			ack := func(m *api.Model, err error) bool {
				sending.Add(-1)
				if err != nil {
					if client.StatusOf(err) != 0 {
						refused[w] = err // the server answered, and refused
					}
					return false // the server is gone
				}
				results[w] = append(results[w], m)
				count.Add(1)
				return true
			}
			for i := 0; ; i++ {
				id := fmt.Sprintf("crash/c%d-w%d-m%d", cycle, w, i)
				doc := fmt.Sprintf(`{"schema_version": "1.1", "model_id": %q, "provider": "crash",
					"display_name": "Model %d of writer %d, cycle %d", "labels": {"cycle": "%d", "writer": "%d"}}`,
					id, i, w, cycle, cycle, w)
				sending.Add(1)
				if !ack(c.CreateModel(ctx, []byte(doc), client.JSON, client.WriteOptions{})) {
					return
				}
				for _, ch := range crashLifecycle {
					sending.Add(1)
					if !ack(c.ChangeLifecycle(ctx, id, ch, client.WriteOptions{})) {
						return
					}
				}
			}
		}()
	}

	start := time.Now()
	for count.Load() < crashMinAcks || time.Since(start) < crashMinRun {
		if time.Since(start) > 10*time.Second {
			t.Errorf("the server acknowledged only %d writes in 10 s", count.Load())
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	inFlight = int(sending.Load())
	srv.kill(t)
	wg.Wait()
	for w, err := range refused {
		if err != nil {
			t.Errorf("writer %d: the server refused a write: %v", w, err)
		}
	}
	for _, r := range results {
		acked = append(acked, r...)
	}
	return acked, inFlight
}

// checkRecovered checks, on a server restarted after a crash, that every
// acknowledged write is there, whole; that every model reads and has a
// history without gaps; and that the database file is sound.
func checkRecovered(t *testing.T, srv *serverProcess, acked []*api.Model) {
	t.Helper()
	ctx := context.Background()
	c := newTestClient(t, srv)
	if log := srv.log.String(); strings.Contains(log, "level=ERROR") {
		t.Errorf("the server logged errors when it restarted after a crash:\n%s", log)
	}

	// Each acknowledged write is the revision of its resource_version, as
	// it was answered; the model is at that version or later.
	latest := map[string]int64{}
	forEachConcurrently(acked, func(want *api.Model) {
		n := revisionNumber(t, want)
		rev, err := c.GetRevision(ctx, want.ModelID, n)
		if err != nil {
			t.Errorf("acknowledged write %s@%d: %v", want.ModelID, n, err)
			return
		}
		if rev.Revision != n || rev.Model == nil || jsonText(rev.Model) != jsonText(want) {
			t.Errorf("acknowledged write %s@%d is revision %d with\n%s\nwant\n%s",
				want.ModelID, n, rev.Revision, jsonText(rev.Model), jsonText(want))
		}
	})
	for _, m := range acked {
		latest[m.ModelID] = max(latest[m.ModelID], revisionNumber(t, m))
	}

	var models []*api.Model
	for m, err := range c.AllModels(ctx, client.ListOptions{PageSize: 1000}) {
		if err != nil {
			t.Fatalf("list the models: %v", err)
		}
		models = append(models, m)
	}
	listed := map[string]bool{}
	for _, m := range models {
		listed[m.ModelID] = true
	}
	for id, n := range latest {
		if !listed[id] {
			t.Errorf("model %s, acknowledged at resource_version %d, is not listed", id, n)
		}
	}

	forEachConcurrently(models, func(listedModel *api.Model) {
		id := listedModel.ModelID
		m, err := c.GetModel(ctx, id)
		if err != nil {
			t.Errorf("get %s: %v", id, err)
			return
		}
		n := revisionNumber(t, m)
		if n < latest[id] {
			t.Errorf("model %s is at resource_version %d, but %d was acknowledged", id, n, latest[id])
		}
		var revs []int64
		token := ""
		for {
			page, err := c.ListRevisions(ctx, id, 1000, token)
			if err != nil {
				t.Errorf("history of %s: %v", id, err)
				return
			}
			for _, r := range page.Items {
				revs = append(revs, r.Revision)
				if r.Model != nil && r.Model.ResourceVersion != strconv.FormatInt(r.Revision, 10) {
					t.Errorf("revision %d of %s holds resource_version %s", r.Revision, id, r.Model.ResourceVersion)
				}
			}
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		for i, r := range revs {
			if want := n - int64(i); r != want || len(revs) != int(n) {
				t.Errorf("model %s at resource_version %d has revisions %v, want %d down to 1", id, n, revs, n)
				break
			}
		}
	})

	if got := integrityCheck(t, filepath.Join(srv.DataDir, server.DatabaseFile)); got != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, want ok", got)
	}
}

// integrityCheck runs PRAGMA integrity_check on a database file, which the
// running server may have open too, and returns its answer.
func integrityCheck(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("PRAGMA integrity_check on %s: %v", path, err)
	}
	defer rows.Close()
	var answer string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatalf("PRAGMA integrity_check on %s: %v", path, err)
		}
		if answer != "" {
			answer += "\n"
		}
		answer += line
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("PRAGMA integrity_check on %s: %v", path, err)
	}
	return answer
}

// forEachConcurrently calls f on every item, from a few goroutines.
func forEachConcurrently[T any](items []T, f func(T)) {
	work := make(chan T)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for item := range work {
				f(item)
			}
		}()
	}
	for _, item := range items {
		work <- item
	}
	close(work)
	wg.Wait()
}

func newTestClient(t *testing.T, srv *serverProcess) *client.Client {
	t.Helper()
	c, err := client.New(srv.URL, client.WithToken(srv.adminToken(t)), client.WithHTTPClient(&http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16},
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func revisionNumber(t *testing.T, m *api.Model) int64 {
	t.Helper()
	n, err := strconv.ParseInt(m.ResourceVersion, 10, 64)
	if err != nil || n < 1 {
		t.Errorf("model %s has resource_version %q, want a positive number", m.ModelID, m.ResourceVersion)
	}
	return n
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unmarshalable %T: %v", v, err)
	}
	return string(b)
}
