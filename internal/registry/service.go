// Package registry is modelgov's service: the one write path through which
// every change to the registry passes, and the queries over it.
//
// Every write, from any entry point, runs commit: inside one store
// transaction it validates the document, checks preconditions and the
// lifecycle rules, stores the new document and its immutable revision, and
// records an idempotent answer when asked. Nothing else writes to the store.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
)

// idempotencyTTL is how long an Idempotency-Key is remembered.
const idempotencyTTL = 24 * time.Hour

// Config holds what a Service needs.
type Config struct {
	Store  store.Store
	Schema *schema.Validator
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// Logger receives the service's logs; nil means slog.Default().
	Logger *slog.Logger
	// Signer signs the audit log's checkpoints; nil serves none.
	Signer *audit.Signer
	// EventSource is the CloudEvents source of the registry's events, such
	// as "modelgov/host"; "" means "modelgov".
	EventSource string
	// WebhookAllowPrivate lets webhook subscriptions name loopback and
	// private addresses (the dispatcher must be told the same).
	WebhookAllowPrivate bool
	// WebhookMaxFailures is how many consecutive failed deliveries disable
	// a subscription; 0 means DefaultWebhookMaxFailures.
	WebhookMaxFailures int
}

// Service is the registry. It is safe for concurrent use.
type Service struct {
	store       store.Store
	schema      *schema.Validator
	now         func() time.Time
	log         *slog.Logger
	programs    programs
	checkpoints checkpoints
	eventSource string
	signal      signal

	webhookAllowPrivate bool
	webhookMaxFailures  int
	tokens              tokenCache
}

// New returns a Service over cfg.Store.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Schema == nil {
		return nil, errors.New("registry: a store and a schema validator are required")
	}
	s := &Service{store: cfg.Store, schema: cfg.Schema, now: cfg.Now, log: cfg.Logger, eventSource: cfg.EventSource,
		webhookAllowPrivate: cfg.WebhookAllowPrivate, webhookMaxFailures: cfg.WebhookMaxFailures}
	if s.webhookMaxFailures <= 0 {
		s.webhookMaxFailures = DefaultWebhookMaxFailures
	}
	if s.eventSource == "" {
		s.eventSource = "modelgov"
	}
	s.checkpoints.signer = cfg.Signer
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Caller is who asks for a read or a write.
type Caller struct {
	// Principal names the caller, as recorded in history.
	Principal string
	Roles     []string
	// system marks the registry acting on its own; see systemCaller.
	system bool
}

// Anonymous is the caller of a request without credentials.
var Anonymous = Caller{Principal: "anonymous"}

// WriteOptions go with every write.
type WriteOptions struct {
	Caller Caller
	// RequestID ties the write's records to the request that asked for it.
	RequestID string
	// IfMatch, when not empty, is the resource_version the caller last saw
	// (or "*" for any existing version); a write against another version is
	// refused with errs.PreconditionFailed.
	IfMatch string
	// IdempotencyKey, when not empty on a create, makes a retry of the same
	// request return the first answer instead of acting again.
	IdempotencyKey string
}

// Outcome says what a write did.
type Outcome string

// Write outcomes.
const (
	Created   Outcome = "created"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged"
	Deleted   Outcome = "deleted"
)

// Result is the answer to a write.
type Result struct {
	Outcome Outcome
	// Model is the model after the write (before it, for a deletion).
	Model *api.Model
	// Alias is the alias after an alias write.
	Alias *api.Alias
	// Replayed is true when the answer is the stored answer to an earlier
	// request with the same idempotency key.
	Replayed bool
}

// A write is one change through the write path.
type write struct {
	opts WriteOptions
	// idempotency, when set, names the request for Idempotency-Key replays.
	idempotency *idempotency
	// do makes the change inside the transaction and says what it did.
	do func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error)
	// revokesTokens says the write may revoke API tokens: commit forgets
	// the cached tokens before it wakes the watchers, so that nothing woken
	// by the revocation authenticates a revoked token from the cache.
	revokesTokens bool
}

type idempotency struct {
	scope string
	hash  string
}

// commit is the one write path: every change to the registry runs here, in
// one transaction, so that all of it is stored or none of it.
func (s *Service) commit(ctx context.Context, w write) (*Result, error) {
	now := s.now().UTC()
	var res *Result
	err := s.store.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		res = nil
		key := w.opts.IdempotencyKey
		if w.idempotency != nil && key != "" {
			rec, err := tx.GetIdempotent(ctx, w.idempotency.scope, key)
			switch {
			case err == nil && rec.Created.After(now.Add(-idempotencyTTL)):
				if rec.RequestHash != w.idempotency.hash {
					return errs.E(errs.Invalid, "Idempotency-Key %q was already used with a different request; use a new key for a new request", key)
				}
				var m api.Model
				if err := json.Unmarshal(rec.Body, &m); err != nil {
					return fmt.Errorf("registry: stored idempotent answer: %w", err)
				}
				res = &Result{Outcome: Created, Model: &m, Replayed: true}
				return nil
			case err == nil: // expired: act again
			case !errs.Is(err, errs.NotFound):
				return err
			}
		}

		r, err := w.do(ctx, tx, now)
		if err != nil {
			return err
		}
		// The policy decision is taken inside do (decideWrite), before
		// anything is stored, and do records the audit entry and the outbox
		// event of each change where it stores it (record), in this same
		// transaction.

		if w.idempotency != nil && key != "" && r.Model != nil {
			body, err := json.Marshal(r.Model)
			if err != nil {
				return fmt.Errorf("registry: record idempotent answer: %w", err)
			}
			if err := tx.ExpireIdempotent(ctx, now.Add(-idempotencyTTL)); err != nil {
				return err
			}
			if err := tx.PutIdempotent(ctx, &store.Idempotent{
				Scope: w.idempotency.scope, Key: key, RequestHash: w.idempotency.hash,
				Status: 201, Body: body, ResourceVersion: r.Model.ResourceVersion, Created: now,
			}); err != nil {
				return err
			}
		}
		res = r
		return nil
	})
	var denied *deniedWrite
	if errors.As(err, &denied) {
		// The write was rolled back; its refusal is a decision too, and is
		// recorded on its own.
		if rerr := s.recordDenial(ctx, denied); rerr != nil {
			return nil, errors.Join(denied.err, fmt.Errorf("registry: record the denial: %w", rerr))
		}
		return nil, denied.err
	}
	if err != nil {
		return nil, err
	}
	if w.revokesTokens {
		s.tokens.clear()
	}
	s.signal.fire() // the write's events are committed: wake the watchers
	return res, nil
}

func hashRequest(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkIfMatch compares an If-Match value with a current resource version.
func checkIfMatch(ifMatch, current, what string) error {
	if ifMatch == "" {
		return nil
	}
	if current == "" {
		return errs.E(errs.PreconditionFailed, "%s does not exist, so it cannot match If-Match %s", what, ifMatch)
	}
	if ifMatch == "*" || ifMatch == current {
		return nil
	}
	return errs.E(errs.PreconditionFailed,
		"%s has changed: it is at resource_version %s, not %s; read it again and retry", what, current, ifMatch)
}

// actor returns the name recorded for the caller.
func actor(c Caller) string {
	if p := strings.TrimSpace(c.Principal); p != "" {
		return p
	}
	return Anonymous.Principal
}
