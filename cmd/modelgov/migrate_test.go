package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/server"
	"github.com/hivellm/modelgov/internal/store/postgres/pgtest"
)

// TestMigrateSQLiteToPostgres: a registry built through the API on SQLite
// (models, a verified identity, an alias, a lifecycle change, a webhook, an
// extra token) is moved with "modelgov migrate" into PostgreSQL; the server
// started on the target with the same data directory answers the same
// documents, history, events and tokens, its audit log verifies against a
// checkpoint saved before the move, and it goes on writing after it.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	dir := t.TempDir()
	srv := startServer(t, dir, "--webhook-allow-private")
	mg := srv.cli()
	applyModels(t, mg, 0, 5)
	mg.succeed(t, "", "model", "lifecycle", "acme/m-000", "--to", "active", "--reason", "approved by vote 3")
	mg.proveIdentity(t, "acme/m-001")
	mg.succeed(t, "", "alias", "set", "hivellm/chair", "acme/m-002", "--reason", "elected")
	mg.succeed(t, "", "webhook", "create", "http://127.0.0.1:9/hook", "--type", "io.modelgov.model.created")
	mg.succeed(t, "", "token", "create", "--name", "ci-bot", "--role", "maintainer")
	saved := filepath.Join(t.TempDir(), "checkpoint")
	mg.succeed(t, "", "audit", "verify", "--save", saved)
	before := snapshotViews(t, mg)
	srv.kill(t)

	out := commandLine{}.succeed(t, "", "migrate", "--from", "sqlite:"+filepath.Join(dir, server.DatabaseFile), "--to", dsn)
	if !strings.Contains(out, "the target's audit log verified") {
		t.Errorf("migrate printed:\n%s", out)
	}
	// A second migration into the same database is refused: it is not empty.
	res := commandLine{}.fail(t, "", "migrate", "--from", "sqlite:"+filepath.Join(dir, server.DatabaseFile), "--to", dsn)
	if !strings.Contains(res.stderr, "not empty") {
		t.Errorf("a migration into a non-empty database: %s", res.stderr)
	}
	if res := (commandLine{}).fail(t, "", "migrate", "--from", "sqlite:"+filepath.Join(dir, "nope.db"), "--to", dsn); !strings.Contains(res.stderr, "no such file") {
		t.Errorf("a migration from a missing file: %s", res.stderr)
	}

	srv = startServer(t, dir, "--db", dsn)
	mg = srv.cli()
	after := snapshotViews(t, mg)
	for name, b := range before {
		if after[name] != b {
			t.Errorf("%s differs after the migration:\nbefore %s\nafter  %s", name, b, after[name])
		}
	}
	mg.succeed(t, "", "audit", "verify", "--checkpoint", saved)
	applyModels(t, mg, 5, 1)
	mg.succeed(t, "", "audit", "verify", "--checkpoint", saved)
	var evs []api.Event
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "events", "-o", "json")), &evs); err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("after the migration the event sequence has %d at position %d", e.Seq, i)
		}
	}
	if last := evs[len(evs)-1]; last.Subject != "acme/m-005" || time.Since(last.Time) > time.Minute {
		t.Errorf("the write after the migration is event %+v", last)
	}
}

// snapshotViews reads what the registry answers about itself, as text to
// compare.
func snapshotViews(t *testing.T, mg commandLine) map[string]string {
	t.Helper()
	views := map[string]string{}
	for name, args := range map[string][]string{
		"models":     {"model", "list", "-o", "json"},
		"model":      {"model", "get", "acme/m-001", "-o", "json"},
		"history":    {"model", "history", "acme/m-000", "-o", "json"},
		"alias":      {"alias", "history", "hivellm/chair"},
		"events":     {"events", "-o", "json"},
		"tokens":     {"token", "list", "-o", "json"},
		"webhooks":   {"webhook", "list", "-o", "json"},
		"policies":   {"policy", "list"},
		"compliance": {"compliance"},
	} {
		views[name] = mg.succeed(t, "", args...)
	}
	return views
}
