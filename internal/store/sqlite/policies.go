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
)

// policySelect reads a policy with its last activation, if any, and whether
// it is the active one (the version of the newest activation).
const policySelect = `SELECT p.version, p.name, p.description, p.hash, p.bundle, p.created_at, p.created_by,
	a.activated_at, a.activated_by,
	p.version = (SELECT version FROM policy_activations ORDER BY seq DESC LIMIT 1)
	FROM policies p
	LEFT JOIN policy_activations a ON a.seq = (SELECT MAX(seq) FROM policy_activations WHERE version = p.version)`

func scanPolicy(sc interface{ Scan(...any) error }) (*api.Policy, error) {
	var (
		p           api.Policy
		created     string
		activatedAt sql.NullString
		activatedBy sql.NullString
		active      sql.NullBool
		bundle      []byte
	)
	if err := sc.Scan(&p.Version, &p.Name, &p.Description, &p.Hash, &bundle, &created, &p.CreatedBy,
		&activatedAt, &activatedBy, &active); err != nil {
		return nil, err
	}
	t, err := parseTime(created)
	if err != nil {
		return nil, err
	}
	p.CreatedAt = t
	p.Bundle = json.RawMessage(bundle)
	p.Active = active.Bool
	if activatedAt.Valid {
		at, err := parseTime(activatedAt.String)
		if err != nil {
			return nil, err
		}
		p.ActivatedAt = &at
		p.ActivatedBy = activatedBy.String
	}
	return &p, nil
}

func (s queries) GetPolicy(ctx context.Context, version int64) (*api.Policy, error) {
	p, err := scanPolicy(s.queryRow(ctx, policySelect+` WHERE p.version = ?`, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "policy version %d not found", version)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get policy %d: %w", version, err)
	}
	return p, nil
}

func (s queries) ListPolicies(ctx context.Context) ([]*api.Policy, error) {
	rows, err := s.query(ctx, policySelect+` ORDER BY p.version DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list policies: %w", err)
	}
	return scanAll(rows, "list policies", scanPolicy)
}

func (s queries) ActivePolicy(ctx context.Context) (*api.Policy, error) {
	var version int64
	err := s.queryRow(ctx, `SELECT version FROM policy_activations ORDER BY seq DESC LIMIT 1`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no policy bundle has been activated")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: active policy: %w", err)
	}
	return s.GetPolicy(ctx, version)
}

func (s queries) ActivationReport(ctx context.Context, version int64) (*api.ComplianceReport, error) {
	var report []byte
	err := s.queryRow(ctx, `SELECT report FROM policy_activations WHERE version = ? ORDER BY seq DESC LIMIT 1`, version).Scan(&report)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "policy version %d was never activated", version)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: activation report of %d: %w", version, err)
	}
	var r api.ComplianceReport
	if err := json.Unmarshal(report, &r); err != nil {
		return nil, fmt.Errorf("sqlite: activation report of %d: %w", version, err)
	}
	return &r, nil
}

func (t *txn) PutPolicy(ctx context.Context, p *api.Policy) error {
	var last sql.NullInt64
	if err := t.queryRow(ctx, `SELECT MAX(version) FROM policies`).Scan(&last); err != nil {
		return fmt.Errorf("sqlite: put policy: %w", err)
	}
	if p.Version != last.Int64+1 {
		return errs.E(errs.Conflict, "policy version %d does not follow version %d", p.Version, last.Int64)
	}
	_, err := t.exec(ctx, `INSERT INTO policies (version, name, description, hash, bundle, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, p.Version, p.Name, p.Description, p.Hash, []byte(p.Bundle), formatTime(p.CreatedAt), p.CreatedBy)
	if err != nil {
		return fmt.Errorf("sqlite: put policy %d: %w", p.Version, err)
	}
	return nil
}

func (t *txn) ActivatePolicy(ctx context.Context, version int64, at time.Time, by string, report *api.ComplianceReport) error {
	if _, err := t.GetPolicy(ctx, version); err != nil {
		return err
	}
	b, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("sqlite: activate policy %d: %w", version, err)
	}
	_, err = t.exec(ctx, `INSERT INTO policy_activations (version, activated_at, activated_by, report) VALUES (?, ?, ?, ?)`,
		version, formatTime(at), by, b)
	if err != nil {
		return fmt.Errorf("sqlite: activate policy %d: %w", version, err)
	}
	return nil
}
