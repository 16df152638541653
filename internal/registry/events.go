package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// Event types, after api.EventTypePrefix. docs/EVENTS.md describes each.
const (
	EventModelCreated           = api.EventTypePrefix + "model.created"
	EventModelUpdated           = api.EventTypePrefix + "model.updated"
	EventModelDeleted           = api.EventTypePrefix + "model.deleted"
	EventModelLifecycleChanged  = api.EventTypePrefix + "model.lifecycle_changed"
	EventModelClassified        = api.EventTypePrefix + "model.classified"
	EventModelComplianceChanged = api.EventTypePrefix + "model.compliance_changed"
	EventModelExempted          = api.EventTypePrefix + "model.exemptions_changed"
	EventModelReviewCleared     = api.EventTypePrefix + "model.review_cleared"
	EventIdentityVerified       = api.EventTypePrefix + "identity.verified"
	EventIdentityRevoked        = api.EventTypePrefix + "identity.revoked"
	EventIdentityChanged        = api.EventTypePrefix + "identity.changed"
	EventPolicyUploaded         = api.EventTypePrefix + "policy.uploaded"
	EventPolicyActivated        = api.EventTypePrefix + "policy.activated"
	EventAliasMoved             = api.EventTypePrefix + "alias.moved"
	EventAliasDeleted           = api.EventTypePrefix + "alias.deleted"
	EventTokenCreated           = api.EventTypePrefix + "token.created"
	EventTokenRevoked           = api.EventTypePrefix + "token.revoked"
	EventWebhookCreated         = api.EventTypePrefix + "webhook.created"
	EventWebhookDeleted         = api.EventTypePrefix + "webhook.deleted"
	EventWebhookEnabled         = api.EventTypePrefix + "webhook.enabled"
	EventWebhookDisabled        = api.EventTypePrefix + "webhook.disabled"
	EventImportApplied          = api.EventTypePrefix + "import.applied"
	EventImportRolledBack       = api.EventTypePrefix + "import.rolled_back"
)

// EventTypes returns every event type, in the order of the constants.
func EventTypes() []string {
	return []string{EventModelCreated, EventModelUpdated, EventModelDeleted, EventModelLifecycleChanged, EventModelClassified,
		EventModelComplianceChanged, EventModelExempted, EventModelReviewCleared, EventIdentityVerified, EventIdentityRevoked,
		EventIdentityChanged, EventPolicyUploaded, EventPolicyActivated, EventAliasMoved, EventAliasDeleted, EventTokenCreated,
		EventTokenRevoked, EventWebhookCreated, EventWebhookDeleted, EventWebhookEnabled, EventWebhookDisabled,
		EventBenchmarkCreated, EventEvaluationRecorded, EventEvaluationRegressed, EventImportApplied, EventImportRolledBack}
}

// eventTypes maps an audited action to its event type; model.identity
// depends on what changed (eventType).
var eventTypes = map[string]string{
	"model.create":     EventModelCreated,
	"model.update":     EventModelUpdated,
	"model.patch":      EventModelUpdated,
	"model.delete":     EventModelDeleted,
	"model.lifecycle":  EventModelLifecycleChanged,
	"model.classify":   EventModelClassified,
	"model.enforce":    EventModelClassified,
	"model.compliance": EventModelComplianceChanged,
	"model.exempt":     EventModelExempted,
	"model.review":     EventModelReviewCleared,
	"policy.upload":    EventPolicyUploaded,
	"policy.activate":  EventPolicyActivated,
	"alias.move":       EventAliasMoved,
	"alias.delete":     EventAliasDeleted,
	"token.create":     EventTokenCreated,
	"token.revoke":     EventTokenRevoked,
	"webhook.create":   EventWebhookCreated,
	"webhook.delete":   EventWebhookDeleted,
	"webhook.enable":   EventWebhookEnabled,
	"webhook.disable":  EventWebhookDisabled,
	"import.apply":     EventImportApplied,
	"import.rollback":  EventImportRolledBack,
}

// eventType names the event of an allowed, audited change.
func eventType(e *audit.Entry, before, after *api.Model) string {
	if e.Action == auditActionEvaluationFlag {
		// A new regression flag; otherwise one cleared, an update.
		for _, f := range regressionsOf(after) {
			if !slices.ContainsFunc(regressionsOf(before), func(g api.RegressionFlag) bool { return g.Evaluation == f.Evaluation }) {
				return EventEvaluationRegressed
			}
		}
		return EventModelUpdated
	}
	if e.Action != auditAction(api.ActionIdentity) {
		if t, ok := eventTypes[e.Action]; ok {
			return t
		}
		return api.EventTypePrefix + e.Action
	}
	switch st := identityStatus(after); {
	case st == api.IdentityRevoked && identityStatus(before) != api.IdentityRevoked:
		return EventIdentityRevoked
	case st == api.IdentityVerified && (identityStatus(before) != api.IdentityVerified || before.Identity.KeyID != after.Identity.KeyID):
		return EventIdentityVerified
	}
	return EventIdentityChanged
}

func regressionsOf(m *api.Model) []api.RegressionFlag {
	if m == nil || m.Governance == nil {
		return nil
	}
	return m.Governance.Regressions
}

func identityStatus(m *api.Model) string {
	if m == nil || m.Identity == nil {
		return api.IdentityNone
	}
	return m.Identity.Status
}

// emit writes the event of an allowed change to the outbox, in the
// change's transaction: no change without its event, no event without its
// change.
// data holds what the event says of the changed thing (Model, Webhook);
// emit fills in the change itself from its audit entry.
func (s *Service) emit(ctx context.Context, tx store.Tx, e *audit.Entry, typ string, data api.EventData) error {
	data.Action, data.Principal, data.Roles, data.Reason = e.Action, e.Principal, e.Roles, e.Reason
	data.Revision, data.AuditSeq, data.RequestID = e.Revision, e.Seq, e.RequestID
	raw, err := api.Marshal(data)
	if err != nil {
		return fmt.Errorf("registry: event of %s: %w", e.Action, err)
	}
	ev := &api.Event{SpecVersion: api.CloudEventsVersion, Source: s.eventSource, Type: typ,
		Subject: e.Target, Time: e.Time, DataContentType: "application/json", Data: raw}
	return tx.AppendEvent(ctx, ev)
}

// signal wakes the watchers of the event stream after a commit.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next commit.
func (sg *signal) wait() <-chan struct{} {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.ch == nil {
		sg.ch = make(chan struct{})
	}
	return sg.ch
}

// fire wakes every waiter.
func (sg *signal) fire() {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.ch != nil {
		close(sg.ch)
		sg.ch = nil
	}
}

// EventsChanged returns a channel that is closed when a write commits. A watcher reads the events after the last it has seen,
// then waits on a new channel: it misses nothing, since the events are in
// the store.
func (s *Service) EventsChanged() <-chan struct{} { return s.signal.wait() }

// EventsCommitted wakes the watchers of the event stream for events that
// another registry process committed to a shared store, as the store tells
// (PostgreSQL's notifications).
func (s *Service) EventsCommitted() {
	// A token revoked there must not authenticate here.
	s.tokens.clear()
	s.signal.fire()
}

// EventQuery selects events, as GET /v1/events does.
type EventQuery struct {
	After    int64
	Types    []string
	Subject  string
	PageSize int
}

// Validate checks the query's filters and page size.
func (q EventQuery) Validate() error {
	if _, err := pageSize(q.PageSize); err != nil {
		return err
	}
	if q.After < 0 {
		return errs.E(errs.Malformed, "after must not be negative")
	}
	for _, t := range q.Types {
		if !strings.HasPrefix(t, api.EventTypePrefix) {
			return errs.E(errs.Malformed, "event type %q does not begin with %s", t, api.EventTypePrefix)
		}
	}
	return nil
}

// ListEvents returns one page of events after q.After, in sequence order.
func (s *Service) ListEvents(ctx context.Context, q EventQuery) (*api.EventList, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	size, _ := pageSize(q.PageSize)
	items, err := s.store.ListEvents(ctx, store.EventQuery{After: q.After, Types: q.Types, Subject: q.Subject, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	out := &api.EventList{Items: items}
	if len(items) > size {
		out.Items = items[:size]
		out.NextAfter = items[size-1].Seq
	}
	return out, nil
}

// LastEventSeq returns the sequence number of the newest event.
func (s *Service) LastEventSeq(ctx context.Context) (int64, error) { return s.store.LastEventSeq(ctx) }
