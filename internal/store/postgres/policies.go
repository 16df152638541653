package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// policySelect reads a policy with its last activation, if any, and whether
// it is the active one (the version of the newest activation).
const policySelect = `SELECT p.version, p.name, p.description, p.hash, p.bundle, p.created_at, p.created_by,
	a.activated_at, a.activated_by,
	COALESCE(p.version = (SELECT version FROM policy_activations ORDER BY seq DESC LIMIT 1), false)
	FROM policies p
	LEFT JOIN LATERAL (SELECT activated_at, activated_by FROM policy_activations
		WHERE version = p.version ORDER BY seq DESC LIMIT 1) a ON true`

func scanPolicy(row pgx.Row) (*api.Policy, error) {
	var (
		p           api.Policy
		activatedBy *string
		bundle      []byte
	)
	if err := row.Scan(&p.Version, &p.Name, &p.Description, &p.Hash, &bundle, (*stamp)(&p.CreatedAt), &p.CreatedBy,
		&optStampDest{&p.ActivatedAt}, &activatedBy, &p.Active); err != nil {
		return nil, err
	}
	p.Bundle = json.RawMessage(bundle)
	if activatedBy != nil {
		p.ActivatedBy = *activatedBy
	}
	return &p, nil
}

func (s queries) GetPolicy(ctx context.Context, version int64) (*api.Policy, error) {
	p, err := scanPolicy(s.q.QueryRow(ctx, policySelect+` WHERE p.version = $1`, version))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "policy version %d not found", version)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get policy %d: %w", version, err)
	}
	return p, nil
}

func (s queries) ListPolicies(ctx context.Context) ([]*api.Policy, error) {
	rows, err := s.q.Query(ctx, policySelect+` ORDER BY p.version DESC`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list policies: %w", err)
	}
	return collect(rows, "list policies", scanPolicy)
}

func (s queries) ActivePolicy(ctx context.Context) (*api.Policy, error) {
	var version int64
	err := s.q.QueryRow(ctx, `SELECT version FROM policy_activations ORDER BY seq DESC LIMIT 1`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no policy bundle has been activated")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: active policy: %w", err)
	}
	return s.GetPolicy(ctx, version)
}

func (s queries) ActivationReport(ctx context.Context, version int64) (*api.ComplianceReport, error) {
	var report []byte
	err := s.q.QueryRow(ctx, `SELECT report FROM policy_activations WHERE version = $1 ORDER BY seq DESC LIMIT 1`, version).Scan(&report)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "policy version %d was never activated", version)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: activation report of %d: %w", version, err)
	}
	var r api.ComplianceReport
	if err := json.Unmarshal(report, &r); err != nil {
		return nil, fmt.Errorf("postgres: activation report of %d: %w", version, err)
	}
	return &r, nil
}

func (t *txn) PutPolicy(ctx context.Context, p *api.Policy) error {
	var last int64
	if err := t.q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM policies`).Scan(&last); err != nil {
		return fmt.Errorf("postgres: put policy: %w", err)
	}
	if p.Version != last+1 {
		return errs.E(errs.Conflict, "policy version %d does not follow version %d", p.Version, last)
	}
	_, err := t.q.Exec(ctx, `INSERT INTO policies (version, name, description, hash, bundle, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.Version, p.Name, p.Description, p.Hash, []byte(p.Bundle), stamp(p.CreatedAt), p.CreatedBy)
	if err != nil {
		return failed(fmt.Sprintf("put policy %d", p.Version), err)
	}
	return nil
}

func (t *txn) ActivatePolicy(ctx context.Context, version int64, at time.Time, by string, report *api.ComplianceReport) error {
	if _, err := t.GetPolicy(ctx, version); err != nil {
		return err
	}
	b, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("postgres: activate policy %d: %w", version, err)
	}
	_, err = t.q.Exec(ctx, `INSERT INTO policy_activations (version, activated_at, activated_by, report) VALUES ($1, $2, $3, $4)`,
		version, stamp(at), by, b)
	if err != nil {
		return fmt.Errorf("postgres: activate policy %d: %w", version, err)
	}
	return nil
}
