package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
	"github.com/hivellm/modelgov/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "modelgov.db"), sqlite.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "modelgov.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
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
	// Opening again runs the migrations again (a no-op) and finds the data.
	s, err = sqlite.Open(ctx, path, sqlite.Options{Synchronous: "FULL"})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if _, err := s.GetModel(ctx, m.ModelID); err != nil {
		t.Errorf("GetModel after reopen: %v", err)
	}
	if _, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "OFF"}); err == nil {
		t.Error("Open with synchronous OFF: want an error")
	}
}
