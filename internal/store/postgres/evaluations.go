package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// The benchmarks catalogue, the evaluation results and the latest scores,
// as in the SQLite store (internal/store/sqlite/evaluations.go): the same
// tables, the same upsert of the scores, the same ranks.

func (s queries) GetBenchmark(ctx context.Context, name, version string) (*api.Benchmark, error) {
	var doc []byte
	err := s.q.QueryRow(ctx, `SELECT doc FROM benchmarks WHERE name = $1 AND version = $2`, name, version).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "benchmark %s version %s not found", name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get benchmark %s %s: %w", name, version, err)
	}
	var b api.Benchmark
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, fmt.Errorf("postgres: stored benchmark %s %s: %w", name, version, err)
	}
	return &b, nil
}

func scanBenchmark(row pgx.Row) (*api.Benchmark, error) {
	var doc []byte
	if err := row.Scan(&doc); err != nil {
		return nil, err
	}
	var b api.Benchmark
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, fmt.Errorf("stored benchmark: %w", err)
	}
	return &b, nil
}

func (s queries) ListBenchmarks(ctx context.Context) ([]*api.Benchmark, error) {
	rows, err := s.q.Query(ctx, `SELECT doc FROM benchmarks ORDER BY name, version`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list benchmarks: %w", err)
	}
	return collectList(rows, "list benchmarks", scanBenchmark)
}

const evaluationColumns = `doc, superseded_by`

func scanEvaluation(row pgx.Row) (*api.Evaluation, error) {
	var (
		doc []byte
		by  string
	)
	if err := row.Scan(&doc, &by); err != nil {
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
	e, err := scanEvaluation(s.q.QueryRow(ctx, `SELECT `+evaluationColumns+` FROM evaluations WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "evaluation %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get evaluation %s: %w", id, err)
	}
	return e, nil
}

// evaluationsSQL is the query of ListEvaluations.
func evaluationsSQL(q store.EvaluationQuery) (string, []any) {
	var (
		where []string
		args  params
	)
	if q.ModelID != "" {
		where = append(where, "model_id = "+args.add(q.ModelID))
	}
	if q.Benchmark != "" {
		where = append(where, "benchmark = "+args.add(q.Benchmark))
	}
	if q.BenchmarkVersion != "" {
		where = append(where, "version = "+args.add(q.BenchmarkVersion))
	}
	if !q.Since.IsZero() {
		where = append(where, "evaluated_at >= "+args.add(stamp(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "evaluated_at < "+args.add(stamp(q.Until)))
	}
	if q.Valid {
		where = append(where, "superseded_by = ''")
	}
	if q.AfterID != "" {
		where = append(where, fmt.Sprintf("(evaluated_at, id) > (%s, %s)", args.add(stamp(q.AfterTime)), args.add(q.AfterID)))
	}
	query := `SELECT ` + evaluationColumns + ` FROM evaluations`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY evaluated_at, id LIMIT ` + args.add(q.Limit)
	return query, args
}

func (s queries) ListEvaluations(ctx context.Context, q store.EvaluationQuery) ([]*api.Evaluation, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("postgres: list evaluations: limit %d is not positive", q.Limit)
	}
	query, args := evaluationsSQL(q)
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list evaluations: %w", err)
	}
	return collectList(rows, "list evaluations", scanEvaluation)
}

const scoreColumns = `model_id, benchmark, version, metric, value, stderr, evaluation_id, evaluated_at, role, status`

func scanScore(row pgx.Row) (store.Score, error) {
	var s store.Score
	err := row.Scan(&s.ModelID, &s.Benchmark, &s.BenchmarkVersion, &s.Metric, &s.Value, &s.Stderr, &s.EvaluationID,
		(*stamp)(&s.EvaluatedAt), &s.Role, &s.Status)
	return s, err
}

func (s queries) LatestScores(ctx context.Context, modelID string) ([]store.Score, error) {
	rows, err := s.q.Query(ctx, `SELECT `+scoreColumns+` FROM scores WHERE model_id = $1
		ORDER BY benchmark, version, metric`, modelID)
	if err != nil {
		return nil, fmt.Errorf("postgres: latest scores of %s: %w", modelID, err)
	}
	return collect(rows, "latest scores", scanScore)
}

// leaderboardSQL is the query of Leaderboard: a walk of scores_rank (or,
// with a role or a status, scores_role_rank or scores_status_rank) in
// (rank, model_id) order, which stops after the page.
func leaderboardSQL(q store.LeaderboardQuery) (string, []any) {
	var args params
	where := `benchmark = ` + args.add(q.Benchmark) + ` AND version = ` + args.add(q.Version) + ` AND metric = ` + args.add(q.Metric)
	if q.Role != "" {
		where += ` AND role = ` + args.add(string(q.Role))
	}
	if q.Status != "" {
		where += ` AND status = ` + args.add(string(q.Status))
	}
	query := `SELECT ` + scoreColumns + ` FROM scores WHERE ` + where + ` ORDER BY rank, model_id LIMIT ` + args.add(q.Limit) +
		` OFFSET ` + args.add(q.Offset)
	return query, args
}

func (s queries) Leaderboard(ctx context.Context, q store.LeaderboardQuery) ([]store.Score, error) {
	if q.Limit <= 0 || q.Offset < 0 {
		return nil, fmt.Errorf("postgres: leaderboard: limit %d, offset %d", q.Limit, q.Offset)
	}
	query, args := leaderboardSQL(q)
	// Planned with the values at hand (never a generic plan, which knows
	// neither the page size nor how common the role is): the plan test
	// checks that plan.
	rows, err := s.q.Query(ctx, query, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: leaderboard of %s %s %s: %w", q.Benchmark, q.Version, q.Metric, err)
	}
	return collectList(rows, "leaderboard", scanScore)
}

func (t *txn) PutBenchmark(ctx context.Context, b *api.Benchmark) error {
	doc, err := api.Marshal(b)
	if err != nil {
		return fmt.Errorf("postgres: put benchmark %s: %w", b.Name, err)
	}
	if _, err := t.q.Exec(ctx, `INSERT INTO benchmarks (name, version, doc) VALUES ($1, $2, $3)
		ON CONFLICT (name, version) DO UPDATE SET doc = excluded.doc`, b.Name, b.Version, doc); err != nil {
		return fmt.Errorf("postgres: put benchmark %s %s: %w", b.Name, b.Version, err)
	}
	return nil
}

// evaluationDoc is the stored document of e: all of it but SupersededBy,
// which its column holds.
func evaluationDoc(e *api.Evaluation) ([]byte, error) {
	stored := *e
	stored.SupersededBy = ""
	return api.Marshal(&stored)
}

func (t *txn) AddEvaluation(ctx context.Context, e *api.Evaluation) error {
	doc, err := evaluationDoc(e)
	if err != nil {
		return fmt.Errorf("postgres: add evaluation %s: %w", e.ID, err)
	}
	b, err := t.GetBenchmark(ctx, e.Benchmark, e.BenchmarkVersion)
	if err != nil {
		return err
	}
	tag, err := t.q.Exec(ctx, `INSERT INTO evaluations (id, model_id, benchmark, version, evaluated_at, superseded_by, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		e.ID, e.ModelID, e.Benchmark, e.BenchmarkVersion, stamp(e.EvaluatedAt), e.SupersededBy, doc)
	if err != nil {
		return fmt.Errorf("postgres: add evaluation %s: %w", e.ID, err)
	}
	if tag.RowsAffected() == 0 {
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
	err := t.q.QueryRow(ctx, `SELECT role, status FROM models WHERE model_id = $1`, e.ModelID).Scan(&role, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: score of evaluation %s: model %s: %w", e.ID, e.ModelID, err)
	}
	at := stamp(e.EvaluatedAt)
	for _, v := range e.Values {
		// The upsert keeps a score from a later result: (evaluated_at, id)
		// orders the results.
		_, err := t.q.Exec(ctx, `INSERT INTO scores (benchmark, version, metric, model_id, value, stderr, rank, evaluation_id,
			evaluated_at, role, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (benchmark, version, metric, model_id) DO UPDATE SET value = excluded.value, stderr = excluded.stderr,
				rank = excluded.rank, evaluation_id = excluded.evaluation_id, evaluated_at = excluded.evaluated_at
			WHERE (excluded.evaluated_at, excluded.evaluation_id) > (scores.evaluated_at, scores.evaluation_id)`,
			e.Benchmark, e.BenchmarkVersion, v.Metric, e.ModelID, v.Value, v.Stderr, store.Rank(v.Value, dir[v.Metric]), e.ID, at,
			role, status)
		if err != nil {
			return fmt.Errorf("postgres: score of evaluation %s: %w", e.ID, err)
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
	if _, err := t.q.Exec(ctx, `UPDATE evaluations SET superseded_by = $1 WHERE id = $2`, by, id); err != nil {
		return fmt.Errorf("postgres: supersede evaluation %s: %w", id, err)
	}
	// The model's scores on the benchmark version, from its valid results
	// again.
	if _, err := t.q.Exec(ctx, `DELETE FROM scores WHERE benchmark = $1 AND version = $2 AND model_id = $3`,
		old.Benchmark, old.BenchmarkVersion, old.ModelID); err != nil {
		return fmt.Errorf("postgres: supersede evaluation %s: %w", id, err)
	}
	b, err := t.GetBenchmark(ctx, old.Benchmark, old.BenchmarkVersion)
	if err != nil {
		return err
	}
	q := store.EvaluationQuery{ModelID: old.ModelID, Benchmark: old.Benchmark, BenchmarkVersion: old.BenchmarkVersion, Valid: true}
	return store.EachEvaluation(ctx, t, q, func(e *api.Evaluation) error { return t.offerScores(ctx, e, b) })
}

// rebuildScores fills the scores table, empty, from the valid results of
// the stored models, as AddEvaluation would have left it: for each model,
// benchmark version and metric, the value of the latest result ((evaluated_at,
// id) greatest; within a result, its first value of the metric), ranked by
// the metric's direction in the catalogue (the last entry of that name, as
// offerScores's map keeps; higher is better when the metric is not in it).
// Import calls it: the scores are derived, never exported. A result whose
// benchmark is not in the catalogue is refused.
func rebuildScores(ctx context.Context, q querier) error {
	var id, name, version string
	err := q.QueryRow(ctx, `SELECT e.id, e.benchmark, e.version FROM evaluations e
		WHERE NOT EXISTS (SELECT 1 FROM benchmarks b WHERE b.name = e.benchmark AND b.version = e.version)
		ORDER BY e.id LIMIT 1`).Scan(&id, &name, &version)
	if err == nil {
		return errs.E(errs.Invalid, "evaluation %s is of benchmark %s version %s, which is not in the catalogue", id, name, version)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: check the benchmarks of the evaluations: %w", err)
	}
	// A value is JSON text as Go wrote it: float8 reads it back exactly
	// (PostgreSQL's float8in rounds correctly).
	if _, err := q.Exec(ctx, `INSERT INTO scores (benchmark, version, metric, model_id, value, stderr, rank, evaluation_id,
			evaluated_at, role, status)
		SELECT DISTINCT ON (e.benchmark, e.version, v.metric, e.model_id)
			e.benchmark, e.version, v.metric, e.model_id, v.value, v.stderr,
			CASE WHEN d.direction = $1 THEN v.value ELSE -v.value END,
			e.id, e.evaluated_at, m.role, m.status
		FROM evaluations e
		JOIN models m ON m.model_id = e.model_id
		JOIN benchmarks b ON b.name = e.benchmark AND b.version = e.version
		CROSS JOIN LATERAL (
			SELECT x ->> 'metric' COLLATE "C" AS metric, (x ->> 'value')::float8 AS value,
				(x ->> 'stderr')::float8 AS stderr, n
			FROM json_array_elements(CASE WHEN json_typeof(e.doc -> 'values') = 'array' THEN e.doc -> 'values' ELSE '[]' END) WITH ORDINALITY AS x (x, n)) v
		LEFT JOIN LATERAL (
			SELECT mm ->> 'direction' AS direction
			FROM json_array_elements(CASE WHEN json_typeof(b.doc -> 'metrics') = 'array' THEN b.doc -> 'metrics' ELSE '[]' END) WITH ORDINALITY AS mm (mm, k)
			WHERE mm ->> 'name' = v.metric
			ORDER BY k DESC LIMIT 1) d ON true
		WHERE e.superseded_by = ''
		ORDER BY e.benchmark, e.version, v.metric, e.model_id, e.evaluated_at DESC, e.id DESC, v.n`,
		api.LowerIsBetter); err != nil {
		return fmt.Errorf("postgres: rebuild the scores: %w", err)
	}
	return nil
}
