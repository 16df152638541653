package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

const webhookColumns = `id, url, types, description, secret, status, disabled_reason, created_at, created_by, cursor, failures,
	next_attempt_at, last_success_at, last_failure_at`

func scanWebhook(sc interface{ Scan(...any) error }) (*store.Webhook, error) {
	var (
		w                   store.Webhook
		types, created      string
		next, success, fail sql.NullString
	)
	if err := sc.Scan(&w.ID, &w.URL, &types, &w.Description, &w.Secret, &w.Status, &w.DisabledReason, &created, &w.CreatedBy,
		&w.Cursor, &w.ConsecutiveFailures, &next, &success, &fail); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &w.Types); err != nil {
		return nil, fmt.Errorf("stored types of webhook %s: %w", w.ID, err)
	}
	var err error
	if w.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		dst **time.Time
		src sql.NullString
	}{{&w.NextAttemptAt, next}, {&w.LastSuccessAt, success}, {&w.LastFailureAt, fail}} {
		if *f.dst, err = parseNullTime(f.src); err != nil {
			return nil, err
		}
	}
	return &w, nil
}

func (s queries) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	w, err := scanWebhook(s.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "webhook %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get webhook %s: %w", id, err)
	}
	return w, nil
}

func (s queries) ListWebhooks(ctx context.Context) ([]*store.Webhook, error) {
	rows, err := s.query(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list webhooks: %w", err)
	}
	out, err := scanAll(rows, "list webhooks", scanWebhook)
	if out == nil && err == nil {
		out = []*store.Webhook{}
	}
	return out, err
}

const deliveryColumns = `id, webhook_id, event_seq, event_type, message_id, attempt, time, ok, status, error, duration_ms,
	response, redelivery_of, by`

func scanDelivery(sc interface{ Scan(...any) error }) (*api.Delivery, error) {
	var (
		d  api.Delivery
		at string
	)
	if err := sc.Scan(&d.ID, &d.WebhookID, &d.EventSeq, &d.EventType, &d.MessageID, &d.Attempt, &at, &d.OK, &d.Status,
		&d.Error, &d.DurationMS, &d.Response, &d.RedeliveryOf, &d.By); err != nil {
		return nil, err
	}
	t, err := parseTime(at)
	if err != nil {
		return nil, err
	}
	d.Time = t
	return &d, nil
}

func (s queries) ListDeliveries(ctx context.Context, webhookID string, before int64, limit int) ([]*api.Delivery, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: list deliveries: limit %d is not positive", limit)
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, webhookID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list deliveries of %s: %w", webhookID, err)
	}
	out, err := scanAll(rows, "list deliveries", scanDelivery)
	if out == nil && err == nil {
		out = []*api.Delivery{}
	}
	return out, err
}

func (s queries) GetDelivery(ctx context.Context, webhookID string, id int64) (*api.Delivery, error) {
	d, err := scanDelivery(s.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE webhook_id = ? AND id = ?`, webhookID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "delivery %d of webhook %s not found", id, webhookID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get delivery %d of %s: %w", id, webhookID, err)
	}
	return d, nil
}

func (t *txn) PutWebhook(ctx context.Context, w *store.Webhook) error {
	types := w.Types
	if types == nil {
		types = []string{}
	}
	raw, err := json.Marshal(types)
	if err != nil {
		return fmt.Errorf("sqlite: put webhook %s: %w", w.ID, err)
	}
	_, err = t.exec(ctx, `INSERT OR REPLACE INTO webhooks (`+webhookColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.URL, string(raw), w.Description, w.Secret, w.Status, w.DisabledReason, formatTime(w.CreatedAt), w.CreatedBy,
		w.Cursor, w.ConsecutiveFailures, formatNullTime(w.NextAttemptAt), formatNullTime(w.LastSuccessAt),
		formatNullTime(w.LastFailureAt))
	if err != nil {
		return fmt.Errorf("sqlite: put webhook %s: %w", w.ID, err)
	}
	return nil
}

func (t *txn) DeleteWebhook(ctx context.Context, id string) error {
	res, err := t.exec(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete webhook %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete webhook %s: %w", id, err)
	} else if n == 0 {
		return errs.E(errs.NotFound, "webhook %s not found", id)
	}
	if _, err := t.exec(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete deliveries of webhook %s: %w", id, err)
	}
	return nil
}

func (t *txn) AppendDelivery(ctx context.Context, d *api.Delivery) error {
	err := t.queryRow(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_seq, event_type, message_id, attempt, time, ok,
		status, error, duration_ms, response, redelivery_of, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.WebhookID, d.EventSeq, d.EventType, d.MessageID, d.Attempt, formatTime(d.Time), d.OK, d.Status, d.Error,
		d.DurationMS, d.Response, d.RedeliveryOf, d.By).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("sqlite: append delivery of webhook %s: %w", d.WebhookID, err)
	}
	return nil
}

func (t *txn) PruneDeliveries(ctx context.Context, webhookID string, keep int) error {
	if keep < 0 {
		keep = 0
	}
	// The newest keep rows stay: everything at or below the id of the
	// (keep+1)th newest goes, one index range.
	_, err := t.exec(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND id <= (
		SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
		webhookID, webhookID, keep)
	if err != nil {
		return fmt.Errorf("sqlite: prune deliveries of webhook %s: %w", webhookID, err)
	}
	return nil
}

func (t *txn) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("sqlite: lease %s: ttl %v is not positive", name, ttl)
	}
	res, err := t.exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
		name, holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("sqlite: lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: lease %s: %w", name, err)
	}
	return n == 1, nil
}
