package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// TestRetry checks that ReadWrite runs f again when the database asks for
// a retry (a serialization failure or a deadlock, even wrapped), at most
// maxAttempts times, and never after any other error.
func TestRetry(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newSchema(t))
	serialization := &pgconn.PgError{Code: codeSerializationFailure, Message: "could not serialize access"}
	deadlock := &pgconn.PgError{Code: codeDeadlockDetected, Message: "deadlock detected"}
	unique := &pgconn.PgError{Code: codeUniqueViolation, Message: "duplicate key"}
	other := errors.New("boom")
	for _, tt := range []struct {
		name  string
		fails []error // what the successive calls return; nil once they run out
		calls int
		want  error // nil for success
	}{
		{"no failure", nil, 1, nil},
		{"serialization failure", []error{serialization}, 2, nil},
		{"wrapped deadlock", []error{fmt.Errorf("put model: %w", deadlock), serialization}, 3, nil},
		{"other error", []error{other}, 1, other},
		{"unique violation", []error{unique}, 1, unique},
		{"always failing", []error{serialization, serialization, serialization, serialization, serialization, serialization}, maxAttempts, serialization},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
				calls++
				if calls <= len(tt.fails) {
					return tt.fails[calls-1]
				}
				return nil
			})
			if calls != tt.calls {
				t.Errorf("f was called %d times, want %d", calls, tt.calls)
			}
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ReadWrite = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestUniqueViolationIsExists checks that a write refused by a unique
// constraint has the kind errs.Exists, and leaves nothing behind.
func TestUniqueViolationIsExists(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newSchema(t))
	rec := &store.Idempotent{Scope: "POST /v1/models", Key: "k1", RequestHash: "h", Status: 201, Body: []byte(`{}`), Created: time.Now()}
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutIdempotent(ctx, rec); err != nil {
			return err
		}
		return tx.PutIdempotent(ctx, rec)
	})
	if !errs.Is(err, errs.Exists) {
		t.Errorf("a duplicate idempotency key: err = %v, want kind Exists", err)
	}
	err = s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.GetIdempotent(ctx, rec.Scope, rec.Key)
		return err
	})
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("the aborted transaction's key: err = %v, want kind NotFound", err)
	}
}

// TestWritersLeaveConnectionsForReads checks that writers waiting for the
// write lock do not hold the pool's connections: a writer that reads
// through the store (not its transaction) still gets a connection, even
// with many writers and a pool of two.
func TestWritersLeaveConnectionsForReads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, newSchema(t), Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers = 8
	errc := make(chan error, writers)
	for range writers {
		go func() {
			errc <- s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
				_, err := s.LastEventSeq(ctx)
				return err
			})
		}()
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Errorf("ReadWrite: %v", err)
		}
	}
}
