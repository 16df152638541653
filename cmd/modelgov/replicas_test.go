package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/server"
	"github.com/hivellm/modelgov/internal/store/postgres/pgtest"
)

// replicas starts two "modelgov serve" processes on one PostgreSQL
// database, each with a data directory of its own but the same audit
// signing key (an operator copies it), and returns them with a client of
// each, both holding the admin token of the first start.
func replicas(t *testing.T) (a, b *serverProcess, ca, cb *client.Client) {
	t.Helper()
	dsn := pgtest.Schema(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	a = startServer(t, dirA, "--db", dsn, "--rate-limit", "0")
	key, err := os.ReadFile(filepath.Join(dirA, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirB, audit.KeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	b = startServer(t, dirB, "--db", dsn, "--rate-limit", "0")
	if _, err := os.Stat(filepath.Join(dirB, server.AdminTokenFile)); err == nil {
		t.Error("the second replica created another admin token: the database had one")
	}
	token, err := os.ReadFile(filepath.Join(dirA, server.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []**client.Client{&ca, &cb} {
		url := a.URL
		if c == &cb {
			url = b.URL
		}
		if *c, err = client.New(url, client.WithToken(strings.TrimSpace(string(token)))); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, ca, cb
}

func modelDoc(id string) []byte {
	provider, name, _ := strings.Cut(id, "/")
	return fmt.Appendf(nil, `{"schema_version":"1.1","model_id":%q,"provider":%q,"display_name":%q,"size_class":"small"}`, id, provider, name)
}

// TestReplicasShareOneRegistry: two replicas on one PostgreSQL database
// behave as one registry. Two writes with the same If-Match, one through
// each, never both win; writes through both at once form one audit log
// that verifies on either against the other's checkpoint, and one
// gap-free event sequence; a watcher on one replica sees a change made
// through the other within a second.
func TestReplicasShareOneRegistry(t *testing.T) {
	ctx := context.Background()
	a, b, ca, cb := replicas(t)

	// Same If-Match through both replicas at once: exactly one wins.
	if _, err := ca.CreateModel(ctx, modelDoc("acme/contested"), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		m, err := cb.GetModel(ctx, "acme/contested")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errsOf := make([]error, 2)
		for i, c := range []*client.Client{ca, cb} {
			wg.Go(func() {
				_, errsOf[i] = c.PatchModel(ctx, "acme/contested", map[string]any{"notes": fmt.Sprintf("round %d by %d", round, i)},
					client.WriteOptions{IfMatch: m.ResourceVersion})
			})
		}
		wg.Wait()
		won, lost := 0, 0
		for _, err := range errsOf {
			switch {
			case err == nil:
				won++
			case client.StatusOf(err) == http.StatusPreconditionFailed:
				lost++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("round %d: %d writes won and %d lost with the same If-Match, want one and one", round, won, lost)
		}
	}

	// Writes through both at once.
	var wg sync.WaitGroup
	for r, c := range []*client.Client{ca, cb} {
		for g := range 3 {
			wg.Go(func() {
				for i := range 10 {
					id := fmt.Sprintf("acme/r%d-g%d-%02d", r, g, i)
					if _, err := c.CreateModel(ctx, modelDoc(id), client.JSON, client.WriteOptions{}); err != nil {
						t.Errorf("create %s: %v", id, err)
					}
				}
			})
		}
	}
	wg.Wait()

	// One gap-free event sequence, the same through either replica, with
	// one model.created event per model.
	var seqs []int64
	created := map[string]int{}
	for after := int64(0); ; {
		page, err := cb.ListEvents(ctx, client.ListEventsOptions{After: after, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			seqs = append(seqs, e.Seq)
			if e.Type == "io.modelgov.model.created" {
				created[e.Subject]++
			}
		}
		if page.NextAfter == 0 {
			break
		}
		after = page.NextAfter
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("event sequence has %d at position %d: not gap-free (%v)", s, i, seqs)
		}
	}
	if len(created) != 61 {
		t.Errorf("%d models have a model.created event, want 61", len(created))
	}
	for id, n := range created {
		if n != 1 {
			t.Errorf("%s has %d model.created events", id, n)
		}
	}
	fromA, err := ca.ListEvents(ctx, client.ListEventsOptions{PageSize: 1000})
	if err != nil || len(fromA.Items) == 0 || fromA.Items[len(fromA.Items)-1].Seq != seqs[len(seqs)-1] {
		t.Errorf("replica A lists a different outbox: %v", err)
	}

	// One audit log: verified through A, its checkpoint saved, then
	// verified through B as a continuation of it.
	saved := filepath.Join(t.TempDir(), "checkpoint")
	a.cli().succeed(t, "", "audit", "verify", "--save", saved)
	if _, err := cb.CreateModel(ctx, modelDoc("acme/after-checkpoint"), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	bcli := commandLine{url: b.URL, tokenFile: filepath.Join(a.DataDir, server.AdminTokenFile)}
	out := bcli.succeed(t, "", "audit", "verify", "--checkpoint", saved)
	if !strings.Contains(out, "verified") {
		t.Errorf("audit verify through B printed %q", out)
	}

	// A token revoked through A stops authenticating on B at once (B keeps
	// tokens it read for up to a second, and forgets them on A's commit).
	tok, err := ca.CreateToken(ctx, api.TokenRequest{Name: "ci-bot", Roles: []string{api.RoleViewer}})
	if err != nil {
		t.Fatal(err)
	}
	bot, err := client.New(b.URL, client.WithToken(tok.Token))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bot.WhoAmI(ctx); err != nil {
		t.Fatalf("the new token on B: %v", err)
	}
	if _, err := ca.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for {
		_, err := bot.WhoAmI(ctx)
		if client.StatusOf(err) == http.StatusUnauthorized {
			break
		}
		if time.Since(revoked) > time.Second {
			t.Fatalf("a token revoked through A still authenticates on B a second later: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A change through A reaches a watcher on B within a second.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	arrived := make(chan *api.Event, 16)
	last := seqs[len(seqs)-1]
	go func() {
		_ = cb.Watch(wctx, client.WatchOptions{After: last, Types: []string{"io.modelgov.model.created"}}, func(e *api.Event) error {
			arrived <- e
			return nil
		})
	}()
	time.Sleep(300 * time.Millisecond) // the stream is open and idle
	var delays []time.Duration
	for i := range 7 {
		id := fmt.Sprintf("acme/watched-%d", i)
		start := time.Now()
		if _, err := ca.CreateModel(ctx, modelDoc(id), client.JSON, client.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case e := <-arrived:
				if e.Subject != id {
					continue // an earlier model's
				}
				d := time.Since(start)
				if d > time.Second {
					t.Errorf("%s reached the watcher on the other replica after %v, want under a second", id, d)
				}
				delays = append(delays, d)
			case <-time.After(5 * time.Second):
				t.Fatalf("%s never reached the watcher on the other replica", id)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if errors.Is(wctx.Err(), context.Canceled) {
		t.Fatal("watch ended early")
	}
	// The other replica's notification wakes the stream: the typical delay
	// is that of a round trip, not of the streams' one-second poll (which
	// alone would give a median near half a second).
	slices.Sort(delays)
	if median := delays[len(delays)/2]; median > 300*time.Millisecond {
		t.Errorf("median delay from a commit on A to the watcher on B: %v (all: %v); want the notification's, well under the poll's", median, delays)
	}
}
