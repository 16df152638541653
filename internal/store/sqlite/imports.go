package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

func scanImport(sc interface{ Scan(...any) error }) (*api.ImportBatch, error) {
	var doc []byte
	if err := sc.Scan(&doc); err != nil {
		return nil, err
	}
	var b api.ImportBatch
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, fmt.Errorf("stored import: %w", err)
	}
	return &b, nil
}

func (s queries) GetImport(ctx context.Context, id string) (*api.ImportBatch, error) {
	b, err := scanImport(s.queryRow(ctx, `SELECT doc FROM imports WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "import %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get import %s: %w", id, err)
	}
	return b, nil
}

func (s queries) ListImports(ctx context.Context) ([]*api.ImportBatch, error) {
	rows, err := s.query(ctx, `SELECT doc FROM imports ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list imports: %w", err)
	}
	out, err := scanAll(rows, "list imports", scanImport)
	if out == nil && err == nil {
		out = []*api.ImportBatch{}
	}
	return out, err
}

func (t *txn) PutImport(ctx context.Context, b *api.ImportBatch) error {
	doc, err := api.Marshal(b)
	if err != nil {
		return fmt.Errorf("sqlite: put import %s: %w", b.ID, err)
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO imports (id, created_at, doc) VALUES (?, ?, ?)`,
		b.ID, formatTime(b.CreatedAt), doc); err != nil {
		return fmt.Errorf("sqlite: put import %s: %w", b.ID, err)
	}
	return nil
}
