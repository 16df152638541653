package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
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
	// plans remembers planMemberships' choices for a moment; nil (in a
	// write transaction) counts every time.
	plans *planCache
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
		return nil, fmt.Errorf("sqlite: list models: limit %d is not positive", q.Limit)
	}
	if _, ok := sqliteOrders[q.Sort]; !ok {
		return nil, fmt.Errorf("sqlite: list models: unknown sort %d", q.Sort)
	}
	plan, err := s.planMemberships(ctx, q)
	if err != nil {
		return nil, err
	}
	query, args := modelsSQL(q, false, plan)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list models: %w", err)
	}
	defer rows.Close()
	out := make([]store.Doc, 0, min(q.Limit, 128))
	for rows.Next() {
		var (
			d   store.Doc
			rev int64
		)
		if err := rows.Scan(&d.ModelID, &rev, &d.JSON, &d.SortKey); err != nil {
			return nil, fmt.Errorf("sqlite: list models: %w", err)
		}
		d.ResourceVersion = strconv.FormatInt(rev, 10)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list models: %w", err)
	}
	return out, nil
}

func (s queries) GetModelDoc(ctx context.Context, id string) (store.Doc, error) {
	d := store.Doc{ModelID: id}
	var rev int64
	err := s.queryRow(ctx, `SELECT revision, doc FROM models WHERE model_id = ?`, id).Scan(&rev, &d.JSON)
	if errors.Is(err, sql.ErrNoRows) {
		return d, errs.E(errs.NotFound, "model %s not found", id)
	}
	if err != nil {
		return d, fmt.Errorf("sqlite: get model %s: %w", id, err)
	}
	d.ResourceVersion = strconv.FormatInt(rev, 10)
	return d, nil
}

// A membership is a condition on the label or capability tables: the
// capability filter (index 0 of a plan) and the positive label
// requirements (Equals, In, Exists; index 1+i for requirement i).
//
// Such a condition can run two ways. Sparse: collect the matching models
// from the label index, then sort them by model_id; the cost grows with
// the number of matches. Dense: walk the models in model_id order and probe
// each one's labels, stopping after the page; the cost grows with the
// number of models walked, about page/fraction. planMemberships counts the
// matches (a covering index count, stopped at the break-even point) and
// picks dense when there are more than sqrt(models × page): then walking
// finds a page before collecting would have finished.
func (s queries) planMemberships(ctx context.Context, q store.ModelQuery) (dense []bool, err error) {
	dense = make([]bool, 1+len(q.Labels))
	var threshold int64 = -1
	check := func(i int, sub string, args ...any) error {
		key := planKey(sub, q.Limit, args)
		if d, ok := s.plans.get(key); ok {
			dense[i] = d
			return nil
		}
		if threshold < 0 {
			var maxPK sql.NullInt64
			if err := s.queryRow(ctx, `SELECT MAX(pk) FROM models`).Scan(&maxPK); err != nil {
				return fmt.Errorf("sqlite: list models: %w", err)
			}
			threshold = int64(math.Sqrt(float64(maxPK.Int64)*float64(q.Limit))) + 1
		}
		var n int64
		if err := s.queryRow(ctx, `SELECT COUNT(*) FROM (`+sub+` LIMIT ?)`, append(args, threshold)...).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: list models: %w", err)
		}
		dense[i] = n >= threshold
		s.plans.put(key, dense[i])
		return nil
	}
	if q.Capability != "" {
		if err := check(0, `SELECT 1 FROM model_capabilities WHERE capability = ?`, q.Capability); err != nil {
			return nil, err
		}
	}
	for i, r := range q.Labels {
		switch r.Op {
		case labels.Equals:
			err = check(1+i, `SELECT 1 FROM model_labels WHERE key = ? AND value = ?`, r.Key, r.Values[0])
		case labels.In:
			args := []any{r.Key}
			for _, v := range r.Values {
				args = append(args, v)
			}
			err = check(1+i, `SELECT 1 FROM model_labels WHERE key = ? AND value IN (`+placeholders(len(r.Values))+`)`, args...)
		case labels.Exists:
			err = check(1+i, `SELECT 1 FROM model_labels WHERE key = ?`, r.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return dense, nil
}

// modelsSQL builds the list (or, with count, the count) query, in model_id
// order so that SQLite walks an index and stops after the page. dense says
// how to run each membership condition (see planMemberships); nil means
// sparse.
//
// Model ids start with their provider, so a provider filter is a range of
// model_id: the query then walks that range of the model_id index, the
// cheapest plan whatever the other filters, and the other columns' indexes
// are turned off (unary +) so that the planner cannot prefer one of them.
// The exception is an exact lookup of figures within a provider (the
// near-duplicate check): models_figures finds its few matches directly,
// and the other columns' indexes are turned off.
//
// A list in another order (q.Sort) walks that order's index
// (models_display_name, models_updated_at) from the previous page's last
// row, with the indexes of the coarse filters (status, role, size class,
// compliance) turned off: each of them selects a large share of the
// models, so that the walk finds a page soon, where using their index
// would sort all their matches. The fine filters keep their indexes and
// the planner may prefer them, sorting only their matches (a provider's or
// a family's models, a rare label's). A coarse filter that matches few
// models under a sort has no index that serves both: such a page is
// correct but walks the sort's index until it fills (or to its end).
func modelsSQL(q store.ModelQuery, count bool, dense []bool) (string, []any) {
	var (
		where []string
		args  []any
	)
	isDense := func(i int) bool { return i < len(dense) && dense[i] }
	sorted := q.Sort != store.SortModelID && !count
	figures := q.Provider != "" && q.ParameterCount != 0 && q.ContextWindow != 0
	byRange := q.Provider != "" && !figures && !sorted
	col := func(c string) string {
		if byRange || figures || (sorted && coarseFilters[c]) {
			return "+" + c
		}
		return c
	}
	eq := func(c, v string) {
		if v != "" {
			where = append(where, col(c)+" = ?")
			args = append(args, v)
		}
	}
	after := q.After
	if count {
		after = ""
	}
	if byRange {
		low := q.Provider + "/"
		if after > low {
			low = after
		}
		where = append(where, "m.model_id > ? AND m.model_id < ?")
		args = append(args, low, q.Provider+"0") // '0' follows '/'
		after = ""
	}
	eq("m.provider", q.Provider)
	eq("m.family", q.Family)
	eq("m.status", string(q.Status))
	eq("m.role", string(q.Role))
	eq("m.size_class", string(q.SizeClass))
	if q.Capability != "" {
		if isDense(0) {
			where = append(where, "EXISTS (SELECT 1 FROM model_capabilities c WHERE c.model_pk = m.pk AND c.capability = ?)")
		} else {
			where = append(where, "m.pk IN (SELECT model_pk FROM model_capabilities WHERE capability = ?)")
		}
		args = append(args, q.Capability)
	}
	for i, r := range q.Labels {
		cond, rargs := labelCondition(r, isDense(1+i))
		where = append(where, cond)
		args = append(args, rargs...)
	}
	if q.Text != "" {
		pattern := "%" + escapeLike(q.Text) + "%"
		where = append(where, `(m.model_id LIKE ? ESCAPE '\' OR m.display_name LIKE ? ESCAPE '\')`)
		args = append(args, pattern, pattern)
	}
	if q.NonCompliant {
		where = append(where, col("m.compliance")+" = ?")
		args = append(args, string(api.NonCompliant))
	}
	if q.Compliant {
		where = append(where, col("m.compliance")+" != ?")
		args = append(args, string(api.NonCompliant))
	}
	if q.ReviewPending {
		where = append(where, "m.review = 'pending'")
	}
	// With provider and family, the near-duplicate check of every create
	// is one lookup in models_figures.
	if q.ParameterCount != 0 {
		where = append(where, "m.parameter_count = ?")
		args = append(args, int64(q.ParameterCount))
	}
	if q.ContextWindow != 0 {
		where = append(where, "m.context_window = ?")
		args = append(args, int64(q.ContextWindow))
	}
	if figures {
		// Implies the partial index's condition, so that the planner may use it.
		where = append(where, "m.parameter_count != 0 AND m.context_window != 0")
	}
	if !q.DeadlineBefore.IsZero() {
		where = append(where, col("m.deadline")+" != '' AND m.deadline <= ?")
		args = append(args, formatTime(q.DeadlineBefore))
	}
	order := sqliteOrders[store.SortModelID]
	if sorted {
		order = sqliteOrders[q.Sort]
	}
	if after != "" {
		if sorted {
			where = append(where, "("+order.key+", m.model_id) "+order.after+" (?, ?)")
			args = append(args, q.AfterKey, after)
		} else {
			where = append(where, "m.model_id > ?")
			args = append(args, after)
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
		b.WriteString(" ORDER BY " + order.orderBy + " LIMIT ?")
		args = append(args, q.Limit)
	}
	return b.String(), args
}

// coarseFilters are the columns whose values each select a large share of
// the models: a sorted list walks its order's index rather than theirs.
var coarseFilters = map[string]bool{"m.status": true, "m.role": true, "m.size_class": true, "m.compliance": true}

// sqliteOrder is how a list query sorts: its key column (selected as
// Doc.SortKey), the comparison of the keyset condition (key, model_id)
// that starts a page after a row, and the ORDER BY clause, which an index
// of (key, model_id) walks.
type sqliteOrder struct{ key, after, orderBy string }

var sqliteOrders = map[store.ModelSort]sqliteOrder{
	store.SortModelID:     {key: "''", after: ">", orderBy: "m.model_id"},
	store.SortDisplayName: {key: "m.display_name", after: ">", orderBy: "m.display_name, m.model_id"},
	store.SortUpdated:     {key: "m.updated_at", after: "<", orderBy: "m.updated_at DESC, m.model_id DESC"},
}

func (s queries) CountModels(ctx context.Context, q store.ModelQuery) (int64, error) {
	query, args := modelsSQL(q, true, nil)
	var n int64
	if err := s.queryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count models: %w", err)
	}
	return n, nil
}

// labelCondition is the SQL condition of one label requirement. Positive
// ones run sparse or dense (see planMemberships); negative ones always
// probe each model's labels.
func labelCondition(r labels.Requirement, dense bool) (string, []any) {
	const (
		sparse = "m.pk IN (SELECT model_pk FROM model_labels WHERE key = ?"
		probe  = "EXISTS (SELECT 1 FROM model_labels l WHERE l.model_pk = m.pk AND l.key = ?"
	)
	positive := sparse
	if dense {
		positive = probe
	}
	switch r.Op {
	case labels.Equals:
		return positive + " AND value = ?)", []any{r.Key, r.Values[0]}
	case labels.NotEquals:
		return "NOT " + probe + " AND l.value = ?)", []any{r.Key, r.Values[0]}
	case labels.In, labels.NotIn:
		args := []any{r.Key}
		for _, v := range r.Values {
			args = append(args, v)
		}
		if r.Op == labels.NotIn {
			return "NOT " + probe + " AND l.value IN (" + placeholders(len(r.Values)) + "))", args
		}
		return positive + " AND value IN (" + placeholders(len(r.Values)) + "))", args
	case labels.Exists:
		return positive + ")", []any{r.Key}
	case labels.DoesNotExist:
		return "NOT " + probe + ")", []any{r.Key}
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
	return scanAll(rows, "list revisions of "+id, scanRevision)
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
	return scanAll(rows, what, scanAlias)
}
