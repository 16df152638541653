package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

const webhookColumns = `id, url, types, description, secret, status, disabled_reason, created_at, created_by, cursor, failures,
	next_attempt_at, last_success_at, last_failure_at`

func scanWebhook(row pgx.Row) (*store.Webhook, error) {
	var w store.Webhook
	err := row.Scan(&w.ID, &w.URL, &w.Types, &w.Description, &w.Secret, &w.Status, &w.DisabledReason,
		(*stamp)(&w.CreatedAt), &w.CreatedBy, &w.Cursor, &w.ConsecutiveFailures,
		&optStampDest{&w.NextAttemptAt}, &optStampDest{&w.LastSuccessAt}, &optStampDest{&w.LastFailureAt})
	return &w, err
}

func (s queries) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	w, err := scanWebhook(s.q.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "webhook %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get webhook %s: %w", id, err)
	}
	return w, nil
}

func (s queries) ListWebhooks(ctx context.Context) ([]*store.Webhook, error) {
	rows, err := s.q.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list webhooks: %w", err)
	}
	return collectList(rows, "list webhooks", scanWebhook)
}

const deliveryColumns = `id, webhook_id, event_seq, event_type, message_id, attempt, time, ok, status, error, duration_ms,
	response, redelivery_of, by`

func scanDelivery(row pgx.Row) (*api.Delivery, error) {
	var d api.Delivery
	err := row.Scan(&d.ID, &d.WebhookID, &d.EventSeq, &d.EventType, &d.MessageID, &d.Attempt, (*stamp)(&d.Time), &d.OK,
		&d.Status, &d.Error, &d.DurationMS, &d.Response, &d.RedeliveryOf, &d.By)
	return &d, err
}

func (s queries) ListDeliveries(ctx context.Context, webhookID string, before int64, limit int) ([]*api.Delivery, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: list deliveries: limit %d is not positive", limit)
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.q.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, webhookID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list deliveries of %s: %w", webhookID, err)
	}
	return collectList(rows, "list deliveries of "+webhookID, scanDelivery)
}

func (s queries) GetDelivery(ctx context.Context, webhookID string, id int64) (*api.Delivery, error) {
	d, err := scanDelivery(s.q.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = $1 AND id = $2`, webhookID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "delivery %d of webhook %s not found", id, webhookID)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get delivery %d of %s: %w", id, webhookID, err)
	}
	return d, nil
}

func (t *txn) PutWebhook(ctx context.Context, w *store.Webhook) error {
	types := w.Types
	if types == nil {
		types = []string{} // no types is every type: the column is NOT NULL
	}
	_, err := t.q.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, types = excluded.types,
			description = excluded.description, secret = excluded.secret, status = excluded.status,
			disabled_reason = excluded.disabled_reason, created_at = excluded.created_at,
			created_by = excluded.created_by, cursor = excluded.cursor, failures = excluded.failures,
			next_attempt_at = excluded.next_attempt_at, last_success_at = excluded.last_success_at,
			last_failure_at = excluded.last_failure_at`,
		w.ID, w.URL, types, w.Description, w.Secret, w.Status, w.DisabledReason, stamp(w.CreatedAt), w.CreatedBy,
		w.Cursor, w.ConsecutiveFailures, optStamp(w.NextAttemptAt), optStamp(w.LastSuccessAt), optStamp(w.LastFailureAt))
	if err != nil {
		return fmt.Errorf("postgres: put webhook %s: %w", w.ID, err)
	}
	return nil
}

func (t *txn) DeleteWebhook(ctx context.Context, id string) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete webhook %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.NotFound, "webhook %s not found", id)
	}
	if _, err := t.q.Exec(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = $1`, id); err != nil {
		return fmt.Errorf("postgres: delete deliveries of webhook %s: %w", id, err)
	}
	return nil
}

func (t *txn) AppendDelivery(ctx context.Context, d *api.Delivery) error {
	err := t.q.QueryRow(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_seq, event_type, message_id, attempt, time, ok,
		status, error, duration_ms, response, redelivery_of, by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		RETURNING id`,
		d.WebhookID, d.EventSeq, d.EventType, d.MessageID, d.Attempt, stamp(d.Time), d.OK, d.Status, d.Error,
		d.DurationMS, d.Response, d.RedeliveryOf, d.By).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("postgres: append delivery of webhook %s: %w", d.WebhookID, err)
	}
	return nil
}

func (t *txn) PruneDeliveries(ctx context.Context, webhookID string, keep int) error {
	keep = max(keep, 0)
	// The newest keep rows stay: everything at or below the id of the
	// (keep+1)th newest goes, one index range.
	_, err := t.q.Exec(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND id <= (
		SELECT id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
		webhookID, keep)
	if err != nil {
		return fmt.Errorf("postgres: prune deliveries of webhook %s: %w", webhookID, err)
	}
	return nil
}

func (t *txn) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("postgres: lease %s: ttl %v is not positive", name, ttl)
	}
	tag, err := t.q.Exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= $4`,
		name, holder, stamp(now.Add(ttl)), stamp(now))
	if err != nil {
		return false, fmt.Errorf("postgres: lease %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}
