package store

import (
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// Record kinds: what a snapshot Record holds. Store.Export emits them in
// this order, which is an order Import can replay; Import accepts any
// order, but runs fastest when the records of a kind come together.
const (
	KindPolicy     = "policy"
	KindActivation = "activation"
	KindModel      = "model"
	KindRevision   = "revision"
	KindAlias      = "alias"
	KindAliasMove  = "alias_move"
	KindToken      = "token"
	KindClaim      = "claim"
	KindBenchmark  = "benchmark"
	KindEvaluation = "evaluation"
	KindAudit      = "audit"
	KindAuditHash  = "audit_hash"
	KindEvent      = "event"
	KindWebhook    = "webhook"
	KindDelivery   = "delivery"
	KindImport     = "import"
)

// Kinds lists every record kind, in the order Export emits them.
func Kinds() []string {
	return []string{KindPolicy, KindActivation, KindModel, KindRevision, KindAlias, KindAliasMove, KindToken,
		KindClaim, KindBenchmark, KindEvaluation, KindAudit, KindAuditHash, KindEvent, KindWebhook, KindDelivery, KindImport}
}

// Record is one item of a whole-store snapshot (Store.Export and
// Store.Import): Kind names it, and the one field of that kind is set.
//
// A snapshot holds everything the registry keeps: the policy bundle
// versions and every activation, the current model documents, every
// revision, the current aliases and every move of each, the API tokens,
// the identity claims, the benchmarks catalogue and the evaluation results
// (the superseded ones too), the audit log with its stored tree hashes, the
// event outbox, and the webhook subscriptions with their delivery logs.
// It leaves out what is ephemeral: identity challenges (a snapshot outlives
// them), idempotency records and leases; and what is derived: the models'
// latest scores, which Import rebuilds from the valid results of the
// models it imports.
type Record struct {
	Kind string

	// Policy is a policy bundle version as uploaded; Active, ActivatedAt
	// and ActivatedBy are not set: the activations say them.
	Policy *api.Policy
	// Activation is one activation of a policy bundle version; the active
	// version is the one of the last.
	Activation *Activation
	// Model is a model's current document.
	Model *api.Model
	// Revision is one revision of a model id (also of a deleted model).
	Revision *api.Revision
	// Alias is an alias as it stands, its ResourceVersion the number of
	// its last move.
	Alias *api.Alias
	// AliasMove is one entry of an alias's history, its ResourceVersion
	// the entry's number (1 for the first); a removal has an empty Target.
	AliasMove *api.Alias
	// Token is an API token with its hash and revocation.
	Token *Token
	// Claim is an identity claim.
	Claim *Claim
	// Benchmark is an entry of the benchmarks catalogue.
	Benchmark *api.Benchmark
	// Evaluation is an evaluation result, with its SupersededBy.
	Evaluation *api.Evaluation
	// Audit is an audit log entry with its leaf bytes.
	Audit *AuditRecord
	// AuditHash is one stored hash of the audit tree.
	AuditHash *AuditHash
	// Event is an event of the outbox, with its sequence number.
	Event *api.Event
	// Webhook is a webhook subscription with its secret and delivery state.
	Webhook *Webhook
	// Delivery is an entry of a webhook's delivery log, with its id.
	Delivery *api.Delivery
	// Import is an applied import batch, so that it can still be rolled
	// back after a restore.
	Import *api.ImportBatch
}

// Activation is one activation of a policy bundle version.
type Activation struct {
	Version int64                 `json:"version"`
	At      time.Time             `json:"at"`
	By      string                `json:"by"`
	Report  *api.ComplianceReport `json:"report"`
}

// Claim is an identity claim: model ModelID holds Value of kind Kind since At.
type Claim struct {
	Kind    ClaimKind `json:"kind"`
	Value   string    `json:"value"`
	ModelID string    `json:"model_id"`
	At      time.Time `json:"at"`
}

// AuditHash is one stored hash of the audit tree, at tlog's stored hash
// index Index.
type AuditHash struct {
	Index int64
	Hash  [32]byte
}

// Check reports whether r is well formed: a known Kind, and exactly the
// field of that kind set. It returns an error of kind errs.Invalid
// otherwise.
func (r *Record) Check() error {
	if r == nil {
		return errs.E(errs.Invalid, "snapshot record is nil")
	}
	// An array, not a map: Import checks every record.
	fields := [...]struct {
		kind string
		set  bool
	}{
		{KindPolicy, r.Policy != nil},
		{KindActivation, r.Activation != nil},
		{KindModel, r.Model != nil},
		{KindRevision, r.Revision != nil},
		{KindAlias, r.Alias != nil},
		{KindAliasMove, r.AliasMove != nil},
		{KindToken, r.Token != nil},
		{KindClaim, r.Claim != nil},
		{KindBenchmark, r.Benchmark != nil},
		{KindEvaluation, r.Evaluation != nil},
		{KindAudit, r.Audit != nil},
		{KindAuditHash, r.AuditHash != nil},
		{KindEvent, r.Event != nil},
		{KindWebhook, r.Webhook != nil},
		{KindDelivery, r.Delivery != nil},
		{KindImport, r.Import != nil},
	}
	known, own := false, false
	for _, f := range fields {
		if f.kind == r.Kind {
			known, own = true, f.set
		}
	}
	if !known {
		return errs.E(errs.Invalid, "snapshot record of unknown kind %q", r.Kind)
	}
	if !own {
		return errs.E(errs.Invalid, "snapshot record of kind %s has no %s", r.Kind, r.Kind)
	}
	for _, f := range fields {
		if f.set && f.kind != r.Kind {
			return errs.E(errs.Invalid, "snapshot record of kind %s also holds a %s", r.Kind, f.kind)
		}
	}
	return nil
}

// NotEmpty is the error Import returns when the target store holds data.
func NotEmpty(what string) error {
	return errs.E(errs.Invalid, "cannot import a snapshot: the target store is not empty (it holds %s)", what)
}
