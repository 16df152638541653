package registry

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
)

// countingStore counts the tree hashes read outside write transactions:
// the reads that serve proofs and checkpoints.
type countingStore struct {
	store.Store
	calls, hashes atomic.Int64
}

func (c *countingStore) ReadHashes(ctx context.Context, indexes []int64) ([][32]byte, error) {
	c.calls.Add(1)
	c.hashes.Add(int64(len(indexes)))
	return c.Store.ReadHashes(ctx, indexes)
}

// countingTx counts the tree hashes an append reads.
type countingTx struct {
	store.Tx
	hashes *int64
	max    *int
}

func (c countingTx) ReadHashes(ctx context.Context, indexes []int64) ([][32]byte, error) {
	*c.hashes += int64(len(indexes))
	*c.max = max(*c.max, len(indexes))
	return c.Tx.ReadHashes(ctx, indexes)
}

// benchEntry is a realistic entry: a model write by a person, with the
// hashes of the documents before and after, the policy it passed and a
// request id.
func benchEntry(rng *rand.Rand, now time.Time, i int) *audit.Entry {
	doc := func() string {
		var b [32]byte
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		return "sha256:" + hex.EncodeToString(b[:])
	}
	actions := []string{"model.update", "model.patch", "model.lifecycle", "model.classify", "model.create"}
	e := &audit.Entry{Time: now, Principal: fmt.Sprintf("user-%d@example.com", rng.IntN(200)),
		Roles: []string{"owner", "governor"}, Action: actions[rng.IntN(len(actions))],
		Target:  fmt.Sprintf("provider-%d/model-%d", rng.IntN(50), rng.IntN(5000)),
		Outcome: audit.Allowed, PolicyVersion: 3, PolicyHash: "sha256:9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
		Revision: int64(1 + rng.IntN(40)), Before: doc(), After: doc(), Reason: "quarterly review of the model card",
		RequestID: fmt.Sprintf("%024x", i)}
	if rng.IntN(10) == 0 {
		e.Outcome, e.Revision, e.Failed = audit.Denied, 0, []audit.FailedRule{{ID: "general-not-small-variant",
			Message: "a small variant (mini, nano, low, lite, tiny, micro) cannot be a general (proposal 035)"}}
	}
	return e
}

func quantiles(d []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(d)
	return d[len(d)*50/100], d[len(d)*99/100]
}

// BenchmarkAuditAppend1M appends 1,000,000 entries to a SQLite store
// through record, the registry's append (in transactions of 1,000 entries),
// then serves inclusion and consistency proofs of random entries in the
// tree of 1,000,000. Run it with
//
//	go test ./internal/registry -run '^$' -bench BenchmarkAuditAppend1M -benchtime 1x -timeout 60m
func BenchmarkAuditAppend1M(b *testing.B) {
	if testing.Short() {
		b.Skip("appends 1,000,000 audit entries")
	}
	benchmarkAuditAppend(b, 1_000_000)
}

// benchmarkAuditAppend appends total entries and serves proofs in the tree
// of total; total must be a multiple of 100,000.
func benchmarkAuditAppend(b *testing.B, total int) {
	const (
		batch  = 1000
		proofs = 1000
		slice  = 100_000 // throughput is reported for the first and the last slice
	)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "modelgov.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		counted := &countingStore{Store: st}
		v, err := schema.New()
		if err != nil {
			b.Fatal(err)
		}
		s, err := New(Config{Store: counted, Schema: v, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var (
			hashReads int64
			maxReads  int
			firstRate float64
			lastRate  float64
		)
		b.StartTimer()

		start := time.Now()
		sliceStart := start
		for n := 0; n < total; n += batch {
			err := s.store.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
				now := s.now().UTC()
				for i := range batch {
					if err := s.record(ctx, countingTx{Tx: tx, hashes: &hashReads, max: &maxReads}, benchEntry(rng, now, n+i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatalf("append entries %d to %d: %v", n, n+batch, err)
			}
			if done := n + batch; done%slice == 0 {
				rate := slice / time.Since(sliceStart).Seconds()
				b.Logf("entries %7d to %7d: %6.0f appends/s", done-slice, done, rate)
				if done == slice {
					firstRate = rate
				}
				lastRate = rate
				sliceStart = time.Now()
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()

		size, err := st.AuditSize(ctx)
		if err != nil || size != int64(total) {
			b.Fatalf("AuditSize = %d, %v; want %d", size, err, total)
		}
		b.ReportMetric(float64(total)/elapsed.Seconds(), "appends/s")
		b.ReportMetric(firstRate, "appends/s-first-100k")
		b.ReportMetric(lastRate, "appends/s-last-100k")
		b.ReportMetric(float64(hashReads)/float64(total), "hash-reads/append")
		b.ReportMetric(float64(maxReads), "max-hash-reads/append")
		b.ReportMetric(float64(tlog.StoredHashIndex(0, int64(total)))/float64(total), "stored-hashes/entry")

		// The signed root, as a verifier would check proofs against it.
		t0 := time.Now()
		root, err := tlog.TreeHash(int64(total), hashReader{ctx, s.store})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(t0).Microseconds()), "tree-hash-us")

		type sample struct {
			index, old int64
			hashes     []string
		}
		var samples []sample
		counted.calls.Store(0)
		counted.hashes.Store(0)
		inclusion := make([]time.Duration, proofs)
		for i := range proofs {
			index := rng.Int64N(int64(total))
			t0 := time.Now()
			p, err := s.InclusionProof(ctx, index, int64(total))
			inclusion[i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if i%100 == 0 {
				samples = append(samples, sample{index: index, hashes: p.Hashes})
			}
		}
		b.ReportMetric(float64(counted.calls.Load())/proofs, "read-calls/inclusion-proof")
		b.ReportMetric(float64(counted.hashes.Load())/proofs, "hash-reads/inclusion-proof")
		p50, p99 := quantiles(inclusion)
		b.ReportMetric(float64(p50.Microseconds()), "inclusion-p50-us")
		b.ReportMetric(float64(p99.Microseconds()), "inclusion-p99-us")
		for _, sm := range samples { // a sample of the proofs verifies
			e, err := s.AuditEntry(ctx, sm.index)
			if err != nil {
				b.Fatal(err)
			}
			if err := tlog.CheckRecord(decodeBenchProof(b, sm.hashes), int64(total), root, sm.index, tlog.RecordHash(e.Leaf)); err != nil {
				b.Fatalf("inclusion proof of %d: %v", sm.index, err)
			}
		}

		samples = samples[:0]
		counted.calls.Store(0)
		counted.hashes.Store(0)
		consistency := make([]time.Duration, proofs)
		for i := range proofs {
			old := 1 + rng.Int64N(int64(total))
			t0 := time.Now()
			p, err := s.ConsistencyProof(ctx, old, int64(total))
			consistency[i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if i%100 == 0 {
				samples = append(samples, sample{old: old, hashes: p.Hashes})
			}
		}
		b.ReportMetric(float64(counted.calls.Load())/proofs, "read-calls/consistency-proof")
		b.ReportMetric(float64(counted.hashes.Load())/proofs, "hash-reads/consistency-proof")
		p50, p99 = quantiles(consistency)
		b.ReportMetric(float64(p50.Microseconds()), "consistency-p50-us")
		b.ReportMetric(float64(p99.Microseconds()), "consistency-p99-us")
		for _, sm := range samples {
			oldRoot, err := tlog.TreeHash(sm.old, hashReader{ctx, s.store})
			if err != nil {
				b.Fatal(err)
			}
			if err := tlog.CheckTree(decodeBenchProof(b, sm.hashes), int64(total), root, sm.old, oldRoot); err != nil {
				b.Fatalf("consistency proof %d → %d: %v", sm.old, total, err)
			}
		}

		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func decodeBenchProof(b *testing.B, hashes []string) []tlog.Hash {
	b.Helper()
	out := make([]tlog.Hash, len(hashes))
	for i, h := range hashes {
		raw, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(raw) != sha256.Size {
			b.Fatalf("proof hash %q", h)
		}
		out[i] = tlog.Hash(raw)
	}
	return out
}
