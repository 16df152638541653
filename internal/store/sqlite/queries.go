package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/labels"
	"github.com/hivellm/modelgov/internal/store"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries implements store.Reader over a pool or a transaction.
type queries struct {
	q querier
	// cache holds the prepared statements of q.
	cache *stmtCache
}

// timeLayout has a fixed width, so that stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: stored time %q: %w", s, err)
	}
	return t, nil
}

func decodeModel(doc []byte) (*api.Model, error) {
	var m api.Model
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("sqlite: stored model document: %w", err)
	}
	return &m, nil
}

func (s queries) GetModel(ctx context.Context, id string) (*api.Model, error) {
	var doc []byte
	err := s.queryRow(ctx, `SELECT doc FROM models WHERE model_id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "model %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get model %s: %w", id, err)
	}
	return decodeModel(doc)
}

func (s queries) ListModels(ctx context.Context, q store.ModelQuery) ([]*api.Model, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("sqlite: list models: limit %d is not positive", q.Limit)
	}
	query, args := modelsSQL(q, false)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list models: %w", err)
	}
	defer rows.Close()
	out := make([]*api.Model, 0, min(q.Limit, 128))
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("sqlite: list models: %w", err)
		}
		m, err := decodeModel(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list models: %w", err)
	}
	return out, nil
}

// modelsSQL builds the list (or, with count, the count) query. Every filter
// is an indexed equality or a membership test against the label and
// capability indexes, and the order is model_id, so SQLite walks an index
// and stops after the page.
func modelsSQL(q store.ModelQuery, count bool) (string, []any) {
	var (
		where []string
		args  []any
	)
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("m.provider", q.Provider)
	eq("m.family", q.Family)
	eq("m.status", string(q.Status))
	eq("m.role", string(q.Role))
	eq("m.size_class", string(q.SizeClass))
	if q.Capability != "" {
		where = append(where, "m.pk IN (SELECT model_pk FROM model_capabilities WHERE capability = ?)")
		args = append(args, q.Capability)
	}
	for _, r := range q.Labels {
		cond, rargs := labelCondition(r)
		where = append(where, cond)
		args = append(args, rargs...)
	}
	if q.Text != "" {
		pattern := "%" + escapeLike(q.Text) + "%"
		where = append(where, `(m.model_id LIKE ? ESCAPE '\' OR m.display_name LIKE ? ESCAPE '\')`)
		args = append(args, pattern, pattern)
	}
	if q.NonCompliant {
		where = append(where, "m.compliance = ?")
		args = append(args, string(api.NonCompliant))
	}
	if !q.DeadlineBefore.IsZero() {
		where = append(where, "m.deadline != '' AND m.deadline <= ?")
		args = append(args, formatTime(q.DeadlineBefore))
	}
	if q.After != "" && !count {
		where = append(where, "m.model_id > ?")
		args = append(args, q.After)
	}
	var b strings.Builder
	if count {
		b.WriteString("SELECT COUNT(*) FROM models m")
	} else {
		b.WriteString("SELECT m.doc FROM models m")
	}
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	if !count {
		b.WriteString(" ORDER BY m.model_id LIMIT ?")
		args = append(args, q.Limit)
	}
	return b.String(), args
}

func (s queries) CountModels(ctx context.Context, q store.ModelQuery) (int64, error) {
	query, args := modelsSQL(q, true)
	var n int64
	if err := s.queryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count models: %w", err)
	}
	return n, nil
}

func labelCondition(r labels.Requirement) (string, []any) {
	const sub = "m.pk IN (SELECT model_pk FROM model_labels WHERE key = ?"
	switch r.Op {
	case labels.Equals:
		return sub + " AND value = ?)", []any{r.Key, r.Values[0]}
	case labels.NotEquals:
		return "NOT " + sub + " AND value = ?)", []any{r.Key, r.Values[0]}
	case labels.In, labels.NotIn:
		args := []any{r.Key}
		for _, v := range r.Values {
			args = append(args, v)
		}
		cond := sub + " AND value IN (" + placeholders(len(r.Values)) + "))"
		if r.Op == labels.NotIn {
			cond = "NOT " + cond
		}
		return cond, args
	case labels.Exists:
		return sub + ")", []any{r.Key}
	case labels.DoesNotExist:
		return "NOT " + sub + ")", []any{r.Key}
	}
	panic(fmt.Sprintf("sqlite: unknown label operator %v", r.Op))
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s queries) LastRevision(ctx context.Context, id string) (int64, error) {
	var n sql.NullInt64
	err := s.queryRow(ctx, `SELECT MAX(revision) FROM revisions WHERE model_id = ?`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: last revision of %s: %w", id, err)
	}
	return n.Int64, nil
}

const revisionColumns = `model_id, revision, action, actor, reason, time, request_id, doc`

func scanRevision(sc interface{ Scan(...any) error }) (*api.Revision, error) {
	var (
		r   api.Revision
		at  string
		doc []byte
	)
	if err := sc.Scan(&r.ModelID, &r.Revision, &r.Action, &r.Actor, &r.Reason, &at, &r.RequestID, &doc); err != nil {
		return nil, err
	}
	t, err := parseTime(at)
	if err != nil {
		return nil, err
	}
	r.Time = t
	if doc != nil {
		if r.Model, err = decodeModel(doc); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

func (s queries) ListRevisions(ctx context.Context, id string, before int64, limit int) ([]*api.Revision, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.query(ctx, `SELECT `+revisionColumns+` FROM revisions
		WHERE model_id = ? AND revision < ? ORDER BY revision DESC LIMIT ?`, id, before, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list revisions of %s: %w", id, err)
	}
	defer rows.Close()
	var out []*api.Revision
	for rows.Next() {
		r, err := scanRevision(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list revisions of %s: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list revisions of %s: %w", id, err)
	}
	return out, nil
}

func (s queries) GetRevision(ctx context.Context, id string, revision int64) (*api.Revision, error) {
	row := s.queryRow(ctx, `SELECT `+revisionColumns+` FROM revisions
		WHERE model_id = ? AND revision = ?`, id, revision)
	r, err := scanRevision(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "revision %d of model %s not found", revision, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get revision %d of %s: %w", revision, id, err)
	}
	return r, nil
}

const aliasColumns = `name, target, revision, updated_at, updated_by, reason`

func scanAlias(sc interface{ Scan(...any) error }) (*api.Alias, error) {
	var (
		a   api.Alias
		rev int64
		at  string
	)
	if err := sc.Scan(&a.Name, &a.Target, &rev, &at, &a.UpdatedBy, &a.Reason); err != nil {
		return nil, err
	}
	t, err := parseTime(at)
	if err != nil {
		return nil, err
	}
	a.UpdatedAt = t
	a.ResourceVersion = fmt.Sprint(rev)
	return &a, nil
}

func (s queries) GetAlias(ctx context.Context, name string) (*api.Alias, error) {
	a, err := scanAlias(s.queryRow(ctx, `SELECT `+aliasColumns+` FROM aliases WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "alias %s not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get alias %s: %w", name, err)
	}
	return a, nil
}

func (s queries) ListAliases(ctx context.Context, target, after string, limit int) ([]*api.Alias, error) {
	query := `SELECT ` + aliasColumns + ` FROM aliases WHERE name > ? ORDER BY name LIMIT ?`
	args := []any{after, limit}
	if target != "" {
		query = `SELECT ` + aliasColumns + ` FROM aliases WHERE target = ? AND name > ? ORDER BY name LIMIT ?`
		args = []any{target, after, limit}
	}
	return s.aliases(ctx, "list aliases", query, args...)
}

func (s queries) AliasHistory(ctx context.Context, name string) ([]*api.Alias, error) {
	return s.aliases(ctx, "history of alias "+name, `SELECT `+aliasColumns+` FROM alias_revisions
		WHERE name = ? ORDER BY revision DESC`, name)
}

func (s queries) aliases(ctx context.Context, what, query string, args ...any) ([]*api.Alias, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer rows.Close()
	var out []*api.Alias
	for rows.Next() {
		a, err := scanAlias(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}
