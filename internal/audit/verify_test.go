package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/internal/audit"
)

// memLog is an audit log in memory, stored as the registry stores it: the
// leaves and the hashes tlog.StoredHashes computes for each append. Its
// fields are open so that a test can tamper with them as someone with write
// access to the database would.
type memLog struct {
	leaves  [][]byte
	deleted map[int64]bool
	hashes  []tlog.Hash
	// badConsistency makes ConsistencyProof answer a proof that does not verify.
	badConsistency bool
	// reads counts Entries calls, to stop a verifier that keeps asking.
	reads int
}

func (l *memLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func testEntry(seq int64) *audit.Entry {
	return &audit.Entry{Seq: seq, Time: time.Date(2026, 1, 2, 3, 4, 5, int(seq), time.UTC), Principal: "alice",
		Roles: []string{"governor"}, Action: "model.classify", Target: fmt.Sprintf("openai/model-%d", seq),
		Outcome: audit.Allowed, PolicyVersion: 1, PolicyHash: "sha256:0123", Revision: seq + 1,
		Before: "sha256:aaaa", After: "sha256:bbbb", Reason: "vote", RequestID: fmt.Sprintf("req-%d", seq)}
}

// newMemLog returns a log of n entries.
func newMemLog(t *testing.T, n int64) *memLog {
	t.Helper()
	l := &memLog{deleted: map[int64]bool{}}
	for range n {
		l.append(t, testEntry(int64(len(l.leaves))))
	}
	return l
}

func (l *memLog) append(t *testing.T, e *audit.Entry) {
	t.Helper()
	leaf, err := audit.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := tlog.StoredHashes(int64(len(l.leaves)), leaf, l)
	if err != nil {
		t.Fatal(err)
	}
	l.leaves = append(l.leaves, leaf)
	l.hashes = append(l.hashes, hs...)
}

// checkpoint signs the tree of the first size entries, as the server would
// from its stored hashes.
func (l *memLog) checkpoint(t *testing.T, s *audit.Signer, size int64) []byte {
	t.Helper()
	root, err := tlog.TreeHash(size, l)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.Sign(size, root)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// change rewrites entry seq's reason, leaving its stored hashes.
func (l *memLog) change(t *testing.T, seq int64) {
	t.Helper()
	e, err := audit.Decode(l.leaves[seq])
	if err != nil {
		t.Fatal(err)
	}
	e.Reason = "forged"
	if l.leaves[seq], err = audit.Encode(e); err != nil {
		t.Fatal(err)
	}
}

// rehashLeaf stores the leaf hash of entry seq's current content, leaving
// the hashes above it.
func (l *memLog) rehashLeaf(seq int64) {
	l.hashes[tlog.StoredHashIndex(0, seq)] = tlog.RecordHash(l.leaves[seq])
}

// rebuild recomputes every stored hash from the leaves: a rewrite that
// leaves the log self-consistent.
func (l *memLog) rebuild(t *testing.T) {
	t.Helper()
	leaves := l.leaves
	l.leaves, l.hashes = nil, nil
	for _, leaf := range leaves {
		hs, err := tlog.StoredHashes(int64(len(l.leaves)), leaf, l)
		if err != nil {
			t.Fatal(err)
		}
		l.leaves = append(l.leaves, leaf)
		l.hashes = append(l.hashes, hs...)
	}
}

func (l *memLog) Entries(ctx context.Context, start int64, limit int) ([]audit.ServedEntry, error) {
	if l.reads++; l.reads > 1000 {
		return nil, errors.New("the verifier asked for entries 1000 times: it is not making progress")
	}
	var out []audit.ServedEntry
	for i := start; i < int64(len(l.leaves)) && len(out) < limit; i++ {
		if l.deleted[i] {
			continue
		}
		out = append(out, audit.ServedEntry{Seq: i, Leaf: l.leaves[i], Hash: l.hashes[tlog.StoredHashIndex(0, i)]})
	}
	return out, nil
}

func (l *memLog) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	return tlog.ProveRecord(size, index, l)
}

func (l *memLog) ConsistencyProof(ctx context.Context, old, size int64) (tlog.TreeProof, error) {
	p, err := tlog.ProveTree(size, old, l)
	if err == nil && l.badConsistency && len(p) > 0 {
		p[0][0] ^= 1
	}
	return p, err
}

func TestVerifyPasses(t *testing.T) {
	s, _ := newSigner(t, "modelgov/test")
	for _, n := range []int64{0, 1, 2, 3, 7, 8, 13, 1000, 1001, 2500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			l := newMemLog(t, n)
			v, err := audit.Verify(context.Background(), l, l.checkpoint(t, s, n), s.VerifierKey(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !v.OK() || v.BadEntry != -1 || v.Checkpoint.Size != n || v.Checkpoint.Origin != "modelgov/test" {
				t.Errorf("Verify = %+v, want OK", v)
			}
			// Against checkpoints saved at every earlier size: the log only grew.
			for old := int64(1); old <= n; old += max(1, n/7) {
				saved := l.checkpoint(t, s, old)
				v, err := audit.Verify(context.Background(), l, l.checkpoint(t, s, n), s.VerifierKey(), saved)
				if err != nil {
					t.Fatal(err)
				}
				if !v.OK() {
					t.Errorf("Verify against a checkpoint saved at %d: %+v", old, v)
				}
			}
		})
	}
}

// TestVerifyCheckpointOlderThanLog: a log that grew after its checkpoint
// was taken verifies up to the checkpoint.
func TestVerifyCheckpointOlderThanLog(t *testing.T) {
	s, _ := newSigner(t, "modelgov/test")
	l := newMemLog(t, 10)
	cp := l.checkpoint(t, s, 10)
	for range 5 {
		l.append(t, testEntry(int64(len(l.leaves))))
	}
	v, err := audit.Verify(context.Background(), l, cp, s.VerifierKey(), nil)
	if err != nil || !v.OK() || v.Checkpoint.Size != 10 {
		t.Errorf("Verify = %+v, %v; want OK at size 10", v, err)
	}
}

func TestVerifyDetects(t *testing.T) {
	const n = 13 // 8 + 4 + 1: complete subtrees of every shape
	tests := []struct {
		name string
		// tamper changes the log after the honest checkpoint of size n was
		// saved; it returns the size of the checkpoint the server signs now.
		tamper func(t *testing.T, l *memLog) int64
		// withSaved passes the honest checkpoint as the saved one.
		withSaved   bool
		wantBad     int64
		wantProblem string
	}{
		{
			name:        "changed entry",
			tamper:      func(t *testing.T, l *memLog) int64 { l.change(t, 5); return n },
			wantBad:     5,
			wantProblem: "entry 5 was changed",
		},
		{
			name:        "changed first entry",
			tamper:      func(t *testing.T, l *memLog) int64 { l.change(t, 0); return n },
			wantBad:     0,
			wantProblem: "entry 0 was changed",
		},
		{
			name:        "changed last entry",
			tamper:      func(t *testing.T, l *memLog) int64 { l.change(t, n-1); return n },
			wantBad:     n - 1,
			wantProblem: "entry 12 was changed",
		},
		{
			name:        "deleted entry",
			tamper:      func(t *testing.T, l *memLog) int64 { l.deleted[5] = true; return n },
			wantBad:     5,
			wantProblem: "entry 5 is missing",
		},
		{
			name:        "deleted first entry",
			tamper:      func(t *testing.T, l *memLog) int64 { l.deleted[0] = true; return n },
			wantBad:     0,
			wantProblem: "entry 0 is missing",
		},
		{
			name: "deleted tail",
			tamper: func(t *testing.T, l *memLog) int64 {
				l.deleted[10], l.deleted[11], l.deleted[12] = true, true, true
				return n
			},
			wantBad:     10,
			wantProblem: "entry 10 is missing: the log ends at 10 entries",
		},
		{
			name: "entries swapped with their leaf hashes",
			tamper: func(t *testing.T, l *memLog) int64 {
				l.leaves[3], l.leaves[4] = l.leaves[4], l.leaves[3]
				l.rehashLeaf(3)
				l.rehashLeaf(4)
				return n
			},
			wantBad:     3,
			wantProblem: "entry 3 does not decode as the entry with that sequence number",
		},
		{
			name:        "changed entry and its leaf hash, even index",
			tamper:      func(t *testing.T, l *memLog) int64 { l.change(t, 4); l.rehashLeaf(4); return n },
			wantBad:     4,
			wantProblem: "entry 4 or entry 5 (two leaves of one node of the tree) is not what the signed checkpoint of size 13 includes",
		},
		{
			name:        "changed entry and its leaf hash, first entry",
			tamper:      func(t *testing.T, l *memLog) int64 { l.change(t, 0); l.rehashLeaf(0); return n },
			wantBad:     0,
			wantProblem: "entry 0 or entry 1 (two leaves",
		},
		{
			name:        "changed entry and its leaf hash, odd index",
			tamper:      func(t *testing.T, l *memLog) int64 { l.change(t, 5); l.rehashLeaf(5); return n },
			wantBad:     4,
			wantProblem: "entry 4 or entry 5 (two leaves",
		},
		{
			name:        "changed entry and its leaf hash, index 11",
			tamper:      func(t *testing.T, l *memLog) int64 { l.change(t, 11); l.rehashLeaf(11); return n },
			wantBad:     10,
			wantProblem: "entry 10 or entry 11 (two leaves",
		},
		{
			// The last leaf of a tree of 13 is a complete subtree of its own:
			// the server's new checkpoint covers the forgery, and only the
			// saved checkpoint exposes it.
			name:        "changed last entry and its leaf hash, with a saved checkpoint",
			tamper:      func(t *testing.T, l *memLog) int64 { l.change(t, n-1); l.rehashLeaf(n - 1); return n },
			withSaved:   true,
			wantBad:     -1,
			wantProblem: "the log was rewritten since the saved checkpoint: its first 13 entries",
		},
		{
			name: "rewritten log, then grown, with a saved checkpoint",
			tamper: func(t *testing.T, l *memLog) int64 {
				l.change(t, 2)
				l.rebuild(t)
				l.append(t, testEntry(n))
				l.append(t, testEntry(n+1))
				return n + 2
			},
			withSaved:   true,
			wantBad:     -1,
			wantProblem: "the log was rewritten since the saved checkpoint: its first 13 entries no longer hash to that checkpoint's root",
		},
		{
			name: "shrunk log, with a saved checkpoint",
			tamper: func(t *testing.T, l *memLog) int64 {
				l.leaves = l.leaves[:10]
				return 10
			},
			withSaved:   true,
			wantBad:     10,
			wantProblem: "the log shrank: it has 10 entries, but a checkpoint saved earlier had 13",
		},
		{
			name: "a consistency proof that does not verify",
			tamper: func(t *testing.T, l *memLog) int64 {
				l.append(t, testEntry(n))
				l.badConsistency = true
				return n + 1
			},
			withSaved:   true,
			wantBad:     -1,
			wantProblem: "consistency proof from size 13 to 14 does not verify",
		},
		{
			// Entries of the checkpoint's tail are gone, and the log grew
			// after the checkpoint: the next entry served is beyond it.
			name: "deleted tail of a checkpoint, log grew since",
			tamper: func(t *testing.T, l *memLog) int64 {
				l.append(t, testEntry(n))
				l.deleted[n-1] = true
				return n
			},
			wantBad:     n - 1,
			wantProblem: "entry 12 is missing",
		},
	}
	s, _ := newSigner(t, "modelgov/test")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newMemLog(t, n)
			saved := l.checkpoint(t, s, n)
			size := tt.tamper(t, l)
			cp := l.checkpoint(t, s, size)
			var old []byte
			if tt.withSaved {
				old = saved
			}
			v, err := audit.Verify(context.Background(), l, cp, s.VerifierKey(), old)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.OK() || v.BadEntry != tt.wantBad || !strings.Contains(v.Problem, tt.wantProblem) {
				t.Errorf("Verify = bad entry %d, problem %q;\nwant bad entry %d, problem containing %q",
					v.BadEntry, v.Problem, tt.wantBad, tt.wantProblem)
			}
		})
	}
}

// TestVerifySavedCheckpointNotAPrefix: a checkpoint saved from another tree
// (a log rewritten before it grew back to the same shape) is not a prefix.
func TestVerifySavedCheckpointNotAPrefix(t *testing.T) {
	s, _ := newSigner(t, "modelgov/test")
	l := newMemLog(t, 20)
	other := newMemLog(t, 7)
	other.change(t, 3)
	other.rebuild(t)
	v, err := audit.Verify(context.Background(), l, l.checkpoint(t, s, 20), s.VerifierKey(), other.checkpoint(t, s, 7))
	if err != nil {
		t.Fatal(err)
	}
	if v.OK() || !strings.Contains(v.Problem, "rewritten since the saved checkpoint: its first 7 entries") {
		t.Errorf("Verify = %+v, want a rewritten prefix", v)
	}

	o, _ := newSigner(t, "modelgov/other")
	otherOrigin := newMemLog(t, 7).checkpoint(t, o, 7)
	if _, err := audit.Verify(context.Background(), l, l.checkpoint(t, s, 20), s.VerifierKey(), otherOrigin); err == nil {
		t.Error("Verify with a saved checkpoint signed by another key: want an error")
	}
}

// TestVerifyAgainstEmptySavedCheckpoint: the empty tree is a prefix of
// every tree.
func TestVerifyAgainstEmptySavedCheckpoint(t *testing.T) {
	s, _ := newSigner(t, "modelgov/test")
	l := newMemLog(t, 5)
	v, err := audit.Verify(context.Background(), l, l.checkpoint(t, s, 5), s.VerifierKey(), l.checkpoint(t, s, 0))
	if err != nil || !v.OK() {
		t.Errorf("Verify against an empty saved checkpoint = %+v, %v; want OK", v, err)
	}
}

func TestVerifyRejectsCheckpoint(t *testing.T) {
	s, _ := newSigner(t, "modelgov/test")
	other, _ := newSigner(t, "modelgov/test")
	l := newMemLog(t, 5)
	if _, err := audit.Verify(context.Background(), l, l.checkpoint(t, other, 5), s.VerifierKey(), nil); err == nil {
		t.Error("Verify of a checkpoint signed by another key: want an error")
	}
	if _, err := audit.Verify(context.Background(), l, []byte("modelgov/test\n5\nAAAA\n"), s.VerifierKey(), nil); err == nil {
		t.Error("Verify of an unsigned checkpoint: want an error")
	}
}

// TestVerifyForgedUpperHash: a checkpoint signed over a root the entries
// do not hash to (a stored upper hash was changed) is caught.
func TestVerifyForgedUpperHash(t *testing.T) {
	s, _ := newSigner(t, "modelgov/test")
	l := newMemLog(t, 13)
	l.hashes[tlog.StoredHashIndex(3, 0)][0] ^= 1 // the root of the first 8 entries
	v, err := audit.Verify(context.Background(), l, l.checkpoint(t, s, 13), s.VerifierKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK() {
		t.Errorf("Verify with a changed stored hash = OK, want a problem")
	}
}
