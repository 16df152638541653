// Package postgres is the store for several registry processes (replicas)
// sharing one PostgreSQL database, through pgx and a pgxpool connection
// pool.
//
// Open brings the schema up to date with goose (through pgx's database/sql
// driver), holding goose's session advisory lock so that replicas starting
// together do not race, and then serves every call from the pool. The
// schema lives in the first schema of the connection's search_path, which a
// DSN may set (search_path=...).
//
// Reads outside a transaction go to the pool: each is one statement, so one
// snapshot. ReadWrite begins a READ COMMITTED transaction whose first
// statement takes a transaction-level advisory lock (writeLock) that every
// writer of every process takes: writers never interleave, and since each
// later statement of the transaction takes a new snapshot, it sees every
// write committed before the lock was granted, and none can commit until
// the transaction ends, which makes it serializable against the other
// writers. That is what numbers the audit log and the event outbox without
// gaps or duplicates across replicas. (REPEATABLE READ or SERIALIZABLE
// would be wrong here: their snapshot is taken by the first statement,
// before the lock is granted.) Within a process the writers also queue
// before taking a connection, since they could not run at once anyway: so
// waiting writers never hold the pool's connections, which stay free for
// reads. A transaction that fails with a serialization failure or a
// deadlock is retried.
//
// A transaction that appended events notifies channel EventChannel, in the
// same transaction so that the notification is delivered on commit and
// only then, with the sequence number of its last event as the payload (in
// decimal): a watcher on another replica may LISTEN to learn of new events
// without polling.
//
// Times are stored as nanoseconds since the Unix epoch (a bigint), since
// timestamptz keeps only microseconds and the store gives back exactly the
// time it was given.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/migrations"
)

// EventChannel is the channel a committed transaction that appended events
// notifies, with the sequence number of its last event as the payload.
const EventChannel = "modelgov_events"

// writeLock is the key of the transaction-level advisory lock every write
// transaction takes first ("modelgov" in ASCII).
const writeLock int64 = 0x6d6f64656c676f76

// maxAttempts is how many times ReadWrite runs a transaction that keeps
// failing with a serialization failure or a deadlock.
const maxAttempts = 5

// PostgreSQL error codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// Options tune the store. The zero value is a good default.
type Options struct {
	// MaxConns is the size of the connection pool; 0 means pgxpool's
	// default (the larger of 4 and the number of CPUs), unless the DSN
	// sets pool_max_conns.
	MaxConns int
}

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	// writer is a semaphore of one: the process's writer that may take a
	// connection and wait for the write lock.
	writer chan struct{}
	queries
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a PostgreSQL URL or key=value
// string) and brings its schema up to date.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("postgres: MaxConns %d is negative", opts.MaxConns)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(min(opts.MaxConns, 1<<31-1))
	}
	if err := migrate(ctx, cfg.ConnConfig); err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	return &Store{pool: pool, writer: make(chan struct{}, 1), queries: queries{q: pool}}, nil
}

// migrate runs the migrations on a connection of their own, under goose's
// session lock.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	db := stdlib.OpenDB(*cfg.Copy())
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres(), goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// ReadWrite implements store.Store.
func (s *Store) ReadWrite(ctx context.Context, f func(context.Context, store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.readWrite(ctx, f)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		// A short random pause, growing with the attempts, so that the
		// transactions that collided do not collide again.
		pause := time.Duration(rand.Int64N(int64(attempt) * int64(10*time.Millisecond)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// readWrite runs f in one transaction.
func (s *Store) readWrite(ctx context.Context, f func(context.Context, store.Tx) error) (err error) {
	select {
	case s.writer <- struct{}{}:
		defer func() { <-s.writer }()
	case <-ctx.Done():
		return fmt.Errorf("postgres: wait for the writer: %w", ctx.Err())
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	// COMMIT and ROLLBACK must run even when ctx has ended meanwhile.
	end := context.WithoutCancel(ctx)
	defer func() {
		if err == nil {
			return
		}
		if rerr := tx.Rollback(end); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			err = errors.Join(err, fmt.Errorf("postgres: rollback: %w", rerr))
		}
	}()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock); err != nil {
		return fmt.Errorf("postgres: take the write lock: %w", err)
	}
	t := &txn{queries: queries{q: tx}}
	if err := f(ctx, t); err != nil {
		return err
	}
	if t.lastEvent > 0 {
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, EventChannel, strconv.FormatInt(t.lastEvent, 10)); err != nil {
			return fmt.Errorf("postgres: notify event %d: %w", t.lastEvent, err)
		}
	}
	if err := tx.Commit(end); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// retryable reports whether err says that the database rolled the
// transaction back and asks for it to be run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == codeSerializationFailure || pgErr.Code == codeDeadlockDetected)
}

// isUniqueViolation reports whether err is a unique constraint's refusal.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database does not answer")
	}
	return nil
}

// Close implements store.Store. It waits for the connections in use to be
// released, then closes them all.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
