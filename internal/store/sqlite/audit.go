package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

func (s queries) AuditSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_entries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: audit size: %w", err)
	}
	return n, nil
}

func (s queries) AuditEntries(ctx context.Context, q store.AuditQuery) ([]*store.AuditRecord, error) {
	where := []string{"seq >= ?"}
	args := []any{q.From}
	for col, v := range map[string]string{"target": q.Target, "principal": q.Principal, "action": q.Action, "outcome": q.Outcome} {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, formatTime(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, formatTime(q.Until))
	}
	args = append(args, q.Limit)
	rows, err := s.query(ctx, `SELECT seq, time, principal, action, target, outcome, leaf FROM audit_entries
		WHERE `+strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit entries: %w", err)
	}
	defer rows.Close()
	var out []*store.AuditRecord
	for rows.Next() {
		var (
			r  store.AuditRecord
			at string
		)
		if err := rows.Scan(&r.Seq, &at, &r.Principal, &r.Action, &r.Target, &r.Outcome, &r.Leaf); err != nil {
			return nil, fmt.Errorf("sqlite: audit entries: %w", err)
		}
		if r.Time, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit entries: %w", err)
	}
	return out, nil
}

func (s queries) ReadHashes(ctx context.Context, indexes []int64) ([][32]byte, error) {
	out := make([][32]byte, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	args := make([]any, len(indexes))
	pos := make(map[int64][]int, len(indexes))
	for i, x := range indexes {
		args[i] = x
		pos[x] = append(pos[x], i)
	}
	rows, err := s.query(ctx, `SELECT idx, hash FROM audit_hashes WHERE idx IN (`+placeholders(len(indexes))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit hashes: %w", err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var (
			idx  int64
			hash []byte
		)
		if err := rows.Scan(&idx, &hash); err != nil {
			return nil, fmt.Errorf("sqlite: read audit hashes: %w", err)
		}
		if len(hash) != 32 {
			return nil, fmt.Errorf("sqlite: audit hash %d has %d bytes", idx, len(hash))
		}
		for _, i := range pos[idx] {
			copy(out[i][:], hash)
			found++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read audit hashes: %w", err)
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
	_, err = t.exec(ctx, `INSERT INTO audit_entries (seq, time, principal, action, target, outcome, leaf)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, rec.Seq, formatTime(rec.Time), rec.Principal, rec.Action, rec.Target, rec.Outcome, rec.Leaf)
	if err != nil {
		return fmt.Errorf("sqlite: append audit entry %d: %w", rec.Seq, err)
	}
	for i, h := range hashes {
		if _, err := t.exec(ctx, `INSERT INTO audit_hashes (idx, hash) VALUES (?, ?)`, firstHash+int64(i), h[:]); err != nil {
			return fmt.Errorf("sqlite: append audit hash %d: %w", firstHash+int64(i), err)
		}
	}
	return nil
}
