package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/httpapi"
)

func ptr[T any](v T) *T { return &v }

// quiz is a benchmark of two metrics: acc (higher is better, from 0 to 1)
// and latency_ms (lower is better).
func quiz(name string) api.Benchmark {
	return api.Benchmark{Name: name, Version: "1", Task: "multiple_choice", Description: "a quiz",
		Metrics: []api.BenchmarkMetric{
			{Name: "acc", Direction: api.HigherIsBetter, Min: ptr(0.0), Max: ptr(1.0), Description: "accuracy"},
			{Name: "latency_ms", Direction: api.LowerIsBetter, Min: ptr(0.0)},
		}}
}

// result is a result on quiz name of acc (with stderr when not 0), run at.
func result(name string, acc, stderr float64, at time.Time) api.ResultRequest {
	v := api.MetricValue{Metric: "acc", Value: acc}
	if stderr != 0 {
		v.Stderr = ptr(stderr)
	}
	return api.ResultRequest{Benchmark: name, BenchmarkVersion: "1", Values: []api.MetricValue{v}, NShot: ptr(5),
		Harness: "lm-evaluation-harness", HarnessVersion: "0.4.5", EvaluatedAt: at.UTC().Truncate(time.Second),
		Settings: map[string]any{"batch_size": 8}}
}

// benchmark adds a quiz of the cell's own to the catalogue, as the admin,
// and returns its name.
func (c *cell) benchmark() string {
	name := fmt.Sprintf("p%d/quiz", c.n)
	c.s.write(c.t, "POST", "/v1/benchmarks", mustJSON(c.t, quiz(name)))
	return name
}

// evaluation records, as the admin, a result of a new model of the cell
// (named name) on a new quiz of the cell, and returns the model, the
// benchmark and the result's id.
func (c *cell) evaluation(name string) (model, bench, id string) {
	model = c.model(name)
	bench = fmt.Sprintf("p%d/quiz", c.n)
	if code, _, _ := c.s.send(c.t, "GET", "/v1/benchmarks/"+bench, nil); code == http.StatusNotFound {
		c.benchmark()
	}
	var ev api.Evaluation
	if err := json.Unmarshal(c.s.write(c.t, "POST", "/v1/models/"+model+"/evaluations",
		mustJSON(c.t, result(bench, 0.7, 0.01, time.Now().Add(-time.Hour)))), &ev); err != nil {
		c.t.Fatal(err)
	}
	return model, bench, ev.ID
}

// batch is the body of POST /v1/evaluations:batch recording one result of
// model on quiz bench, the quiz added to the catalogue where missing.
func batch(t *testing.T, model, bench string) []byte {
	b := quiz(bench)
	return mustJSON(t, httpapi.EvaluationBatch{Benchmarks: []*api.Benchmark{&b},
		Results: []httpapi.BatchResult{{ModelID: model, ResultRequest: result(bench, 0.6, 0, time.Now().Add(-time.Hour))}}})
}

// evalsHistory reads every page of a model's results selected by query.
func evalsHistory(t *testing.T, c *client.Client, model string, o client.EvaluationsOptions) ([]*api.Evaluation, int) {
	t.Helper()
	var out []*api.Evaluation
	pages := 0
	for {
		page, err := c.ListEvaluations(context.Background(), model, o)
		if err != nil {
			t.Fatalf("history of %s (%+v): %v", model, o, err)
		}
		pages++
		out = append(out, page.Items...)
		if page.NextPageToken == "" {
			return out, pages
		}
		o.PageToken = page.NextPageToken
	}
}

func evalIDs(evs []*api.Evaluation) []string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	return ids
}

// TestEvaluationsOverHTTP walks issue 8 through the API: the catalogue,
// results of two models, their history, a correction, a leaderboard, a
// comparison, a regression and its flag and events, and the refusals.
func TestEvaluationsOverHTTP(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	ctx := context.Background()
	evanToken := s.newToken(t, "evan", api.RoleEvaluator).Token
	evan, err := client.New(s.URL, client.WithToken(evanToken))
	if err != nil {
		t.Fatal(err)
	}
	vera := as{s, s.newToken(t, "vera", api.RoleViewer).Token}
	maya := as{s, s.newToken(t, "maya", api.RoleMaintainer).Token}

	for _, id := range []string{"openai/gpt-5", "meta/llama-3-70b"} {
		s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(id)))
	}
	s.write(t, "PUT", "/v1/models/openai/gpt-5/classification", []byte(`{"role":"specialist","reason":"a coder"}`))

	// The catalogue: an evaluator adds a benchmark; the same again changes
	// nothing; other metrics under the same version are refused.
	b, err := evan.CreateBenchmark(ctx, quiz("hivellm/quiz"))
	if err != nil || b.CreatedBy != "evan" || b.CreatedAt.IsZero() {
		t.Fatalf("create benchmark: %+v, %v", b, err)
	}
	code, h, body := s.send(t, "POST", "/v1/benchmarks", mustJSON(t, quiz("hivellm/quiz")))
	if code != http.StatusOK || h.Get("Location") != "/v1/benchmarks/hivellm/quiz?version=1" {
		t.Errorf("the same benchmark again: %d Location %q %s, want 200", code, h.Get("Location"), body)
	}
	changed := quiz("hivellm/quiz")
	changed.Metrics = changed.Metrics[:1]
	if code, _, body := s.send(t, "POST", "/v1/benchmarks", mustJSON(t, changed)); code != http.StatusConflict {
		t.Errorf("other metrics under the same version: %d %s, want 409", code, body)
	}
	if code, _, body := maya.send(t, "POST", "/v1/benchmarks", mustJSON(t, quiz("maya/quiz"))); code != http.StatusForbidden {
		t.Errorf("a maintainer adds a benchmark: %d %s, want 403", code, body)
	}
	bad := quiz("Bad Name")
	bad.Metrics[1].Direction = "up"
	code, _, body = s.send(t, "POST", "/v1/benchmarks", mustJSON(t, bad))
	if p := problemOf(t, body); code != http.StatusUnprocessableEntity || !slices.Equal(pointers(p), []string{"/metrics/1/direction", "/name"}) {
		t.Errorf("an invalid benchmark: %d %s, want 422 at /metrics/1/direction and /name", code, body)
	}
	list, err := evan.ListBenchmarks(ctx)
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "hivellm/quiz" {
		t.Errorf("catalogue: %+v, %v", list, err)
	}
	var got api.Benchmark
	s.getJSON(t, "/v1/benchmarks/hivellm/quiz?version=1", &got)
	if got.Name != "hivellm/quiz" || len(got.Metrics) != 2 {
		t.Errorf("GET benchmark: %+v", got)
	}
	if code, _, _ := s.send(t, "GET", "/v1/benchmarks/hivellm/quiz?version=9", nil); code != http.StatusNotFound {
		t.Errorf("an unknown version: %d, want 404", code)
	}

	// Results: four of gpt-5, a day apart, one of llama.
	day0 := time.Now().Add(-10 * 24 * time.Hour).UTC().Truncate(time.Second)
	var gpt []*api.Evaluation
	for i, acc := range []float64{0.70, 0.72, 0.74, 0.75} {
		ev, err := evan.RecordEvaluation(ctx, "openai/gpt-5", result("hivellm/quiz", acc, 0.005, day0.Add(time.Duration(i)*24*time.Hour)))
		if err != nil {
			t.Fatalf("record result %d: %v", i, err)
		}
		if ev.Evaluator != "evan" || ev.ModelID != "openai/gpt-5" || ev.Regression != nil || !strings.HasPrefix(ev.ID, "ev_") {
			t.Errorf("result %d: %+v", i, ev)
		}
		gpt = append(gpt, ev)
	}
	code, h, body = s.send(t, "POST", "/v1/models/meta/llama-3-70b/evaluations",
		mustJSON(t, result("hivellm/quiz", 0.80, 0.005, day0)), withToken(evanToken)...)
	var llama api.Evaluation
	if err := json.Unmarshal(body, &llama); code != http.StatusCreated || err != nil || h.Get("Location") != "/v1/evaluations/"+llama.ID {
		t.Fatalf("record llama's result: %d Location %q %s", code, h.Get("Location"), body)
	}
	var one api.Evaluation
	s.getJSON(t, "/v1/evaluations/"+gpt[1].ID, &one)
	if one.ID != gpt[1].ID || one.Values[0].Value != 0.72 || *one.NShot != 5 || one.Settings["batch_size"] != float64(8) {
		t.Errorf("GET evaluation: %+v", one)
	}
	if code, _, _ := s.send(t, "GET", "/v1/evaluations/ev_0000000000000000", nil); code != http.StatusNotFound {
		t.Errorf("an unknown result: %d, want 404", code)
	}

	// History: oldest first, in pages, filtered by time.
	all, pages := evalsHistory(t, evan, "openai/gpt-5", client.EvaluationsOptions{Benchmark: "hivellm/quiz", Version: "1", PageSize: 3})
	if !slices.Equal(evalIDs(all), evalIDs(gpt)) || pages != 2 {
		t.Errorf("history in pages of 3: %v in %d pages, want %v in 2", evalIDs(all), pages, evalIDs(gpt))
	}
	middle, _ := evalsHistory(t, evan, "openai/gpt-5", client.EvaluationsOptions{Since: day0.Add(12 * time.Hour), Until: day0.Add(60 * time.Hour)})
	if !slices.Equal(evalIDs(middle), evalIDs(gpt[1:3])) {
		t.Errorf("history between day 0.5 and 2.5: %v, want %v", evalIDs(middle), evalIDs(gpt[1:3]))
	}
	if none, _ := evalsHistory(t, evan, "openai/gpt-5", client.EvaluationsOptions{Benchmark: "other"}); len(none) != 0 {
		t.Errorf("history of another benchmark: %v", evalIDs(none))
	}
	for _, q := range []string{"since=yesterday", "valid=maybe", "page_token=nonsense", "colour=red"} {
		if code, _, body := s.send(t, "GET", "/v1/models/openai/gpt-5/evaluations?"+q, nil); code != http.StatusBadRequest {
			t.Errorf("history with %s: %d %s, want 400", q, code, body)
		}
	}
	if code, _, _ := s.send(t, "GET", "/v1/models/openai/gpt-0/evaluations", nil); code != http.StatusNotFound {
		t.Errorf("history of an unknown model: %d, want 404", code)
	}

	// A correction supersedes the last result: both are kept; valid=true
	// leaves out the superseded one.
	fix := result("hivellm/quiz", 0.76, 0.005, gpt[3].EvaluatedAt)
	fix.Supersedes, fix.Notes = gpt[3].ID, "rescored"
	corrected, err := evan.RecordEvaluation(ctx, "openai/gpt-5", fix)
	if err != nil || corrected.Supersedes != gpt[3].ID {
		t.Fatalf("correct a result: %+v, %v", corrected, err)
	}
	s.getJSON(t, "/v1/evaluations/"+gpt[3].ID, &one)
	if one.SupersededBy != corrected.ID {
		t.Errorf("the corrected result: superseded_by %q, want %s", one.SupersededBy, corrected.ID)
	}
	if code, _, body := s.send(t, "POST", "/v1/models/openai/gpt-5/evaluations", mustJSON(t, fix)); code != http.StatusConflict {
		t.Errorf("a second correction of the same result: %d %s, want 409", code, body)
	}
	valid, _ := evalsHistory(t, evan, "openai/gpt-5", client.EvaluationsOptions{Valid: true})
	if want := append(evalIDs(gpt[:3]), corrected.ID); !slices.Equal(evalIDs(valid), want) {
		t.Errorf("valid history: %v, want %v", evalIDs(valid), want)
	}
	if all, _ := evalsHistory(t, evan, "openai/gpt-5", client.EvaluationsOptions{}); len(all) != 5 {
		t.Errorf("whole history: %d results, want 5", len(all))
	}

	// The leaderboard: the latest valid result of each model, best first;
	// filtered by role.
	board, err := evan.Leaderboard(ctx, "hivellm/quiz", client.LeaderboardOptions{})
	if err != nil || board.Metric != "acc" || board.Direction != api.HigherIsBetter || board.Version != "1" || len(board.Items) != 2 {
		t.Fatalf("leaderboard: %+v, %v", board, err)
	}
	if e := board.Items[0]; e.Rank != 1 || e.ModelID != "meta/llama-3-70b" || e.Value != 0.80 || e.Evaluation != llama.ID {
		t.Errorf("first: %+v", e)
	}
	if e := board.Items[1]; e.Rank != 2 || e.ModelID != "openai/gpt-5" || e.Value != 0.76 || e.Evaluation != corrected.ID || e.Role != api.RoleSpecialist {
		t.Errorf("second: %+v", e)
	}
	board, err = evan.Leaderboard(ctx, "hivellm/quiz", client.LeaderboardOptions{Role: api.RoleSpecialist})
	if err != nil || len(board.Items) != 1 || board.Items[0].ModelID != "openai/gpt-5" || board.Items[0].Rank != 1 {
		t.Errorf("leaderboard of specialists: %+v, %v", board, err)
	}
	board, err = evan.Leaderboard(ctx, "hivellm/quiz", client.LeaderboardOptions{PageSize: 1, Offset: 1})
	if err != nil || len(board.Items) != 1 || board.Items[0].Rank != 2 {
		t.Errorf("leaderboard from offset 1: %+v, %v", board, err)
	}
	for path, want := range map[string]int{
		"/v1/leaderboards/hivellm/quiz?metric=f1":         http.StatusNotFound,
		"/v1/leaderboards/hivellm/nothing":                http.StatusNotFound,
		"/v1/leaderboards/hivellm/quiz?role=emperor":      http.StatusBadRequest,
		"/v1/leaderboards/hivellm/quiz?offset=-1":         http.StatusBadRequest,
		"/v1/leaderboards/hivellm/quiz?page_size=0":       http.StatusBadRequest,
		"/v1/compare?a=openai/gpt-5":                      http.StatusBadRequest,
		"/v1/compare?a=openai/gpt-5&b=openai/gpt-5":       http.StatusBadRequest,
		"/v1/compare?a=openai/gpt-5&b=openai/gpt-0":       http.StatusNotFound,
		"/v1/leaderboards/hivellm/quiz?metric=latency_ms": http.StatusOK,
	} {
		if code, _, body := s.send(t, "GET", path, nil); code != want {
			t.Errorf("GET %s: %d %s, want %d", path, code, body, want)
		}
	}

	// The comparison: llama is better by more than the noise.
	cmp, err := evan.Compare(ctx, "openai/gpt-5", "meta/llama-3-70b")
	if err != nil || cmp.A != "openai/gpt-5" || cmp.B != "meta/llama-3-70b" || len(cmp.Items) != 1 {
		t.Fatalf("compare: %+v, %v", cmp, err)
	}
	if it := cmp.Items[0]; it.Benchmark != "hivellm/quiz" || it.Metric != "acc" || *it.A != 0.76 || *it.B != 0.80 ||
		it.Difference == nil || it.Better != "meta/llama-3-70b" || it.Direction != api.HigherIsBetter {
		t.Errorf("compared: %+v", it)
	}

	// A regression: a result worse than the one before by more than the
	// combined standard error flags the model; a later one that is not
	// worse clears the flag.
	seq := latestSeq(t, s)
	worse, err := evan.RecordEvaluation(ctx, "openai/gpt-5", result("hivellm/quiz", 0.60, 0.005, day0.Add(5*24*time.Hour)))
	if err != nil || worse.Regression == nil || worse.Regression.Previous != corrected.ID || worse.Regression.Metric != "acc" ||
		worse.Regression.Before != 0.76 || worse.Regression.After != 0.60 {
		t.Fatalf("a worse result: %+v, %v", worse, err)
	}
	m, err := s.client.GetModel(ctx, "openai/gpt-5")
	if err != nil || len(m.Governance.Regressions) != 1 {
		t.Fatalf("the model after a regression: %+v, %v", m.Governance, err)
	}
	if f := m.Governance.Regressions[0]; f.Benchmark != "hivellm/quiz" || f.Metric != "acc" || f.Evaluation != worse.ID ||
		f.Previous != corrected.ID || !f.Since.Equal(worse.EvaluatedAt) {
		t.Errorf("regression flag: %+v", f)
	}
	events := eventsAfter(t, s, seq)
	types := eventTypes(events)
	if !slices.Contains(types, "io.modelgov.evaluation.recorded") || !slices.Contains(types, "io.modelgov.evaluation.regressed") {
		t.Errorf("events of a regression: %v", types)
	}
	for _, ev := range events {
		var data api.EventData
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		switch ev.Type {
		case "io.modelgov.evaluation.recorded":
			if data.Evaluation == nil || data.Evaluation.ID != worse.ID || data.Action != "evaluation.record" || ev.Subject != "openai/gpt-5" {
				t.Errorf("evaluation.recorded: subject %s, data %+v", ev.Subject, data)
			}
		case "io.modelgov.evaluation.regressed":
			if data.Model == nil || data.Model.Governance == nil || len(data.Model.Governance.Regressions) != 1 ||
				data.Action != "model.evaluation" || data.Principal != "system:modelgov" {
				t.Errorf("evaluation.regressed: %+v", data)
			}
		}
	}
	if _, err := evan.RecordEvaluation(ctx, "openai/gpt-5", result("hivellm/quiz", 0.61, 0.005, day0.Add(6*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.client.GetModel(ctx, "openai/gpt-5"); len(m.Governance.Regressions) != 0 {
		t.Errorf("a result that is not worse left the flag: %+v", m.Governance.Regressions)
	}

	// The batch: all or nothing.
	seq = latestSeq(t, s)
	twoModels := httpapi.EvaluationBatch{Results: []httpapi.BatchResult{
		{ModelID: "openai/gpt-5", ResultRequest: result("hivellm/quiz", 0.62, 0.005, day0.Add(7*24*time.Hour))},
		{ModelID: "meta/llama-3-70b", ResultRequest: result("hivellm/quiz", 0.81, 0.005, day0.Add(7*24*time.Hour))},
	}}
	broken := twoModels
	broken.Results = append(slices.Clone(twoModels.Results), httpapi.BatchResult{ModelID: "openai/gpt-0", ResultRequest: result("hivellm/quiz", 0.5, 0, day0)})
	if code, _, body := s.send(t, "POST", "/v1/evaluations:batch", mustJSON(t, broken), withToken(evanToken)...); code != http.StatusNotFound {
		t.Errorf("a batch with a result of an unknown model: %d %s, want 404", code, body)
	}
	if got := eventsAfter(t, s, seq); len(got) != 0 {
		t.Errorf("a refused batch wrote %d events", len(got))
	}
	var recorded api.EvaluationList
	code, _, body = s.send(t, "POST", "/v1/evaluations:batch", mustJSON(t, twoModels), withToken(evanToken)...)
	if err := json.Unmarshal(body, &recorded); code != http.StatusCreated || err != nil || len(recorded.Items) != 2 {
		t.Fatalf("a batch of two: %d %s", code, body)
	}

	// Validation: 422 with a pointer at each bad field.
	for _, tc := range []struct {
		name, path string
		body       any
		pointers   []string
	}{
		{"empty", "/v1/models/openai/gpt-5/evaluations", api.ResultRequest{}, []string{"/benchmark", "/benchmark_version", "/evaluated_at", "/values"}},
		{"unknown benchmark", "/v1/models/openai/gpt-5/evaluations", result("hivellm/nothing", 0.5, 0, day0), []string{"/benchmark"}},
		{"unknown metric and out of range", "/v1/models/openai/gpt-5/evaluations", func() api.ResultRequest {
			r := result("hivellm/quiz", 1.5, 0, day0)
			r.Values = append(r.Values, api.MetricValue{Metric: "f1", Value: 0.5})
			return r
		}(), []string{"/values/0/value", "/values/1/metric"}},
		{"bad fields", "/v1/models/openai/gpt-5/evaluations", func() api.ResultRequest {
			r := result("hivellm/quiz", 0.5, 0, day0)
			r.Values[0].Stderr = ptr(-1.0)
			r.NShot = ptr(-1)
			r.ArtifactDigest = "md5:abc"
			r.Signature = "AAAA"
			r.Supersedes = "ev_x"
			return r
		}(), []string{"/artifact_digest", "/n_shot", "/signature", "/supersedes", "/values/0/stderr"}},
		{"in the future", "/v1/models/openai/gpt-5/evaluations", result("hivellm/quiz", 0.5, 0, time.Now().Add(24*time.Hour)), []string{"/evaluated_at"}},
		{"supersedes another model's result", "/v1/models/openai/gpt-5/evaluations", func() api.ResultRequest {
			r := result("hivellm/quiz", 0.5, 0, day0)
			r.Supersedes = llama.ID
			return r
		}(), []string{"/supersedes"}},
		{"a bad result of a batch", "/v1/evaluations:batch", httpapi.EvaluationBatch{Results: []httpapi.BatchResult{
			twoModels.Results[0], {ModelID: "meta/llama-3-70b", ResultRequest: api.ResultRequest{Benchmark: "hivellm/quiz", BenchmarkVersion: "1",
				Values: []api.MetricValue{{Metric: "acc", Value: 0.5}}}}}}, []string{"/results/1/evaluated_at"}},
		{"a bad benchmark of a batch", "/v1/evaluations:batch", httpapi.EvaluationBatch{Benchmarks: []*api.Benchmark{{Name: "x", Version: "1"}},
			Results: twoModels.Results[:1]}, []string{"/benchmarks/0/metrics"}},
	} {
		code, _, body := s.send(t, "POST", tc.path, mustJSON(t, tc.body), withToken(evanToken)...)
		if p := problemOf(t, body); code != http.StatusUnprocessableEntity || !slices.Equal(pointers(p), tc.pointers) {
			t.Errorf("%s: %d %s, want 422 at %v", tc.name, code, body, tc.pointers)
		}
	}
	if code, _, body := s.send(t, "POST", "/v1/models/openai/gpt-5/evaluations", []byte(`{"benchmark":"hivellm/quiz","colour":"red"}`)); code != http.StatusBadRequest {
		t.Errorf("an unknown field: %d %s, want 400", code, body)
	}

	// A signed result: the key of a model's verified identity vouches for it.
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("hivellm/judge")))
	key := proveIdentity(t, s, "hivellm/judge")
	signed := result("hivellm/quiz", 0.63, 0.005, day0.Add(8*24*time.Hour))
	msg, err := api.EvaluationMessage("openai/gpt-5", signed)
	if err != nil {
		t.Fatal(err)
	}
	signed.Signature, signed.KeyID = sign(t, key, msg), key.Public().KeyID()
	ev, err := evan.RecordEvaluation(ctx, "openai/gpt-5", signed)
	if err != nil || ev.SignedBy != "hivellm/judge" {
		t.Errorf("a signed result: %+v, %v", ev, err)
	}
	forged := signed
	forged.Values = []api.MetricValue{{Metric: "acc", Value: 0.99}}
	code, _, body = s.send(t, "POST", "/v1/models/openai/gpt-5/evaluations", mustJSON(t, forged))
	if p := problemOf(t, body); code != http.StatusUnprocessableEntity || !slices.Equal(pointers(p), []string{"/signature"}) {
		t.Errorf("a result whose signature is not its own: %d %s, want 422 at /signature", code, body)
	}

	// Who may: a viewer and a maintainer read, but record nothing: the
	// route refuses them before the registry reads anything, so nothing is
	// recorded either.
	size := s.size(t)
	for name, who := range map[string]as{"viewer": vera, "maintainer": maya} {
		if code, _, body := who.send(t, "POST", "/v1/models/openai/gpt-5/evaluations", mustJSON(t, result("hivellm/quiz", 0.9, 0, day0))); code != http.StatusForbidden {
			t.Errorf("a %s records a result: %d %s, want 403", name, code, body)
		}
		if code, _, body := who.send(t, "POST", "/v1/evaluations:batch", mustJSON(t, twoModels)); code != http.StatusForbidden {
			t.Errorf("a %s records a batch: %d %s, want 403", name, code, body)
		}
		if code, _, body := who.send(t, "GET", "/v1/leaderboards/hivellm/quiz", nil); code != http.StatusOK {
			t.Errorf("a %s reads the leaderboard: %d %s", name, code, body)
		}
	}
	if got := s.size(t) - size; got != 0 {
		t.Errorf("four refusals by role added %d audit entries", got)
	}
	// gpt-5: four, a correction, a regression, its recovery, one in the
	// batch, a signed one; llama: one, one in the batch.
	if got, _ := evalsHistory(t, evan, "openai/gpt-5", client.EvaluationsOptions{}); len(got) != 9 {
		t.Errorf("history of gpt-5: %d results, want 9", len(got))
	}
	var n int
	for _, e := range s.auditEntries(t, url.Values{"action": {"evaluation.record"}}) {
		if e.Outcome == "allowed" {
			n++
			if e.Principal != "evan" {
				t.Errorf("evaluation.record by %s, want evan", e.Principal)
			}
		}
	}
	if n != 11 {
		t.Errorf("allowed evaluation.record entries: %d, want 11", n)
	}
}

// pointers lists the pointers of a problem's field errors.
func pointers(p api.Problem) []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Pointer)
	}
	slices.Sort(out)
	return out
}

// latestSeq is the sequence number of the newest event.
func latestSeq(t *testing.T, s *testServer) int64 {
	t.Helper()
	var last int64
	for _, ev := range eventsAfter(t, s, 0) {
		last = ev.Seq
	}
	return last
}

// eventsAfter lists the events after seq.
func eventsAfter(t *testing.T, s *testServer, seq int64) []*api.Event {
	t.Helper()
	var out []*api.Event
	for {
		var page api.EventList
		s.getJSON(t, fmt.Sprintf("/v1/events?after=%d&page_size=1000", seq), &page)
		out = append(out, page.Items...)
		if page.NextAfter == 0 || len(page.Items) == 0 {
			return out
		}
		seq = page.NextAfter
	}
}

func eventTypes(evs []*api.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}
