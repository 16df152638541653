package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

func (s queries) GetBenchmark(ctx context.Context, name, version string) (*api.Benchmark, error) {
	var doc []byte
	err := s.queryRow(ctx, `SELECT doc FROM benchmarks WHERE name = ? AND version = ?`, name, version).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "benchmark %s version %s not found", name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get benchmark %s %s: %w", name, version, err)
	}
	var b api.Benchmark
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, fmt.Errorf("sqlite: stored benchmark %s %s: %w", name, version, err)
	}
	return &b, nil
}

func (s queries) ListBenchmarks(ctx context.Context) ([]*api.Benchmark, error) {
	rows, err := s.query(ctx, `SELECT doc FROM benchmarks ORDER BY name, version`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list benchmarks: %w", err)
	}
	out, err := scanAll(rows, "list benchmarks", func(sc interface{ Scan(...any) error }) (*api.Benchmark, error) {
		var doc []byte
		if err := sc.Scan(&doc); err != nil {
			return nil, err
		}
		var b api.Benchmark
		return &b, json.Unmarshal(doc, &b)
	})
	if out == nil && err == nil {
		out = []*api.Benchmark{}
	}
	return out, err
}

func scanEvaluation(sc interface{ Scan(...any) error }) (*api.Evaluation, error) {
	var (
		doc []byte
		by  string
	)
	if err := sc.Scan(&doc, &by); err != nil {
		return nil, err
	}
	var e api.Evaluation
	if err := json.Unmarshal(doc, &e); err != nil {
		return nil, fmt.Errorf("stored evaluation: %w", err)
	}
	e.SupersededBy = by
	return &e, nil
}

func (s queries) GetEvaluation(ctx context.Context, id string) (*api.Evaluation, error) {
	e, err := scanEvaluation(s.queryRow(ctx, `SELECT doc, superseded_by FROM evaluations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "evaluation %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get evaluation %s: %w", id, err)
	}
	return e, nil
}

func (s queries) ListEvaluations(ctx context.Context, q store.EvaluationQuery) ([]*api.Evaluation, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("sqlite: list evaluations: limit %d is not positive", q.Limit)
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if q.ModelID != "" {
		add("model_id = ?", q.ModelID)
	}
	if q.Benchmark != "" {
		add("benchmark = ?", q.Benchmark)
	}
	if q.BenchmarkVersion != "" {
		add("version = ?", q.BenchmarkVersion)
	}
	if !q.Since.IsZero() {
		add("evaluated_at >= ?", formatTime(q.Since))
	}
	if !q.Until.IsZero() {
		add("evaluated_at < ?", formatTime(q.Until))
	}
	if q.Valid {
		add("superseded_by = ''")
	}
	if q.AfterID != "" {
		add("(evaluated_at, id) > (?, ?)", formatTime(q.AfterTime), q.AfterID)
	}
	query := `SELECT doc, superseded_by FROM evaluations`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit)
	rows, err := s.query(ctx, query+` ORDER BY evaluated_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list evaluations: %w", err)
	}
	out, err := scanAll(rows, "list evaluations", scanEvaluation)
	if out == nil && err == nil {
		out = []*api.Evaluation{}
	}
	return out, err
}

const scoreColumns = `model_id, benchmark, version, metric, value, stderr, evaluation_id, evaluated_at, role, status`

func scanScore(sc interface{ Scan(...any) error }) (store.Score, error) {
	var (
		s      store.Score
		stderr sql.NullFloat64
		at     string
	)
	if err := sc.Scan(&s.ModelID, &s.Benchmark, &s.BenchmarkVersion, &s.Metric, &s.Value, &stderr, &s.EvaluationID, &at, &s.Role, &s.Status); err != nil {
		return s, err
	}
	if stderr.Valid {
		s.Stderr = &stderr.Float64
	}
	t, err := parseTime(at)
	s.EvaluatedAt = t
	return s, err
}

func (s queries) LatestScores(ctx context.Context, modelID string) ([]store.Score, error) {
	rows, err := s.query(ctx, `SELECT `+scoreColumns+` FROM scores WHERE model_id = ? ORDER BY benchmark, version, metric`, modelID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: latest scores of %s: %w", modelID, err)
	}
	return scanAll(rows, "latest scores", scanScore)
}

// leaderboardSQL is the query of Leaderboard: a walk of scores_rank (or,
// with a role or a status, scores_role_rank or scores_status_rank) in
// (rank, model_id) order, which stops after the page.
func leaderboardSQL(q store.LeaderboardQuery) (string, []any) {
	where := `benchmark = ? AND version = ? AND metric = ?`
	args := []any{q.Benchmark, q.Version, q.Metric}
	if q.Role != "" {
		where += ` AND role = ?`
		args = append(args, string(q.Role))
	}
	if q.Status != "" {
		where += ` AND status = ?`
		args = append(args, string(q.Status))
	}
	args = append(args, q.Limit, q.Offset)
	// The page's keys come from the ranking index alone (it covers rank and
	// model_id), so that a deep page skips index entries, not rows; only
	// the page's own rows are read.
	return `SELECT ` + scoreColumns + ` FROM scores WHERE benchmark = ? AND version = ? AND metric = ? AND model_id IN (
		SELECT model_id FROM scores WHERE ` + where + ` ORDER BY rank, model_id LIMIT ? OFFSET ?)
		ORDER BY rank, model_id`, append([]any{q.Benchmark, q.Version, q.Metric}, args...)
}

func (s queries) Leaderboard(ctx context.Context, q store.LeaderboardQuery) ([]store.Score, error) {
	if q.Limit <= 0 || q.Offset < 0 {
		return nil, fmt.Errorf("sqlite: leaderboard: limit %d, offset %d", q.Limit, q.Offset)
	}
	query, args := leaderboardSQL(q)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: leaderboard of %s %s %s: %w", q.Benchmark, q.Version, q.Metric, err)
	}
	out, err := scanAll(rows, "leaderboard", scanScore)
	if out == nil && err == nil {
		out = []store.Score{}
	}
	return out, err
}

func (t *txn) PutBenchmark(ctx context.Context, b *api.Benchmark) error {
	doc, err := api.Marshal(b)
	if err != nil {
		return fmt.Errorf("sqlite: put benchmark %s: %w", b.Name, err)
	}
	if _, err := t.exec(ctx, `INSERT OR REPLACE INTO benchmarks (name, version, doc) VALUES (?, ?, ?)`, b.Name, b.Version, doc); err != nil {
		return fmt.Errorf("sqlite: put benchmark %s %s: %w", b.Name, b.Version, err)
	}
	return nil
}

func (t *txn) AddEvaluation(ctx context.Context, e *api.Evaluation) error {
	stored := *e
	stored.SupersededBy = ""
	doc, err := api.Marshal(&stored)
	if err != nil {
		return fmt.Errorf("sqlite: add evaluation %s: %w", e.ID, err)
	}
	b, err := t.GetBenchmark(ctx, e.Benchmark, e.BenchmarkVersion)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `INSERT INTO evaluations (id, model_id, benchmark, version, evaluated_at, superseded_by, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.ID, e.ModelID, e.Benchmark, e.BenchmarkVersion, formatTime(e.EvaluatedAt), e.SupersededBy, doc)
	if err != nil {
		return fmt.Errorf("sqlite: add evaluation %s: %w", e.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: add evaluation %s: %w", e.ID, err)
	} else if n == 0 {
		return errs.E(errs.Exists, "evaluation %s already exists", e.ID)
	}
	if e.SupersededBy != "" {
		return nil
	}
	return t.offerScores(ctx, e, b)
}

// offerScores makes e's values the latest scores of its model where no
// later valid result has them. A model that is not stored (deleted) gets
// no scores: it is on no leaderboard.
func (t *txn) offerScores(ctx context.Context, e *api.Evaluation, b *api.Benchmark) error {
	dir := map[string]string{}
	for _, m := range b.Metrics {
		dir[m.Name] = m.Direction
	}
	var role, status string
	err := t.queryRow(ctx, `SELECT role, status FROM models WHERE model_id = ?`, e.ModelID).Scan(&role, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: score of evaluation %s: model %s: %w", e.ID, e.ModelID, err)
	}
	at := formatTime(e.EvaluatedAt)
	for _, v := range e.Values {
		var stderr sql.NullFloat64
		if v.Stderr != nil {
			stderr = sql.NullFloat64{Float64: *v.Stderr, Valid: true}
		}
		// The upsert keeps a score from a later result: (evaluated_at, id)
		// orders the results.
		_, err := t.exec(ctx, `INSERT INTO scores (benchmark, version, metric, model_id, value, stderr, rank, evaluation_id,
			evaluated_at, role, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (benchmark, version, metric, model_id) DO UPDATE SET value = excluded.value, stderr = excluded.stderr,
				rank = excluded.rank, evaluation_id = excluded.evaluation_id, evaluated_at = excluded.evaluated_at
			WHERE (excluded.evaluated_at, excluded.evaluation_id) > (scores.evaluated_at, scores.evaluation_id)`,
			e.Benchmark, e.BenchmarkVersion, v.Metric, e.ModelID, v.Value, stderr, store.Rank(v.Value, dir[v.Metric]), e.ID, at, role, status)
		if err != nil {
			return fmt.Errorf("sqlite: score of evaluation %s: %w", e.ID, err)
		}
	}
	return nil
}

func (t *txn) SupersedeEvaluation(ctx context.Context, id, by string) error {
	old, err := t.GetEvaluation(ctx, id)
	if err != nil {
		return err
	}
	if _, err := t.GetEvaluation(ctx, by); err != nil {
		return err
	}
	if old.SupersededBy != "" {
		return errs.E(errs.Conflict, "evaluation %s is already superseded by %s", id, old.SupersededBy)
	}
	if _, err := t.exec(ctx, `UPDATE evaluations SET superseded_by = ? WHERE id = ?`, by, id); err != nil {
		return fmt.Errorf("sqlite: supersede evaluation %s: %w", id, err)
	}
	// The model's scores on the benchmark version, from its valid results
	// again.
	if _, err := t.exec(ctx, `DELETE FROM scores WHERE benchmark = ? AND version = ? AND model_id = ?`,
		old.Benchmark, old.BenchmarkVersion, old.ModelID); err != nil {
		return fmt.Errorf("sqlite: supersede evaluation %s: %w", id, err)
	}
	b, err := t.GetBenchmark(ctx, old.Benchmark, old.BenchmarkVersion)
	if err != nil {
		return err
	}
	q := store.EvaluationQuery{ModelID: old.ModelID, Benchmark: old.Benchmark, BenchmarkVersion: old.BenchmarkVersion, Valid: true}
	return store.EachEvaluation(ctx, t, q, func(e *api.Evaluation) error { return t.offerScores(ctx, e, b) })
}
