package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/hivellm/modelgov/api"
)

// CreateBenchmark adds a benchmark to the catalogue (evaluators, governors,
// admins). Adding the same one again changes nothing.
func (c *Client) CreateBenchmark(ctx context.Context, b api.Benchmark) (*api.Benchmark, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("client: encode benchmark: %w", err)
	}
	var out api.Benchmark
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/benchmarks", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListBenchmarks returns the catalogue.
func (c *Client) ListBenchmarks(ctx context.Context) (*api.BenchmarkList, error) {
	var out api.BenchmarkList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/benchmarks"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RecordEvaluation records a result of a model (evaluators, admins).
func (c *Client) RecordEvaluation(ctx context.Context, model string, r api.ResultRequest) (*api.Evaluation, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("client: encode result: %w", err)
	}
	var out api.Evaluation
	if _, err := c.do(ctx, request{method: "POST", path: modelPath(model) + "/evaluations", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BatchResult is one result of RecordEvaluations.
type BatchResult struct {
	ModelID string `json:"model_id"`
	api.ResultRequest
}

// RecordEvaluations records results of several models, all or nothing;
// benchmarks are added to the catalogue first where missing.
func (c *Client) RecordEvaluations(ctx context.Context, benchmarks []*api.Benchmark, results []BatchResult) (*api.EvaluationList, error) {
	body, err := json.Marshal(map[string]any{"benchmarks": benchmarks, "results": results})
	if err != nil {
		return nil, fmt.Errorf("client: encode results: %w", err)
	}
	var out api.EvaluationList
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/evaluations:batch", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EvaluationsOptions filter a model's history.
type EvaluationsOptions struct {
	Benchmark, Version string
	Since, Until       time.Time
	// Valid leaves out the results a correction superseded.
	Valid     bool
	PageSize  int
	PageToken string
}

// ListEvaluations returns one page of a model's results, oldest first.
func (c *Client) ListEvaluations(ctx context.Context, model string, o EvaluationsOptions) (*api.EvaluationList, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("benchmark", o.Benchmark)
	set("version", o.Version)
	if !o.Since.IsZero() {
		q.Set("since", o.Since.UTC().Format(time.RFC3339Nano))
	}
	if !o.Until.IsZero() {
		q.Set("until", o.Until.UTC().Format(time.RFC3339Nano))
	}
	if o.Valid {
		q.Set("valid", "true")
	}
	if o.PageSize > 0 {
		q.Set("page_size", strconv.Itoa(o.PageSize))
	}
	set("page_token", o.PageToken)
	var out api.EvaluationList
	if _, err := c.do(ctx, request{method: "GET", path: modelPath(model) + "/evaluations", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LeaderboardOptions select a leaderboard page.
type LeaderboardOptions struct {
	Version, Metric string
	Role            api.Role
	Status          api.Status
	Offset          int
	PageSize        int
}

// Leaderboard ranks the models on a benchmark's metric.
func (c *Client) Leaderboard(ctx context.Context, benchmark string, o LeaderboardOptions) (*api.Leaderboard, error) {
	q := url.Values{}
	for k, v := range map[string]string{"version": o.Version, "metric": o.Metric, "role": string(o.Role), "status": string(o.Status)} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.PageSize > 0 {
		q.Set("page_size", strconv.Itoa(o.PageSize))
	}
	var out api.Leaderboard
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/leaderboards/" + benchmark, query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Compare sets two models' latest scores side by side.
func (c *Client) Compare(ctx context.Context, a, b string) (*api.Comparison, error) {
	var out api.Comparison
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/compare", query: url.Values{"a": {a}, "b": {b}}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
