package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// txn implements store.Tx. Its reads go through the transaction, so they
// see its own writes.
type txn struct {
	queries
	// lastEvent is the sequence number of the last event the transaction
	// appended, 0 when none: what its commit notifies.
	lastEvent int64
}

// modelValues are the values of a model's row, in the column order of
// PutModel's INSERT and of the snapshot import's COPY: the document and the
// fields the queries filter on, derived from it.
func modelValues(m *api.Model) ([]any, error) {
	doc, err := api.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.ModelID, err)
	}
	rev, err := strconv.ParseInt(m.ResourceVersion, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("model %s: resource_version %q: %w", m.ModelID, m.ResourceVersion, err)
	}
	var (
		nonCompliant bool
		deadline     any
	)
	if g := m.Governance; g != nil && g.Compliance != nil && g.Compliance.Status == api.NonCompliant {
		nonCompliant = true
		deadline = optStamp(g.Compliance.Deadline)
	}
	reviewPending := m.Governance != nil && m.Governance.Review != nil && m.Governance.Review.Status == api.ReviewPending
	var params int64
	if m.Parameters != nil {
		params = int64(m.Parameters.Count)
	}
	var (
		owner, keyID  string
		verifiedUntil any
	)
	if id := m.Identity; id != nil {
		owner, keyID = id.Owner, id.KeyID
		if id.Status == api.IdentityVerified {
			verifiedUntil = stamp(id.ExpiresAt)
		}
	}
	return []any{m.ModelID, m.Provider, m.Family, m.DisplayName, string(m.SizeClass), string(m.Status()), string(m.Role()),
		rev, doc, nonCompliant, deadline, reviewPending, params, int64(m.ContextWindow), owner, keyID, verifiedUntil}, nil
}

func (t *txn) PutModel(ctx context.Context, m *api.Model) error {
	values, err := modelValues(m)
	if err != nil {
		return fmt.Errorf("postgres: put %w", err)
	}
	var pk int64
	err = t.q.QueryRow(ctx, `INSERT INTO models
		(model_id, provider, family, display_name, size_class, status, role, revision, doc, non_compliant, deadline,
		 review_pending, parameter_count, context_window, identity_owner, identity_key_id, identity_verified_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (model_id) DO UPDATE SET
			provider = excluded.provider, family = excluded.family,
			display_name = excluded.display_name, size_class = excluded.size_class,
			status = excluded.status, role = excluded.role,
			revision = excluded.revision, doc = excluded.doc,
			non_compliant = excluded.non_compliant, deadline = excluded.deadline,
			review_pending = excluded.review_pending,
			parameter_count = excluded.parameter_count, context_window = excluded.context_window,
			identity_owner = excluded.identity_owner, identity_key_id = excluded.identity_key_id,
			identity_verified_until = excluded.identity_verified_until
		RETURNING pk`, values...).Scan(&pk)
	if err != nil {
		return fmt.Errorf("postgres: put model %s: %w", m.ModelID, err)
	}
	// The leaderboards filter on the role and status of now.
	if _, err := t.q.Exec(ctx, `UPDATE scores SET role = $1, status = $2 WHERE model_id = $3 AND (role <> $1 OR status <> $2)`,
		string(m.Role()), string(m.Status()), m.ModelID); err != nil {
		return fmt.Errorf("postgres: put model %s scores: %w", m.ModelID, err)
	}
	if _, err := t.q.Exec(ctx, `DELETE FROM model_labels WHERE model_pk = $1`, pk); err != nil {
		return fmt.Errorf("postgres: put model %s labels: %w", m.ModelID, err)
	}
	if len(m.Labels) > 0 {
		keys := make([]string, 0, len(m.Labels))
		values := make([]string, 0, len(m.Labels))
		for k, v := range m.Labels {
			keys, values = append(keys, k), append(values, v)
		}
		if _, err := t.q.Exec(ctx, `INSERT INTO model_labels (model_pk, key, value)
			SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS l (k, v)`, pk, keys, values); err != nil {
			return fmt.Errorf("postgres: put model %s labels: %w", m.ModelID, err)
		}
	}
	if _, err := t.q.Exec(ctx, `DELETE FROM model_capabilities WHERE model_pk = $1`, pk); err != nil {
		return fmt.Errorf("postgres: put model %s capabilities: %w", m.ModelID, err)
	}
	if len(m.Capabilities) > 0 {
		caps := slices.Compact(slices.Sorted(slices.Values(m.Capabilities)))
		if _, err := t.q.Exec(ctx, `INSERT INTO model_capabilities (model_pk, capability)
			SELECT $1, c FROM unnest($2::text[]) AS c`, pk, caps); err != nil {
			return fmt.Errorf("postgres: put model %s capabilities: %w", m.ModelID, err)
		}
	}
	return nil
}

func (t *txn) DeleteModel(ctx context.Context, id string) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM models WHERE model_id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete model %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.NotFound, "model %s not found", id)
	}
	// Its results stay on record; it leaves the leaderboards.
	if _, err := t.q.Exec(ctx, `DELETE FROM scores WHERE model_id = $1`, id); err != nil {
		return fmt.Errorf("postgres: delete model %s scores: %w", id, err)
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
			return fmt.Errorf("postgres: append revision of %s: %w", r.ModelID, err)
		}
	}
	_, err = t.q.Exec(ctx, `INSERT INTO revisions (`+revisionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ModelID, r.Revision, string(r.Action), r.Actor, r.Reason, stamp(r.Time), r.RequestID, doc)
	if err != nil {
		return failed(fmt.Sprintf("append revision %d of %s", r.Revision, r.ModelID), err)
	}
	return nil
}

func (t *txn) aliasRevision(ctx context.Context, name string) (int64, error) {
	var n int64
	if err := t.q.QueryRow(ctx, `SELECT COALESCE(MAX(revision), 0) FROM alias_revisions WHERE name = $1`, name).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: history of alias %s: %w", name, err)
	}
	return n, nil
}

func (t *txn) appendAliasRevision(ctx context.Context, a *api.Alias, rev int64) error {
	_, err := t.q.Exec(ctx, `INSERT INTO alias_revisions (`+aliasColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		a.Name, a.Target, rev, stamp(a.UpdatedAt), a.UpdatedBy, a.Reason)
	if err != nil {
		return failed("record move of alias "+a.Name, err)
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
	_, err = t.q.Exec(ctx, `INSERT INTO aliases (`+aliasColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (name) DO UPDATE SET target = excluded.target, revision = excluded.revision,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by, reason = excluded.reason`,
		a.Name, a.Target, rev, stamp(a.UpdatedAt), a.UpdatedBy, a.Reason)
	if err != nil {
		return fmt.Errorf("postgres: put alias %s: %w", a.Name, err)
	}
	return t.appendAliasRevision(ctx, a, rev)
}

func (t *txn) DeleteAlias(ctx context.Context, a *api.Alias) error {
	tag, err := t.q.Exec(ctx, `DELETE FROM aliases WHERE name = $1`, a.Name)
	if err != nil {
		return fmt.Errorf("postgres: delete alias %s: %w", a.Name, err)
	}
	if tag.RowsAffected() == 0 {
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
	err := t.q.QueryRow(ctx, `SELECT request_hash, status, body, resource_version, created_at
		FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).
		Scan(&rec.RequestHash, &rec.Status, &rec.Body, &rec.ResourceVersion, (*stamp)(&rec.Created))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "idempotency key not found")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get idempotency key: %w", err)
	}
	return &rec, nil
}

func (t *txn) PutIdempotent(ctx context.Context, rec *store.Idempotent) error {
	body := rec.Body
	if body == nil {
		body = []byte{} // the column is NOT NULL: no body is an empty one
	}
	_, err := t.q.Exec(ctx, `INSERT INTO idempotency_keys
		(scope, key, request_hash, status, body, resource_version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		rec.Scope, rec.Key, rec.RequestHash, rec.Status, body, rec.ResourceVersion, stamp(rec.Created))
	if err != nil {
		return failed("put idempotency key", err)
	}
	return nil
}

func (t *txn) ExpireIdempotent(ctx context.Context, before time.Time) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, stamp(before)); err != nil {
		return fmt.Errorf("postgres: expire idempotency keys: %w", err)
	}
	return nil
}
