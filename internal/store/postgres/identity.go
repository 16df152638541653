package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

const tokenColumns = `id, name, roles, prefix, hash, created_at, created_by, expires_at, revoked_at, revoked_by`

func scanToken(row pgx.Row) (*store.Token, error) {
	var t store.Token
	err := row.Scan(&t.ID, &t.Name, &t.Roles, &t.Prefix, &t.Hash, (*stamp)(&t.CreatedAt), &t.CreatedBy,
		&optStampDest{&t.ExpiresAt}, &optStampDest{&t.RevokedAt}, &t.RevokedBy)
	return &t, err
}

func (s queries) TokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	t, err := scanToken(s.q.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: find token by hash: %w", err)
	}
	return t, nil
}

func (s queries) GetToken(ctx context.Context, id string) (*store.Token, error) {
	t, err := scanToken(s.q.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "token %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get token %s: %w", id, err)
	}
	return t, nil
}

func (s queries) ListTokens(ctx context.Context) ([]*store.Token, error) {
	rows, err := s.q.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", err)
	}
	return collect(rows, "list tokens", scanToken)
}

func (s queries) IdentityOwners(ctx context.Context, role api.Role, t time.Time) ([]string, error) {
	rows, err := s.q.Query(ctx, `SELECT DISTINCT identity_owner FROM models
		WHERE role = $1 AND identity_verified_until > $2 AND identity_owner <> ''
		ORDER BY identity_owner`, string(role), stamp(t))
	if err != nil {
		return nil, fmt.Errorf("postgres: identity owners: %w", err)
	}
	return collect(rows, "identity owners", func(row pgx.Row) (string, error) {
		var o string
		return o, row.Scan(&o)
	})
}

func (s queries) VerifiedIdentities(ctx context.Context, t time.Time) ([]store.VerifiedIdentity, error) {
	rows, err := s.q.Query(ctx, `SELECT model_id, role, identity_key_id, identity_owner FROM models
		WHERE identity_verified_until > $1 ORDER BY model_id`, stamp(t))
	if err != nil {
		return nil, fmt.Errorf("postgres: verified identities: %w", err)
	}
	return collect(rows, "verified identities", func(row pgx.Row) (store.VerifiedIdentity, error) {
		var v store.VerifiedIdentity
		err := row.Scan(&v.ModelID, &v.Role, &v.KeyID, &v.Owner)
		return v, err
	})
}

// claimName names what a claim is on, for messages.
func claimName(kind store.ClaimKind) string {
	switch kind {
	case store.ClaimKey:
		return "key id"
	case store.ClaimArtifact:
		return "artifact digest"
	}
	return string(kind)
}

func (s queries) IdentityClaim(ctx context.Context, kind store.ClaimKind, value string) (string, error) {
	var modelID string
	err := s.q.QueryRow(ctx, `SELECT model_id FROM identity_claims WHERE kind = $1 AND value = $2`, string(kind), value).Scan(&modelID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errs.E(errs.NotFound, "%s %s is not claimed by any model", claimName(kind), value)
	}
	if err != nil {
		return "", fmt.Errorf("postgres: claim on %s %s: %w", claimName(kind), value, err)
	}
	return modelID, nil
}

// The inserts below skip a row that breaks a uniqueness constraint (ON
// CONFLICT DO NOTHING) and then find out which: so a duplicate stores
// nothing and gets an error of kind errs.Exists saying what is taken, the
// common case costs one statement, and the transaction stays usable (a
// failed statement would abort it). Write transactions are serialized, so
// nothing changes between the insert and the look-up.

func (t *txn) PutToken(ctx context.Context, tok *store.Token) error {
	tag, err := t.q.Exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT DO NOTHING`,
		tok.ID, tok.Name, tok.Roles, tok.Prefix, tok.Hash, stamp(tok.CreatedAt), tok.CreatedBy,
		optStamp(tok.ExpiresAt), optStamp(tok.RevokedAt), tok.RevokedBy)
	if err != nil {
		return fmt.Errorf("postgres: put token %s: %w", tok.ID, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	if _, err := t.GetToken(ctx, tok.ID); err == nil {
		return errs.E(errs.Exists, "token %s already exists", tok.ID)
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	return errs.E(errs.Exists, "a token with the same secret already exists")
}

func (t *txn) RevokeToken(ctx context.Context, id string, at time.Time, by string) error {
	// Every SET expression sees the row as it was, so a revoked token keeps
	// its first revocation, and the row still counts as affected, which
	// tells an unknown id from a revoked token.
	tag, err := t.q.Exec(ctx, `UPDATE tokens SET
		revoked_by = CASE WHEN revoked_at IS NULL THEN $1 ELSE revoked_by END,
		revoked_at = COALESCE(revoked_at, $2)
		WHERE id = $3`, by, stamp(at), id)
	if err != nil {
		return fmt.Errorf("postgres: revoke token %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.NotFound, "token %s not found", id)
	}
	return nil
}

func (t *txn) ClaimIdentity(ctx context.Context, kind store.ClaimKind, value, modelID string, at time.Time) error {
	tag, err := t.q.Exec(ctx, `INSERT INTO identity_claims (kind, value, model_id, claimed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, value) DO NOTHING`, string(kind), value, modelID, stamp(at))
	if err != nil {
		return fmt.Errorf("postgres: claim %s %s for %s: %w", claimName(kind), value, modelID, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	holder, err := t.IdentityClaim(ctx, kind, value)
	if err != nil {
		return err
	}
	if holder != modelID {
		return errs.E(errs.Exists, "%s %s is already held by model %s", claimName(kind), value, holder)
	}
	return nil
}

const challengeColumns = `nonce, model_id, purpose, key_id, new_key_id, new_key_type, new_public_key, expires_at, created_at, created_by`

func (t *txn) PutChallenge(ctx context.Context, c *store.Challenge) error {
	tag, err := t.q.Exec(ctx, `INSERT INTO identity_challenges (`+challengeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (nonce) DO NOTHING`,
		c.Nonce, c.ModelID, c.Purpose, c.KeyID, c.NewKeyID, c.NewKeyType, c.NewPublicKey,
		stamp(c.ExpiresAt), stamp(c.CreatedAt), c.CreatedBy)
	if err != nil {
		return fmt.Errorf("postgres: put challenge for %s: %w", c.ModelID, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.Exists, "a challenge with the same nonce already exists")
	}
	return nil
}

func (t *txn) TakeChallenge(ctx context.Context, nonce string) (*store.Challenge, error) {
	var c store.Challenge
	err := t.q.QueryRow(ctx, `DELETE FROM identity_challenges WHERE nonce = $1 RETURNING `+challengeColumns, nonce).
		Scan(&c.Nonce, &c.ModelID, &c.Purpose, &c.KeyID, &c.NewKeyID, &c.NewKeyType, &c.NewPublicKey,
			(*stamp)(&c.ExpiresAt), (*stamp)(&c.CreatedAt), &c.CreatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "challenge not found: it was never issued, or was already answered or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: take challenge: %w", err)
	}
	return &c, nil
}

func (t *txn) ExpireChallenges(ctx context.Context, before time.Time) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM identity_challenges WHERE expires_at < $1`, stamp(before)); err != nil {
		return fmt.Errorf("postgres: expire challenges: %w", err)
	}
	return nil
}
