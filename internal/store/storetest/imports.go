package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

func testImports(t *testing.T, s store.Store) {
	ctx := context.Background()
	if l, err := s.ListImports(ctx); err != nil || l == nil || len(l) != 0 {
		t.Errorf("ListImports of a new store = %v, %v; want an empty, non-nil list", l, err)
	}
	if _, err := s.GetImport(ctx, "imp_missing"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetImport(missing) = %v, want NotFound", err)
	}
	older := &api.ImportBatch{ID: "imp_b", Source: "a.json", Format: "litellm", CreatedAt: t0, CreatedBy: "root",
		Totals: api.ImportTotals{Create: 2}, Models: []api.ImportTouch{{ModelID: "a/b", After: 1}, {ModelID: "a/c", Before: 3, After: 4}}}
	newer := &api.ImportBatch{ID: "imp_a", Format: "hivellm", CreatedAt: t0.Add(time.Minute), CreatedBy: "root",
		Models: []api.ImportTouch{{ModelID: "x/y", After: 1}}}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutImport(ctx, older); err != nil {
			return err
		}
		return tx.PutImport(ctx, newer)
	})
	if got, err := s.GetImport(ctx, "imp_b"); err != nil || !reflect.DeepEqual(got, older) {
		t.Errorf("GetImport = %+v, %v; want %+v", got, err, older)
	}
	l, err := s.ListImports(ctx)
	if err != nil || len(l) != 2 || l[0].ID != "imp_a" || l[1].ID != "imp_b" {
		t.Fatalf("ListImports = %v, %v; want newest first", l, err)
	}
	// Replacing keeps one batch: a rollback is recorded on it.
	at := t0.Add(time.Hour)
	older.RolledBackAt, older.RolledBackBy = &at, "gov"
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutImport(ctx, older) })
	if got, _ := s.GetImport(ctx, "imp_b"); !reflect.DeepEqual(got, older) {
		t.Errorf("after the rollback: %+v", got)
	}
	if l, _ := s.ListImports(ctx); len(l) != 2 {
		t.Errorf("replacing a batch left %d", len(l))
	}
}
