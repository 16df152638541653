package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// txHashes reads the audit tree's stored hashes through a store reader, as
// the registry does.
type txHashes struct {
	ctx context.Context
	r   store.Reader
}

func (h txHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	raw, err := h.r.ReadHashes(h.ctx, indexes)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(raw))
	for i, b := range raw {
		out[i] = b
	}
	return out, nil
}

// memoryTree is the audit tree the suite expects: every hash it appended.
type memoryTree []tlog.Hash

func (m memoryTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// auditRecord returns the record of a decision and its leaf bytes.
func auditRecord(t *testing.T, seq int64, at time.Time, principal, action, target, outcome string) *store.AuditRecord {
	t.Helper()
	leaf, err := audit.Encode(&audit.Entry{Seq: seq, Time: at, Principal: principal, Roles: []string{"governor"},
		Action: action, Target: target, Outcome: outcome, PolicyVersion: 1, PolicyHash: "sha256:00",
		Before: "sha256:aa", After: "sha256:bb", RequestID: fmt.Sprintf("req-%d", seq)})
	if err != nil {
		t.Fatal(err)
	}
	return &store.AuditRecord{Seq: seq, Time: at, Principal: principal, Action: action, Target: target, Outcome: outcome, Leaf: leaf}
}

// appendAudit appends rec inside tx with the hashes its append stores,
// read from tx as the registry reads them.
func appendAudit(ctx context.Context, tx store.Tx, rec *store.AuditRecord) ([]tlog.Hash, error) {
	hs, err := tlog.StoredHashes(rec.Seq, rec.Leaf, txHashes{ctx, tx})
	if err != nil {
		return nil, err
	}
	raw := make([][32]byte, len(hs))
	for i, h := range hs {
		raw[i] = h
	}
	return hs, tx.AppendAudit(ctx, rec, tlog.StoredHashIndex(0, rec.Seq), raw)
}

func seqs(recs []*store.AuditRecord) []int64 {
	out := []int64{}
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()

	// An empty log.
	if n, err := s.AuditSize(ctx); err != nil || n != 0 {
		t.Fatalf("AuditSize of an empty log = %d, %v; want 0", n, err)
	}
	if recs, err := s.AuditEntries(ctx, store.AuditQuery{Limit: 10}); err != nil || len(recs) != 0 {
		t.Errorf("AuditEntries of an empty log = %d entries, %v", len(recs), err)
	}
	if hs, err := s.ReadHashes(ctx, nil); err != nil || len(hs) != 0 {
		t.Errorf("ReadHashes(nil) = %v, %v; want none", hs, err)
	}
	if _, err := s.ReadHashes(ctx, []int64{0}); err == nil {
		t.Error("ReadHashes of an empty tree: want an error")
	}

	// Twelve decisions: entries 0-5 in one transaction, then one per transaction.
	type decision struct{ principal, action, target, outcome string }
	decisions := []decision{
		{"system:modelgov", "policy.upload", "policy/1", audit.Allowed},
		{"system:modelgov", "policy.activate", "policy/1", audit.Allowed},
		{"alice", "model.create", "openai/gpt-5", audit.Allowed},
		{"alice", "model.create", "openai/gpt-5-mini", audit.Allowed},
		{"bob", "model.classify", "openai/gpt-5-mini", audit.Denied},
		{"bob", "model.classify", "openai/gpt-5", audit.Allowed},
		{"alice", "model.lifecycle", "openai/gpt-5", audit.Allowed},
		{"carol", "alias.move", "hivellm/chair", audit.Allowed},
		{"bob", "model.classify", "openai/gpt-5-mini", audit.Denied},
		{"alice", "model.update", "openai/gpt-5", audit.Allowed},
		{"carol", "alias.move", "hivellm/chair", audit.Denied},
		{"alice", "model.lifecycle", "openai/gpt-5-mini", audit.Allowed},
	}
	var (
		want []*store.AuditRecord
		tree memoryTree
	)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	appendNext := func(ctx context.Context, tx store.Tx, i int) error {
		size, err := tx.AuditSize(ctx)
		if err != nil {
			return err
		}
		if size != int64(i) {
			return fmt.Errorf("AuditSize inside the transaction = %d, want %d", size, i)
		}
		d := decisions[i]
		rec := auditRecord(t, size, at(i), d.principal, d.action, d.target, d.outcome)
		hs, err := appendAudit(ctx, tx, rec)
		if err != nil {
			return err
		}
		if got, want := int64(len(tree)), tlog.StoredHashIndex(0, size); got != want {
			return fmt.Errorf("first stored hash of entry %d at %d, want %d", size, got, want)
		}
		tree = append(tree, hs...)
		want = append(want, rec)
		return nil
	}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 6 {
			if err := appendNext(ctx, tx, i); err != nil {
				return err
			}
		}
		return nil
	})
	for i := 6; i < len(decisions); i++ {
		write(t, s, func(ctx context.Context, tx store.Tx) error { return appendNext(ctx, tx, i) })
	}

	if n, err := s.AuditSize(ctx); err != nil || n != int64(len(decisions)) {
		t.Fatalf("AuditSize = %d, %v; want %d", n, err, len(decisions))
	}
	all, err := s.AuditEntries(ctx, store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("AuditEntries = %d entries, want %d", len(all), len(want))
	}
	for i, got := range all {
		w := want[i]
		if got.Seq != w.Seq || !got.Time.Equal(w.Time) || got.Principal != w.Principal || got.Action != w.Action ||
			got.Target != w.Target || got.Outcome != w.Outcome || string(got.Leaf) != string(w.Leaf) {
			t.Errorf("entry %d = %+v\nwant %+v", i, got, w)
		}
	}

	tests := []struct {
		name string
		q    store.AuditQuery
		want []int64
	}{
		{"all", store.AuditQuery{Limit: 100}, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"limit", store.AuditQuery{Limit: 5}, []int64{0, 1, 2, 3, 4}},
		{"from", store.AuditQuery{From: 9, Limit: 100}, []int64{9, 10, 11}},
		{"from and limit", store.AuditQuery{From: 3, Limit: 2}, []int64{3, 4}},
		{"from beyond the end", store.AuditQuery{From: 12, Limit: 100}, []int64{}},
		{"target", store.AuditQuery{Target: "openai/gpt-5-mini", Limit: 100}, []int64{3, 4, 8, 11}},
		{"principal", store.AuditQuery{Principal: "carol", Limit: 100}, []int64{7, 10}},
		{"action", store.AuditQuery{Action: "model.classify", Limit: 100}, []int64{4, 5, 8}},
		{"outcome", store.AuditQuery{Outcome: audit.Denied, Limit: 100}, []int64{4, 8, 10}},
		{"since is inclusive", store.AuditQuery{Since: at(9), Limit: 100}, []int64{9, 10, 11}},
		{"until is exclusive", store.AuditQuery{Until: at(2), Limit: 100}, []int64{0, 1}},
		{"since and until", store.AuditQuery{Since: at(4), Until: at(7), Limit: 100}, []int64{4, 5, 6}},
		{"since in another zone", store.AuditQuery{Since: at(9).In(time.FixedZone("X", -5*3600)), Limit: 100}, []int64{9, 10, 11}},
		{"since between two entries", store.AuditQuery{Since: at(8).Add(time.Nanosecond), Limit: 100}, []int64{9, 10, 11}},
		{"filters combine", store.AuditQuery{Target: "openai/gpt-5-mini", Outcome: audit.Denied, Limit: 100}, []int64{4, 8}},
		{"filters, from and limit", store.AuditQuery{Principal: "alice", From: 3, Limit: 2}, []int64{3, 6}},
		{"no match", store.AuditQuery{Principal: "mallory", Limit: 100}, []int64{}},
	}
	for _, tt := range tests {
		got, err := s.AuditEntries(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: AuditEntries(%+v): %v", tt.name, tt.q, err)
			continue
		}
		if !reflect.DeepEqual(seqs(got), tt.want) {
			t.Errorf("%s: AuditEntries(%+v) = %v, want %v", tt.name, tt.q, seqs(got), tt.want)
		}
	}

	// The stored hashes are the ones appended, in the order asked, and the
	// tree they give is the tree of the leaves.
	indexes := []int64{int64(len(tree) - 1), 0, 3, 3}
	got, err := s.ReadHashes(ctx, indexes)
	if err != nil {
		t.Fatalf("ReadHashes(%v): %v", indexes, err)
	}
	for i, x := range indexes {
		if tlog.Hash(got[i]) != tree[x] {
			t.Errorf("ReadHashes(%v)[%d] = %x, want %x", indexes, i, got[i], tree[x])
		}
	}
	for _, missing := range [][]int64{{int64(len(tree))}, {0, int64(len(tree)) + 5}, {-1}} {
		if _, err := s.ReadHashes(ctx, missing); err == nil {
			t.Errorf("ReadHashes(%v) with a missing index: want an error", missing)
		}
	}
	stored, err := tlog.TreeHash(int64(len(want)), txHashes{ctx, s})
	if err != nil {
		t.Fatal(err)
	}
	if root, _ := tlog.TreeHash(int64(len(want)), tree); stored != root {
		t.Errorf("tree hash from the stored hashes %v, want %v", stored, root)
	}

	// An entry whose sequence number is not the log's size is refused.
	size := int64(len(want))
	for _, seq := range []int64{size + 1, size - 1, 0} {
		err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
			rec := auditRecord(t, seq, at(99), "mallory", "model.update", "openai/gpt-5", audit.Allowed)
			return tx.AppendAudit(ctx, rec, tlog.StoredHashIndex(0, size), [][32]byte{tlog.RecordHash(rec.Leaf)})
		})
		if !errs.Is(err, errs.Conflict) {
			t.Errorf("AppendAudit of entry %d to a log of %d: %v, want a conflict", seq, size, err)
		}
	}

	// An aborted transaction leaves neither the entry nor its hashes.
	boom := errors.New("boom")
	err = s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := appendAudit(ctx, tx, auditRecord(t, size, at(50), "alice", "model.update", "openai/gpt-5", audit.Allowed)); err != nil {
			return err
		}
		if _, err := appendAudit(ctx, tx, auditRecord(t, size+1, at(51), "alice", "model.update", "openai/gpt-5", audit.Allowed)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReadWrite = %v, want the function's error", err)
	}
	if n, err := s.AuditSize(ctx); err != nil || n != size {
		t.Errorf("AuditSize after an aborted append = %d, %v; want %d", n, err, size)
	}
	if recs, err := s.AuditEntries(ctx, store.AuditQuery{From: size, Limit: 10}); err != nil || len(recs) != 0 {
		t.Errorf("entries of an aborted transaction: %v, %v", seqs(recs), err)
	}
	if _, err := s.ReadHashes(ctx, []int64{int64(len(tree))}); err == nil {
		t.Error("a hash of an aborted transaction is stored")
	}

	// Writers that append concurrently get consecutive sequence numbers.
	const writers = 8
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			errc <- s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
				n, err := tx.AuditSize(ctx)
				if err != nil {
					return err
				}
				_, err = appendAudit(ctx, tx, auditRecord(t, n, at(60+w), fmt.Sprintf("writer-%d", w), "model.update", "openai/gpt-5", audit.Allowed))
				return err
			})
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("concurrent append: %v", err)
		}
	}
	recs, err := s.AuditEntries(ctx, store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != int(size)+writers {
		t.Fatalf("after %d concurrent appends: %d entries, want %d", writers, len(recs), int(size)+writers)
	}
	var all2 memoryTree
	for i, r := range recs {
		if r.Seq != int64(i) {
			t.Fatalf("entry %d has sequence number %d", i, r.Seq)
		}
		hs, err := tlog.StoredHashes(r.Seq, r.Leaf, all2)
		if err != nil {
			t.Fatal(err)
		}
		all2 = append(all2, hs...)
	}
	n := int64(len(recs))
	stored, err = tlog.TreeHash(n, txHashes{ctx, s})
	if err != nil {
		t.Fatal(err)
	}
	if root, _ := tlog.TreeHash(n, all2); stored != root {
		t.Errorf("after concurrent appends, the stored tree hash %v is not the tree of the stored leaves %v", stored, root)
	}
}
