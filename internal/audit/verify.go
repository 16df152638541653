package audit

import (
	"context"
	"encoding/base64"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// ServedEntry is an entry as the log serves it: its leaf bytes and the
// leaf hash the log stored when it appended it.
type ServedEntry struct {
	Seq  int64
	Leaf []byte
	Hash tlog.Hash
}

// Source is what a verifier reads from a log (the HTTP API, in practice).
type Source interface {
	// Entries returns up to limit entries from index start, in order.
	Entries(ctx context.Context, start int64, limit int) ([]ServedEntry, error)
	// InclusionProof proves that entry index is in the tree of size size.
	InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error)
	// ConsistencyProof proves that the tree of size old is a prefix of the
	// tree of size size.
	ConsistencyProof(ctx context.Context, old, size int64) (tlog.TreeProof, error)
}

// Verification is the result of Verify.
type Verification struct {
	// Checkpoint is the verified checkpoint the log was checked against.
	Checkpoint *Checkpoint
	// BadEntry is the index of the first entry found not to match, or -1.
	BadEntry int64
	// Problem says what is wrong, "" when the log verifies.
	Problem string
}

// OK reports whether the log verified.
func (v *Verification) OK() bool { return v.Problem == "" }

// MemoryHashes is a tlog.HashReader over stored hashes computed in memory,
// by index: what a verifier that recomputes a tree from its leaves keeps.
type MemoryHashes []tlog.Hash

// ReadHashes implements tlog.HashReader.
func (m MemoryHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("audit: hash %d not computed", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// Verify checks a log against a signed checkpoint: every entry from 0 to
// the checkpoint's size is fetched, its leaf hash recomputed and compared
// with the stored one, the Merkle root recomputed from the leaves and
// compared with the checkpoint's; given a checkpoint saved earlier, it also
// proves that the log only grew since. It names the first entry that does
// not match. An error means the verification could not be done at all.
func Verify(ctx context.Context, src Source, checkpoint []byte, verifierKey string, saved []byte) (*Verification, error) {
	cp, err := OpenCheckpoint(checkpoint, verifierKey)
	if err != nil {
		return nil, err
	}
	v := &Verification{Checkpoint: cp, BadEntry: -1}
	bad := func(seq int64, format string, args ...any) (*Verification, error) {
		v.BadEntry, v.Problem = seq, fmt.Sprintf(format, args...)
		return v, nil
	}
	var (
		stored MemoryHashes
		leaves = make([]tlog.Hash, 0, cp.Size)
	)
	for next := int64(0); next < cp.Size; {
		page, err := src.Entries(ctx, next, 1000)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return bad(next, "entry %d is missing: the log ends at %d entries, but the checkpoint has %d", next, next, cp.Size)
		}
		for _, e := range page {
			if next >= cp.Size {
				break
			}
			if e.Seq != next {
				return bad(next, "entry %d is missing: the log goes from entry %d to entry %d", next, next-1, e.Seq)
			}
			h := tlog.RecordHash(e.Leaf)
			if h != e.Hash {
				return bad(e.Seq, "entry %d was changed: its content does not hash to the leaf hash recorded when it was appended", e.Seq)
			}
			if d, err := Decode(e.Leaf); err != nil || d.Seq != e.Seq {
				return bad(e.Seq, "entry %d does not decode as the entry with that sequence number", e.Seq)
			}
			hs, err := tlog.StoredHashes(e.Seq, e.Leaf, stored)
			if err != nil {
				return nil, err
			}
			stored = append(stored, hs...)
			leaves = append(leaves, h)
			next++
		}
	}
	root, err := tlog.TreeHash(cp.Size, stored)
	if err != nil {
		return nil, err
	}
	if root != cp.Root {
		// The stored hashes were rewritten with the entries; the signed root
		// still tells the truth. Find the entry it does not include.
		for i := range cp.Size {
			p, err := src.InclusionProof(ctx, i, cp.Size)
			if err != nil {
				return nil, err
			}
			if tlog.CheckRecord(p, cp.Size, cp.Root, i, leaves[i]) == nil {
				continue
			}
			// Two leaves under one node of the tree carry each other's
			// stored hash in their proofs: when one of them and its stored
			// hash were changed, both proofs fail, and the signed root
			// alone cannot say which of the two it was.
			if i%2 == 0 && i+1 < cp.Size {
				return bad(i, "entry %d or entry %d (two leaves of one node of the tree) is not what the signed checkpoint of size %d includes", i, i+1, cp.Size)
			}
			return bad(i, "entry %d is not the entry the signed checkpoint of size %d includes", i, cp.Size)
		}
		return bad(-1, "the entries do not hash to the root of the signed checkpoint of size %d", cp.Size)
	}
	if len(saved) == 0 {
		return v, nil
	}
	old, err := OpenCheckpoint(saved, verifierKey)
	if err != nil {
		return nil, fmt.Errorf("the saved checkpoint: %w", err)
	}
	if old.Origin != cp.Origin {
		return bad(-1, "the saved checkpoint is of log %q, not %q", old.Origin, cp.Origin)
	}
	if old.Size > cp.Size {
		return bad(cp.Size, "the log shrank: it has %d entries, but a checkpoint saved earlier had %d", cp.Size, old.Size)
	}
	oldRoot, err := tlog.TreeHash(old.Size, stored)
	if err != nil {
		return nil, err
	}
	if oldRoot != old.Root {
		// The server's own hashes cannot be trusted to locate the change
		// (they were rewritten too), and a root alone does not say which
		// leaf it covered differently: say which prefix was rewritten.
		return bad(-1, "the log was rewritten since the saved checkpoint: its first %d entries no longer hash to that checkpoint's root", old.Size)
	}
	if old.Size == 0 {
		return v, nil // every log extends the empty one
	}
	proof, err := src.ConsistencyProof(ctx, old.Size, cp.Size)
	if err != nil {
		return nil, err
	}
	if err := tlog.CheckTree(proof, cp.Size, cp.Root, old.Size, old.Root); err != nil {
		return bad(-1, "the server's consistency proof from size %d to %d does not verify: %v", old.Size, cp.Size, err)
	}
	return v, nil
}

// DecodeHashes reads hashes as the log serves them (an entry's hash, a
// proof's hashes): base64 of 32 bytes each.
func DecodeHashes(in ...string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(in))
	for i, s := range in {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			if len(s) > 60 {
				s = s[:60] + "…"
			}
			return nil, fmt.Errorf("hash %q is not a base64 SHA-256 hash", s)
		}
		copy(out[i][:], b)
	}
	return out, nil
}
