package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// NewBenchmark returns a benchmark of the catalogue for tests, with one
// metric per name: "acc…" and "pass@1" are better higher, the others
// (loss, ppl) lower.
func NewBenchmark(name, version string, metrics ...string) *api.Benchmark {
	zero, one := 0.0, 1.0
	b := &api.Benchmark{Name: name, Version: version, Task: "multiple_choice", Description: "test benchmark",
		Source: "https://example.com/" + name, CreatedAt: t0, CreatedBy: "gov"}
	for _, m := range metrics {
		bm := api.BenchmarkMetric{Name: m, Direction: api.HigherIsBetter, Min: &zero, Max: &one}
		if m == "loss" || m == "ppl" {
			bm = api.BenchmarkMetric{Name: m, Direction: api.LowerIsBetter, Description: "lower is better"}
		}
		b.Metrics = append(b.Metrics, bm)
	}
	return b
}

// NewEvaluation returns a result for tests: values alternate metric names
// and values ("acc", 0.5, "loss", 1.25).
func NewEvaluation(id, modelID, benchmark, version string, at time.Time, values ...any) *api.Evaluation {
	e := &api.Evaluation{ID: id, ModelID: modelID, ResultRequest: api.ResultRequest{Benchmark: benchmark,
		BenchmarkVersion: version, EvaluatedAt: at, Harness: "lm-eval", HarnessVersion: "0.4.9"},
		Evaluator: "ci", RecordedAt: at.Add(time.Minute)}
	for i := 0; i+1 < len(values); i += 2 {
		var v float64
		switch x := values[i+1].(type) {
		case float64:
			v = x
		case int:
			v = float64(x)
		}
		e.Values = append(e.Values, api.MetricValue{Metric: values[i].(string), Value: v})
	}
	return e
}

func putBenchmarks(t *testing.T, s store.Store, bs ...*api.Benchmark) {
	t.Helper()
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, b := range bs {
			if err := tx.PutBenchmark(ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
}

func addEvaluations(t *testing.T, s store.Store, es ...*api.Evaluation) {
	t.Helper()
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, e := range es {
			if err := tx.AddEvaluation(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func supersede(s store.Store, id, by string) error {
	return s.ReadWrite(context.Background(), func(ctx context.Context, tx store.Tx) error {
		return tx.SupersedeEvaluation(ctx, id, by)
	})
}

// scoreOf is the score e gives its model on metric.
func scoreOf(e *api.Evaluation, metric string) store.Score {
	for _, v := range e.Values {
		if v.Metric == metric {
			return store.Score{ModelID: e.ModelID, Benchmark: e.Benchmark, BenchmarkVersion: e.BenchmarkVersion, Metric: metric,
				Value: v.Value, Stderr: v.Stderr, EvaluationID: e.ID, EvaluatedAt: e.EvaluatedAt}
		}
	}
	panic("no metric " + metric + " in " + e.ID)
}

// latestScores returns a model's scores, having checked that each carries
// the model's role and status of now, and with those cleared, so that the
// tests compare them with scoreOf.
func latestScores(t *testing.T, r store.Reader, modelID string) []store.Score {
	t.Helper()
	got, err := r.LatestScores(context.Background(), modelID)
	if err != nil {
		t.Fatalf("LatestScores(%s): %v", modelID, err)
	}
	return withoutStanding(t, r, got)
}

// withoutStanding checks that each score carries its model's role and
// status, and clears them.
func withoutStanding(t *testing.T, r store.Reader, scores []store.Score) []store.Score {
	t.Helper()
	for i, sc := range scores {
		m, err := r.GetModel(context.Background(), sc.ModelID)
		if err != nil {
			t.Fatalf("score of %s, a model the store lacks: %v", sc.ModelID, err)
		}
		if sc.Role != m.Role() || sc.Status != m.Status() {
			t.Errorf("score of %s says role %q status %q; the model is %s, %s", sc.ModelID, sc.Role, sc.Status, m.Role(), m.Status())
		}
		scores[i].Role, scores[i].Status = "", ""
	}
	return scores
}

func checkScores(t *testing.T, s store.Reader, modelID string, want ...store.Score) {
	t.Helper()
	got := latestScores(t, s, modelID)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LatestScores(%s) =\n%+v\nwant\n%+v", modelID, got, want)
	}
}

// board returns the model ids of a leaderboard page.
func board(t *testing.T, r store.Reader, q store.LeaderboardQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	rows, err := r.Leaderboard(context.Background(), q)
	if err != nil {
		t.Fatalf("Leaderboard(%+v): %v", q, err)
	}
	out := []string{}
	for _, row := range rows {
		if row.Benchmark != q.Benchmark || row.BenchmarkVersion != q.Version || row.Metric != q.Metric {
			t.Errorf("Leaderboard(%+v) answered a score of %s %s %s", q, row.Benchmark, row.BenchmarkVersion, row.Metric)
		}
		out = append(out, row.ModelID)
	}
	return out
}

func checkBoard(t *testing.T, r store.Reader, q store.LeaderboardQuery, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := board(t, r, q); !reflect.DeepEqual(got, want) {
		t.Errorf("Leaderboard(%+v) = %v, want %v", q, got, want)
	}
}

func evaluationIDs(es []*api.Evaluation) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func testBenchmarks(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.GetBenchmark(ctx, "hellaswag", "1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetBenchmark of a missing benchmark: %v, want kind NotFound", err)
	}
	if list, err := s.ListBenchmarks(ctx); err != nil || len(list) != 0 {
		t.Errorf("ListBenchmarks of an empty catalogue = %v, %v", list, err)
	}
	hs := NewBenchmark("hellaswag", "1", "acc", "acc_norm")
	putBenchmarks(t, s, NewBenchmark("mmlu_pro", "2", "acc"), hs, NewBenchmark("mmlu_pro", "10", "acc"),
		NewBenchmark("hivellm/governance-checks", "1", "score", "loss"), NewBenchmark("mmlu_pro", "1", "acc"))
	got, err := s.GetBenchmark(ctx, "hellaswag", "1")
	if err != nil || !reflect.DeepEqual(got, hs) {
		t.Errorf("GetBenchmark = %+v, %v, want %+v", got, err, hs)
	}
	// Another version is another benchmark.
	if _, err := s.GetBenchmark(ctx, "hellaswag", "2"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetBenchmark of a missing version: %v, want kind NotFound", err)
	}

	// A put replaces the benchmark of the same name and version.
	hs2 := NewBenchmark("hellaswag", "1", "acc")
	hs2.Description, hs2.Task = "replaced ✓ <b>&</b>", "generate_until"
	putBenchmarks(t, s, hs2)
	if got, err := s.GetBenchmark(ctx, "hellaswag", "1"); err != nil || !reflect.DeepEqual(got, hs2) {
		t.Errorf("GetBenchmark after a replace = %+v, %v, want %+v", got, err, hs2)
	}

	// By name, then version, by bytes.
	list, err := s.ListBenchmarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list {
		names = append(names, b.Name+" "+b.Version)
	}
	want := []string{"hellaswag 1", "hivellm/governance-checks 1", "mmlu_pro 1", "mmlu_pro 10", "mmlu_pro 2"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("ListBenchmarks = %v, want %v", names, want)
	}
	if !reflect.DeepEqual(list[0], hs2) {
		t.Errorf("ListBenchmarks[0] = %+v, want %+v", list[0], hs2)
	}
}

func testEvaluationRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	put(t, s, NewModel("openai/gpt-5", "active", api.RoleGeneral, 1))
	putBenchmarks(t, s, NewBenchmark("hellaswag", "1", "acc", "acc_norm"))
	stderr, nshot := 0.0042, 10
	e := NewEvaluation("ev_00000000000000a1", "openai/gpt-5", "hellaswag", "1", t0, "acc", 0.1+0.2, "acc_norm", 0.8125)
	e.Values[0].Stderr = &stderr
	e.NShot = &nshot
	e.Settings = map[string]any{"batch_size": 8.0, "split": "validation", "gen_kwargs": map[string]any{"temperature": 0.0}}
	e.ArtifactDigest, e.Signature, e.KeyID, e.SignedBy = "sha256:ab", "c2ln", "k1", "openai/gpt-5"
	e.Source, e.Notes = "pipeline 7", "héllo ✓ <b>&</b>"
	e.Regression = &api.Regression{Metric: "acc", Previous: "ev_00000000000000a0", Before: 0.4, After: 0.3, Threshold: 0.01}
	addEvaluations(t, s, e)
	got, err := s.GetEvaluation(ctx, e.ID)
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("GetEvaluation = %+v, %v, want %+v", got, err, e)
	}
	if _, err := s.GetEvaluation(ctx, "ev_ffffffffffffffff"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetEvaluation of a missing result: %v, want kind NotFound", err)
	}

	// Inside a transaction, its own result and scores are visible.
	e2 := NewEvaluation("ev_00000000000000a2", "openai/gpt-5", "hellaswag", "1", t0.Add(time.Hour), "acc", 0.5)
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AddEvaluation(ctx, e2); err != nil {
			return err
		}
		if _, err := tx.GetEvaluation(ctx, e2.ID); err != nil {
			return fmt.Errorf("own result not visible: %w", err)
		}
		if got := latestScores(t, tx, "openai/gpt-5"); len(got) != 2 || got[0].EvaluationID != e2.ID {
			return fmt.Errorf("own scores not visible: %+v", got)
		}
		return nil
	})

	// The same id again: Exists, and nothing changes.
	dup := NewEvaluation(e.ID, "openai/gpt-5", "hellaswag", "1", t0.Add(2*time.Hour), "acc", 0.99)
	err = s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error { return tx.AddEvaluation(ctx, dup) })
	if !errs.Is(err, errs.Exists) {
		t.Errorf("AddEvaluation of an existing id: %v, want kind Exists", err)
	}
	if got, err := s.GetEvaluation(ctx, e.ID); err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("GetEvaluation after a duplicate = %+v, %v, want %+v", got, err, e)
	}
	checkScores(t, s, "openai/gpt-5", scoreOf(e2, "acc"), scoreOf(e, "acc_norm"))

	// A benchmark (or version) not in the catalogue: refused.
	for _, bad := range []*api.Evaluation{
		NewEvaluation("ev_00000000000000b1", "openai/gpt-5", "arc", "1", t0, "acc", 0.5),
		NewEvaluation("ev_00000000000000b2", "openai/gpt-5", "hellaswag", "2", t0, "acc", 0.5),
	} {
		err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error { return tx.AddEvaluation(ctx, bad) })
		if err == nil {
			t.Errorf("AddEvaluation of benchmark %s %s, not in the catalogue: no error", bad.Benchmark, bad.BenchmarkVersion)
		}
		if _, err := s.GetEvaluation(ctx, bad.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("a refused result is stored: %v", err)
		}
	}
	checkScores(t, s, "openai/gpt-5", scoreOf(e2, "acc"), scoreOf(e, "acc_norm"))
}

func testListEvaluations(t *testing.T, s store.Store) {
	ctx := context.Background()
	put(t, s, NewModel("a/x", "active", api.RoleGeneral, 1), NewModel("b/y", "active", api.RoleGeneral, 1))
	putBenchmarks(t, s, NewBenchmark("hellaswag", "1", "acc"), NewBenchmark("hellaswag", "2", "acc"),
		NewBenchmark("arc", "1", "acc"))
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	// Inserted out of order; two results share a time (ordered by id).
	all := []*api.Evaluation{
		NewEvaluation("ev_07", "a/x", "hellaswag", "1", at(1), "acc", 0.1),
		NewEvaluation("ev_03", "a/x", "hellaswag", "1", at(2), "acc", 0.2),
		NewEvaluation("ev_05", "a/x", "hellaswag", "1", at(2), "acc", 0.3),
		NewEvaluation("ev_01", "a/x", "hellaswag", "2", at(3), "acc", 0.4),
		NewEvaluation("ev_02", "a/x", "arc", "1", at(4), "acc", 0.5),
		NewEvaluation("ev_08", "b/y", "hellaswag", "1", at(0), "acc", 0.6),
		NewEvaluation("ev_04", "b/y", "arc", "1", at(5), "acc", 0.7),
		NewEvaluation("ev_06", "b/y", "hellaswag", "1", at(6), "acc", 0.8),
	}
	addEvaluations(t, s, all[4], all[0], all[7], all[2], all[5], all[1], all[6], all[3])
	if err := supersede(s, "ev_05", "ev_03"); err != nil {
		t.Fatalf("SupersedeEvaluation: %v", err)
	}
	for _, tt := range []struct {
		name string
		q    store.EvaluationQuery
		want []string
	}{
		{"all", store.EvaluationQuery{}, []string{"ev_08", "ev_07", "ev_03", "ev_05", "ev_01", "ev_02", "ev_04", "ev_06"}},
		{"model", store.EvaluationQuery{ModelID: "a/x"}, []string{"ev_07", "ev_03", "ev_05", "ev_01", "ev_02"}},
		{"benchmark", store.EvaluationQuery{Benchmark: "hellaswag"}, []string{"ev_08", "ev_07", "ev_03", "ev_05", "ev_01", "ev_06"}},
		{"model and benchmark", store.EvaluationQuery{ModelID: "b/y", Benchmark: "hellaswag"}, []string{"ev_08", "ev_06"}},
		{"version", store.EvaluationQuery{ModelID: "a/x", Benchmark: "hellaswag", BenchmarkVersion: "1"}, []string{"ev_07", "ev_03", "ev_05"}},
		{"version alone", store.EvaluationQuery{BenchmarkVersion: "2"}, []string{"ev_01"}},
		{"since", store.EvaluationQuery{Since: at(2)}, []string{"ev_03", "ev_05", "ev_01", "ev_02", "ev_04", "ev_06"}},
		{"until", store.EvaluationQuery{Until: at(2)}, []string{"ev_08", "ev_07"}},
		{"since and until", store.EvaluationQuery{Since: at(2), Until: at(4)}, []string{"ev_03", "ev_05", "ev_01"}},
		{"valid", store.EvaluationQuery{ModelID: "a/x", Valid: true}, []string{"ev_07", "ev_03", "ev_01", "ev_02"}},
		{"after", store.EvaluationQuery{AfterTime: at(2), AfterID: "ev_03"}, []string{"ev_05", "ev_01", "ev_02", "ev_04", "ev_06"}},
		{"after, filtered", store.EvaluationQuery{ModelID: "a/x", Valid: true, AfterTime: at(2), AfterID: "ev_03"}, []string{"ev_01", "ev_02"}},
		{"none", store.EvaluationQuery{ModelID: "c/z"}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 100
			got, err := s.ListEvaluations(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if ids := evaluationIDs(got); !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("ListEvaluations(%+v) = %v, want %v", tt.q, ids, tt.want)
			}
		})
	}
	// Every result comes back whole, SupersededBy included.
	got, err := s.ListEvaluations(ctx, store.EvaluationQuery{ModelID: "a/x", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		var want *api.Evaluation
		for _, w := range all {
			if w.ID == e.ID {
				c := *w
				want = &c
			}
		}
		if e.ID == "ev_05" {
			want.SupersededBy = "ev_03"
		}
		if !reflect.DeepEqual(e, want) {
			t.Errorf("listed %+v, want %+v", e, want)
		}
	}

	// Pages of 3, by the cursor, give the whole list.
	var paged []string
	q := store.EvaluationQuery{Limit: 3}
	for i := 0; i < 10; i++ {
		page, err := s.ListEvaluations(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, evaluationIDs(page)...)
		if len(page) < q.Limit {
			break
		}
		q.AfterTime, q.AfterID = page[len(page)-1].EvaluatedAt, page[len(page)-1].ID
	}
	if want := []string{"ev_08", "ev_07", "ev_03", "ev_05", "ev_01", "ev_02", "ev_04", "ev_06"}; !reflect.DeepEqual(paged, want) {
		t.Errorf("paged ListEvaluations = %v, want %v", paged, want)
	}
	if _, err := s.ListEvaluations(ctx, store.EvaluationQuery{}); err == nil {
		t.Error("ListEvaluations without a limit: no error")
	}
}

func testLatestScores(t *testing.T, s store.Store) {
	const m = "openai/gpt-5"
	put(t, s, NewModel(m, "active", api.RoleGeneral, 1), NewModel("other/model", "active", api.RoleGeneral, 1))
	putBenchmarks(t, s, NewBenchmark("hellaswag", "1", "acc", "loss"), NewBenchmark("arc", "1", "acc"),
		NewBenchmark("hellaswag", "2", "acc"))
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	checkScores(t, s, m)

	stderr := 0.01
	newer := NewEvaluation("ev_10", m, "hellaswag", "1", at(2), "acc", 0.7, "loss", 1.5)
	newer.Values[0].Stderr = &stderr
	addEvaluations(t, s, newer)
	checkScores(t, s, m, scoreOf(newer, "acc"), scoreOf(newer, "loss"))

	// A back-filled older result is stored, but does not replace the
	// newer scores.
	older := NewEvaluation("ev_20", m, "hellaswag", "1", at(1), "acc", 0.9, "loss", 0.5)
	addEvaluations(t, s, older)
	checkScores(t, s, m, scoreOf(newer, "acc"), scoreOf(newer, "loss"))

	// The later result wins whatever the order of insertion: within one
	// transaction too, and per metric (a result may report some metrics).
	accOnly := NewEvaluation("ev_30", m, "hellaswag", "1", at(3), "acc", 0.75)
	older2 := NewEvaluation("ev_25", m, "hellaswag", "1", at(0), "acc", 0.1, "loss", 9)
	addEvaluations(t, s, accOnly, older2)
	checkScores(t, s, m, scoreOf(accOnly, "acc"), scoreOf(newer, "loss"))

	// At the same time, the greater id is the later.
	same := NewEvaluation("ev_31", m, "hellaswag", "1", at(3), "acc", 0.6)
	sameLower := NewEvaluation("ev_29", m, "hellaswag", "1", at(3), "acc", 0.99)
	addEvaluations(t, s, same, sameLower)
	checkScores(t, s, m, scoreOf(same, "acc"), scoreOf(newer, "loss"))
	if got := latestScores(t, s, m); got[0].Stderr != nil || got[1].Stderr != nil {
		t.Errorf("stderr of unset values: %v, %v, want nil", got[0].Stderr, got[1].Stderr)
	}
	withStderr := NewEvaluation("ev_40", m, "hellaswag", "1", at(4), "loss", 1.25)
	e := 0.125
	withStderr.Values[0].Stderr = &e
	addEvaluations(t, s, withStderr)
	if got := latestScores(t, s, m); got[1].Stderr == nil || *got[1].Stderr != 0.125 {
		t.Errorf("stderr of a set value: %v, want 0.125", got[1].Stderr)
	}

	// Ordered by benchmark, version, metric; other models apart.
	arc := NewEvaluation("ev_50", m, "arc", "1", at(1), "acc", 0.4)
	v2 := NewEvaluation("ev_51", m, "hellaswag", "2", at(1), "acc", 0.45)
	elsewhere := NewEvaluation("ev_52", "other/model", "hellaswag", "1", at(9), "acc", 0.2, "loss", 3)
	addEvaluations(t, s, v2, elsewhere, arc)
	checkScores(t, s, m, scoreOf(arc, "acc"), scoreOf(same, "acc"), scoreOf(withStderr, "loss"), scoreOf(v2, "acc"))
	checkScores(t, s, "other/model", scoreOf(elsewhere, "acc"), scoreOf(elsewhere, "loss"))
	checkScores(t, s, "nobody/none")
}

func testSupersedeEvaluation(t *testing.T, s store.Store) {
	ctx := context.Background()
	const m = "openai/gpt-5"
	put(t, s, NewModel(m, "active", api.RoleGeneral, 1), NewModel("other/model", "active", api.RoleGeneral, 1))
	putBenchmarks(t, s, NewBenchmark("hellaswag", "1", "acc", "loss"), NewBenchmark("arc", "1", "acc"))
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	first := NewEvaluation("ev_1", m, "hellaswag", "1", at(1), "acc", 0.5, "loss", 2)
	second := NewEvaluation("ev_2", m, "hellaswag", "1", at(2), "acc", 0.7)
	third := NewEvaluation("ev_3", m, "hellaswag", "1", at(3), "acc", 0.9, "loss", 1)
	arc := NewEvaluation("ev_4", m, "arc", "1", at(4), "acc", 0.3)
	rival := NewEvaluation("ev_5", "other/model", "hellaswag", "1", at(5), "acc", 0.8)
	// A correction: recorded now, of a run before the others.
	fix := NewEvaluation("ev_6", m, "hellaswag", "1", at(0), "acc", 0.85, "loss", 1.1)
	addEvaluations(t, s, first, second, third, arc, rival, fix)
	lb := store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc"}
	checkScores(t, s, m, scoreOf(arc, "acc"), scoreOf(third, "acc"), scoreOf(third, "loss"))
	checkBoard(t, s, lb, m, "other/model")

	// The latest superseded: each metric falls back to the latest valid
	// result that has it.
	if err := supersede(s, "ev_3", "ev_6"); err != nil {
		t.Fatalf("SupersedeEvaluation: %v", err)
	}
	checkScores(t, s, m, scoreOf(arc, "acc"), scoreOf(second, "acc"), scoreOf(first, "loss"))
	checkBoard(t, s, lb, "other/model", m)
	if got, err := s.GetEvaluation(ctx, "ev_3"); err != nil || got.SupersededBy != "ev_6" {
		t.Errorf("GetEvaluation of a superseded result = %+v, %v, want SupersededBy ev_6", got, err)
	}
	checkScores(t, s, "other/model", scoreOf(rival, "acc"))

	// Superseding an older one changes nothing but it.
	if err := supersede(s, "ev_1", "ev_6"); err != nil {
		t.Fatalf("SupersedeEvaluation: %v", err)
	}
	checkScores(t, s, m, scoreOf(arc, "acc"), scoreOf(second, "acc"), scoreOf(fix, "loss"))

	// Already superseded: Conflict; missing: NotFound; nothing changes.
	for _, tt := range []struct {
		id, by string
		kind   errs.Kind
	}{
		{"ev_3", "ev_2", errs.Conflict},
		{"ev_9", "ev_2", errs.NotFound},
		{"ev_2", "ev_9", errs.NotFound},
	} {
		if err := supersede(s, tt.id, tt.by); !errs.Is(err, tt.kind) {
			t.Errorf("SupersedeEvaluation(%s, %s): %v, want kind %v", tt.id, tt.by, err, tt.kind)
		}
	}
	if got, _ := s.GetEvaluation(ctx, "ev_3"); got == nil || got.SupersededBy != "ev_6" {
		t.Errorf("a refused supersede changed ev_3: %+v", got)
	}
	checkScores(t, s, m, scoreOf(arc, "acc"), scoreOf(second, "acc"), scoreOf(fix, "loss"))

	// Every result of a benchmark superseded: no score left on it.
	for _, id := range []string{"ev_2", "ev_6"} {
		if err := supersede(s, id, "ev_4"); err != nil {
			t.Fatalf("SupersedeEvaluation(%s): %v", id, err)
		}
	}
	checkScores(t, s, m, scoreOf(arc, "acc"))
	checkBoard(t, s, lb, "other/model")
	if got, err := s.ListEvaluations(ctx, store.EvaluationQuery{ModelID: m, Valid: true, Limit: 10}); err != nil ||
		!reflect.DeepEqual(evaluationIDs(got), []string{"ev_4"}) {
		t.Errorf("valid results after the supersedes = %v, %v, want [ev_4]", evaluationIDs(got), err)
	}
}

func testLeaderboard(t *testing.T, s store.Store) {
	ctx := context.Background()
	put(t, s,
		NewModel("a/one", "active", api.RoleGeneral, 1),
		NewModel("b/two", "active", api.RoleSpecialist, 1),
		NewModel("c/three", "proposed", api.RoleNone, 1),
		NewModel("d/four", "active", api.RoleGeneral, 1),
		NewModel("e/five", "deprecated", api.RoleSpecialist, 1),
		NewModel("f/six", "active", api.RoleNone, 1),
	)
	putBenchmarks(t, s, NewBenchmark("hellaswag", "1", "acc", "loss"), NewBenchmark("hellaswag", "2", "acc", "loss"))
	at := t0.Add(time.Hour)
	addEvaluations(t, s,
		NewEvaluation("ev_1", "a/one", "hellaswag", "1", at, "acc", 0.50, "loss", 2.0),
		NewEvaluation("ev_2", "b/two", "hellaswag", "1", at, "acc", 0.90, "loss", 1.0),
		NewEvaluation("ev_3", "c/three", "hellaswag", "1", at, "acc", 0.70, "loss", 1.0),
		NewEvaluation("ev_4", "d/four", "hellaswag", "1", at, "acc", 0.70, "loss", 0.5),
		NewEvaluation("ev_5", "e/five", "hellaswag", "1", at, "acc", -0.25, "loss", -1),
		NewEvaluation("ev_6", "f/six", "hellaswag", "1", at, "acc", 0.70, "loss", 3.0),
		// Another version is another leaderboard.
		NewEvaluation("ev_7", "a/one", "hellaswag", "2", at, "acc", 0.99, "loss", 0.1),
	)
	acc := store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc"}
	loss := store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "loss"}
	// Higher is better: best first, ties by ascending model id.
	checkBoard(t, s, acc, "b/two", "c/three", "d/four", "f/six", "a/one", "e/five")
	// Lower is better (a negative value is the best).
	checkBoard(t, s, loss, "e/five", "d/four", "b/two", "c/three", "a/one", "f/six")
	checkBoard(t, s, store.LeaderboardQuery{Benchmark: "hellaswag", Version: "2", Metric: "acc"}, "a/one")
	checkBoard(t, s, store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "pass@1"})
	checkBoard(t, s, store.LeaderboardQuery{Benchmark: "arc", Version: "1", Metric: "acc"})

	// The rows are the scores.
	rows, err := s.Leaderboard(ctx, store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc", Limit: 1})
	rows = withoutStanding(t, s, rows)
	want := []store.Score{{ModelID: "b/two", Benchmark: "hellaswag", BenchmarkVersion: "1", Metric: "acc", Value: 0.9,
		EvaluationID: "ev_2", EvaluatedAt: at}}
	if err != nil || !reflect.DeepEqual(rows, want) {
		t.Errorf("Leaderboard row = %+v, %v, want %+v", rows, err, want)
	}

	// Pages by offset and limit.
	var paged []string
	for off := 0; off < 8; off += 2 {
		q := acc
		q.Offset, q.Limit = off, 2
		page := board(t, s, q)
		if len(page) > 2 {
			t.Fatalf("page of 2 at %d has %d rows", off, len(page))
		}
		paged = append(paged, page...)
	}
	if want := []string{"b/two", "c/three", "d/four", "f/six", "a/one", "e/five"}; !reflect.DeepEqual(paged, want) {
		t.Errorf("paged leaderboard = %v, want %v", paged, want)
	}
	for _, q := range []store.LeaderboardQuery{{Benchmark: "hellaswag", Version: "1", Metric: "acc"},
		{Benchmark: "hellaswag", Version: "1", Metric: "acc", Limit: 10, Offset: -1}} {
		if _, err := s.Leaderboard(ctx, q); err == nil {
			t.Errorf("Leaderboard(%+v): no error", q)
		}
	}

	// Role and status filters.
	with := func(q store.LeaderboardQuery, role api.Role, status api.Status) store.LeaderboardQuery {
		q.Role, q.Status = role, status
		return q
	}
	checkBoard(t, s, with(acc, api.RoleGeneral, ""), "d/four", "a/one")
	checkBoard(t, s, with(acc, api.RoleSpecialist, ""), "b/two", "e/five")
	checkBoard(t, s, with(acc, "", api.StatusActive), "b/two", "d/four", "f/six", "a/one")
	checkBoard(t, s, with(acc, api.RoleNone, api.StatusActive), "f/six")
	checkBoard(t, s, with(loss, api.RoleGeneral, api.StatusActive), "d/four", "a/one")
	checkBoard(t, s, with(acc, api.RoleExperimental, ""))
	q := with(acc, "", api.StatusActive)
	q.Offset, q.Limit = 1, 2
	checkBoard(t, s, q, "d/four", "f/six")

	// A classification moves the model's rows: it follows PutModel.
	put(t, s, NewModel("c/three", "active", api.RoleGeneral, 2), NewModel("d/four", "suspended", api.RoleGeneral, 2))
	checkBoard(t, s, with(acc, api.RoleGeneral, ""), "c/three", "d/four", "a/one")
	checkBoard(t, s, with(acc, api.RoleNone, ""), "f/six")
	checkBoard(t, s, with(acc, "", api.StatusActive), "b/two", "c/three", "f/six", "a/one")
	checkBoard(t, s, with(acc, "", api.StatusSuspended), "d/four")
	checkBoard(t, s, with(acc, api.RoleGeneral, api.StatusActive), "c/three", "a/one")
	// Unfiltered, nothing moved.
	checkBoard(t, s, acc, "b/two", "c/three", "d/four", "f/six", "a/one", "e/five")
	// A result of a model made after the change ranks with its role.
	addEvaluations(t, s, NewEvaluation("ev_8", "c/three", "hellaswag", "1", at.Add(time.Hour), "acc", 0.1))
	checkBoard(t, s, with(acc, api.RoleGeneral, ""), "d/four", "a/one", "c/three")
	checkBoard(t, s, with(acc, "", api.StatusActive), "b/two", "f/six", "a/one", "c/three")

	// A deleted model leaves every leaderboard; its results stay.
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteModel(ctx, "b/two") })
	checkBoard(t, s, acc, "d/four", "f/six", "a/one", "c/three", "e/five")
	checkBoard(t, s, loss, "e/five", "d/four", "c/three", "a/one", "f/six")
	checkBoard(t, s, with(acc, api.RoleSpecialist, ""), "e/five")
	checkScores(t, s, "b/two")
	if _, err := s.GetEvaluation(ctx, "ev_2"); err != nil {
		t.Errorf("GetEvaluation of a deleted model's result: %v", err)
	}
	// Nor does a result stored later, nor a correction, bring it back.
	addEvaluations(t, s, NewEvaluation("ev_9", "b/two", "hellaswag", "1", at.Add(2*time.Hour), "acc", 0.95))
	if err := supersede(s, "ev_2", "ev_9"); err != nil {
		t.Fatalf("SupersedeEvaluation of a deleted model's result: %v", err)
	}
	checkBoard(t, s, acc, "d/four", "f/six", "a/one", "c/three", "e/five")
	checkScores(t, s, "b/two")
}

func testAbortEvaluations(t *testing.T, s store.Store) {
	ctx := context.Background()
	put(t, s, NewModel("a/one", "active", api.RoleGeneral, 1))
	putBenchmarks(t, s, NewBenchmark("arc", "1", "acc"))
	kept := NewEvaluation("ev_1", "a/one", "arc", "1", t0, "acc", 0.5)
	later := NewEvaluation("ev_2", "a/one", "arc", "1", t0.Add(time.Hour), "acc", 0.6)
	addEvaluations(t, s, kept, later)
	boom := errors.New("boom")
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutBenchmark(ctx, NewBenchmark("hellaswag", "1", "acc")); err != nil {
			return err
		}
		if err := tx.PutBenchmark(ctx, NewBenchmark("arc", "1", "loss")); err != nil {
			return err
		}
		if err := tx.AddEvaluation(ctx, NewEvaluation("ev_3", "a/one", "hellaswag", "1", t0, "acc", 0.9)); err != nil {
			return err
		}
		if err := tx.AddEvaluation(ctx, NewEvaluation("ev_4", "a/one", "arc", "1", t0.Add(2*time.Hour), "loss", 0.9)); err != nil {
			return err
		}
		if err := tx.SupersedeEvaluation(ctx, "ev_2", "ev_1"); err != nil {
			return err
		}
		if err := tx.PutModel(ctx, NewModel("a/one", "active", api.RoleSpecialist, 2)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReadWrite = %v, want %v", err, boom)
	}
	if _, err := s.GetBenchmark(ctx, "hellaswag", "1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("an aborted PutBenchmark left a benchmark: %v", err)
	}
	if b, err := s.GetBenchmark(ctx, "arc", "1"); err != nil || b.Metrics[0].Name != "acc" {
		t.Errorf("an aborted PutBenchmark replaced a benchmark: %+v, %v", b, err)
	}
	for _, id := range []string{"ev_3", "ev_4"} {
		if _, err := s.GetEvaluation(ctx, id); !errs.Is(err, errs.NotFound) {
			t.Errorf("an aborted AddEvaluation left %s: %v", id, err)
		}
	}
	if got, err := s.GetEvaluation(ctx, "ev_2"); err != nil || got.SupersededBy != "" {
		t.Errorf("an aborted SupersedeEvaluation left %+v, %v", got, err)
	}
	checkScores(t, s, "a/one", scoreOf(later, "acc"))
	acc := store.LeaderboardQuery{Benchmark: "arc", Version: "1", Metric: "acc"}
	checkBoard(t, s, acc, "a/one")
	acc.Role = api.RoleGeneral
	checkBoard(t, s, acc, "a/one")
	checkBoard(t, s, store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc"})
}
