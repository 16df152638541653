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

const tokenColumns = `id, name, roles, prefix, hash, created_at, created_by, expires_at, revoked_at, revoked_by`

func scanToken(sc interface{ Scan(...any) error }) (*store.Token, error) {
	var (
		t                  store.Token
		roles, created     string
		expires, revokedAt sql.NullString
	)
	if err := sc.Scan(&t.ID, &t.Name, &roles, &t.Prefix, &t.Hash, &created, &t.CreatedBy,
		&expires, &revokedAt, &t.RevokedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &t.Roles); err != nil {
		return nil, fmt.Errorf("sqlite: stored roles of token %s: %w", t.ID, err)
	}
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if t.ExpiresAt, err = parseNullTime(expires); err != nil {
		return nil, err
	}
	if t.RevokedAt, err = parseNullTime(revokedAt); err != nil {
		return nil, err
	}
	return &t, nil
}

// parseNullTime parses a nullable time column: nil for NULL.
func parseNullTime(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// formatNullTime is the value of a nullable time column: NULL for nil.
func formatNullTime(t *time.Time) sql.NullString {
	if t == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(*t), Valid: true}
}

func (s queries) TokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find token by hash: %w", err)
	}
	return t, nil
}

func (s queries) GetToken(ctx context.Context, id string) (*store.Token, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "token %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get token %s: %w", id, err)
	}
	return t, nil
}

func (s queries) ListTokens(ctx context.Context) ([]*store.Token, error) {
	rows, err := s.query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	return scanAll(rows, "list tokens", scanToken)
}

func (s queries) IdentityOwners(ctx context.Context, role api.Role, t time.Time) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT identity_owner FROM models
		WHERE role = ? AND identity_verified_until > ? AND identity_verified_until != 0 AND identity_owner != ''
		ORDER BY identity_owner`, string(role), t.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlite: identity owners: %w", err)
	}
	return scanAll(rows, "identity owners", func(sc interface{ Scan(...any) error }) (string, error) {
		var o string
		return o, sc.Scan(&o)
	})
}

func (s queries) VerifiedIdentities(ctx context.Context, t time.Time) ([]store.VerifiedIdentity, error) {
	rows, err := s.query(ctx, `SELECT model_id, role, identity_key_id, identity_owner FROM models
		WHERE identity_verified_until > ? AND identity_verified_until != 0 ORDER BY model_id`, t.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlite: verified identities: %w", err)
	}
	return scanAll(rows, "verified identities", func(sc interface{ Scan(...any) error }) (store.VerifiedIdentity, error) {
		var v store.VerifiedIdentity
		var role string
		err := sc.Scan(&v.ModelID, &role, &v.KeyID, &v.Owner)
		v.Role = api.Role(role)
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
	err := s.queryRow(ctx, `SELECT model_id FROM identity_claims WHERE kind = ? AND value = ?`, string(kind), value).Scan(&modelID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.E(errs.NotFound, "%s %s is not claimed by any model", claimName(kind), value)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: claim on %s %s: %w", claimName(kind), value, err)
	}
	return modelID, nil
}

// The inserts below skip a row that breaks a uniqueness constraint (ON
// CONFLICT DO NOTHING) and then find out which: so a duplicate stores
// nothing and gets an error of kind errs.Exists saying what is taken, and
// the common case costs one statement. Transactions are serialized, so
// nothing changes between the insert and the look-up.

func (t *txn) PutToken(ctx context.Context, tok *store.Token) error {
	roles, err := json.Marshal(tok.Roles)
	if err != nil {
		return fmt.Errorf("sqlite: put token %s: roles: %w", tok.ID, err)
	}
	res, err := t.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		tok.ID, tok.Name, string(roles), tok.Prefix, tok.Hash, formatTime(tok.CreatedAt), tok.CreatedBy,
		formatNullTime(tok.ExpiresAt), formatNullTime(tok.RevokedAt), tok.RevokedBy)
	if err != nil {
		return fmt.Errorf("sqlite: put token %s: %w", tok.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: put token %s: %w", tok.ID, err)
	}
	if n > 0 {
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
	res, err := t.exec(ctx, `UPDATE tokens SET
		revoked_by = CASE WHEN revoked_at IS NULL THEN ? ELSE revoked_by END,
		revoked_at = COALESCE(revoked_at, ?)
		WHERE id = ?`, by, formatTime(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke token %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: revoke token %s: %w", id, err)
	}
	if n == 0 {
		return errs.E(errs.NotFound, "token %s not found", id)
	}
	return nil
}

func (t *txn) ClaimIdentity(ctx context.Context, kind store.ClaimKind, value, modelID string, at time.Time) error {
	res, err := t.exec(ctx, `INSERT INTO identity_claims (kind, value, model_id, claimed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, value) DO NOTHING`, string(kind), value, modelID, formatTime(at))
	if err != nil {
		return fmt.Errorf("sqlite: claim %s %s for %s: %w", claimName(kind), value, modelID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: claim %s %s for %s: %w", claimName(kind), value, modelID, err)
	}
	if n > 0 {
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
	res, err := t.exec(ctx, `INSERT INTO identity_challenges (`+challengeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (nonce) DO NOTHING`,
		c.Nonce, c.ModelID, c.Purpose, c.KeyID, c.NewKeyID, c.NewKeyType, c.NewPublicKey,
		formatTime(c.ExpiresAt), formatTime(c.CreatedAt), c.CreatedBy)
	if err != nil {
		return fmt.Errorf("sqlite: put challenge for %s: %w", c.ModelID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: put challenge for %s: %w", c.ModelID, err)
	}
	if n == 0 {
		return errs.E(errs.Exists, "a challenge with the same nonce already exists")
	}
	return nil
}

func (t *txn) TakeChallenge(ctx context.Context, nonce string) (*store.Challenge, error) {
	var (
		c                store.Challenge
		expires, created string
	)
	err := t.queryRow(ctx, `DELETE FROM identity_challenges WHERE nonce = ? RETURNING `+challengeColumns, nonce).
		Scan(&c.Nonce, &c.ModelID, &c.Purpose, &c.KeyID, &c.NewKeyID, &c.NewKeyType, &c.NewPublicKey,
			&expires, &created, &c.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "challenge not found: it was never issued, or was already answered or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: take challenge: %w", err)
	}
	if c.ExpiresAt, err = parseTime(expires); err != nil {
		return nil, err
	}
	if c.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &c, nil
}

func (t *txn) ExpireChallenges(ctx context.Context, before time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM identity_challenges WHERE expires_at < ?`, formatTime(before)); err != nil {
		return fmt.Errorf("sqlite: expire challenges: %w", err)
	}
	return nil
}
