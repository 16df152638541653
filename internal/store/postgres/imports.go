package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

func scanImport(row pgx.Row) (*api.ImportBatch, error) {
	var doc []byte
	if err := row.Scan(&doc); err != nil {
		return nil, err
	}
	var b api.ImportBatch
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, fmt.Errorf("stored import: %w", err)
	}
	return &b, nil
}

func (s queries) GetImport(ctx context.Context, id string) (*api.ImportBatch, error) {
	b, err := scanImport(s.q.QueryRow(ctx, `SELECT doc FROM imports WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "import %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get import %s: %w", id, err)
	}
	return b, nil
}

func (s queries) ListImports(ctx context.Context) ([]*api.ImportBatch, error) {
	rows, err := s.q.Query(ctx, `SELECT doc FROM imports ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list imports: %w", err)
	}
	out, err := collect(rows, "list imports", scanImport)
	if out == nil && err == nil {
		out = []*api.ImportBatch{}
	}
	return out, err
}

func (t *txn) PutImport(ctx context.Context, b *api.ImportBatch) error {
	doc, err := api.Marshal(b)
	if err != nil {
		return fmt.Errorf("postgres: put import %s: %w", b.ID, err)
	}
	if _, err := t.q.Exec(ctx, `INSERT INTO imports (id, created_at, doc) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, b.ID, b.CreatedAt.UnixNano(), doc); err != nil {
		return fmt.Errorf("postgres: put import %s: %w", b.ID, err)
	}
	return nil
}
