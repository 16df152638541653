// Package store defines the contract of modelgov's persistence: what the
// registry may rely on from any database behind it.
//
// The registry is the only writer. It changes the store only inside
// ReadWrite, so that a write, its revision and everything recorded with it
// commit together or not at all. Implementations live in sub-packages
// (sqlite, and later postgres) and must pass the conformance suite in
// storetest.
package store

import (
	"context"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/labels"
)

// Store is a modelgov database.
type Store interface {
	Reader

	// ReadWrite runs f in a read-write transaction.
	// If f returns an error, the transaction aborts and ReadWrite returns
	// that error; otherwise the transaction commits, and once ReadWrite
	// returns nil every change f made is durable and visible to readers.
	// Transactions are serializable: f sees no change committed after it
	// began, and two transactions never interleave their writes.
	// f may be called more than once if the database asks for a retry, so
	// it must not have effects outside the transaction.
	ReadWrite(ctx context.Context, f func(context.Context, Tx) error) error

	// Export calls emit with every record of the store (see Record for
	// what a snapshot holds and leaves out), all read from one consistent
	// snapshot, in the order of Kinds and within a kind in the store's
	// order (models by id, revisions by id and number, alias moves by name
	// and number, audit entries, hashes, events and deliveries by number).
	// It streams: memory does not grow with the store. Each record is new,
	// so emit may keep it. If emit returns an error, Export stops and
	// returns it.
	Export(ctx context.Context, emit func(*Record) error) error

	// Import stores the records next gives, until it returns io.EOF, into
	// an empty store, as they are: ids, sequence numbers, revision numbers
	// and resource versions are kept, and new writes continue after them
	// (the next event, delivery id or revision follows the imported ones).
	// It refuses a store holding any data with an error of kind
	// errs.Invalid, and a malformed record (Record.Check) likewise. It is
	// all or nothing: if next returns another error, or a record cannot be
	// stored, Import returns that error and the store stays empty.
	Import(ctx context.Context, next func() (*Record, error)) error

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error

	// Close releases the database. Calls after Close fail.
	Close() error
}

// Reader is the read side of a store, available both outside and inside a
// transaction. Outside a transaction each call reads one consistent snapshot.
type Reader interface {
	EvaluationReader
	ImportReader

	// GetModel returns the current document of the model with that id.
	// It returns an error of kind errs.NotFound when there is none.
	GetModel(ctx context.Context, id string) (*api.Model, error)

	// ListModels returns up to q.Limit models matching q, in the order
	// q.Sort (ascending model_id by default), starting after the row that
	// q.After (and q.AfterKey) name.
	ListModels(ctx context.Context, q ModelQuery) ([]*api.Model, error)

	// ListModelDocs is ListModels answering each model's stored JSON
	// document as it is, for readers that pass it on without decoding.
	ListModelDocs(ctx context.Context, q ModelQuery) ([]Doc, error)

	// GetModelDoc is GetModel answering the stored JSON document.
	GetModelDoc(ctx context.Context, id string) (Doc, error)

	// LastRevision returns the number of the newest revision of a model id,
	// including one whose model was deleted, or 0 when it never existed.
	LastRevision(ctx context.Context, id string) (int64, error)

	// ListRevisions returns up to limit revisions of a model id, newest
	// first, with numbers below before (all when before <= 0).
	ListRevisions(ctx context.Context, id string, before int64, limit int) ([]*api.Revision, error)

	// GetRevision returns one revision, or an error of kind errs.NotFound.
	GetRevision(ctx context.Context, id string, revision int64) (*api.Revision, error)

	// GetAlias returns an alias, or an error of kind errs.NotFound.
	GetAlias(ctx context.Context, name string) (*api.Alias, error)

	// ListAliases returns up to limit aliases in name order after after.
	// When target is not empty, only the aliases pointing at it.
	ListAliases(ctx context.Context, target, after string, limit int) ([]*api.Alias, error)

	// AliasHistory returns every move of an alias, newest first. A removal
	// is a move with an empty target.
	AliasHistory(ctx context.Context, name string) ([]*api.Alias, error)

	// CountModels returns how many models q selects (q.After and q.Limit
	// are ignored).
	CountModels(ctx context.Context, q ModelQuery) (int64, error)

	// GetPolicy returns a policy bundle version, with Active set when it is
	// the active one, or an error of kind errs.NotFound.
	GetPolicy(ctx context.Context, version int64) (*api.Policy, error)

	// ListPolicies returns every policy bundle version, newest first.
	ListPolicies(ctx context.Context) ([]*api.Policy, error)

	// ActivePolicy returns the active policy bundle, or an error of kind
	// errs.NotFound when none was ever activated.
	ActivePolicy(ctx context.Context) (*api.Policy, error)

	// ActivationReport returns the compliance report recorded when a
	// version was last activated, or an error of kind errs.NotFound.
	ActivationReport(ctx context.Context, version int64) (*api.ComplianceReport, error)

	// AuditSize returns the number of entries in the audit log.
	AuditSize(ctx context.Context) (int64, error)

	// AuditEntries returns up to q.Limit audit entries matching q, in
	// sequence order, from q.From on.
	AuditEntries(ctx context.Context, q AuditQuery) ([]*AuditRecord, error)

	// ReadHashes returns the audit tree's stored hashes at the given
	// indexes (tlog's stored hash indexes), in the same order. It returns
	// an error when one is missing.
	ReadHashes(ctx context.Context, indexes []int64) ([][32]byte, error)

	// TokenByHash returns the API token whose secret hashes to hash
	// (SHA-256), or an error of kind errs.NotFound. It returns revoked and
	// expired tokens too: the caller judges them.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)

	// GetToken returns an API token by id, or an error of kind
	// errs.NotFound.
	GetToken(ctx context.Context, id string) (*Token, error)

	// ListTokens returns every API token, newest first.
	ListTokens(ctx context.Context) ([]*Token, error)

	// IdentityOwners returns, in order, the distinct identity owners of the
	// models with role whose identity is verified and unexpired at t.
	IdentityOwners(ctx context.Context, role api.Role, t time.Time) ([]string, error)

	// LastEventSeq returns the sequence number of the newest event, 0 when
	// there is none.
	LastEventSeq(ctx context.Context) (int64, error)

	// ListEvents returns up to q.Limit events after q.After that match q,
	// in sequence order.
	ListEvents(ctx context.Context, q EventQuery) ([]*api.Event, error)

	// VerifiedIdentities returns every model whose identity is verified and
	// unexpired at t, in model_id order, with what endorsement counting
	// needs of it.
	VerifiedIdentities(ctx context.Context, t time.Time) ([]VerifiedIdentity, error)

	// GetWebhook returns a webhook subscription with its secret, or an
	// error of kind errs.NotFound.
	GetWebhook(ctx context.Context, id string) (*Webhook, error)

	// ListWebhooks returns every webhook subscription, oldest first.
	ListWebhooks(ctx context.Context) ([]*Webhook, error)

	// ListDeliveries returns up to limit entries of a webhook's delivery
	// log, newest first, with ids below before (all when before <= 0).
	ListDeliveries(ctx context.Context, webhookID string, before int64, limit int) ([]*api.Delivery, error)

	// GetDelivery returns one entry of a webhook's delivery log, or an
	// error of kind errs.NotFound.
	GetDelivery(ctx context.Context, webhookID string, id int64) (*api.Delivery, error)

	// IdentityClaim returns the id of the model that holds a claim (a key
	// id for ClaimKey, an artifact digest for ClaimArtifact), or an error
	// of kind errs.NotFound.
	IdentityClaim(ctx context.Context, kind ClaimKind, value string) (string, error)
}

// Tx is a read-write transaction. Its methods must only be called from the
// function passed to ReadWrite, and not after it returns.
type Tx interface {
	Reader
	EvaluationWriter
	ImportWriter

	// PutModel stores m as the current document of m.ModelID, replacing any
	// previous one, and indexes the fields that queries filter on.
	PutModel(ctx context.Context, m *api.Model) error

	// DeleteModel removes the current document of a model id. Its revisions
	// stay. It returns an error of kind errs.NotFound when there is none.
	DeleteModel(ctx context.Context, id string) error

	// AppendRevision adds a revision. Its number must be exactly one more
	// than LastRevision for that id; otherwise it returns an error of kind
	// errs.Conflict and stores nothing.
	AppendRevision(ctx context.Context, r *api.Revision) error

	// PutAlias stores the alias and appends it to the alias's history.
	// a.ResourceVersion must be one more than the history's length.
	PutAlias(ctx context.Context, a *api.Alias) error

	// DeleteAlias removes an alias and appends the removal (a move with an
	// empty target, carrying a's time, actor and reason) to its history.
	DeleteAlias(ctx context.Context, a *api.Alias) error

	// GetIdempotent returns the answer stored under an idempotency key, or
	// an error of kind errs.NotFound.
	GetIdempotent(ctx context.Context, scope, key string) (*Idempotent, error)

	// PutIdempotent stores the answer to a request under its idempotency key.
	PutIdempotent(ctx context.Context, rec *Idempotent) error

	// ExpireIdempotent forgets the answers recorded before t.
	ExpireIdempotent(ctx context.Context, before time.Time) error

	// PutPolicy stores a new policy bundle version. p.Version must be one
	// more than the newest stored version (1 for the first).
	PutPolicy(ctx context.Context, p *api.Policy) error

	// ActivatePolicy makes a stored version the active one and records the
	// activation with its compliance report.
	ActivatePolicy(ctx context.Context, version int64, at time.Time, by string, report *api.ComplianceReport) error

	// AppendAudit adds an entry to the audit log with the tree hashes its
	// append stores, at indexes firstHash, firstHash+1, ... rec.Seq must
	// equal AuditSize; otherwise it returns an error of kind errs.Conflict.
	AppendAudit(ctx context.Context, rec *AuditRecord, firstHash int64, hashes [][32]byte) error

	// PutToken stores a new API token. It returns an error of kind
	// errs.Exists when a token with the same id or hash exists.
	PutToken(ctx context.Context, t *Token) error

	// RevokeToken marks a token revoked at t by by. Revoking a revoked
	// token keeps its first revocation. It returns an error of kind
	// errs.NotFound when there is no such token.
	RevokeToken(ctx context.Context, id string, at time.Time, by string) error

	// ClaimIdentity records that modelID holds a claim, for good: claims
	// are never released, so that a key or an artifact, once used by a
	// model, can never speak for another one. Claiming again what modelID
	// holds does nothing; a claim held by another model is refused with an
	// error of kind errs.Exists.
	ClaimIdentity(ctx context.Context, kind ClaimKind, value, modelID string, at time.Time) error

	// PutChallenge stores a new identity challenge. It returns an error of
	// kind errs.Exists when its nonce is taken.
	PutChallenge(ctx context.Context, c *Challenge) error

	// TakeChallenge removes a challenge and returns it, so that a nonce is
	// answered at most once. It returns an error of kind errs.NotFound when
	// there is none (never issued, or already taken).
	TakeChallenge(ctx context.Context, nonce string) (*Challenge, error)

	// ExpireChallenges removes the challenges that expired before t.
	ExpireChallenges(ctx context.Context, before time.Time) error

	// AppendEvent adds an event to the outbox and sets e.Seq (and e.ID,
	// its decimal form) to one more than LastEventSeq: sequence numbers are
	// gap-free, since write transactions never interleave, and an aborted
	// transaction takes its events with it.
	AppendEvent(ctx context.Context, e *api.Event) error

	// PutWebhook stores a webhook subscription, replacing the one with the
	// same id.
	PutWebhook(ctx context.Context, w *Webhook) error

	// DeleteWebhook removes a webhook subscription and its delivery log. It
	// returns an error of kind errs.NotFound when there is none.
	DeleteWebhook(ctx context.Context, id string) error

	// AppendDelivery adds an entry to a webhook's delivery log and sets
	// d.ID to a number above every earlier entry's.
	AppendDelivery(ctx context.Context, d *api.Delivery) error

	// PruneDeliveries keeps only the newest keep entries of a webhook's
	// delivery log.
	PruneDeliveries(ctx context.Context, webhookID string, keep int) error

	// AcquireLease gives the lease name to holder until now+ttl when it is
	// free, expired at now, or already held by holder (a renewal), and
	// reports whether holder holds it. Work that only one registry process
	// may do at a time (webhook dispatch) runs under a lease.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
}

// Webhook is a webhook subscription as stored: its listing, and its
// signing secret, which must be kept to sign (unlike a token's).
type Webhook struct {
	api.Webhook
	Secret string
}

// EventQuery selects events. Empty fields do not filter.
type EventQuery struct {
	// After is the sequence number the events follow.
	After int64
	// Types keeps the events of these types.
	Types []string
	// Subject keeps the events about this subject.
	Subject string
	// Limit is the largest number of events to return; it must be positive.
	Limit int
}

// Token is an API token as stored: its listing, and the SHA-256 hash of its
// secret, by which it is found. The secret itself is never stored.
type Token struct {
	api.Token
	Hash []byte
}

// VerifiedIdentity is a model whose identity is verified.
type VerifiedIdentity struct {
	ModelID string
	Role    api.Role
	KeyID   string
	Owner   string
}

// ClaimKind is what an identity claim is on.
type ClaimKind string

// Identity claim kinds.
const (
	// ClaimKey is on a public key's key id.
	ClaimKey ClaimKind = "key"
	// ClaimArtifact is on an artifact digest.
	ClaimArtifact ClaimKind = "artifact"
)

// Challenge is an identity challenge as stored: the nonce given out, and
// what its answer proves.
type Challenge struct {
	api.Challenge
	ModelID string
	// NewKeyType and NewPublicKey are, for a rotation, the new key.
	NewKeyType   string
	NewPublicKey string
	CreatedAt    time.Time
	CreatedBy    string
}

// AuditRecord is an audit entry as stored: its leaf bytes and the fields
// copied from them for filtering.
type AuditRecord struct {
	Seq       int64
	Time      time.Time
	Principal string
	Action    string
	Target    string
	Outcome   string
	Leaf      []byte
}

// AuditQuery selects audit entries. Empty fields do not filter.
type AuditQuery struct {
	Target, Principal, Action, Outcome string
	Since, Until                       time.Time
	// From is the first sequence number to return.
	From  int64
	Limit int
}

// Doc is a model's stored JSON document, with the fields a reader needs
// without decoding it.
type Doc struct {
	ModelID         string
	ResourceVersion string
	JSON            []byte
	// SortKey is the row's value of the column its list was sorted by
	// (ModelQuery.Sort), for the next page's AfterKey; "" under
	// SortModelID, whose key is ModelID itself.
	SortKey string
}

// ModelSort is the order of a list of models. Every order ends with
// model_id, so that it is total and a page can start after any row
// (keyset pagination), and every order has an index that walks it.
type ModelSort int

// The orders of a list of models.
const (
	// SortModelID is model_id order, ascending: the default.
	SortModelID ModelSort = iota
	// SortDisplayName is display_name order (bytewise), then model_id,
	// ascending.
	SortDisplayName
	// SortUpdated is newest first: updated_at descending, then model_id
	// descending.
	SortUpdated
)

// ModelQuery selects models. Empty fields do not filter.
type ModelQuery struct {
	Provider   string
	Family     string
	Status     api.Status
	Role       api.Role
	SizeClass  api.SizeClass
	Capability string
	Labels     labels.Selector
	// Text matches as a case-insensitive substring of model_id or display_name.
	Text string
	// NonCompliant selects only the models out of compliance.
	NonCompliant bool
	// Compliant selects only the models not out of compliance (compliant,
	// or not checked against a policy yet). With NonCompliant it selects
	// nothing.
	Compliant bool
	// ReviewPending selects only the models held for a governor's review
	// (governance.review.status pending).
	ReviewPending bool
	// ParameterCount and ContextWindow, when not zero, select the models
	// that declare exactly that figure. With Provider and Family they are
	// one index lookup; alone, a scan.
	ParameterCount, ContextWindow api.Count
	// DeadlineBefore, when not zero, selects only the non-compliant models
	// whose deadline is at or before it.
	DeadlineBefore time.Time
	// Sort is the order of the list. CountModels ignores it.
	Sort ModelSort
	// After is the model_id the page starts after; under a Sort other
	// than SortModelID, the model_id of the row whose sort key is
	// AfterKey. The page starts after that row in the list's order.
	After string
	// AfterKey is the sort key (Doc.SortKey) of the row the page starts
	// after, when Sort is not SortModelID and After is set.
	AfterKey string
	// Limit is the largest number of models to return; it must be positive.
	Limit int
}

// Idempotent is the recorded answer to a request that carried an
// Idempotency-Key, so that a retry gets the first answer again.
type Idempotent struct {
	// Scope separates key spaces: the route and the caller.
	Scope string
	Key   string
	// RequestHash identifies the request body the key was first used with.
	RequestHash string
	// Status and Body are the first answer.
	Status int
	Body   []byte
	// ResourceVersion is the ETag of the first answer.
	ResourceVersion string
	Created         time.Time
}
