package api

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Metric directions.
const (
	HigherIsBetter = "higher"
	LowerIsBetter  = "lower"
)

// BenchmarkMetric is one measure a benchmark reports.
type BenchmarkMetric struct {
	// Name is the metric's name as results report it: "acc", "acc_norm",
	// "exact_match", "pass@1", "score".
	Name string `json:"name"`
	// Direction says which way is better: higher or lower.
	Direction string `json:"direction"`
	// Min and Max, when set, bound the values (0 and 1 for an accuracy).
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Description says what it measures.
	Description string `json:"description,omitempty"`
}

// Benchmark is an entry of the benchmarks catalogue: what a result's
// benchmark and metrics mean. A benchmark is named by Name and Version
// together; results name both.
type Benchmark struct {
	// Name identifies the benchmark: lowercase letters, digits, ".", "_",
	// "-" and "/", such as "hellaswag", "mmlu_pro", "hivellm/governance-checks".
	Name    string `json:"name"`
	Version string `json:"version"`
	// Task is what kind of task it is ("multiple_choice", "generate_until",
	// "text-generation", "review").
	Task        string            `json:"task,omitempty"`
	Metrics     []BenchmarkMetric `json:"metrics"`
	Description string            `json:"description,omitempty"`
	// Source is where the benchmark is defined (a URL, a harness task).
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// BenchmarkList is the benchmarks catalogue, by name and version.
type BenchmarkList struct {
	Items []*Benchmark `json:"items"`
}

// MetricValue is one metric's value in a result, with its standard error
// when known.
type MetricValue struct {
	Metric string   `json:"metric"`
	Value  float64  `json:"value"`
	Stderr *float64 `json:"stderr,omitempty"`
}

// ResultRequest records an evaluation result of a model.
type ResultRequest struct {
	Benchmark        string        `json:"benchmark"`
	BenchmarkVersion string        `json:"benchmark_version"`
	Values           []MetricValue `json:"values"`
	// NShot is the number of examples in the prompt, when it applies.
	NShot *int `json:"n_shot,omitempty"`
	// Settings are the run's other settings (batch size, generation
	// arguments, filters, dataset split) as the harness reported them.
	Settings       map[string]any `json:"settings,omitempty"`
	Harness        string         `json:"harness,omitempty"`
	HarnessVersion string         `json:"harness_version,omitempty"`
	// EvaluatedAt is when the evaluation ran.
	EvaluatedAt time.Time `json:"evaluated_at"`
	// ArtifactDigest is the digest of the raw output ("sha256:<hex>").
	ArtifactDigest string `json:"artifact_digest,omitempty"`
	// Signature, when set, is the evaluator's Ed25519 signature (base64)
	// of EvaluationMessage, by the key KeyID names.
	Signature string `json:"signature,omitempty"`
	KeyID     string `json:"key_id,omitempty"`
	// Supersedes names the result this one corrects; both are kept.
	Supersedes string `json:"supersedes,omitempty"`
	// Source says where the result comes from (a file, a pipeline run).
	Source string `json:"source,omitempty"`
	Notes  string `json:"notes,omitempty"`
}

// Evaluation is a recorded result. Results are immutable: a correction is
// a new result that supersedes the old one.
type Evaluation struct {
	// ID is "ev_" and 16 hex digits.
	ID      string `json:"id"`
	ModelID string `json:"model_id"`
	ResultRequest
	// Evaluator is the principal that recorded it; RecordedAt when.
	Evaluator  string    `json:"evaluator"`
	RecordedAt time.Time `json:"recorded_at"`
	// SupersededBy names the result that corrects this one, if any.
	SupersededBy string `json:"superseded_by,omitempty"`
	// SignedBy names the model whose identity key (KeyID) signed the
	// result, when it was signed.
	SignedBy string `json:"signed_by,omitempty"`
	// Regression, when set, says that this result is worse than the
	// model's previous one on the benchmark by more than the noise.
	Regression *Regression `json:"regression,omitempty"`
}

// Regression compares a result with the one before it.
type Regression struct {
	Metric    string  `json:"metric"`
	Previous  string  `json:"previous"`
	Before    float64 `json:"before"`
	After     float64 `json:"after"`
	Threshold float64 `json:"threshold"`
}

// EvaluationList is one page of a model's results, oldest first.
type EvaluationList struct {
	Items         []*Evaluation `json:"items"`
	NextPageToken string        `json:"next_page_token,omitempty"`
}

// LeaderboardEntry is one model's standing on a benchmark's metric: its
// latest valid (not superseded) result.
type LeaderboardEntry struct {
	Rank       int       `json:"rank"`
	ModelID    string    `json:"model_id"`
	Role       Role      `json:"role,omitempty"`
	Status     Status    `json:"status,omitempty"`
	Value      float64   `json:"value"`
	Stderr     *float64  `json:"stderr,omitempty"`
	Evaluation string    `json:"evaluation"`
	At         time.Time `json:"evaluated_at"`
}

// Leaderboard ranks the models on one metric of a benchmark.
type Leaderboard struct {
	Benchmark string              `json:"benchmark"`
	Version   string              `json:"benchmark_version"`
	Metric    string              `json:"metric"`
	Direction string              `json:"direction"`
	Items     []*LeaderboardEntry `json:"items"`
}

// EvaluationMessage returns the bytes an evaluator signs to vouch for a
// result of model modelID: "modelgov-evaluation:v1:<model>:<sha256 hex>",
// the digest being that of the result as the registry encodes it (Marshal)
// with Signature and KeyID left empty and EvaluatedAt in UTC (as the
// registry stores it, so that a stored result verifies).
func EvaluationMessage(modelID string, r ResultRequest) ([]byte, error) {
	r.Signature, r.KeyID = "", ""
	r.EvaluatedAt = r.EvaluatedAt.UTC()
	b, err := Marshal(r)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return []byte("modelgov-evaluation:v1:" + modelID + ":" + hex.EncodeToString(sum[:])), nil
}

// Comparison sets two models' latest valid scores side by side.
type Comparison struct {
	A     string           `json:"a"`
	B     string           `json:"b"`
	Items []ComparisonItem `json:"items"`
}

// ComparisonItem is one metric of one benchmark that both models, or
// either, have a score on.
type ComparisonItem struct {
	Benchmark string   `json:"benchmark"`
	Version   string   `json:"benchmark_version"`
	Metric    string   `json:"metric"`
	Direction string   `json:"direction,omitempty"`
	A         *float64 `json:"a,omitempty"`
	B         *float64 `json:"b,omitempty"`
	// Difference is B - A, when both have a score.
	Difference *float64 `json:"difference,omitempty"`
	// Better names the better model when the difference is larger than
	// the combined standard error (or, without one, when they differ).
	Better string `json:"better,omitempty"`
}
