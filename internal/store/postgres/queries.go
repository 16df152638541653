package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/labels"
	"github.com/hivellm/modelgov/internal/store"
)

// querier is what *pgxpool.Pool and pgx.Tx have in common. pgx prepares
// and caches each statement per connection.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queries implements store.Reader over the pool or a transaction.
type queries struct {
	q querier
}

// stamp is a time as stored: a bigint of nanoseconds since the Unix epoch.
// The zero time.Time, outside that range, is stored as the smallest bigint,
// so that it too comes back as it was given.
type stamp time.Time

// Int64Value implements pgtype.Int64Valuer, so that a stamp is a query
// argument. A time a bigint of nanoseconds cannot hold (before 1678 or
// after 2262) is refused.
func (s stamp) Int64Value() (pgtype.Int8, error) {
	t := time.Time(s)
	if t.IsZero() {
		return pgtype.Int8{Int64: math.MinInt64, Valid: true}, nil
	}
	ns := t.UnixNano()
	if ns == math.MinInt64 || !time.Unix(0, ns).Equal(t) {
		return pgtype.Int8{}, fmt.Errorf("postgres: time %v is out of the storable range", t)
	}
	return pgtype.Int8{Int64: ns, Valid: true}, nil
}

// ScanInt64 implements pgtype.Int64Scanner, so that a *stamp is a scan
// target: (*stamp)(&t). The time comes back in UTC.
func (s *stamp) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		return errors.New("postgres: stored time is NULL")
	}
	*s = stamp(fromNanos(v.Int64))
	return nil
}

func fromNanos(ns int64) time.Time {
	if ns == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// optStamp is the argument of a nullable time column: NULL for nil.
func optStamp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return stamp(*t)
}

// optStampDest is the scan target of a nullable time column: nil for NULL.
type optStampDest struct{ t **time.Time }

// ScanInt64 implements pgtype.Int64Scanner.
func (d *optStampDest) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		*d.t = nil
		return nil
	}
	t := fromNanos(v.Int64)
	*d.t = &t
	return nil
}

// params collects a query's arguments and names their placeholders.
type params []any

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// collect reads every row of rows with scan and closes rows; what names
// the query in errors. An empty result is nil, as in the SQLite store; the
// methods whose contract asks for an empty list use collectList.
func collect[T any](rows pgx.Rows, what string, scan func(pgx.Row) (T, error)) ([]T, error) {
	return appendRows[T](nil, rows, what, scan)
}

// collectList is collect answering an empty, non-nil slice when there are
// no rows.
func collectList[T any](rows pgx.Rows, what string, scan func(pgx.Row) (T, error)) ([]T, error) {
	return appendRows([]T{}, rows, what, scan)
}

func appendRows[T any](out []T, rows pgx.Rows, what string, scan func(pgx.Row) (T, error)) ([]T, error) {
	out, err := pgx.AppendRows(out, rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}

// failed wraps err, the failure of what, giving a unique violation the kind
// errs.Exists.
func failed(what string, err error) error {
	if isUniqueViolation(err) {
		return errs.Wrap(errs.Exists, err, "postgres: "+what)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

func decodeModel(doc []byte) (*api.Model, error) {
	var m api.Model
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("postgres: stored model document: %w", err)
	}
	return &m, nil
}

func (s queries) GetModel(ctx context.Context, id string) (*api.Model, error) {
	d, err := s.GetModelDoc(ctx, id)
	if err != nil {
		return nil, err
	}
	return decodeModel(d.JSON)
}

func (s queries) GetModelDoc(ctx context.Context, id string) (store.Doc, error) {
	d := store.Doc{ModelID: id}
	var rev int64
	err := s.q.QueryRow(ctx, `SELECT revision, doc FROM models WHERE model_id = $1`, id).Scan(&rev, &d.JSON)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, errs.E(errs.NotFound, "model %s not found", id)
	}
	if err != nil {
		return d, fmt.Errorf("postgres: get model %s: %w", id, err)
	}
	d.ResourceVersion = strconv.FormatInt(rev, 10)
	return d, nil
}

func (s queries) ListModels(ctx context.Context, q store.ModelQuery) ([]*api.Model, error) {
	docs, err := s.ListModelDocs(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]*api.Model, len(docs))
	for i, d := range docs {
		if out[i], err = decodeModel(d.JSON); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s queries) ListModelDocs(ctx context.Context, q store.ModelQuery) ([]store.Doc, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("postgres: list models: limit %d is not positive", q.Limit)
	}
	if _, ok := postgresOrders[q.Sort]; !ok {
		return nil, fmt.Errorf("postgres: list models: unknown sort %d", q.Sort)
	}
	query, args := modelsSQL(q, false)
	// Planned with the values at hand (an unnamed statement, never a generic
	// plan): a rare label and a common one want different plans.
	rows, err := s.q.Query(ctx, query, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list models: %w", err)
	}
	return collectList(rows, "list models", func(row pgx.Row) (store.Doc, error) {
		var (
			d   store.Doc
			rev int64
		)
		err := row.Scan(&d.ModelID, &rev, &d.JSON, &d.SortKey)
		d.ResourceVersion = strconv.FormatInt(rev, 10)
		return d, err
	})
}

func (s queries) CountModels(ctx context.Context, q store.ModelQuery) (int64, error) {
	query, args := modelsSQL(q, true)
	var n int64
	if err := s.q.QueryRow(ctx, query, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count models: %w", err)
	}
	return n, nil
}

// modelsSQL builds the list (or, with count, the count) query. A page is
// in model_id order, after q.After (keyset pagination), so that PostgreSQL
// can walk an index in that order and stop after the page: the model_id
// index, or the index of an equality filter, whose second column is
// model_id. Conditions on labels and capabilities are semi-joins, which the
// planner runs either way, by its statistics: collecting the few matches
// from the label index then sorting them, or walking the models in order
// and probing each one's labels.
//
// A list in another order (q.Sort) is after the previous page's last row
// in that order, (key, model_id), which models_display_name or
// models_updated_at walk. The planner picks by its statistics between
// walking that index and filtering, and collecting a filter's matches by
// its index and sorting them: no index serves a filter and a sort at
// once, so that a sorted page with a filter that matches few models is
// correct but slower than the same page in model_id order.
func modelsSQL(q store.ModelQuery, count bool) (string, []any) {
	var (
		where []string
		p     params
	)
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = "+p.add(v))
		}
	}
	eq("m.provider", q.Provider)
	eq("m.family", q.Family)
	eq("m.status", string(q.Status))
	eq("m.role", string(q.Role))
	eq("m.size_class", string(q.SizeClass))
	if q.Capability != "" {
		where = append(where, "EXISTS (SELECT 1 FROM model_capabilities c WHERE c.model_pk = m.pk AND c.capability = "+p.add(q.Capability)+")")
	}
	for _, r := range q.Labels {
		where = append(where, labelCondition(r, &p))
	}
	if q.Text != "" {
		pattern := p.add("%" + escapeLike(q.Text) + "%")
		where = append(where, `(m.model_id ILIKE `+pattern+` ESCAPE '\' OR m.display_name ILIKE `+pattern+` ESCAPE '\')`)
	}
	if q.NonCompliant {
		where = append(where, "m.non_compliant")
	}
	if q.Compliant {
		where = append(where, "NOT m.non_compliant")
	}
	if q.ReviewPending {
		where = append(where, "m.review_pending")
	}
	if q.ParameterCount != 0 {
		where = append(where, "m.parameter_count = "+p.add(int64(q.ParameterCount)))
	}
	if q.ContextWindow != 0 {
		where = append(where, "m.context_window = "+p.add(int64(q.ContextWindow)))
	}
	if q.ParameterCount != 0 && q.ContextWindow != 0 {
		// Implies the partial index's condition, so that the planner may use
		// it whatever the values.
		where = append(where, "m.parameter_count <> 0 AND m.context_window <> 0")
	}
	if !q.DeadlineBefore.IsZero() {
		where = append(where, "m.deadline <= "+p.add(stamp(q.DeadlineBefore)))
	}
	order := postgresOrders[store.SortModelID]
	if q.Sort != store.SortModelID {
		order = postgresOrders[q.Sort]
	}
	if q.After != "" && !count {
		if q.Sort != store.SortModelID {
			where = append(where, "("+order.key+", m.model_id) "+order.after+" ("+p.add(q.AfterKey)+", "+p.add(q.After)+")")
		} else {
			where = append(where, "m.model_id > "+p.add(q.After))
		}
	}
	var b strings.Builder
	if count {
		b.WriteString("SELECT COUNT(*) FROM models m")
	} else {
		b.WriteString("SELECT m.model_id, m.revision, m.doc, " + order.key + " FROM models m")
	}
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	if !count {
		b.WriteString(" ORDER BY " + order.orderBy + " LIMIT " + p.add(q.Limit))
	}
	return b.String(), p
}

// postgresOrder is how a list query sorts: its key (selected as
// Doc.SortKey), the comparison of the keyset condition (key, model_id)
// that starts a page after a row, and the ORDER BY clause, which an index
// of (key, model_id) walks. Keys are compared bytewise (COLLATE "C").
type postgresOrder struct{ key, after, orderBy string }

var postgresOrders = map[store.ModelSort]postgresOrder{
	store.SortModelID:     {key: "''::text", after: ">", orderBy: "m.model_id"},
	store.SortDisplayName: {key: `(m.display_name COLLATE "C")`, after: ">", orderBy: `(m.display_name COLLATE "C"), m.model_id`},
	store.SortUpdated:     {key: "m.updated_at", after: "<", orderBy: "m.updated_at DESC, m.model_id DESC"},
}

// labelCondition is the SQL condition of one label requirement.
func labelCondition(r labels.Requirement, p *params) string {
	probe := func(cond string) string {
		return "EXISTS (SELECT 1 FROM model_labels l WHERE l.model_pk = m.pk AND l.key = " + p.add(r.Key) + cond + ")"
	}
	switch r.Op {
	case labels.Equals:
		return probe(" AND l.value = " + p.add(r.Values[0]))
	case labels.NotEquals:
		return "NOT " + probe(" AND l.value = "+p.add(r.Values[0]))
	case labels.In:
		return probe(" AND l.value = ANY(" + p.add(r.Values) + ")")
	case labels.NotIn:
		return "NOT " + probe(" AND l.value = ANY("+p.add(r.Values)+")")
	case labels.Exists:
		return probe("")
	case labels.DoesNotExist:
		return "NOT " + probe("")
	}
	panic(fmt.Sprintf("postgres: unknown label operator %v", r.Op))
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s queries) LastRevision(ctx context.Context, id string) (int64, error) {
	var n int64
	err := s.q.QueryRow(ctx, `SELECT COALESCE(MAX(revision), 0) FROM revisions WHERE model_id = $1`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: last revision of %s: %w", id, err)
	}
	return n, nil
}

const revisionColumns = `model_id, revision, action, actor, reason, time, request_id, doc`

func scanRevision(row pgx.Row) (*api.Revision, error) {
	var (
		r   api.Revision
		doc []byte
	)
	if err := row.Scan(&r.ModelID, &r.Revision, &r.Action, &r.Actor, &r.Reason, (*stamp)(&r.Time), &r.RequestID, &doc); err != nil {
		return nil, err
	}
	if doc != nil {
		var err error
		if r.Model, err = decodeModel(doc); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

func (s queries) ListRevisions(ctx context.Context, id string, before int64, limit int) ([]*api.Revision, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.q.Query(ctx, `SELECT `+revisionColumns+` FROM revisions
		WHERE model_id = $1 AND revision < $2 ORDER BY revision DESC LIMIT $3`, id, before, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list revisions of %s: %w", id, err)
	}
	return collect(rows, "list revisions of "+id, scanRevision)
}

func (s queries) GetRevision(ctx context.Context, id string, revision int64) (*api.Revision, error) {
	r, err := scanRevision(s.q.QueryRow(ctx, `SELECT `+revisionColumns+` FROM revisions
		WHERE model_id = $1 AND revision = $2`, id, revision))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "revision %d of model %s not found", revision, id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get revision %d of %s: %w", revision, id, err)
	}
	return r, nil
}

const aliasColumns = `name, target, revision, updated_at, updated_by, reason`

func scanAlias(row pgx.Row) (*api.Alias, error) {
	var (
		a   api.Alias
		rev int64
	)
	if err := row.Scan(&a.Name, &a.Target, &rev, (*stamp)(&a.UpdatedAt), &a.UpdatedBy, &a.Reason); err != nil {
		return nil, err
	}
	a.ResourceVersion = strconv.FormatInt(rev, 10)
	return &a, nil
}

func (s queries) GetAlias(ctx context.Context, name string) (*api.Alias, error) {
	a, err := scanAlias(s.q.QueryRow(ctx, `SELECT `+aliasColumns+` FROM aliases WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "alias %s not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get alias %s: %w", name, err)
	}
	return a, nil
}

func (s queries) ListAliases(ctx context.Context, target, after string, limit int) ([]*api.Alias, error) {
	if target != "" {
		return s.aliases(ctx, "list aliases", `SELECT `+aliasColumns+` FROM aliases
			WHERE target = $1 AND name > $2 ORDER BY name LIMIT $3`, target, after, limit)
	}
	return s.aliases(ctx, "list aliases", `SELECT `+aliasColumns+` FROM aliases
		WHERE name > $1 ORDER BY name LIMIT $2`, after, limit)
}

func (s queries) AliasHistory(ctx context.Context, name string) ([]*api.Alias, error) {
	return s.aliases(ctx, "history of alias "+name, `SELECT `+aliasColumns+` FROM alias_revisions
		WHERE name = $1 ORDER BY revision DESC`, name)
}

func (s queries) aliases(ctx context.Context, what, query string, args ...any) ([]*api.Alias, error) {
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return collect(rows, what, scanAlias)
}
