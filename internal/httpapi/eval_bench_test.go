package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/registry"
)

// BenchmarkLeaderboard measures issue 8's target: 100,000 results ingested
// for 10,000 models (ten results per model on one benchmark, over ten
// days), then leaderboards served over HTTP: the top page, a role-filtered
// page and a deep page. The ingest goes through the registry's write path
// in batches of 1,000 (schema, audit entry, event, scores, regression
// check, compliance re-check for every result) and its rate is logged.
//
//	go test -run '^$' -bench BenchmarkLeaderboard -benchtime 2000x -timeout 30m ./internal/httpapi/
func BenchmarkLeaderboard(b *testing.B) {
	const (
		models    = 10_000
		perModel  = 10
		batchSize = 1_000
	)
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "modelgov.db")
	seed(b, path, models)
	st, reg := openRegistry(b, path)
	evaluator := registry.WriteOptions{Caller: registry.Caller{Principal: "bench", Roles: []string{api.RoleEvaluator}}}
	zero, one := 0.0, 1.0
	if _, _, err := reg.CreateBenchmark(ctx, api.Benchmark{Name: "hellaswag", Version: "1", Metrics: []api.BenchmarkMetric{
		{Name: "acc_norm", Direction: api.HigherIsBetter, Min: &zero, Max: &one}}}, evaluator); err != nil {
		b.Fatal(err)
	}
	day0 := time.Now().Add(-30 * 24 * time.Hour).UTC()
	start := time.Now()
	var batch []registry.EvaluationItem
	total := 0
	for round := range perModel {
		for i := range models {
			se := 0.004
			// Scores drift up over the rounds, with a spread across models.
			v := 0.3 + 0.5*float64((i*7919)%models)/models + 0.01*float64(round)
			batch = append(batch, registry.EvaluationItem{ModelID: benchModelID(i), Request: api.ResultRequest{
				Benchmark: "hellaswag", BenchmarkVersion: "1", EvaluatedAt: day0.Add(time.Duration(round) * 24 * time.Hour),
				Values: []api.MetricValue{{Metric: "acc_norm", Value: v, Stderr: &se}}}})
			if len(batch) == batchSize {
				if _, err := reg.RecordEvaluations(ctx, batch, nil, evaluator); err != nil {
					b.Fatal(err)
				}
				total += len(batch)
				batch = batch[:0]
			}
		}
	}
	elapsed := time.Since(start)
	b.Logf("ingested %d results for %d models in %v: %.0f results/s through the write path", total, models,
		elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		query url.Values
	}{
		{"top-100", url.Values{"page_size": {"100"}}},
		{"generals-100", url.Values{"page_size": {"100"}, "role": {"general"}}},
		{"active-100", url.Values{"page_size": {"100"}, "status": {"active"}}},
		{"deep-page", url.Values{"page_size": {"100"}, "offset": {"9000"}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			base, client := startServer(b, path)
			target := base + "/v1/leaderboards/hellaswag?" + c.query.Encode()
			if err := send(client, http.MethodGet, target, "", nil, http.StatusOK); err != nil {
				b.Fatal(err)
			}
			runSequential(b, "leaderboards/s", func(int) error {
				return send(client, http.MethodGet, target, "", nil, http.StatusOK)
			})
		})
	}
	b.Run("top-100-8-clients", func(b *testing.B) {
		base, client := startServer(b, path)
		target := base + "/v1/leaderboards/hellaswag?page_size=100"
		runParallel(b, "leaderboards/s", func(int) error { return send(client, http.MethodGet, target, "", nil, http.StatusOK) })
	})
}
