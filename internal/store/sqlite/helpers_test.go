package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hivellm/modelgov/internal/store"
)

// openTemp opens a store on a new file, closed when the test ends.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "modelgov.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeAll runs f in one write transaction and fails the test on error.
func writeAll(t *testing.T, s *Store, f func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.ReadWrite(context.Background(), f); err != nil {
		t.Fatal(err)
	}
}

// queryPlan returns the steps of SQLite's plan for query, one per line.
func queryPlan(t *testing.T, s *Store, query string, args []any) []string {
	t.Helper()
	rows, err := s.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return steps
}
