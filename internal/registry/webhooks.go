package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/webhook"
)

// Webhook limits.
const (
	// MaxWebhooks is the most subscriptions the registry keeps: each has a
	// delivery worker.
	MaxWebhooks = 100
	// DefaultWebhookMaxFailures is how many consecutive failed attempts
	// disable a subscription, unless Config says otherwise: with the
	// backoff of webhook.Backoff, about half a day of failures.
	DefaultWebhookMaxFailures = 20
	// DeliveryLogSize is how many attempts each subscription's delivery
	// log keeps.
	DeliveryLogSize = 1000
	maxDescription  = 256
)

// webhookTarget names a subscription in audit entries and events.
func webhookTarget(id string) string { return "webhook/" + id }

// CreateWebhook subscribes an endpoint to events, and returns the
// subscription with its signing secret, shown this once. Only admins may.
func (s *Service) CreateWebhook(ctx context.Context, req api.WebhookRequest, opts WriteOptions) (*api.Webhook, error) {
	types, fields := s.checkWebhookRequest(req)
	if len(fields) > 0 {
		return nil, errs.InvalidFields("invalid webhook subscription", fields)
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return nil, err
	}
	id, err := newWebhookID()
	if err != nil {
		return nil, err
	}
	var out *api.Webhook
	_, err = s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		target := webhookTarget(id)
		if !isAdmin(opts.Caller) {
			return nil, deny(opts, now, "webhook.create", target, forbidden("only admins may subscribe webhooks"))
		}
		existing, err := tx.ListWebhooks(ctx)
		if err != nil {
			return nil, err
		}
		if len(existing) >= MaxWebhooks {
			return nil, errs.E(errs.Invalid, "the registry has %d webhook subscriptions, its most; delete one first", len(existing))
		}
		last, err := tx.LastEventSeq(ctx)
		if err != nil {
			return nil, err
		}
		cursor := last
		if req.After != nil {
			if *req.After > last {
				return nil, errs.InvalidFields("invalid webhook subscription", []api.FieldError{{Pointer: "/after",
					Message: fmt.Sprintf("must be at most %d, the newest event's sequence number", last)}})
			}
			cursor = *req.After
		}
		w := &store.Webhook{Webhook: api.Webhook{ID: id, URL: req.URL, Types: types, Description: strings.TrimSpace(req.Description),
			Status: api.WebhookActive, CreatedAt: now, CreatedBy: actor(opts.Caller), Cursor: cursor}, Secret: secret}
		if err := tx.PutWebhook(ctx, w); err != nil {
			return nil, err
		}
		e := entry(opts, now, "webhook.create", target)
		e.Reason = fmt.Sprintf("deliver %s to %s", describeTypes(types), redactURL(w.URL))
		hook := w.Webhook
		if err := s.recordWebhook(ctx, tx, e, &hook); err != nil {
			return nil, err
		}
		hook.Secret = secret
		out = &hook
		return &Result{Outcome: Created}, nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) checkWebhookRequest(req api.WebhookRequest) ([]string, []api.FieldError) {
	var fields []api.FieldError
	if err := webhook.CheckDestination(req.URL, s.webhookAllowPrivate); err != nil {
		msg := strings.TrimPrefix(err.Error(), webhook.ErrInvalidURL.Error()+": ")
		if !s.webhookAllowPrivate && strings.Contains(msg, "private destinations") {
			msg += " (serve --webhook-allow-private allows them)"
		}
		fields = append(fields, api.FieldError{Pointer: "/url", Message: msg})
	}
	known := EventTypes()
	types := []string{}
	for i, t := range req.Types {
		t = strings.TrimSpace(t)
		if !slices.Contains(known, t) {
			fields = append(fields, api.FieldError{Pointer: fmt.Sprintf("/types/%d", i),
				Message: fmt.Sprintf("%q is not an event type; see GET /v1/events or docs/EVENTS.md for the types", t)})
			continue
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	if d := req.Description; utf8.RuneCountInString(d) > maxDescription || !utf8.ValidString(d) {
		fields = append(fields, api.FieldError{Pointer: "/description", Message: fmt.Sprintf("must be valid text of at most %d characters", maxDescription)})
	}
	if req.After != nil && *req.After < 0 {
		fields = append(fields, api.FieldError{Pointer: "/after", Message: "must not be negative"})
	}
	return types, fields
}

func describeTypes(types []string) string {
	if len(types) == 0 {
		return "every event"
	}
	return strings.Join(types, ", ")
}

// redactURL drops the query of an endpoint URL for the audit log and the
// listings of others: it may carry a credential.
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// newWebhookID returns "wh_" and 16 hex digits.
func newWebhookID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("registry: webhook id: %w", err)
	}
	return "wh_" + hex.EncodeToString(b[:]), nil
}

// recordWebhook records a change of a webhook subscription: its audit
// entry and its event, whose data carries the subscription (never the
// secret).
func (s *Service) recordWebhook(ctx context.Context, tx store.Tx, e *audit.Entry, w *api.Webhook) error {
	if err := s.appendAudit(ctx, tx, e); err != nil {
		return err
	}
	pub := *w
	// Every reader sees the events: neither the secret nor the URL's query
	// (which may carry a credential) goes in them.
	pub.Secret, pub.URL = "", redactURL(w.URL)
	return s.emit(ctx, tx, e, eventType(e, nil, nil), api.EventData{Webhook: &pub})
}

// ListWebhooks lists the subscriptions, oldest first, without secrets.
// Only admins may.
func (s *Service) ListWebhooks(ctx context.Context, c Caller) (*api.WebhookList, error) {
	if !isAdmin(c) {
		return nil, forbidden("only admins may list webhooks")
	}
	list, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.WebhookList{Items: make([]*api.Webhook, len(list))}
	for i, w := range list {
		hook := w.Webhook
		out.Items[i] = &hook
	}
	return out, nil
}

// GetWebhook returns a subscription without its secret. Only admins may.
func (s *Service) GetWebhook(ctx context.Context, c Caller, id string) (*api.Webhook, error) {
	if !isAdmin(c) {
		return nil, forbidden("only admins may read webhooks")
	}
	w, err := s.store.GetWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	hook := w.Webhook
	return &hook, nil
}

// DeleteWebhook ends a subscription and forgets its delivery log. A
// delivery in flight may still arrive. Only admins may.
func (s *Service) DeleteWebhook(ctx context.Context, id string, opts WriteOptions) (*api.Webhook, error) {
	var out *api.Webhook
	_, err := s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		target := webhookTarget(id)
		if !isAdmin(opts.Caller) {
			return nil, deny(opts, now, "webhook.delete", target, forbidden("only admins may delete webhooks"))
		}
		w, err := tx.GetWebhook(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return nil, err
		}
		e := entry(opts, now, "webhook.delete", target)
		e.Reason = "stop delivering to " + redactURL(w.URL)
		hook := w.Webhook
		if err := s.recordWebhook(ctx, tx, e, &hook); err != nil {
			return nil, err
		}
		out = &hook
		return &Result{Outcome: Deleted}, nil
	}})
	return out, err
}

// EnableWebhook makes a disabled subscription active again, its failures
// forgotten: deliveries resume after its cursor, so that the events it
// missed while disabled are delivered, in order. Enabling an active
// subscription changes nothing. Only admins may.
func (s *Service) EnableWebhook(ctx context.Context, id string, opts WriteOptions) (*api.Webhook, error) {
	return s.setWebhookStatus(ctx, id, api.WebhookActive, "", opts)
}

// DisableWebhook pauses a subscription: nothing is delivered until it is
// enabled, and then what it missed is. Disabling a disabled subscription
// changes nothing. Only admins may.
func (s *Service) DisableWebhook(ctx context.Context, id, reason string, opts WriteOptions) (*api.Webhook, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "disabled by " + actor(opts.Caller)
	}
	if fe := checkReason(reason); fe != nil {
		return nil, errs.InvalidFields("invalid reason", []api.FieldError{*fe})
	}
	return s.setWebhookStatus(ctx, id, api.WebhookDisabled, reason, opts)
}

func (s *Service) setWebhookStatus(ctx context.Context, id, status, reason string, opts WriteOptions) (*api.Webhook, error) {
	action := "webhook.enable"
	if status == api.WebhookDisabled {
		action = "webhook.disable"
	}
	var out *api.Webhook
	_, err := s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		target := webhookTarget(id)
		if !isAdmin(opts.Caller) {
			return nil, deny(opts, now, action, target, forbidden("only admins may enable or disable webhooks"))
		}
		w, err := tx.GetWebhook(ctx, id)
		if err != nil {
			return nil, err
		}
		if w.Status == status {
			hook := w.Webhook
			out = &hook
			return &Result{Outcome: Unchanged}, nil
		}
		e := entry(opts, now, action, target)
		if status == api.WebhookActive {
			w.Status, w.DisabledReason, w.ConsecutiveFailures, w.NextAttemptAt = status, "", 0, nil
			e.Reason = fmt.Sprintf("resume delivering to %s after event %d", redactURL(w.URL), w.Cursor)
		} else {
			w.Status, w.DisabledReason, w.NextAttemptAt = status, reason, nil
			e.Reason = reason
		}
		if err := tx.PutWebhook(ctx, w); err != nil {
			return nil, err
		}
		hook := w.Webhook
		if err := s.recordWebhook(ctx, tx, e, &hook); err != nil {
			return nil, err
		}
		out = &hook
		return &Result{Outcome: Updated}, nil
	}})
	return out, err
}

// ListDeliveries returns one page of a subscription's delivery log,
// newest first. Only admins may.
func (s *Service) ListDeliveries(ctx context.Context, c Caller, id string, before int64, size int) (*api.DeliveryList, error) {
	if !isAdmin(c) {
		return nil, forbidden("only admins may read webhook deliveries")
	}
	size, err := pageSize(size)
	if err != nil {
		return nil, err
	}
	if before < 0 {
		return nil, errs.E(errs.Malformed, "before must not be negative")
	}
	if _, err := s.store.GetWebhook(ctx, id); err != nil {
		return nil, err
	}
	items, err := s.store.ListDeliveries(ctx, id, before, size+1)
	if err != nil {
		return nil, err
	}
	out := &api.DeliveryList{Items: items}
	if len(items) > size {
		out.Items = items[:size]
		out.NextBefore = items[size-1].ID
	}
	return out, nil
}

// Redelivery is what a manual redelivery needs: the subscription with its
// secret, the event to send again, and the attempt it repeats.
type Redelivery struct {
	Webhook  *store.Webhook
	Event    *api.Event
	Original *api.Delivery
	By       string
}

// PrepareRedelivery looks up a logged delivery for the caller to send
// again, out of the subscription's order and whatever its status. Only
// admins may.
func (s *Service) PrepareRedelivery(ctx context.Context, c Caller, id string, deliveryID int64) (*Redelivery, error) {
	if !isAdmin(c) {
		return nil, forbidden("only admins may redeliver webhook events")
	}
	w, err := s.store.GetWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := s.store.GetDelivery(ctx, id, deliveryID)
	if err != nil {
		return nil, err
	}
	evs, err := s.store.ListEvents(ctx, store.EventQuery{After: d.EventSeq - 1, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 || evs[0].Seq != d.EventSeq {
		return nil, errs.E(errs.NotFound, "event %d of delivery %d is no longer in the outbox", d.EventSeq, deliveryID)
	}
	return &Redelivery{Webhook: w, Event: evs[0], Original: d, By: actor(c)}, nil
}

// DispatchWebhooks returns the active subscriptions, with their secrets,
// for the dispatcher.
func (s *Service) DispatchWebhooks(ctx context.Context) ([]*store.Webhook, error) {
	list, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(w *store.Webhook) bool { return w.Status != api.WebhookActive }), nil
}

// DispatchWebhook returns one subscription, with its secret, for the
// dispatcher.
func (s *Service) DispatchWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	return s.store.GetWebhook(ctx, id)
}

// PendingEvents returns up to limit events of types (all when empty)
// after after, for the dispatcher.
func (s *Service) PendingEvents(ctx context.Context, after int64, types []string, limit int) ([]*api.Event, error) {
	return s.store.ListEvents(ctx, store.EventQuery{After: after, Types: types, Limit: limit})
}

// RecordDelivery logs a delivery attempt and moves its subscription on: a
// success advances the cursor to the event and clears the failures; a
// failure counts, and schedules the retry at retryAt, until the limit of
// consecutive failures disables the subscription (an audited change with
// its event). The dispatcher passes the cursor it delivered after: when
// the subscription has changed since (deleted, disabled, enabled again,
// its cursor moved), the attempt is only logged. A manual redelivery
// (d.RedeliveryOf set) is only logged. It returns the subscription as it
// now stands (nil when deleted).
func (s *Service) RecordDelivery(ctx context.Context, d *api.Delivery, cursor int64, retryAt time.Time) (*store.Webhook, error) {
	var out *store.Webhook
	err := s.store.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		out = nil
		now := s.now().UTC()
		w, err := tx.GetWebhook(ctx, d.WebhookID)
		if errs.Is(err, errs.NotFound) {
			return nil // deleted meanwhile: its log went with it
		}
		if err != nil {
			return err
		}
		rec := *d
		if err := tx.AppendDelivery(ctx, &rec); err != nil {
			return err
		}
		if err := tx.PruneDeliveries(ctx, w.ID, DeliveryLogSize); err != nil {
			return err
		}
		d.ID = rec.ID
		out = w
		if d.RedeliveryOf != 0 || w.Status != api.WebhookActive || w.Cursor != cursor || d.EventSeq <= cursor {
			return nil
		}
		at := d.Time.UTC()
		if d.OK {
			w.Cursor, w.ConsecutiveFailures, w.NextAttemptAt, w.LastSuccessAt = d.EventSeq, 0, nil, &at
			return tx.PutWebhook(ctx, w)
		}
		w.ConsecutiveFailures++
		retry := retryAt.UTC()
		w.NextAttemptAt, w.LastFailureAt = &retry, &at
		if w.ConsecutiveFailures < s.webhookMaxFailures {
			return tx.PutWebhook(ctx, w)
		}
		w.Status, w.NextAttemptAt = api.WebhookDisabled, nil
		w.DisabledReason = fmt.Sprintf("%d consecutive failed deliveries; the last, of event %d: %s", w.ConsecutiveFailures,
			d.EventSeq, d.Error)
		if err := tx.PutWebhook(ctx, w); err != nil {
			return err
		}
		e := entry(WriteOptions{Caller: systemCaller}, now, "webhook.disable", webhookTarget(w.ID))
		e.Reason = w.DisabledReason
		hook := w.Webhook
		return s.recordWebhook(ctx, tx, e, &hook)
	})
	if err != nil {
		return nil, fmt.Errorf("registry: record delivery to %s: %w", d.WebhookID, err)
	}
	if out != nil && out.Status == api.WebhookDisabled {
		s.signal.fire()
	}
	return out, nil
}

// AcquireLease takes or renews the lease name for holder for ttl, and
// reports whether holder holds it.
func (s *Service) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var ok bool
	err := s.store.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		ok, err = tx.AcquireLease(ctx, name, holder, s.now(), ttl)
		return err
	})
	return ok, err
}
