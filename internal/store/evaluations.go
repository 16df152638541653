package store

import (
	"context"
	"time"

	"github.com/hivellm/modelgov/api"
)

// EvaluationReader is the read side of the benchmarks catalogue and the
// evaluation results (part of Reader).
type EvaluationReader interface {
	// GetBenchmark returns a benchmark of the catalogue, or an error of
	// kind errs.NotFound.
	GetBenchmark(ctx context.Context, name, version string) (*api.Benchmark, error)

	// ListBenchmarks returns the catalogue, by name then version.
	ListBenchmarks(ctx context.Context) ([]*api.Benchmark, error)

	// GetEvaluation returns a result by id, or an error of kind
	// errs.NotFound.
	GetEvaluation(ctx context.Context, id string) (*api.Evaluation, error)

	// ListEvaluations returns up to q.Limit results matching q, in
	// (evaluated_at, id) order, after the cursor q.After (when set).
	ListEvaluations(ctx context.Context, q EvaluationQuery) ([]*api.Evaluation, error)

	// LatestScores returns, for a model, its latest valid value of every
	// metric of every benchmark (valid: not superseded; latest: the
	// greatest evaluated_at, then id), ordered by benchmark, version and
	// metric.
	LatestScores(ctx context.Context, modelID string) ([]Score, error)

	// Leaderboard returns up to q.Limit of the latest valid scores on one
	// metric of a benchmark version, one per model, best first (the
	// metric's direction in the catalogue), ties by ascending model id,
	// skipping q.Offset; with q.Role or q.Status, only the models that have
	// them now (a deleted model has no scores). It must not read every
	// score of the metric for a page: an index orders them.
	Leaderboard(ctx context.Context, q LeaderboardQuery) ([]Score, error)
}

// EvaluationWriter is the write side (part of Tx).
type EvaluationWriter interface {
	// PutBenchmark adds a benchmark to the catalogue, or replaces the one
	// with the same name and version.
	PutBenchmark(ctx context.Context, b *api.Benchmark) error

	// AddEvaluation stores a new result, and makes each of its values
	// the model's latest score of that metric when it is the latest valid
	// result (see LatestScores). Its benchmark must be in the catalogue
	// (its metrics' directions rank the scores). It returns an error of
	// kind errs.Exists when a result with the same id exists.
	AddEvaluation(ctx context.Context, e *api.Evaluation) error

	// SupersedeEvaluation marks result id superseded by result by (which
	// must be stored), and recomputes the latest scores of its model and
	// benchmark without it. It returns an error of kind errs.NotFound when
	// either is missing, and of kind errs.Conflict when id is already
	// superseded.
	SupersedeEvaluation(ctx context.Context, id, by string) error
}

// EvaluationQuery selects results. Empty fields do not filter.
type EvaluationQuery struct {
	ModelID          string
	Benchmark        string
	BenchmarkVersion string
	// Since and Until bound evaluated_at (Since inclusive, Until exclusive).
	Since, Until time.Time
	// Valid keeps only the results not superseded.
	Valid bool
	// After is the cursor: the results after (AfterTime, AfterID).
	AfterTime time.Time
	AfterID   string
	Limit     int
}

// LeaderboardQuery selects a leaderboard page.
type LeaderboardQuery struct {
	Benchmark, Version, Metric string
	Role                       api.Role
	Status                     api.Status
	Offset                     int
	Limit                      int
}

// Score is a model's latest valid value of one metric of a benchmark.
type Score struct {
	ModelID          string
	Benchmark        string
	BenchmarkVersion string
	Metric           string
	Value            float64
	Stderr           *float64
	EvaluationID     string
	EvaluatedAt      time.Time
	// Role and Status are the model's now (the leaderboards show them).
	Role   api.Role
	Status api.Status
}

// EachEvaluation calls f for every result q selects, in order, page by
// page (q.Limit is the page size; 1000 when not positive).
func EachEvaluation(ctx context.Context, r EvaluationReader, q EvaluationQuery, f func(*api.Evaluation) error) error {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	for {
		page, err := r.ListEvaluations(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := f(e); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return nil
		}
		q.AfterTime, q.AfterID = page[len(page)-1].EvaluatedAt, page[len(page)-1].ID
	}
}

// Rank is the value a leaderboard orders a score by, ascending best first:
// the value itself when lower is better, its negation otherwise. Both
// stores keep it in their scores table.
func Rank(value float64, direction string) float64 {
	if direction == api.LowerIsBetter {
		return value
	}
	return -value
}
