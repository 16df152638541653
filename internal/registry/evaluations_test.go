package registry_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/identity"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/registry"
)

var evaluator = registry.WriteOptions{Caller: registry.Caller{Principal: "eval-bot", Roles: []string{api.RoleEvaluator}}}

func ptr[T any](v T) *T { return &v }

func hellaswag() api.Benchmark {
	return api.Benchmark{Name: "hellaswag", Version: "1", Task: "multiple_choice", Source: "lm-evaluation-harness",
		Metrics: []api.BenchmarkMetric{
			{Name: "acc_norm", Direction: api.HigherIsBetter, Min: ptr(0.0), Max: ptr(1.0)},
			{Name: "acc", Direction: api.HigherIsBetter, Min: ptr(0.0), Max: ptr(1.0)},
		}}
}

func perplexity() api.Benchmark {
	return api.Benchmark{Name: "wikitext", Version: "2", Metrics: []api.BenchmarkMetric{{Name: "word_perplexity", Direction: api.LowerIsBetter, Min: ptr(0.0)}}}
}

func result(at time.Time, accNorm, se float64) api.ResultRequest {
	return api.ResultRequest{Benchmark: "hellaswag", BenchmarkVersion: "1", EvaluatedAt: at, NShot: ptr(10),
		Harness: "lm-evaluation-harness", HarnessVersion: "0.4.7",
		Values: []api.MetricValue{{Metric: "acc_norm", Value: accNorm, Stderr: ptr(se)}}}
}

func eventsOf(t *testing.T, s *registry.Service, typ string) []*api.Event {
	t.Helper()
	l, err := s.ListEvents(context.Background(), registry.EventQuery{Types: []string{typ}, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func TestBenchmarkCatalogue(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	b, outcome, err := s.CreateBenchmark(ctx, hellaswag(), evaluator)
	if err != nil || outcome != registry.Created || b.CreatedBy != "eval-bot" {
		t.Fatalf("CreateBenchmark = %+v, %s, %v", b, outcome, err)
	}
	if _, outcome, err := s.CreateBenchmark(ctx, hellaswag(), governor); err != nil || outcome != registry.Unchanged {
		t.Errorf("the same benchmark again: %s, %v; want unchanged", outcome, err)
	}
	other := hellaswag()
	other.Metrics = other.Metrics[:1]
	if _, _, err := s.CreateBenchmark(ctx, other, evaluator); !errs.Is(err, errs.Exists) || !strings.Contains(err.Error(), "new version") {
		t.Errorf("other metrics under the same version: %v, want a refusal asking for a new version", err)
	}
	if _, _, err := s.CreateBenchmark(ctx, perplexity(), maintainer); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a maintainer adds a benchmark: %v, want forbidden", err)
	}
	bad := api.Benchmark{Name: "Bad Name", Version: "", Metrics: []api.BenchmarkMetric{{Name: "acc", Direction: "up", Min: ptr(1.0), Max: ptr(0.0)}, {Name: "acc", Direction: api.HigherIsBetter}}}
	_, _, err = s.CreateBenchmark(ctx, bad, evaluator)
	var e *errs.Error
	if !errorsAs(err, &e) || len(e.Fields) != 5 {
		t.Fatalf("an invalid benchmark: %v (%s), want five field errors", err, fieldText(e))
	}
	list, err := s.ListBenchmarks(ctx)
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "hellaswag" {
		t.Errorf("ListBenchmarks = %+v, %v", list, err)
	}
	if evs := eventsOf(t, s, registry.EventBenchmarkCreated); len(evs) != 1 || evs[0].Subject != "benchmark/hellaswag@1" {
		t.Errorf("benchmark.created events: %+v", evs)
	}
}

func TestRecordEvaluations(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	create(t, s, "meta/llama-3-3-70b", "large", 70e9)
	if _, _, err := s.CreateBenchmark(ctx, hellaswag(), evaluator); err != nil {
		t.Fatal(err)
	}
	t0 := c.Now().Add(-48 * time.Hour)

	// Only evaluators (and admins) record results; a refusal is audited.
	for _, who := range []registry.WriteOptions{maintainer, governor} {
		if _, err := s.RecordEvaluation(ctx, "meta/llama-3-3-70b", result(t0, 0.8, 0.004), who); !errs.Is(err, errs.Forbidden) {
			t.Errorf("%s records a result: %v, want forbidden", who.Caller.Principal, err)
		}
	}
	denied, err := s.AuditEntries(ctx, registry.AuditQuery{Action: "evaluation.record", Outcome: "denied"})
	if err != nil || len(denied.Items) != 2 {
		t.Errorf("denied evaluation.record entries: %d, %v; want 2", len(denied.Items), err)
	}

	// Refusals that say what is wrong.
	for _, tt := range []struct {
		req  api.ResultRequest
		want string
	}{
		{func() api.ResultRequest { r := result(t0, 0.8, 0.01); r.Benchmark = "mmlu"; return r }(), "not in the catalogue"},
		{func() api.ResultRequest {
			r := result(t0, 0.8, 0.01)
			r.Values[0].Metric = "f1"
			return r
		}(), "has no metric f1; its metrics: acc_norm, acc"},
		{result(t0, 1.3, 0.01), "outside the range of acc_norm (from 0 to 1)"},
		{result(c.Now().Add(time.Hour), 0.8, 0.01), "in the future"},
		{result(time.Time{}, 0.8, 0.01), "say when the evaluation ran"},
		{func() api.ResultRequest { r := result(t0, 0.8, 0.01); r.Values = nil; return r }(), "or notes saying why the evaluation gave none"},
		{func() api.ResultRequest { r := result(t0, 0.8, 0.01); r.Values[0].Stderr = ptr(-1.0); return r }(), "0 or more"},
	} {
		_, err := s.RecordEvaluation(ctx, "meta/llama-3-3-70b", tt.req, evaluator)
		var e *errs.Error
		if !errorsAs(err, &e) || !strings.Contains(fieldText(e), tt.want) {
			t.Errorf("%+v: %v (%s), want %q", tt.req.Values, err, fieldText(e), tt.want)
		}
	}
	if _, err := s.RecordEvaluation(ctx, "meta/nope", result(t0, 0.8, 0.01), evaluator); !errs.Is(err, errs.NotFound) {
		t.Errorf("a result of an unknown model: %v", err)
	}

	first, err := s.RecordEvaluation(ctx, "meta/llama-3-3-70b", result(t0, 0.80, 0.004), evaluator)
	if err != nil {
		t.Fatal(err)
	}
	if first.Evaluator != "eval-bot" || first.Regression != nil || !strings.HasPrefix(first.ID, "ev_") {
		t.Errorf("first result = %+v", first)
	}
	// A correction supersedes it; both are kept.
	fix := result(t0, 0.81, 0.004)
	fix.Supersedes = first.ID
	second, err := s.RecordEvaluation(ctx, "meta/llama-3-3-70b", fix, evaluator)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvaluation(ctx, "meta/llama-3-3-70b", fix, evaluator); !errs.Is(err, errs.Conflict) {
		t.Errorf("correcting a corrected result: %v, want a conflict", err)
	}
	old, _ := s.GetEvaluation(ctx, first.ID)
	if old.SupersededBy != second.ID {
		t.Errorf("the corrected result: superseded_by %q, want %s", old.SupersededBy, second.ID)
	}
	all, _ := s.ListEvaluations(ctx, registry.EvaluationQuery{ModelID: "meta/llama-3-3-70b"})
	valid, _ := s.ListEvaluations(ctx, registry.EvaluationQuery{ModelID: "meta/llama-3-3-70b", Valid: true})
	if len(all.Items) != 2 || len(valid.Items) != 1 || valid.Items[0].ID != second.ID {
		t.Errorf("history: %d results, %d valid; want 2 and 1", len(all.Items), len(valid.Items))
	}
	board, err := s.Leaderboard(ctx, registry.LeaderboardQuery{Benchmark: "hellaswag"})
	if err != nil || len(board.Items) != 1 || board.Items[0].Value != 0.81 || board.Metric != "acc_norm" || board.Items[0].Role != api.RoleNone {
		t.Errorf("leaderboard = %+v, %v; want the corrected 0.81", board, err)
	}
	if evs := eventsOf(t, s, registry.EventEvaluationRecorded); len(evs) != 2 {
		t.Errorf("%d evaluation.recorded events, want 2", len(evs))
	} else {
		var d api.EventData
		if err := json.Unmarshal(evs[1].Data, &d); err != nil || d.Evaluation == nil || d.Evaluation.ID != second.ID || d.Principal != "eval-bot" {
			t.Errorf("evaluation.recorded data = %+v, %v", d, err)
		}
	}
	// All or nothing: a batch with one bad result records none.
	_, err = s.RecordEvaluations(ctx, []registry.EvaluationItem{
		{ModelID: "meta/llama-3-3-70b", Request: result(t0.Add(time.Hour), 0.82, 0.004)},
		{ModelID: "meta/llama-3-3-70b", Request: result(t0.Add(2*time.Hour), 7, 0.004)},
	}, nil, evaluator)
	var be *errs.Error
	if !errorsAs(err, &be) || !strings.Contains(be.Msg, "result 1") || len(be.Fields) != 1 || be.Fields[0].Pointer != "/results/1/values/0/value" {
		t.Errorf("a batch with a bad result: %v (%s), want its field named /results/1/values/0/value", err, fieldText(be))
	}
	if after, _ := s.ListEvaluations(ctx, registry.EvaluationQuery{ModelID: "meta/llama-3-3-70b"}); len(after.Items) != 2 {
		t.Errorf("a refused batch stored %d results", len(after.Items)-2)
	}
}

func fieldText(e *errs.Error) string {
	if e == nil {
		return ""
	}
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, f.Pointer+": "+f.Message)
	}
	return e.Msg + " " + strings.Join(parts, "; ")
}

// A result worse than the previous by more than the combined standard
// error is flagged on the model, with an event; within the noise it is
// not; a later result that is not worse clears the flag.
func TestRegressionFlag(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	id := "meta/llama-3-3-70b"
	create(t, s, id, "large", 70e9)
	if _, _, err := s.CreateBenchmark(ctx, hellaswag(), evaluator); err != nil {
		t.Fatal(err)
	}
	t0 := c.Now().Add(-72 * time.Hour)
	record := func(at time.Time, v, se float64) *api.Evaluation {
		t.Helper()
		ev, err := s.RecordEvaluation(ctx, id, result(at, v, se), evaluator)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	flags := func() []api.RegressionFlag {
		m, _ := s.GetModel(ctx, id)
		return m.Governance.Regressions
	}
	record(t0, 0.80, 0.004)
	// 0.795: 0.005 worse, under sqrt(2)·0.004 ≈ 0.0057: noise.
	if ev := record(t0.Add(time.Hour), 0.795, 0.004); ev.Regression != nil || len(flags()) != 0 {
		t.Fatalf("a drop within the noise was flagged: %+v", ev.Regression)
	}
	bad := record(t0.Add(2*time.Hour), 0.70, 0.004)
	if bad.Regression == nil || bad.Regression.Metric != "acc_norm" || bad.Regression.Before != 0.795 || bad.Regression.After != 0.70 {
		t.Fatalf("a drop of 0.095 was not flagged: %+v", bad.Regression)
	}
	if f := flags(); len(f) != 1 || f[0].Evaluation != bad.ID {
		t.Fatalf("model flags = %+v", f)
	}
	if evs := eventsOf(t, s, registry.EventEvaluationRegressed); len(evs) != 1 || evs[0].Subject != id {
		t.Errorf("evaluation.regressed events = %d, want 1", len(evs))
	}
	entries, _ := s.AuditEntries(ctx, registry.AuditQuery{Action: "model.evaluation"})
	if len(entries.Items) != 1 || !strings.Contains(entries.Items[0].Reason, "acc_norm fell from 0.795 to 0.7") {
		t.Errorf("model.evaluation audit entries = %+v", entries.Items)
	}
	// Back-filled history older than the latest is not judged.
	if old := record(t0.Add(-time.Hour), 0.10, 0.004); old.Regression != nil {
		t.Errorf("an older result was judged a regression: %+v", old.Regression)
	}
	// Better again: the flag clears.
	record(t0.Add(3*time.Hour), 0.79, 0.004)
	if f := flags(); len(f) != 0 {
		t.Errorf("flags after a recovery: %+v", f)
	}
	// Lower is better: a rise is the regression.
	if _, _, err := s.CreateBenchmark(ctx, perplexity(), evaluator); err != nil {
		t.Fatal(err)
	}
	ppl := func(at time.Time, v float64) *api.Evaluation {
		ev, err := s.RecordEvaluation(ctx, id, api.ResultRequest{Benchmark: "wikitext", BenchmarkVersion: "2", EvaluatedAt: at,
			Values: []api.MetricValue{{Metric: "word_perplexity", Value: v}}}, evaluator)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ppl(t0, 10)
	if ev := ppl(t0.Add(time.Hour), 9); ev.Regression != nil {
		t.Errorf("a fall in perplexity was judged a regression")
	}
	// No standard errors: 2% of the previous value is the threshold.
	if ev := ppl(t0.Add(2*time.Hour), 9.1); ev.Regression != nil {
		t.Errorf("a rise of 1.1%% was judged a regression")
	}
	if ev := ppl(t0.Add(3*time.Hour), 9.5); ev.Regression == nil || ev.Regression.Threshold != 0.02*9.1 {
		t.Errorf("a rise of 4.4%% was not judged a regression: %+v", ev.Regression)
	}
}

// A bundle requiring a minimum score marks a general that falls below it
// out of compliance, and the end of the grace period lowers it; a better
// result before then restores it.
func TestMinimumScoreLowersGeneral(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	var b map[string]any
	if err := yaml.Unmarshal(policy.Default(), &b); err != nil {
		t.Fatal(err)
	}
	params := b["params"].(map[string]any)
	params["general_min_scores"] = map[string]any{"hellaswag": map[string]any{"acc_norm": 0.8}}
	params["grace_period"] = "24h"
	bundle, _ := json.Marshal(b)
	p, err := s.UploadPolicy(ctx, bundle, governor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActivatePolicy(ctx, p.Version, false, governor); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateBenchmark(ctx, hellaswag(), evaluator); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"meta/llama-3-3-70b", "meta/llama-3-1-405b"} {
		create(t, s, id, "xl", 405e9)
		if _, err := s.Classify(ctx, id, api.Classification{Role: api.RoleGeneral, Reason: "vote"}, governor); err != nil {
			t.Fatalf("classify %s: %v", id, err)
		}
	}
	id := "meta/llama-3-3-70b"
	if _, err := s.RecordEvaluation(ctx, id, result(c.Now().Add(-time.Hour), 0.75, 0.004), evaluator); err != nil {
		t.Fatal(err)
	}
	m, _ := s.GetModel(ctx, id)
	comp := m.Governance.Compliance
	if comp == nil || comp.Status != api.NonCompliant || comp.Deadline == nil || len(comp.Failing) != 1 || comp.Failing[0].ID != "general-min-scores" {
		t.Fatalf("after a result below the minimum: compliance %+v", comp)
	}
	if !strings.Contains(comp.Failing[0].Message, "hellaswag acc_norm 0.75 < 0.8") {
		t.Errorf("failing message %q", comp.Failing[0].Message)
	}
	if m.Role() != api.RoleGeneral {
		t.Fatalf("lowered at once, before the grace period: %s", m.Role())
	}
	c.Advance(25 * time.Hour)
	if n, err := s.EnforceDeadlines(ctx); err != nil || n != 1 {
		t.Fatalf("EnforceDeadlines = %d, %v; want 1 lowered", n, err)
	}
	m, _ = s.GetModel(ctx, id)
	if m.Role() == api.RoleGeneral {
		t.Fatalf("a general below the minimum score kept its role after the grace period")
	}
	// The other general, with a passing score, is untouched; a result that
	// passes restores compliance.
	other := "meta/llama-3-1-405b"
	if _, err := s.RecordEvaluation(ctx, other, result(c.Now().Add(-time.Hour), 0.85, 0.004), evaluator); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.GetModel(ctx, other); o.Role() != api.RoleGeneral || o.Governance.Compliance != nil {
		t.Errorf("a general above the minimum: role %s, compliance %+v", o.Role(), o.Governance.Compliance)
	}
	if _, err := s.RecordEvaluation(ctx, other, result(c.Now().Add(-30*time.Minute), 0.70, 0.004), evaluator); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvaluation(ctx, other, result(c.Now().Add(-10*time.Minute), 0.86, 0.004), evaluator); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.GetModel(ctx, other); o.Role() != api.RoleGeneral || o.Governance.Compliance != nil {
		t.Errorf("after recovering: role %s, compliance %+v", o.Role(), o.Governance.Compliance)
	}
	board, err := s.Leaderboard(ctx, registry.LeaderboardQuery{Benchmark: "hellaswag", Role: api.RoleGeneral})
	if err != nil || len(board.Items) != 1 || board.Items[0].ModelID != other {
		t.Errorf("generals' leaderboard = %+v, %v", board, err)
	}
}

// A result signed by a key of a verified identity records who signed; a
// bad signature is refused.
func TestSignedResult(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	create(t, s, "meta/llama-3-3-70b", "large", 70e9)
	if _, err := s.CreateModel(ctx, doc("hivellm/evaluator", "large", 70e9, "declared"), maintainer); err != nil {
		t.Fatal(err)
	}
	key := proveIdentity(t, s, "hivellm/evaluator", maintainer)
	if _, _, err := s.CreateBenchmark(ctx, hellaswag(), evaluator); err != nil {
		t.Fatal(err)
	}
	req := result(c.Now().Add(-time.Hour), 0.8, 0.004)
	req.KeyID = key.Public().KeyID()
	msg, err := api.EvaluationMessage("meta/llama-3-3-70b", req)
	if err != nil {
		t.Fatal(err)
	}
	if req.Signature, err = key.Sign(msg); err != nil {
		t.Fatal(err)
	}
	ev, err := s.RecordEvaluation(ctx, "meta/llama-3-3-70b", req, evaluator)
	if err != nil || ev.SignedBy != "hivellm/evaluator" {
		t.Fatalf("a signed result: %+v, %v", ev, err)
	}
	tampered := req
	tampered.Values = []api.MetricValue{{Metric: "acc_norm", Value: 0.99}}
	if _, err := s.RecordEvaluation(ctx, "meta/llama-3-3-70b", tampered, evaluator); !errs.Is(err, errs.Invalid) {
		t.Errorf("a result changed after signing: %v, want refused", err)
	}
	other, _ := identity.GenerateKey(api.KeyEd25519)
	unknown := req
	unknown.KeyID = other.Public().KeyID()
	if _, err := s.RecordEvaluation(ctx, "meta/llama-3-3-70b", unknown, evaluator); err == nil || !strings.Contains(fieldTextOf(err), "no model's identity holds key") {
		t.Errorf("a key no identity holds: %v", err)
	}
}

func fieldTextOf(err error) string {
	var e *errs.Error
	if errorsAs(err, &e) {
		return fieldText(e)
	}
	return ""
}
