// Package sqlite is the embedded store: one SQLite database file in WAL
// mode, through the pure-Go driver modernc.org/sqlite, so that the registry
// is one static binary with no set-up.
//
// Writes go through a single connection that the store keeps for its life
// (SQLite has one writer anyway, and queuing in Go is cheaper and fairer
// than retrying on SQLITE_BUSY): a mutex serializes the transactions, which
// the store begins with BEGIN IMMEDIATE itself, so that statements prepared
// once on that connection serve every transaction. Reads use a pool of
// read-only connections that see the last committed state.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/migrations"
)

// Options tune the store. The zero value is a good default.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "NORMAL" (the default)
	// keeps every committed write across a crash of the process; "FULL"
	// also across a crash of the machine, at the cost of an fsync per write.
	Synchronous string
	// ReadConns is the size of the read pool; 0 means twice the CPUs.
	ReadConns int
	// CheckpointInterval is how often the write-ahead log is copied back
	// into the database file, off the write path; 0 means every second.
	CheckpointInterval time.Duration
	// WALLimit is the size the write-ahead log is kept near, in bytes; 0
	// means DefaultWALLimit.
	WALLimit int64
	// MmapSize is how much of the database file each connection reads
	// through memory mapped I/O instead of read system calls, in bytes; 0
	// means DefaultMmapSize, a negative value none.
	MmapSize int64
}

// DefaultWALLimit is the write-ahead log's size past which the store
// pauses writes for a moment to copy the whole log back and truncate it.
const DefaultWALLimit = 64 << 20

// DefaultMmapSize is how much of the database file is read through memory
// mapped I/O: on a registry of a million models, a get then reads its
// pages from the kernel's page cache without a system call per page, and
// the mapping is shared by every connection instead of copied into each
// one's page cache.
const DefaultMmapSize = 1 << 30

// Store is a store.Store on one SQLite file.
type Store struct {
	write *sql.DB
	read  *sql.DB
	// writer is the write pool's one connection, kept for the store's life;
	// mu serializes the transactions on it.
	mu         sync.Mutex
	writer     *sql.Conn
	writeCache *stmtCache
	// checkpointer copies the write-ahead log into the database file in
	// the background, so that no commit pays for it; stop ends it.
	checkpointer *sql.DB
	// walFrames is the number of pages past which the log is truncated.
	walFrames int64
	stop      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	closeErr  error
	queries
}

var _ store.Store = (*Store)(nil)

// Open opens (creating when needed) the database file at path and brings
// its schema up to date.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	sync := opts.Synchronous
	if sync == "" {
		sync = "NORMAL"
	}
	if sync != "NORMAL" && sync != "FULL" {
		return nil, fmt.Errorf("sqlite: synchronous must be NORMAL or FULL, not %q", sync)
	}
	pragmas := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"busy_timeout(10000)",
		"synchronous(" + sync + ")",
		"foreign_keys(ON)",
		"cache_size(-32000)",
	} {
		pragmas.Add("_pragma", p)
	}
	mmap := opts.MmapSize
	if mmap == 0 {
		mmap = DefaultMmapSize
	}
	pragmas.Add("_pragma", fmt.Sprintf("mmap_size(%d)", max(mmap, 0)))
	writeDSN := "file:" + path + "?" + pragmas.Encode()
	readDSN := "file:" + path + "?" + pragmas.Encode() + "&_pragma=query_only(ON)"

	w, err := sql.Open("sqlite", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", readDSN)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	n := opts.ReadConns
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	conn, err := w.Conn(ctx)
	if err == nil {
		// Commits do not checkpoint; the checkpointer does.
		_, err = conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0")
	}
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s for writing: %w", path, err)
	}
	// The checkpointer waits for readers only briefly: it holds writes
	// back while it waits (see checkpoint).
	cpPragmas := url.Values{"_pragma": {"journal_mode(WAL)", "busy_timeout(250)"}}
	cp, err := sql.Open("sqlite", "file:"+path+"?"+cpPragmas.Encode())
	if err != nil {
		conn.Close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", path, err)
	}
	cp.SetMaxOpenConns(1)
	limit := opts.WALLimit
	if limit <= 0 {
		limit = DefaultWALLimit
	}
	var pageSize int64
	if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil || pageSize <= 0 {
		conn.Close()
		w.Close()
		r.Close()
		cp.Close()
		return nil, fmt.Errorf("sqlite: open %s: read the page size: %v", path, err)
	}
	s := &Store{write: w, read: r, writer: conn, writeCache: newStmtCache(conn), checkpointer: cp, walFrames: max(limit/pageSize, 1),
		stop: make(chan struct{}), stopped: make(chan struct{}), queries: queries{q: r, cache: newStmtCache(r), plans: newPlanCache(time.Now)}}
	interval := opts.CheckpointInterval
	if interval <= 0 {
		interval = time.Second
	}
	go s.checkpoints(interval)
	return s, nil
}

// checkpoints copies the write-ahead log into the database file every
// interval.
func (s *Store) checkpoints(interval time.Duration) {
	defer close(s.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.checkpoint()
		}
	}
}

// checkpoint copies the write-ahead log into the database file.
//
// A PASSIVE checkpoint never blocks writers or readers: it copies what no
// reader still needs. But SQLite starts the log over only when a writer
// finds it wholly copied, and under a steady stream of writes it never is:
// each commit adds pages after the checkpoint's end, and the log grows
// without bound (tens of gigabytes under the load generator). So when the
// log has passed its limit, checkpoint holds writes back (the writer's
// mutex) and runs a TRUNCATE checkpoint, which copies the rest, waits for
// the readers of older snapshots to finish (a quarter of a second at most:
// readers started after the copy read the database file and do not hold
// it up) and truncates the log. If a long reader, such as a backup, holds
// it up, writes go on and the next tick tries again.
func (s *Store) checkpoint() {
	var busy, frames, copied int64
	if err := s.checkpointer.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil || frames <= s.walFrames {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.checkpointer.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrations.SQLite())
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// ReadWrite implements store.Store.
func (s *Store) ReadWrite(ctx context.Context, f func(context.Context, store.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.writer.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	// COMMIT and ROLLBACK must run even when ctx has ended meanwhile.
	end := context.WithoutCancel(ctx)
	if err := f(ctx, &txn{queries: queries{q: s.writer, cache: s.writeCache}}); err != nil {
		if _, rerr := s.writer.ExecContext(end, "ROLLBACK"); rerr != nil && !strings.Contains(rerr.Error(), "no transaction is active") {
			return errors.Join(err, fmt.Errorf("sqlite: rollback: %w", rerr))
		}
		return err
	}
	if _, err := s.writer.ExecContext(end, "COMMIT"); err != nil {
		_, _ = s.writer.ExecContext(end, "ROLLBACK")
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database does not answer")
	}
	return nil
}

// Close implements store.Store. It lets SQLite refresh its query planner
// statistics, then closes both pools.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	close(s.stop)
	<-s.stopped
	s.mu.Lock()
	defer s.mu.Unlock()
	_, optErr := s.writer.ExecContext(context.Background(), "PRAGMA optimize")
	_, cpErr := s.writer.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
	s.writeCache.close()
	s.cache.close()
	return errors.Join(optErr, cpErr, s.writer.Close(), s.checkpointer.Close(), s.read.Close(), s.write.Close())
}
