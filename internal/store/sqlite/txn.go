package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// txn implements store.Tx.
type txn struct {
	queries
}

func (t *txn) PutModel(ctx context.Context, m *api.Model) error {
	doc, err := api.Marshal(m)
	if err != nil {
		return fmt.Errorf("sqlite: put model %s: %w", m.ModelID, err)
	}
	rev, err := strconv.ParseInt(m.ResourceVersion, 10, 64)
	if err != nil {
		return fmt.Errorf("sqlite: put model %s: resource_version %q: %w", m.ModelID, m.ResourceVersion, err)
	}
	var compliance, deadline string
	if g := m.Governance; g != nil && g.Compliance != nil && g.Compliance.Status == api.NonCompliant {
		compliance = string(api.NonCompliant)
		if g.Compliance.Deadline != nil {
			deadline = formatTime(*g.Compliance.Deadline)
		}
	}
	var review string
	if g := m.Governance; g != nil && g.Review != nil && g.Review.Status == api.ReviewPending {
		review = api.ReviewPending
	}
	var params int64
	if m.Parameters != nil {
		params = int64(m.Parameters.Count)
	}
	var owner, keyID string
	var verifiedUntil int64
	if id := m.Identity; id != nil {
		owner, keyID = id.Owner, id.KeyID
		if id.Status == api.IdentityVerified {
			verifiedUntil = id.ExpiresAt.UnixMilli()
		}
	}
	var pk int64
	err = t.queryRow(ctx, `INSERT INTO models
		(model_id, provider, family, display_name, size_class, status, role, revision, doc, compliance, deadline, review,
		 parameter_count, context_window, identity_owner, identity_key_id, identity_verified_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (model_id) DO UPDATE SET
			provider = excluded.provider, family = excluded.family,
			display_name = excluded.display_name, size_class = excluded.size_class,
			status = excluded.status, role = excluded.role,
			revision = excluded.revision, doc = excluded.doc,
			compliance = excluded.compliance, deadline = excluded.deadline, review = excluded.review,
			parameter_count = excluded.parameter_count, context_window = excluded.context_window,
			identity_owner = excluded.identity_owner, identity_key_id = excluded.identity_key_id,
			identity_verified_until = excluded.identity_verified_until
		RETURNING pk`,
		m.ModelID, m.Provider, m.Family, m.DisplayName, string(m.SizeClass),
		string(m.Status()), string(m.Role()), rev, doc, compliance, deadline, review,
		params, int64(m.ContextWindow), owner, keyID, verifiedUntil).Scan(&pk)
	if err != nil {
		return fmt.Errorf("sqlite: put model %s: %w", m.ModelID, err)
	}
	// The leaderboards filter on the role and status of now.
	if _, err := t.exec(ctx, `UPDATE scores SET role = ?, status = ? WHERE model_id = ? AND (role != ? OR status != ?)`,
		string(m.Role()), string(m.Status()), m.ModelID, string(m.Role()), string(m.Status())); err != nil {
		return fmt.Errorf("sqlite: put model %s scores: %w", m.ModelID, err)
	}
	if _, err := t.exec(ctx, `DELETE FROM model_labels WHERE model_pk = ?`, pk); err != nil {
		return fmt.Errorf("sqlite: put model %s labels: %w", m.ModelID, err)
	}
	for k, v := range m.Labels {
		if _, err := t.exec(ctx, `INSERT INTO model_labels (model_pk, key, value) VALUES (?, ?, ?)`, pk, k, v); err != nil {
			return fmt.Errorf("sqlite: put model %s label %s: %w", m.ModelID, k, err)
		}
	}
	if _, err := t.exec(ctx, `DELETE FROM model_capabilities WHERE model_pk = ?`, pk); err != nil {
		return fmt.Errorf("sqlite: put model %s capabilities: %w", m.ModelID, err)
	}
	for _, c := range m.Capabilities {
		if _, err := t.exec(ctx, `INSERT OR IGNORE INTO model_capabilities (model_pk, capability) VALUES (?, ?)`, pk, c); err != nil {
			return fmt.Errorf("sqlite: put model %s capability %s: %w", m.ModelID, c, err)
		}
	}
	return nil
}

func (t *txn) DeleteModel(ctx context.Context, id string) error {
	res, err := t.exec(ctx, `DELETE FROM models WHERE model_id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete model %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "model %s not found", id)
	}
	// Its results stay on record; it leaves the leaderboards.
	if _, err := t.exec(ctx, `DELETE FROM scores WHERE model_id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete model %s scores: %w", id, err)
	}
	return nil
}

func (t *txn) AppendRevision(ctx context.Context, r *api.Revision) error {
	last, err := t.LastRevision(ctx, r.ModelID)
	if err != nil {
		return err
	}
	if r.Revision != last+1 {
		return errs.E(errs.Conflict, "revision %d of %s does not follow revision %d", r.Revision, r.ModelID, last)
	}
	var doc []byte
	if r.Model != nil {
		if doc, err = api.Marshal(r.Model); err != nil {
			return fmt.Errorf("sqlite: append revision of %s: %w", r.ModelID, err)
		}
	}
	_, err = t.exec(ctx, `INSERT INTO revisions (`+revisionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ModelID, r.Revision, string(r.Action), r.Actor, r.Reason, formatTime(r.Time), r.RequestID, doc)
	if err != nil {
		return fmt.Errorf("sqlite: append revision %d of %s: %w", r.Revision, r.ModelID, err)
	}
	return nil
}

func (t *txn) aliasRevision(ctx context.Context, name string) (int64, error) {
	var n sql.NullInt64
	if err := t.queryRow(ctx, `SELECT MAX(revision) FROM alias_revisions WHERE name = ?`, name).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: history of alias %s: %w", name, err)
	}
	return n.Int64, nil
}

func (t *txn) appendAliasRevision(ctx context.Context, a *api.Alias, rev int64) error {
	_, err := t.exec(ctx, `INSERT INTO alias_revisions (`+aliasColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Name, a.Target, rev, formatTime(a.UpdatedAt), a.UpdatedBy, a.Reason)
	if err != nil {
		return fmt.Errorf("sqlite: record move of alias %s: %w", a.Name, err)
	}
	return nil
}

func (t *txn) PutAlias(ctx context.Context, a *api.Alias) error {
	last, err := t.aliasRevision(ctx, a.Name)
	if err != nil {
		return err
	}
	rev, err := strconv.ParseInt(a.ResourceVersion, 10, 64)
	if err != nil || rev != last+1 {
		return errs.E(errs.Conflict, "alias %s version %q does not follow version %d", a.Name, a.ResourceVersion, last)
	}
	_, err = t.exec(ctx, `INSERT INTO aliases (`+aliasColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET target = excluded.target, revision = excluded.revision,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by, reason = excluded.reason`,
		a.Name, a.Target, rev, formatTime(a.UpdatedAt), a.UpdatedBy, a.Reason)
	if err != nil {
		return fmt.Errorf("sqlite: put alias %s: %w", a.Name, err)
	}
	return t.appendAliasRevision(ctx, a, rev)
}

func (t *txn) DeleteAlias(ctx context.Context, a *api.Alias) error {
	res, err := t.exec(ctx, `DELETE FROM aliases WHERE name = ?`, a.Name)
	if err != nil {
		return fmt.Errorf("sqlite: delete alias %s: %w", a.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "alias %s not found", a.Name)
	}
	last, err := t.aliasRevision(ctx, a.Name)
	if err != nil {
		return err
	}
	removal := *a
	removal.Target = ""
	return t.appendAliasRevision(ctx, &removal, last+1)
}

func (t *txn) GetIdempotent(ctx context.Context, scope, key string) (*store.Idempotent, error) {
	rec := store.Idempotent{Scope: scope, Key: key}
	var created string
	err := t.queryRow(ctx, `SELECT request_hash, status, body, resource_version, created_at
		FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key).
		Scan(&rec.RequestHash, &rec.Status, &rec.Body, &rec.ResourceVersion, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "idempotency key not found")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get idempotency key: %w", err)
	}
	if rec.Created, err = parseTime(created); err != nil {
		return nil, err
	}
	return &rec, nil
}

func (t *txn) PutIdempotent(ctx context.Context, rec *store.Idempotent) error {
	_, err := t.exec(ctx, `INSERT INTO idempotency_keys
		(scope, key, request_hash, status, body, resource_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rec.Scope, rec.Key, rec.RequestHash, rec.Status, rec.Body, rec.ResourceVersion, formatTime(rec.Created))
	if err != nil {
		return fmt.Errorf("sqlite: put idempotency key: %w", err)
	}
	return nil
}

func (t *txn) ExpireIdempotent(ctx context.Context, before time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, formatTime(before)); err != nil {
		return fmt.Errorf("sqlite: expire idempotency keys: %w", err)
	}
	return nil
}
