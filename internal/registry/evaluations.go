package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/identity"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/store"
)

// Names in the benchmarks catalogue.
var (
	benchmarkName    = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]{0,159}$`)
	benchmarkVersion = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)
	metricName       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@:+/-]{0,63}$`)
	evaluationID     = regexp.MustCompile(`^ev_[0-9a-f]{16}$`)
)

// Evaluation limits.
const (
	// MaxEvaluationBatch is the most results one ingest records, all or
	// nothing, in one transaction.
	MaxEvaluationBatch = 10_000
	maxSettings        = 16 << 10
	maxFreeText        = 4096
	// clockSkew is how far in the future a result's evaluated_at may be.
	clockSkew = 5 * time.Minute
	// defaultRegressionThreshold is the share of the previous value by
	// which a result must be worse to be a regression when the standard
	// errors are not known, unless params.regression_threshold says.
	defaultRegressionThreshold = 0.02
)

// Event types of the catalogue and the results.
const (
	EventBenchmarkCreated     = api.EventTypePrefix + "benchmark.created"
	EventEvaluationRecorded   = api.EventTypePrefix + "evaluation.recorded"
	EventEvaluationRegressed  = api.EventTypePrefix + "evaluation.regressed"
	actionBenchmarkCreate     = "benchmark.create"
	actionEvaluationRecord    = "evaluation.record"
	auditActionEvaluationFlag = "model.evaluation"
)

func mayEvaluate(c Caller) bool { return isAdmin(c) || hasRole(c, api.RoleEvaluator) }

func mayCatalogue(c Caller) bool { return mayEvaluate(c) || isGovernor(c) }

func benchmarkTarget(name, version string) string { return "benchmark/" + name + "@" + version }

// checkBenchmark validates a catalogue entry.
func checkBenchmark(b *api.Benchmark) []api.FieldError {
	var fields []api.FieldError
	add := func(ptr, format string, args ...any) {
		fields = append(fields, api.FieldError{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	}
	if !benchmarkName.MatchString(b.Name) {
		add("/name", "must be 1 to 160 lowercase letters, digits, \".\", \"_\", \"-\" and \"/\", starting with a letter or digit")
	}
	if !benchmarkVersion.MatchString(b.Version) {
		add("/version", "must be 1 to 64 letters, digits, \".\", \"_\", \"+\" and \"-\", such as 1, 2.0 or 2024-06")
	}
	if len(b.Metrics) == 0 || len(b.Metrics) > policy.MaxBenchmarkMetrics {
		add("/metrics", "name 1 to %d metrics", policy.MaxBenchmarkMetrics)
	}
	seen := map[string]bool{}
	for i, m := range b.Metrics {
		at := fmt.Sprintf("/metrics/%d", i)
		if !metricName.MatchString(m.Name) {
			add(at+"/name", "must be 1 to 64 letters, digits and \"._@:+/-\", such as acc_norm or pass@1")
		} else if seen[m.Name] {
			add(at+"/name", "metric %s is named twice", m.Name)
		}
		seen[m.Name] = true
		if m.Direction != api.HigherIsBetter && m.Direction != api.LowerIsBetter {
			add(at+"/direction", "must be higher (higher is better) or lower")
		}
		if m.Min != nil && !finite(*m.Min) || m.Max != nil && !finite(*m.Max) {
			add(at, "min and max must be finite numbers")
		} else if m.Min != nil && m.Max != nil && *m.Min >= *m.Max {
			add(at, "min must be below max")
		}
		if len(m.Description) > maxFreeText {
			add(at+"/description", "at most %d characters", maxFreeText)
		}
	}
	for ptr, v := range map[string]string{"/task": b.Task, "/description": b.Description, "/source": b.Source} {
		if len(v) > maxFreeText {
			add(ptr, "at most %d characters", maxFreeText)
		}
	}
	slices.SortFunc(fields, func(a, b api.FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
	return fields
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// CreateBenchmark adds a benchmark to the catalogue. Publishing the same
// benchmark again changes nothing; one of the same name and version with
// other metrics is refused (publish a new version). Evaluators, governors
// and admins may.
func (s *Service) CreateBenchmark(ctx context.Context, b api.Benchmark, opts WriteOptions) (*api.Benchmark, Outcome, error) {
	if fields := checkBenchmark(&b); len(fields) > 0 {
		return nil, "", errs.InvalidFields("invalid benchmark", fields)
	}
	var out *api.Benchmark
	res, err := s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		o, stored, err := s.putBenchmark(ctx, tx, now, &b, opts)
		if err != nil {
			return nil, err
		}
		out = stored
		return &Result{Outcome: o}, nil
	}})
	if err != nil {
		return nil, "", err
	}
	return out, res.Outcome, nil
}

// putBenchmark stores a catalogue entry inside tx, with its audit entry and
// event, unless the same one is there.
func (s *Service) putBenchmark(ctx context.Context, tx store.Tx, now time.Time, b *api.Benchmark, opts WriteOptions) (Outcome, *api.Benchmark, error) {
	target := benchmarkTarget(b.Name, b.Version)
	if !mayCatalogue(opts.Caller) {
		return "", nil, deny(opts, now, actionBenchmarkCreate, target, forbidden("only evaluators, governors and admins may add benchmarks"))
	}
	cur, err := tx.GetBenchmark(ctx, b.Name, b.Version)
	switch {
	case err == nil:
		if sameMetrics(cur.Metrics, b.Metrics) {
			return Unchanged, cur, nil
		}
		return "", nil, errs.E(errs.Exists, "benchmark %s version %s is in the catalogue with other metrics; results already "+
			"refer to it, so publish the change as a new version", b.Name, b.Version)
	case !errs.Is(err, errs.NotFound):
		return "", nil, err
	}
	nb := *b
	nb.CreatedAt, nb.CreatedBy = now, actor(opts.Caller)
	if err := tx.PutBenchmark(ctx, &nb); err != nil {
		return "", nil, err
	}
	e := entry(opts, now, actionBenchmarkCreate, target)
	names := make([]string, len(nb.Metrics))
	for i, m := range nb.Metrics {
		names[i] = m.Name + " (" + m.Direction + ")"
	}
	e.Reason = "metrics " + strings.Join(names, ", ")
	if err := s.recordEvent(ctx, tx, e, EventBenchmarkCreated, api.EventData{Benchmark: &nb}); err != nil {
		return "", nil, err
	}
	return Created, &nb, nil
}

func sameMetrics(a, b []api.BenchmarkMetric) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// recordEvent appends an allowed audit entry and its event of type typ.
func (s *Service) recordEvent(ctx context.Context, tx store.Tx, e *audit.Entry, typ string, data api.EventData) error {
	if err := s.appendAudit(ctx, tx, e); err != nil {
		return err
	}
	return s.emit(ctx, tx, e, typ, data)
}

// GetBenchmark returns a catalogue entry.
func (s *Service) GetBenchmark(ctx context.Context, name, version string) (*api.Benchmark, error) {
	return s.store.GetBenchmark(ctx, name, version)
}

// ListBenchmarks returns the catalogue.
func (s *Service) ListBenchmarks(ctx context.Context) (*api.BenchmarkList, error) {
	items, err := s.store.ListBenchmarks(ctx)
	if err != nil {
		return nil, err
	}
	return &api.BenchmarkList{Items: items}, nil
}

// EvaluationItem is one result to record.
type EvaluationItem struct {
	ModelID string
	Request api.ResultRequest
}

// RecordEvaluation records one result of a model. See RecordEvaluations.
func (s *Service) RecordEvaluation(ctx context.Context, modelID string, req api.ResultRequest, opts WriteOptions) (*api.Evaluation, error) {
	out, err := s.RecordEvaluations(ctx, []EvaluationItem{{ModelID: modelID, Request: req}}, nil, opts)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// RecordEvaluations records results, all or nothing, in one transaction:
// evaluators (and admins) only. Each names a benchmark of the catalogue and
// metrics of it; benchmarks, when given, are added to the catalogue first
// where missing (an ingest's --create-benchmarks). For each result the
// registry records an audit entry and an evaluation.recorded event; flags
// a regression (the result is worse than the model's previous one on the
// benchmark by more than the combined standard error, or by
// params.regression_threshold of it without standard errors) on the model,
// or clears one, with an evaluation.regressed event; and, when the active
// bundle's rules read evals, re-checks the model's compliance.
func (s *Service) RecordEvaluations(ctx context.Context, items []EvaluationItem, benchmarks []*api.Benchmark, opts WriteOptions) ([]*api.Evaluation, error) {
	if len(items) == 0 {
		return nil, errs.E(errs.Invalid, "no results to record")
	}
	if len(items) > MaxEvaluationBatch {
		return nil, errs.E(errs.Invalid, "%d results: record at most %d at once", len(items), MaxEvaluationBatch)
	}
	for i, b := range benchmarks {
		if fields := checkBenchmark(b); len(fields) > 0 {
			for j := range fields {
				fields[j].Pointer = fmt.Sprintf("/benchmarks/%d%s", i, fields[j].Pointer)
			}
			return nil, errs.InvalidFields("invalid benchmark "+b.Name, fields)
		}
	}
	ids := make([]string, len(items))
	for i, it := range items {
		if fields := checkResult(&it.Request); len(fields) > 0 {
			if len(items) > 1 {
				for j := range fields {
					fields[j].Pointer = fmt.Sprintf("/results/%d%s", i, fields[j].Pointer)
				}
			}
			return nil, errs.InvalidFields("invalid evaluation result", fields)
		}
		id, err := newEvaluationID()
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	var out []*api.Evaluation
	_, err := s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		out = out[:0]
		for _, b := range benchmarks {
			// Added where missing; one with other metrics is refused.
			if _, _, err := s.putBenchmark(ctx, tx, now, b, opts); err != nil {
				return nil, err
			}
		}
		prog, err := s.activeProgram(ctx, tx)
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			ev, err := s.recordEvaluation(ctx, tx, now, prog, ids[i], it, opts)
			if err != nil {
				if len(items) > 1 {
					return nil, inBatch(err, i, it)
				}
				return nil, err
			}
			out = append(out, ev)
		}
		return &Result{Outcome: Created}, nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inBatch names result i of a batch in err: its message, and the pointers
// of its invalid fields.
func inBatch(err error, i int, it EvaluationItem) error {
	var fe *errs.Error
	if errors.As(err, &fe) && len(fe.Fields) > 0 {
		c := *fe
		c.Msg = fmt.Sprintf("result %d (%s, %s): %s", i, it.ModelID, it.Request.Benchmark, fe.Msg)
		c.Fields = make([]api.FieldError, len(fe.Fields))
		for j, f := range fe.Fields {
			f.Pointer = fmt.Sprintf("/results/%d%s", i, f.Pointer)
			c.Fields[j] = f
		}
		return &c
	}
	return fmt.Errorf("result %d (%s, %s): %w", i, it.ModelID, it.Request.Benchmark, err)
}

// checkResult validates a result on its own, before the transaction.
func checkResult(r *api.ResultRequest) []api.FieldError {
	var fields []api.FieldError
	add := func(ptr, format string, args ...any) {
		fields = append(fields, api.FieldError{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
	}
	if !benchmarkName.MatchString(r.Benchmark) {
		add("/benchmark", "name a benchmark of the catalogue (GET /v1/benchmarks)")
	}
	if !benchmarkVersion.MatchString(r.BenchmarkVersion) {
		add("/benchmark_version", "name the version of the benchmark the result is of")
	}
	switch {
	case len(r.Values) > policy.MaxBenchmarkMetrics:
		add("/values", "give at most %d metric values", policy.MaxBenchmarkMetrics)
	case len(r.Values) == 0 && strings.TrimSpace(r.Notes) == "":
		// A result without values records that an evaluation ran and gave
		// no scores (a rejected model, say): its notes must say why.
		add("/values", "give 1 to %d metric values, or notes saying why the evaluation gave none", policy.MaxBenchmarkMetrics)
	}
	seen := map[string]bool{}
	for i, v := range r.Values {
		at := fmt.Sprintf("/values/%d", i)
		if seen[v.Metric] {
			add(at+"/metric", "metric %s has two values", v.Metric)
		}
		seen[v.Metric] = true
		if !finite(v.Value) {
			add(at+"/value", "must be a finite number")
		}
		if v.Stderr != nil && (!finite(*v.Stderr) || *v.Stderr < 0) {
			add(at+"/stderr", "must be a finite number, 0 or more")
		}
	}
	if r.NShot != nil && (*r.NShot < 0 || *r.NShot > 10_000) {
		add("/n_shot", "must be between 0 and 10000")
	}
	if r.EvaluatedAt.IsZero() {
		add("/evaluated_at", "say when the evaluation ran (RFC 3339)")
	}
	if r.Settings != nil {
		if b, err := json.Marshal(r.Settings); err != nil || len(b) > maxSettings {
			add("/settings", "must be JSON of at most %d bytes", maxSettings)
		}
	}
	if r.ArtifactDigest != "" && !identity.ValidArtifactDigest(r.ArtifactDigest) {
		add("/artifact_digest", "must be sha256: followed by 64 lowercase hex digits")
	}
	if (r.Signature == "") != (r.KeyID == "") {
		add("/signature", "a signature needs the key_id of the key that made it, and a key_id its signature")
	}
	if r.Supersedes != "" && !evaluationID.MatchString(r.Supersedes) {
		add("/supersedes", "must be the id of a recorded result (ev_ and 16 hex digits)")
	}
	for ptr, v := range map[string]string{"/harness": r.Harness, "/harness_version": r.HarnessVersion, "/source": r.Source, "/notes": r.Notes} {
		if len(v) > maxFreeText {
			add(ptr, "at most %d characters", maxFreeText)
		}
	}
	slices.SortFunc(fields, func(a, b api.FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
	return fields
}

func newEvaluationID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("registry: evaluation id: %w", err)
	}
	return "ev_" + hex.EncodeToString(b[:]), nil
}

// recordEvaluation records one result inside tx.
func (s *Service) recordEvaluation(ctx context.Context, tx store.Tx, now time.Time, prog *policy.Program, id string, it EvaluationItem, opts WriteOptions) (*api.Evaluation, error) {
	req := it.Request
	if !mayEvaluate(opts.Caller) {
		return nil, deny(opts, now, actionEvaluationRecord, it.ModelID, forbidden("only evaluators (and admins) may record evaluation results"))
	}
	m, err := tx.GetModel(ctx, it.ModelID)
	if err != nil {
		return nil, err
	}
	bench, err := tx.GetBenchmark(ctx, req.Benchmark, req.BenchmarkVersion)
	if errs.Is(err, errs.NotFound) {
		return nil, errs.InvalidFields("unknown benchmark", []api.FieldError{{Pointer: "/benchmark", Message: fmt.Sprintf(
			"benchmark %s version %s is not in the catalogue: add it (POST /v1/benchmarks) first, or ingest with --create-benchmarks",
			req.Benchmark, req.BenchmarkVersion)}})
	}
	if err != nil {
		return nil, err
	}
	metrics := map[string]api.BenchmarkMetric{}
	for _, bm := range bench.Metrics {
		metrics[bm.Name] = bm
	}
	var fields []api.FieldError
	for i, v := range req.Values {
		bm, ok := metrics[v.Metric]
		switch {
		case !ok:
			fields = append(fields, api.FieldError{Pointer: fmt.Sprintf("/values/%d/metric", i), Message: fmt.Sprintf(
				"benchmark %s version %s has no metric %s; its metrics: %s", bench.Name, bench.Version, v.Metric, metricNames(bench))})
		case bm.Min != nil && v.Value < *bm.Min || bm.Max != nil && v.Value > *bm.Max:
			fields = append(fields, api.FieldError{Pointer: fmt.Sprintf("/values/%d/value", i), Message: fmt.Sprintf(
				"%v is outside the range of %s (%s)", v.Value, v.Metric, rangeOf(bm))})
		}
	}
	if req.EvaluatedAt.After(now.Add(clockSkew)) {
		fields = append(fields, api.FieldError{Pointer: "/evaluated_at", Message: "is in the future"})
	}
	if len(fields) > 0 {
		return nil, errs.InvalidFields("invalid evaluation result", fields)
	}
	ev := &api.Evaluation{ID: id, ModelID: m.ModelID, ResultRequest: req, Evaluator: actor(opts.Caller), RecordedAt: now}
	ev.EvaluatedAt = req.EvaluatedAt.UTC()
	if req.Signature != "" {
		if ev.SignedBy, err = verifyResultSignature(ctx, tx, m.ModelID, req, now); err != nil {
			return nil, err
		}
	}
	if req.Supersedes != "" {
		old, err := tx.GetEvaluation(ctx, req.Supersedes)
		if errs.Is(err, errs.NotFound) {
			return nil, errs.InvalidFields("invalid evaluation result", []api.FieldError{{Pointer: "/supersedes",
				Message: "no result " + req.Supersedes}})
		} else if err != nil {
			return nil, err
		}
		if old.ModelID != m.ModelID || old.Benchmark != req.Benchmark {
			return nil, errs.InvalidFields("invalid evaluation result", []api.FieldError{{Pointer: "/supersedes",
				Message: fmt.Sprintf("result %s is of %s on %s: a correction is of the same model and benchmark", old.ID, old.ModelID, old.Benchmark)}})
		}
		if old.SupersededBy != "" {
			return nil, errs.E(errs.Conflict, "result %s was already corrected by %s: supersede that one", old.ID, old.SupersededBy)
		}
	}

	before, err := tx.LatestScores(ctx, m.ModelID)
	if err != nil {
		return nil, err
	}
	ev.Regression = regression(ev, bench, before, regressionThreshold(prog))
	if err := tx.AddEvaluation(ctx, ev); err != nil {
		return nil, err
	}
	if req.Supersedes != "" {
		if err := tx.SupersedeEvaluation(ctx, req.Supersedes, ev.ID); err != nil {
			return nil, err
		}
	}
	e := entry(opts, now, actionEvaluationRecord, m.ModelID)
	e.Reason = describeResult(ev)
	if err := s.recordEvent(ctx, tx, e, EventEvaluationRecorded, api.EventData{Evaluation: ev}); err != nil {
		return nil, err
	}
	return ev, s.afterResult(ctx, tx, now, prog, m, ev, bench)
}

func metricNames(b *api.Benchmark) string {
	names := make([]string, len(b.Metrics))
	for i, m := range b.Metrics {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

func rangeOf(m api.BenchmarkMetric) string {
	lo, hi := "-∞", "+∞"
	if m.Min != nil {
		lo = strconv.FormatFloat(*m.Min, 'g', -1, 64)
	}
	if m.Max != nil {
		hi = strconv.FormatFloat(*m.Max, 'g', -1, 64)
	}
	return "from " + lo + " to " + hi
}

func describeResult(ev *api.Evaluation) string {
	parts := make([]string, len(ev.Values))
	for i, v := range ev.Values {
		parts[i] = v.Metric + " " + strconv.FormatFloat(v.Value, 'g', -1, 64)
		if v.Stderr != nil {
			parts[i] += " ± " + strconv.FormatFloat(*v.Stderr, 'g', 3, 64)
		}
	}
	why := fmt.Sprintf("%s %s %s: %s", ev.ID, ev.Benchmark, ev.BenchmarkVersion, strings.Join(parts, ", "))
	if ev.Supersedes != "" {
		why += "; corrects " + ev.Supersedes
	}
	return why
}

// verifyResultSignature checks the evaluator's signature: KeyID must be a
// key a model's identity holds, verified and current, and the signature
// that key's over EvaluationMessage. It returns the signing model.
func verifyResultSignature(ctx context.Context, r store.Reader, modelID string, req api.ResultRequest, now time.Time) (string, error) {
	bad := func(msg string) error {
		return errs.InvalidFields("invalid evaluation signature", []api.FieldError{{Pointer: "/signature", Message: msg}})
	}
	signer, err := r.IdentityClaim(ctx, store.ClaimKey, req.KeyID)
	if errs.Is(err, errs.NotFound) {
		return "", bad("no model's identity holds key " + req.KeyID)
	} else if err != nil {
		return "", err
	}
	sm, err := r.GetModel(ctx, signer)
	if err != nil {
		return "", err
	}
	if sm.Identity == nil || sm.Identity.KeyID != req.KeyID || sm.Identity.StatusAt(now) != api.IdentityVerified {
		return "", bad(fmt.Sprintf("key %s is not the verified, current key of %s", req.KeyID, signer))
	}
	pub, err := identity.ParsePublicKey(sm.Identity.KeyType, sm.Identity.PublicKey)
	if err != nil {
		return "", err
	}
	msg, err := api.EvaluationMessage(modelID, req)
	if err != nil {
		return "", err
	}
	if err := pub.Verify(msg, req.Signature); err != nil {
		return "", bad(err.Error() + " (it must sign api.EvaluationMessage of the result)")
	}
	return signer, nil
}

// regressionThreshold is params.regression_threshold of the bundle, or the
// default.
func regressionThreshold(prog *policy.Program) float64 {
	if v, ok := prog.Bundle().Params["regression_threshold"].(float64); ok && v >= 0 {
		return v
	}
	return defaultRegressionThreshold
}

// regression compares a new result with the model's previous scores on
// its benchmark version, and returns the worst metric on which it is worse
// by more than the noise: the combined standard error when both are known,
// else share of the previous value. A result older than the previous one
// (history filled in late) is not judged.
func regression(ev *api.Evaluation, bench *api.Benchmark, before []store.Score, share float64) *api.Regression {
	dir := map[string]string{}
	for _, m := range bench.Metrics {
		dir[m.Name] = m.Direction
	}
	var worst *api.Regression
	var worstBy float64
	for _, v := range ev.Values {
		for _, p := range before {
			if p.Benchmark != ev.Benchmark || p.BenchmarkVersion != ev.BenchmarkVersion || p.Metric != v.Metric ||
				p.EvaluationID == ev.Supersedes || !p.EvaluatedAt.Before(ev.EvaluatedAt) {
				continue
			}
			threshold := share * math.Abs(p.Value)
			if v.Stderr != nil && p.Stderr != nil {
				threshold = math.Sqrt(*v.Stderr**v.Stderr + *p.Stderr**p.Stderr)
			}
			by := p.Value - v.Value
			if dir[v.Metric] == api.LowerIsBetter {
				by = -by
			}
			if by > threshold && (worst == nil || by-threshold > worstBy) {
				worst = &api.Regression{Metric: v.Metric, Previous: p.EvaluationID, Before: p.Value, After: v.Value, Threshold: threshold}
				worstBy = by - threshold
			}
		}
	}
	return worst
}

// afterResult updates the model after a new result: its regression flags
// on the result's benchmark, and its compliance when the bundle reads
// evals.
func (s *Service) afterResult(ctx context.Context, tx store.Tx, now time.Time, prog *policy.Program, m *api.Model, ev *api.Evaluation, bench *api.Benchmark) error {
	next := m.Clone()
	if next.Governance == nil {
		next.Governance = &api.Governance{Role: api.RoleNone}
	}
	g := next.Governance
	measured := map[string]bool{}
	for _, v := range ev.Values {
		measured[v.Metric] = true
	}
	// A new result on a flagged metric settles the flag: cleared, unless
	// it regressed again.
	g.Regressions = slices.DeleteFunc(g.Regressions, func(f api.RegressionFlag) bool {
		return f.Benchmark == ev.Benchmark && measured[f.Metric] && !ev.EvaluatedAt.Before(f.Since)
	})
	if r := ev.Regression; r != nil {
		g.Regressions = append(g.Regressions, api.RegressionFlag{Benchmark: ev.Benchmark, Metric: r.Metric, Evaluation: ev.ID,
			Previous: r.Previous, Before: r.Before, After: r.After, Threshold: r.Threshold, Since: ev.EvaluatedAt})
	}
	if len(g.Regressions) == 0 {
		g.Regressions = nil
	}
	opts := WriteOptions{Caller: systemCaller}
	var was []api.RegressionFlag
	if m.Governance != nil {
		was = m.Governance.Regressions
	}
	if jsonOf(g.Regressions) != jsonOf(was) {
		why := fmt.Sprintf("%s on %s: no regression", ev.ID, ev.Benchmark)
		if r := ev.Regression; r != nil {
			why = fmt.Sprintf("%s on %s: %s fell from %g to %g (more than %.3g)", ev.ID, ev.Benchmark, r.Metric, r.Before, r.After, r.Threshold)
		}
		res, err := s.store1(ctx, tx, now, opts, next, stored{action: api.ActionEvaluation, reason: why, prog: prog, before: m})
		if err != nil {
			return err
		}
		m = res.Model
	}
	if !prog.UsesEvals() {
		return nil
	}
	failing, err := s.check(ctx, tx, prog, m, now, nil)
	if err != nil {
		return err
	}
	var prev *api.Compliance
	if m.Governance != nil {
		prev = m.Governance.Compliance
	}
	after := nextCompliance(prev, failing, prog, now)
	if jsonOf(prev) == jsonOf(after) {
		return nil
	}
	c := m.Clone()
	if c.Governance == nil {
		c.Governance = &api.Governance{Role: api.RoleNone}
	}
	c.Governance.Compliance = after
	why := fmt.Sprintf("result %s: complies", ev.ID)
	if after != nil {
		why = fmt.Sprintf("result %s: breaks %s", ev.ID, ruleIDs(after.Failing))
	}
	_, err = s.store1(ctx, tx, now, opts, c, stored{action: api.ActionCompliance, reason: why, prog: prog, before: m})
	return err
}

// evalsFor loads a model's latest scores for the policy, when the bundle
// reads them.
func (s *Service) evalsFor(ctx context.Context, r store.Reader, prog *policy.Program, m *api.Model) (map[string]map[string]policy.Score, error) {
	if m == nil || prog == nil || !prog.UsesEvals() {
		return nil, nil
	}
	scores, err := r.LatestScores(ctx, m.ModelID)
	if err != nil || len(scores) == 0 {
		return nil, err
	}
	// By benchmark name: of each metric, the newest score of any version.
	out := map[string]map[string]policy.Score{}
	for _, sc := range scores {
		mm := out[sc.Benchmark]
		if mm == nil {
			if len(out) == policy.MaxEvalBenchmarks {
				continue
			}
			mm = map[string]policy.Score{}
			out[sc.Benchmark] = mm
		}
		if cur, ok := mm[sc.Metric]; ok && !sc.EvaluatedAt.After(cur.EvaluatedAt) {
			continue
		}
		ps := policy.Score{Value: sc.Value, EvaluatedAt: sc.EvaluatedAt, Evaluation: sc.EvaluationID}
		if sc.Stderr != nil {
			ps.Stderr, ps.HasStderr = *sc.Stderr, true
		}
		mm[sc.Metric] = ps
	}
	return out, nil
}

// EvaluationQuery selects a model's results, as GET
// /v1/models/{name}/evaluations does.
type EvaluationQuery struct {
	ModelID          string
	Benchmark        string
	BenchmarkVersion string
	Since, Until     time.Time
	// Valid leaves out the results that a correction superseded.
	Valid     bool
	PageSize  int
	PageToken string
}

// ListEvaluations returns one page of a model's results, oldest first: its
// history as a time series.
func (s *Service) ListEvaluations(ctx context.Context, q EvaluationQuery) (*api.EvaluationList, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.GetModel(ctx, q.ModelID); err != nil {
		return nil, err
	}
	sq := store.EvaluationQuery{ModelID: q.ModelID, Benchmark: q.Benchmark, BenchmarkVersion: q.BenchmarkVersion,
		Since: q.Since, Until: q.Until, Valid: q.Valid, Limit: size + 1}
	if q.PageToken != "" {
		c, err := decodeCursor(q.PageToken)
		if err != nil {
			return nil, err
		}
		at, id, ok := strings.Cut(c, "|")
		t, terr := time.Parse(time.RFC3339Nano, at)
		if !ok || terr != nil || !evaluationID.MatchString(id) {
			return nil, errs.E(errs.Malformed, "page_token is not valid; start again without it")
		}
		sq.AfterTime, sq.AfterID = t, id
	}
	items, err := s.store.ListEvaluations(ctx, sq)
	if err != nil {
		return nil, err
	}
	out := &api.EvaluationList{Items: items}
	if len(items) > size {
		last := items[size-1]
		out.Items = items[:size]
		out.NextPageToken = encodeCursor(last.EvaluatedAt.UTC().Format(time.RFC3339Nano) + "|" + last.ID)
	}
	return out, nil
}

// GetEvaluation returns a result.
func (s *Service) GetEvaluation(ctx context.Context, id string) (*api.Evaluation, error) {
	return s.store.GetEvaluation(ctx, id)
}

// LeaderboardQuery asks for a leaderboard page.
type LeaderboardQuery struct {
	Benchmark string
	// Version is the benchmark's version; "" for the newest in the
	// catalogue.
	Version string
	// Metric is the metric ranked; "" for the benchmark's first.
	Metric   string
	Role     api.Role
	Status   api.Status
	Offset   int
	PageSize int
}

// Leaderboard ranks the models on a metric of a benchmark by their latest
// valid result, best first.
func (s *Service) Leaderboard(ctx context.Context, q LeaderboardQuery) (*api.Leaderboard, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, err
	}
	if q.Offset < 0 || q.Offset > 1_000_000 {
		return nil, errs.E(errs.Malformed, "offset must be between 0 and 1000000")
	}
	if err := oneOf("role", string(q.Role), roles); err != nil {
		return nil, err
	}
	if err := oneOf("status", string(q.Status), statuses); err != nil {
		return nil, err
	}
	bench, err := s.benchmarkFor(ctx, q.Benchmark, q.Version)
	if err != nil {
		return nil, err
	}
	metric := q.Metric
	if metric == "" {
		metric = bench.Metrics[0].Name
	}
	idx := slices.IndexFunc(bench.Metrics, func(m api.BenchmarkMetric) bool { return m.Name == metric })
	if idx < 0 {
		return nil, errs.E(errs.NotFound, "benchmark %s version %s has no metric %s; its metrics: %s", bench.Name, bench.Version, metric, metricNames(bench))
	}
	rows, err := s.store.Leaderboard(ctx, store.LeaderboardQuery{Benchmark: bench.Name, Version: bench.Version, Metric: metric,
		Role: q.Role, Status: q.Status, Offset: q.Offset, Limit: size})
	if err != nil {
		return nil, err
	}
	out := &api.Leaderboard{Benchmark: bench.Name, Version: bench.Version, Metric: metric, Direction: bench.Metrics[idx].Direction,
		Items: make([]*api.LeaderboardEntry, len(rows))}
	for i, r := range rows {
		out.Items[i] = &api.LeaderboardEntry{Rank: q.Offset + i + 1, ModelID: r.ModelID, Role: r.Role, Status: r.Status,
			Value: r.Value, Stderr: r.Stderr, Evaluation: r.EvaluationID, At: r.EvaluatedAt}
	}
	return out, nil
}

// benchmarkFor returns a benchmark of the catalogue, the newest version
// when version is "".
func (s *Service) benchmarkFor(ctx context.Context, name, version string) (*api.Benchmark, error) {
	if version != "" {
		return s.store.GetBenchmark(ctx, name, version)
	}
	all, err := s.store.ListBenchmarks(ctx)
	if err != nil {
		return nil, err
	}
	var newest *api.Benchmark
	for _, b := range all {
		if b.Name == name && (newest == nil || b.CreatedAt.After(newest.CreatedAt)) {
			newest = b
		}
	}
	if newest == nil {
		return nil, errs.E(errs.NotFound, "benchmark %s is not in the catalogue", name)
	}
	return newest, nil
}

// Compare sets two models' latest valid scores side by side, on every
// benchmark metric either has.
func (s *Service) Compare(ctx context.Context, a, b string) (*api.Comparison, error) {
	if a == b {
		return nil, errs.E(errs.Malformed, "compare two different models")
	}
	scores := [2][]store.Score{}
	for i, id := range []string{a, b} {
		if _, err := s.store.GetModel(ctx, id); err != nil {
			return nil, err
		}
		var err error
		if scores[i], err = s.store.LatestScores(ctx, id); err != nil {
			return nil, err
		}
	}
	type key struct{ bench, version, metric string }
	items := map[key]*api.ComparisonItem{}
	stderr := map[key][2]*float64{}
	var keys []key
	for i := range 2 {
		for _, sc := range scores[i] {
			k := key{sc.Benchmark, sc.BenchmarkVersion, sc.Metric}
			it := items[k]
			if it == nil {
				it = &api.ComparisonItem{Benchmark: sc.Benchmark, Version: sc.BenchmarkVersion, Metric: sc.Metric}
				items[k] = it
				keys = append(keys, k)
			}
			v := sc.Value
			se := stderr[k]
			se[i] = sc.Stderr
			stderr[k] = se
			if i == 0 {
				it.A = &v
			} else {
				it.B = &v
			}
		}
	}
	slices.SortFunc(keys, func(x, y key) int {
		return strings.Compare(x.bench+"\x00"+x.version+"\x00"+x.metric, y.bench+"\x00"+y.version+"\x00"+y.metric)
	})
	out := &api.Comparison{A: a, B: b, Items: make([]api.ComparisonItem, 0, len(keys))}
	dirs := map[string]*api.Benchmark{}
	for _, k := range keys {
		it := items[k]
		bench, ok := dirs[k.bench+"@"+k.version]
		if !ok {
			bench, _ = s.store.GetBenchmark(ctx, k.bench, k.version)
			dirs[k.bench+"@"+k.version] = bench
		}
		if bench != nil {
			for _, m := range bench.Metrics {
				if m.Name == k.metric {
					it.Direction = m.Direction
				}
			}
		}
		if it.A != nil && it.B != nil {
			d := *it.B - *it.A
			it.Difference = &d
			noise := 0.0
			if se := stderr[k]; se[0] != nil && se[1] != nil {
				noise = math.Sqrt(*se[0]**se[0] + *se[1]**se[1])
			}
			if math.Abs(d) > noise && d != 0 {
				better := d > 0
				if it.Direction == api.LowerIsBetter {
					better = !better
				}
				it.Better = a
				if better {
					it.Better = b
				}
			}
		}
		out.Items = append(out.Items, *it)
	}
	return out, nil
}
