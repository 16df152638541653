package registry

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/store"
)

// hashReader reads the audit tree's stored hashes through a store reader.
type hashReader struct {
	ctx context.Context
	r   store.Reader
}

func (h hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	raw, err := h.r.ReadHashes(h.ctx, indexes)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(raw))
	for i, b := range raw {
		out[i] = tlog.Hash(b)
	}
	return out, nil
}

// record appends an audit entry inside tx: the entry takes the next
// sequence number, and the tree hashes its append adds are stored with it,
// so the entry commits or aborts with the change it records. An allowed
// entry is a change, whose event goes to the outbox in the same
// transaction.
func (s *Service) record(ctx context.Context, tx store.Tx, e *audit.Entry) error {
	return s.recordChange(ctx, tx, e, nil, nil)
}

// recordChange is record for a change of a model: before and after are the
// model's documents around it (nil for none), for its event.
func (s *Service) recordChange(ctx context.Context, tx store.Tx, e *audit.Entry, before, after *api.Model) error {
	if err := s.appendAudit(ctx, tx, e); err != nil {
		return err
	}
	if e.Outcome != audit.Allowed {
		return nil
	}
	return s.emit(ctx, tx, e, eventType(e, before, after), api.EventData{Model: after})
}

// appendAudit appends an audit entry, and only it, inside tx.
func (s *Service) appendAudit(ctx context.Context, tx store.Tx, e *audit.Entry) error {
	size, err := tx.AuditSize(ctx)
	if err != nil {
		return err
	}
	e.Seq = size
	leaf, err := audit.Encode(e)
	if err != nil {
		return err
	}
	hashes, err := tlog.StoredHashes(size, leaf, hashReader{ctx, tx})
	if err != nil {
		return fmt.Errorf("registry: audit tree: %w", err)
	}
	raw := make([][32]byte, len(hashes))
	for i, h := range hashes {
		raw[i] = h
	}
	return tx.AppendAudit(ctx, &store.AuditRecord{Seq: size, Time: e.Time, Principal: e.Principal, Action: e.Action,
		Target: e.Target, Outcome: e.Outcome, Leaf: leaf}, tlog.StoredHashIndex(0, size), raw)
}

// entry starts the audit entry of a write by the caller of opts.
func entry(opts WriteOptions, now time.Time, action, target string) *audit.Entry {
	roles := opts.Caller.Roles
	if roles == nil {
		roles = []string{}
	}
	return &audit.Entry{Time: now, Principal: actor(opts.Caller), Roles: roles, Action: action, Target: target,
		Outcome: audit.Allowed, RequestID: opts.RequestID}
}

// deniedWrite carries a refused write's audit entry out of its aborted
// transaction, so that commit records the denial in a transaction of its own.
type deniedWrite struct {
	err   error
	entry *audit.Entry
}

func (d *deniedWrite) Error() string { return d.err.Error() }
func (d *deniedWrite) Unwrap() error { return d.err }

// recordDenial records a refused decision after its write was rolled back.
func (s *Service) recordDenial(ctx context.Context, d *deniedWrite) error {
	return s.store.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		e := *d.entry
		return s.record(ctx, tx, &e)
	})
}

// AuditQuery selects audit entries, as GET /v1/audit/entries does.
type AuditQuery struct {
	Model, Actor, Action, Outcome string
	Since, Until                  time.Time
	// From is the first sequence number to return.
	From      int64
	PageSize  int
	PageToken string
}

// AuditEntries returns one page of audit entries in sequence order.
func (s *Service) AuditEntries(ctx context.Context, q AuditQuery) (*api.AuditEntryList, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, err
	}
	from := q.From
	if from < 0 {
		return nil, errs.E(errs.Malformed, "from must not be negative")
	}
	if q.PageToken != "" {
		c, err := decodeCursor(q.PageToken)
		if err != nil {
			return nil, err
		}
		if from, err = strconv.ParseInt(c, 10, 64); err != nil || from < 0 {
			return nil, errs.E(errs.Malformed, "page_token is not valid; start again without it")
		}
	}
	if q.Outcome != "" && q.Outcome != audit.Allowed && q.Outcome != audit.Denied {
		return nil, errs.E(errs.Malformed, "outcome %q is not allowed or denied", q.Outcome)
	}
	recs, err := s.store.AuditEntries(ctx, store.AuditQuery{Target: q.Model, Principal: q.Actor, Action: q.Action,
		Outcome: q.Outcome, Since: q.Since, Until: q.Until, From: from, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	list := &api.AuditEntryList{Items: []*api.AuditEntry{}}
	if len(recs) > size {
		recs = recs[:size]
		list.NextPageToken = encodeCursor(strconv.FormatInt(recs[size-1].Seq+1, 10))
	}
	indexes := make([]int64, len(recs))
	for i, r := range recs {
		indexes[i] = tlog.StoredHashIndex(0, r.Seq)
	}
	hashes, err := s.store.ReadHashes(ctx, indexes)
	if err != nil {
		return nil, err
	}
	for i, r := range recs {
		e, err := served(r.Leaf, hashes[i])
		if err != nil {
			return nil, err
		}
		list.Items = append(list.Items, e)
	}
	return list, nil
}

// AuditEntry returns one audit entry.
func (s *Service) AuditEntry(ctx context.Context, seq int64) (*api.AuditEntry, error) {
	recs, err := s.store.AuditEntries(ctx, store.AuditQuery{From: seq, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || recs[0].Seq != seq {
		return nil, errs.E(errs.NotFound, "audit entry %d not found", seq)
	}
	hashes, err := s.store.ReadHashes(ctx, []int64{tlog.StoredHashIndex(0, seq)})
	if err != nil {
		return nil, err
	}
	return served(recs[0].Leaf, hashes[0])
}

func served(leaf []byte, hash [32]byte) (*api.AuditEntry, error) {
	e, err := audit.Decode(leaf)
	if err != nil {
		return nil, err
	}
	if e.Failed == nil {
		e.Failed = []api.AuditFailedRule{}
	}
	out := &api.AuditEntry{AuditRecord: *e, Leaf: leaf, Hash: base64.StdEncoding.EncodeToString(hash[:])}
	return out, nil
}

// checkpoints signs the log's checkpoints, remembering the last one.
type checkpoints struct {
	signer *audit.Signer
	mu     sync.Mutex
	size   int64
	signed []byte
}

// AuditCheckpoint returns the signed checkpoint of the log as it is now.
func (s *Service) AuditCheckpoint(ctx context.Context) ([]byte, error) {
	if s.checkpoints.signer == nil {
		return nil, errs.E(errs.Unavailable, "this registry has no audit signing key")
	}
	size, err := s.store.AuditSize(ctx)
	if err != nil {
		return nil, err
	}
	c := &s.checkpoints
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.signed != nil && c.size == size {
		return c.signed, nil
	}
	root, err := tlog.TreeHash(size, hashReader{ctx, s.store})
	if err != nil {
		return nil, fmt.Errorf("registry: audit tree hash: %w", err)
	}
	msg, err := c.signer.Sign(size, root)
	if err != nil {
		return nil, err
	}
	c.size, c.signed = size, msg
	return msg, nil
}

// AuditKey returns the verifier key of the log's checkpoints.
func (s *Service) AuditKey() (string, error) {
	if s.checkpoints.signer == nil {
		return "", errs.E(errs.Unavailable, "this registry has no audit signing key")
	}
	return s.checkpoints.signer.VerifierKey(), nil
}

func (s *Service) checkSize(ctx context.Context, size int64, what string) error {
	n, err := s.store.AuditSize(ctx)
	if err != nil {
		return err
	}
	if size < 1 || size > n {
		return errs.E(errs.Malformed, "%s %d is not a tree size of this log (1 to %d)", what, size, n)
	}
	return nil
}

// InclusionProof proves that entry index is in the tree of size entries.
func (s *Service) InclusionProof(ctx context.Context, index, size int64) (*api.InclusionProof, error) {
	if err := s.checkSize(ctx, size, "size"); err != nil {
		return nil, err
	}
	if index < 0 || index >= size {
		return nil, errs.E(errs.Malformed, "index %d is not in a tree of %d entries", index, size)
	}
	p, err := tlog.ProveRecord(size, index, hashReader{ctx, s.store})
	if err != nil {
		return nil, fmt.Errorf("registry: inclusion proof: %w", err)
	}
	return &api.InclusionProof{Index: index, Size: size, Hashes: encodeHashes(p)}, nil
}

// ConsistencyProof proves that the tree of old entries is a prefix of the
// tree of size entries.
func (s *Service) ConsistencyProof(ctx context.Context, old, size int64) (*api.ConsistencyProof, error) {
	if err := s.checkSize(ctx, size, "new"); err != nil {
		return nil, err
	}
	if old < 1 || old > size {
		return nil, errs.E(errs.Malformed, "old %d must be between 1 and new (%d)", old, size)
	}
	p, err := tlog.ProveTree(size, old, hashReader{ctx, s.store})
	if err != nil {
		return nil, fmt.Errorf("registry: consistency proof: %w", err)
	}
	return &api.ConsistencyProof{Old: old, New: size, Hashes: encodeHashes(p)}, nil
}

func encodeHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

// auditAction names a model write in the audit log, as the policy does.
func auditAction(a api.Action) string {
	if pa, ok := policyAction[a]; ok {
		return string(pa)
	}
	return "model." + string(a)
}

// decideWrite asks the policy about a write. A refusal comes back as a
// deniedWrite carrying e, completed as the record of the denial.
func (s *Service) decideWrite(ctx context.Context, tx store.Reader, in *policy.Input, e *audit.Entry) (*policy.Program, error) {
	prog, d, err := s.decide(ctx, tx, in)
	if err == nil {
		return prog, nil
	}
	if d == nil || d.Allowed {
		return nil, err
	}
	e.Outcome, e.Failed = audit.Denied, audit.FailedRules(d)
	e.PolicyVersion, e.PolicyHash = d.PolicyVersion, d.PolicyHash
	return nil, &deniedWrite{err: err, entry: e}
}

// stampPolicy records the bundle a write was allowed under.
func stampPolicy(e *audit.Entry, prog *policy.Program) {
	if prog != nil {
		e.PolicyVersion, e.PolicyHash = prog.Version(), prog.Hash()
	}
}
