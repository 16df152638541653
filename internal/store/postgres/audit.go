package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

func (s queries) AuditSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.q.QueryRow(ctx, `SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_entries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: audit size: %w", err)
	}
	return n, nil
}

func (s queries) AuditEntries(ctx context.Context, q store.AuditQuery) ([]*store.AuditRecord, error) {
	query, args := auditSQL(q)
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit entries: %w", err)
	}
	return collect(rows, "audit entries", func(row pgx.Row) (*store.AuditRecord, error) {
		var r store.AuditRecord
		err := row.Scan(&r.Seq, (*stamp)(&r.Time), &r.Principal, &r.Action, &r.Target, &r.Outcome, &r.Leaf)
		return &r, err
	})
}

// auditSQL builds the query of AuditEntries: in seq order, so that it walks
// the primary key or the (column, seq) index of a filter and stops after
// the page.
func auditSQL(q store.AuditQuery) (string, []any) {
	var p params
	where := []string{"seq >= " + p.add(q.From)}
	for _, f := range []struct{ col, value string }{
		{"target", q.Target}, {"principal", q.Principal}, {"action", q.Action}, {"outcome", q.Outcome},
	} {
		if f.value != "" {
			where = append(where, f.col+" = "+p.add(f.value))
		}
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= "+p.add(stamp(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "time < "+p.add(stamp(q.Until)))
	}
	return `SELECT seq, time, principal, action, target, outcome, leaf FROM audit_entries
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq LIMIT ` + p.add(q.Limit), p
}

func (s queries) ReadHashes(ctx context.Context, indexes []int64) ([][32]byte, error) {
	out := make([][32]byte, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	pos := make(map[int64][]int, len(indexes))
	for i, x := range indexes {
		pos[x] = append(pos[x], i)
	}
	rows, err := s.q.Query(ctx, `SELECT idx, hash FROM audit_hashes WHERE idx = ANY($1)`, indexes)
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit hashes: %w", err)
	}
	found := 0
	var (
		idx  int64
		hash []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&idx, &hash}, func() error {
		if len(hash) != 32 {
			return fmt.Errorf("audit hash %d has %d bytes", idx, len(hash))
		}
		for _, i := range pos[idx] {
			copy(out[i][:], hash)
			found++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit hashes: %w", err)
	}
	if found != len(indexes) {
		return nil, errs.E(errs.NotFound, "audit tree hashes missing: asked for %d, found %d", len(indexes), found)
	}
	return out, nil
}

func (t *txn) AppendAudit(ctx context.Context, rec *store.AuditRecord, firstHash int64, hashes [][32]byte) error {
	size, err := t.AuditSize(ctx)
	if err != nil {
		return err
	}
	if rec.Seq != size {
		return errs.E(errs.Conflict, "audit entry %d does not follow the log's %d entries", rec.Seq, size)
	}
	_, err = t.q.Exec(ctx, `INSERT INTO audit_entries (seq, time, principal, action, target, outcome, leaf)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, rec.Seq, stamp(rec.Time), rec.Principal, rec.Action, rec.Target, rec.Outcome, rec.Leaf)
	if err != nil {
		return failed(fmt.Sprintf("append audit entry %d", rec.Seq), err)
	}
	if len(hashes) == 0 {
		return nil
	}
	raw := make([][]byte, len(hashes))
	for i := range hashes {
		raw[i] = hashes[i][:]
	}
	_, err = t.q.Exec(ctx, `INSERT INTO audit_hashes (idx, hash)
		SELECT $1 + i - 1, h FROM unnest($2::bytea[]) WITH ORDINALITY AS t (h, i)`, firstHash, raw)
	if err != nil {
		return failed(fmt.Sprintf("append audit hashes %d-%d", firstHash, firstHash+int64(len(hashes))-1), err)
	}
	return nil
}
