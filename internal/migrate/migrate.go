// Package migrate moves a whole registry from one store to another (SQLite
// to PostgreSQL, say) and checks that the audit log arrived whole.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/store"
)

// Report says what Copy moved.
type Report struct {
	// Counts is the number of records of each kind (store.Kinds).
	Counts map[string]int64
	// AuditSize and AuditRoot are the audit log's size and tree hash, the
	// same in the source and the target.
	AuditSize int64
	AuditRoot tlog.Hash
	Duration  time.Duration
}

// Copy exports every record of src, from one consistent snapshot, and
// imports them into dst, which must be empty; then it checks the audit log
// of dst (Verify) and that it ends in the same tree as src's. progress,
// when not nil, is called now and then with the number of records moved.
// The import is all or nothing: on any error dst is left empty.
func Copy(ctx context.Context, src, dst store.Store, progress func(moved int64)) (*Report, error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	rep := &Report{Counts: map[string]int64{}}
	records := make(chan *store.Record, 1024)
	exported := make(chan error, 1)
	go func() {
		defer close(records)
		exported <- src.Export(ctx, func(r *store.Record) error {
			select {
			case records <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var moved int64
	next := func() (*store.Record, error) {
		r, ok := <-records
		if !ok {
			if err := <-exported; err != nil {
				return nil, fmt.Errorf("migrate: reading the source: %w", err)
			}
			return nil, io.EOF
		}
		rep.Counts[r.Kind]++
		if moved++; progress != nil && moved%10000 == 0 {
			progress(moved)
		}
		if r.Kind == store.KindAudit {
			rep.AuditSize = max(rep.AuditSize, r.Audit.Seq+1)
		}
		return r, nil
	}
	if err := dst.Import(ctx, next); err != nil {
		cancel()
		for range records { // let the export end
		}
		return nil, fmt.Errorf("migrate: writing the target: %w", err)
	}
	if progress != nil {
		progress(moved)
	}

	srcSize, srcRoot, err := Verify(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("migrate: the source's audit log: %w", err)
	}
	dstSize, dstRoot, err := Verify(ctx, dst)
	if err != nil {
		return nil, fmt.Errorf("migrate: the target's audit log: %w", err)
	}
	// The source may have grown since the snapshot (a server still
	// running on it): the target must hold the tree the snapshot held.
	if dstSize != rep.AuditSize {
		return nil, fmt.Errorf("migrate: the target's audit log has %d entries, the snapshot had %d", dstSize, rep.AuditSize)
	}
	if srcSize == dstSize && srcRoot != dstRoot {
		return nil, errors.New("migrate: the target's audit tree differs from the source's")
	}
	rep.AuditRoot, rep.Duration = dstRoot, time.Since(start)
	return rep, nil
}

// Verify reads a store's whole audit log and checks it: every entry is
// there, in order, and the tree hashes the store holds are those its
// entries' leaves give. It returns the log's size and its tree hash.
func Verify(ctx context.Context, r store.Reader) (int64, tlog.Hash, error) {
	size, err := r.AuditSize(ctx)
	if err != nil {
		return 0, tlog.Hash{}, err
	}
	var computed audit.MemoryHashes
	for from := int64(0); from < size; {
		page, err := r.AuditEntries(ctx, store.AuditQuery{From: from, Limit: 1000})
		if err != nil {
			return 0, tlog.Hash{}, err
		}
		if len(page) == 0 {
			return 0, tlog.Hash{}, fmt.Errorf("audit entry %d is missing: the log has %d", from, size)
		}
		first := int64(len(computed))
		for _, e := range page {
			if e.Seq != from {
				return 0, tlog.Hash{}, fmt.Errorf("audit entry %d is missing: the log goes from %d to %d", from, from-1, e.Seq)
			}
			hs, err := tlog.StoredHashes(e.Seq, e.Leaf, computed)
			if err != nil {
				return 0, tlog.Hash{}, err
			}
			computed = append(computed, hs...)
			from++
		}
		if err := compareStored(ctx, r, first, computed[first:], page[0].Seq, from-1); err != nil {
			return 0, tlog.Hash{}, err
		}
	}
	root, err := tlog.TreeHash(size, computed)
	if err != nil {
		return 0, tlog.Hash{}, err
	}
	return size, root, nil
}

// compareStored checks the store's hashes from index first against hs,
// those of the audit entries from to last.
func compareStored(ctx context.Context, r store.Reader, first int64, hs []tlog.Hash, from, last int64) error {
	idx := make([]int64, len(hs))
	for i := range hs {
		idx[i] = first + int64(i)
	}
	stored, err := r.ReadHashes(ctx, idx)
	if err != nil {
		return fmt.Errorf("audit entries %d to %d: their tree hashes: %w", from, last, err)
	}
	for i, h := range hs {
		if tlog.Hash(stored[i]) != h {
			return fmt.Errorf("audit entries %d to %d: stored tree hash %d is not the one their leaves give", from, last, idx[i])
		}
	}
	return nil
}
