package migrate_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/migrate"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
)

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// registryOn fills a store through the write path: the default policy,
// models, a lifecycle change, so that the audit log is a real one.
func registryOn(t *testing.T, st store.Store, models int) {
	t.Helper()
	ctx := context.Background()
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(registry.Config{Store: st, Schema: v, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	admin := registry.WriteOptions{Caller: registry.Caller{Principal: "alice", Roles: []string{api.RoleAdmin}}}
	for i := range models {
		doc := fmt.Sprintf(`{"schema_version":"1.1","model_id":"acme/m-%d","provider":"acme","display_name":"M %d","size_class":"small"}`, i, i)
		if _, err := reg.CreateModel(ctx, []byte(doc), admin); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.ChangeLifecycle(ctx, "acme/m-0", api.LifecycleChange{Status: api.StatusActive, Reason: "vote"}, admin); err != nil {
		t.Fatal(err)
	}
}

func TestCopyAndVerify(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := openStore(t, filepath.Join(dir, "src.db"))
	registryOn(t, src, 20)
	dst := openStore(t, filepath.Join(dir, "dst.db"))
	var progressed int64
	rep, err := migrate.Copy(ctx, src, dst, func(n int64) { progressed = n })
	if err != nil {
		t.Fatal(err)
	}
	size, err := src.AuditSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AuditSize != size || rep.Counts[store.KindModel] != 20 || rep.Counts[store.KindAudit] != size || progressed == 0 {
		t.Errorf("report %+v (progress %d); want %d audit entries and 20 models", rep, progressed, size)
	}
	_, srcRoot, err := migrate.Verify(ctx, src)
	if err != nil || srcRoot != rep.AuditRoot {
		t.Errorf("the source's root %v (%v) differs from the report's %v", srcRoot, err, rep.AuditRoot)
	}

	// Copying again into a store that is no longer empty is refused.
	if _, err := migrate.Copy(ctx, src, dst, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a copy into a non-empty store: %v", err)
	}
}

// Verify finds a stored tree hash that its leaves do not give.
func TestVerifyFindsATamperedHash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "modelgov.db")
	st := openStore(t, path)
	registryOn(t, st, 5)
	if _, _, err := migrate.Verify(ctx, st); err != nil {
		t.Fatalf("an untouched log: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_hashes SET hash = zeroblob(32) WHERE idx = 3`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := migrate.Verify(ctx, st); err == nil || !strings.Contains(err.Error(), "stored tree hash 3") {
		t.Errorf("a changed tree hash: %v, want it named", err)
	}
}
