package evalingest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/schema"
)

// The benchmarks of the HiveLLM ecosystem's own evaluations.
const (
	// BenchmarkGovernanceChecks is the reviewed result of the model test
	// protocol, as metrics/model_evaluations.json records it.
	BenchmarkGovernanceChecks = "hivellm/governance-checks"
	// BenchmarkModelTests is a per-model test result of
	// metrics/models/*.json, classified by the model itself.
	BenchmarkModelTests = "hivellm/model-tests"
	// ModelTestsVersion is the version given to BenchmarkModelTests: the
	// files and their schema name none.
	ModelTestsVersion = "unversioned"
	// HarnessHiveLLM is the Harness of the HiveLLM results.
	HarnessHiveLLM = "hivellm-model-test-protocol"
)

// hivellmCheck is one check of the model test protocol.
type hivellmCheck struct {
	name   string // as the schema's enum writes it
	metric string
	max    float64 // from guidelines/MODEL_TEST_PROTOCOL.md's rubric
}

// hivellmChecks are the six checks, in the protocol's order. The schemas
// bound every check by [0, 25]; the protocol's rubric gives each its own
// maximum, which the catalogue uses.
var hivellmChecks = []hivellmCheck{
	{"Connectivity", "connectivity", 15},
	{"Command & Tool Use", "command-tool-use", 15},
	{"Cursor File Operations", "cursor-file-operations", 25},
	{"Task Completeness", "task-completeness", 25},
	{"Compliance & Safety", "compliance-safety", 10},
	{"Stability", "stability", 10},
}

// portugueseChecks maps the Portuguese check names that one test result
// (metrics/models/llama-3.3-70b-instruct.json) uses to the English names of
// the schema.
var portugueseChecks = map[string]string{
	"Conectividade":                  "Connectivity",
	"Uso de Comandos e Ferramentas":  "Command & Tool Use",
	"Operações de Arquivo do Cursor": "Cursor File Operations",
	"Conclusão de Tarefas":           "Task Completeness",
	"Conformidade e Segurança":       "Compliance & Safety",
	"Estabilidade":                   "Stability",
}

// HiveLLMCatalogue returns the catalogue entries of the HiveLLM benchmarks:
// BenchmarkGovernanceChecks at version (the schemaVersion of
// model_evaluations.json) and BenchmarkModelTests.
func HiveLLMCatalogue(version string) []*api.Benchmark {
	metrics := func(withTotal bool) []api.BenchmarkMetric {
		var ms []api.BenchmarkMetric
		for _, c := range hivellmChecks {
			ms = append(ms, api.BenchmarkMetric{
				Name: c.metric, Direction: api.HigherIsBetter, Min: ptr(0.0), Max: ptr(c.max),
				Description: fmt.Sprintf("the %q check, 0 to %g points by the protocol's rubric (the schema allows 0 to 25)", c.name, c.max),
			})
		}
		if withTotal {
			ms = append(ms, api.BenchmarkMetric{
				Name: "total", Direction: api.HigherIsBetter, Min: ptr(0.0), Max: ptr(100.0),
				Description: "the entry's score as recorded (0 to 100); not recomputed from the checks",
			})
		}
		return ms
	}
	return []*api.Benchmark{
		{
			Name: BenchmarkGovernanceChecks, Version: version, Task: "review", Metrics: metrics(true),
			Description: "HiveLLM model operational test protocol: six checks and a score, reviewed (status general, contributor or rejected)",
			Source:      "hivellm/gov guidelines/MODEL_TEST_PROTOCOL.md, schemas/model_evaluation_entry.schema.json",
		},
		{
			Name: BenchmarkModelTests, Version: ModelTestsVersion, Task: "review", Metrics: metrics(false),
			Description: "HiveLLM per-model test result: the six checks of the protocol with a self-classification",
			Source:      "hivellm/gov schemas/model_test_result.schema.json",
		},
	}
}

// HiveLLM reads the HiveLLM ecosystem's evaluation records under dir (a
// checkout of hivellm/gov): metrics/model_evaluations.json, each of
// metrics/models/*.json, and the schemas under schemas/ that they claim to
// follow. It returns an error, of kind errs.Malformed, errs.TooLarge or
// errs.NotFound, when model_evaluations.json cannot be read; a test result
// that cannot be read is a Problem.
func HiveLLM(dir string) (*Batch, error) {
	evalPath := filepath.Join(dir, "metrics", "model_evaluations.json")
	data, err := readLimited(evalPath)
	if err != nil {
		return nil, fmt.Errorf("read hivellm evaluations: %w", err)
	}
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("read hivellm evaluations %s: %w", evalPath, err)
	}
	top, ok := asObject(doc)
	if !ok {
		return nil, errs.E(errs.Malformed, "read hivellm evaluations %s: not a JSON object", evalPath)
	}
	evals, ok := asArray(top["evaluations"])
	if !ok {
		return nil, errs.E(errs.Malformed, "read hivellm evaluations %s: no \"evaluations\" list", evalPath)
	}
	b := &Batch{Format: FormatHiveLLM}
	h := &hiveParser{b: b, digest: digest(data)}
	h.loadSchemas(filepath.Join(dir, "schemas"))
	h.validate("", h.evaluationsSchema, "model_evaluations.schema.json", doc)

	version, _ := asString(top["schemaVersion"])
	if version == "" {
		b.warnf("schemaVersion", "no schemaVersion; benchmark version recorded as \"unspecified\"")
		version = "unspecified"
	}
	for _, bm := range HiveLLMCatalogue(version) {
		b.addBenchmark(bm)
	}
	h.version = version
	h.fileUpdated, _ = parseTime(top["updatedAt"])
	for i, e := range evals {
		h.evaluation(i, e)
	}
	h.modelTests(filepath.Join(dir, "metrics", "models"))
	for i, e := range h.evals {
		if !e.matched {
			b.warnf(fmt.Sprintf("evaluations[%d]", i), "no test result in metrics/models/ for %q", e.model)
		}
	}
	b.sortBenchmarks()
	return b, nil
}

type hiveParser struct {
	b                 *Batch
	digest, version   string
	fileUpdated       time.Time
	evaluationsSchema *jsonschema.Schema
	testResultSchema  *jsonschema.Schema
	evals             []*hiveEval
	translator        schema.Translator
}

// hiveEval is what the cross-check needs of an evaluation entry.
type hiveEval struct {
	where, model, key, session, status string
	scores                             map[string]float64
	matched                            bool
}

func (h *hiveParser) loadSchemas(dir string) {
	c := jsonschema.NewCompiler()
	base := "file:///hivellm/gov/schemas/"
	for _, name := range []string{"model_evaluations.schema.json", "model_evaluation_entry.schema.json", "model_test_result.schema.json"} {
		data, err := readLimited(filepath.Join(dir, name))
		if err != nil {
			h.b.warnf("", "schema %s not read (%v); the records are not validated against it", name, err)
			continue
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err == nil {
			err = c.AddResource(base+name, doc)
		}
		if err != nil {
			h.b.warnf("", "schema %s unusable (%v); the records are not validated against it", name, err)
		}
	}
	if s, err := c.Compile(base + "model_evaluations.schema.json"); err == nil {
		h.evaluationsSchema = s
	}
	if s, err := c.Compile(base + "model_test_result.schema.json"); err == nil {
		h.testResultSchema = s
	}
}

// validate reports each way doc breaks the schema, at the failing field.
func (h *hiveParser) validate(prefix string, s *jsonschema.Schema, schemaName string, doc any) {
	if s == nil {
		return
	}
	err := s.Validate(doc)
	if err == nil {
		return
	}
	for _, f := range schema.SortFields(h.translator.FieldErrors(err)) {
		h.b.warnf(joinWhere(prefix, pointerWhere(f.Pointer)), "breaks %s: %s", schemaName, f.Message)
	}
}

func (h *hiveParser) evaluation(i int, v any) {
	b := h.b
	where := fmt.Sprintf("evaluations[%d]", i)
	e, ok := asObject(v)
	req := api.ResultRequest{
		Benchmark: BenchmarkGovernanceChecks, BenchmarkVersion: h.version,
		Harness: HarnessHiveLLM, ArtifactDigest: h.digest,
		Source:   "metrics/model_evaluations.json#" + pointer("evaluations", strconv.Itoa(i)),
		Settings: map[string]any{},
	}
	if !ok {
		b.errorf(where, "not an object; kept without values")
		b.Results = append(b.Results, Result{Request: req, Where: where})
		return
	}
	model, _ := asString(e["fullModel"])
	if model == "" {
		b.errorf(where, "no fullModel: the entry names no model")
	}
	session, _ := asString(e["sessionId"])
	status, _ := asString(e["status"])
	for _, k := range []string{"provider", "modelFamily", "modelVariant", "version", "sessionId", "status", "reviewerNotes", "masterDecision", "history", "updatedAt"} {
		if val, ok := e[k]; ok {
			req.Settings[k] = plain(val)
		}
	}
	if s, ok := e["sessionId"]; ok && (s == nil || s == "") {
		b.warnf(where+".sessionId", "no sessionId (%s)", jsonText(s))
	}
	key := normalizeModel(model)
	req.Settings["source_id"] = "model_evaluations.json#" + slug(model) + "@" + firstNonEmpty(session, "no-session")
	for _, prev := range h.evals {
		if key != "" && prev.key == key {
			b.warnf(where, "the same model as %s (%q); both are kept", prev.where, prev.model)
		}
	}

	scores, _ := h.checks(where, where+".", e["checks"], &req)
	score, hasScore := asNumber(e["score"])
	checks, _ := asArray(e["checks"])
	switch {
	case hasScore:
		req.Values = append(req.Values, api.MetricValue{Metric: "total", Value: score})
	case len(checks) == 0:
		b.errorf(where, "status %s with a null score and no checks: kept without values", jsonText(e["status"]))
	default:
		b.warnf(where+".score", "score is %s; the total is left out", jsonText(e["score"]))
	}
	if hasScore && len(scores) > 0 {
		sum, terms := 0.0, []string{}
		for _, c := range hivellmChecks {
			if s, ok := scores[c.metric]; ok {
				sum += s
				terms = append(terms, formatNumber(s))
			}
		}
		if sum != score {
			b.warnf(where+".score", "score %s differs from the sum of its checks %s (%s); both are kept as given",
				formatNumber(score), formatNumber(sum), strings.Join(terms, "+"))
		}
	}
	h.consistency(where, e, status, score, hasScore, scores)
	req.EvaluatedAt = h.evaluatedAt(where, e, &req)
	h.evals = append(h.evals, &hiveEval{where: where, model: model, key: key, session: session, status: status, scores: scores})
	b.Results = append(b.Results, Result{Model: model, Request: req, Where: where})
}

// checks turns the checks into metric values, reporting any it cannot
// read, and returns the scores by metric.
// inner is the prefix of the places inside the record: "evaluations[3]."
// or "models/x.json:".
func (h *hiveParser) checks(where, inner string, v any, req *api.ResultRequest) (map[string]float64, int) {
	b := h.b
	scores := map[string]float64{}
	list, _ := asArray(v)
	critical, notes := map[string]any{}, map[string]any{}
	var translated []string
	problems := 0
	for j, item := range list {
		cw := fmt.Sprintf("%schecks[%d]", inner, j)
		c, ok := asObject(item)
		if !ok {
			b.errorf(cw, "not an object; left out")
			problems++
			continue
		}
		name, _ := asString(c["name"])
		if en, ok := portugueseChecks[name]; ok {
			translated = append(translated, fmt.Sprintf("%q → %q", name, en))
			name = en
		}
		metric := slug(name)
		known := slices.IndexFunc(hivellmChecks, func(k hivellmCheck) bool { return k.name == name })
		if known < 0 {
			b.warnf(cw+".name", "check %q is not one of the protocol's six; recorded as metric %q", name, metric)
		}
		if metric == "" {
			b.errorf(cw+".name", "no check name; left out")
			problems++
			continue
		}
		if _, dup := scores[metric]; dup {
			b.errorf(cw, "check %q given twice; both are kept and the result is ambiguous", name)
		}
		score, ok := asNumber(c["score"])
		if !ok {
			b.errorf(cw+".score", "score %s is not a number; left out", jsonText(c["score"]))
			problems++
			continue
		}
		if known >= 0 && (score < 0 || score > hivellmChecks[known].max) {
			b.warnf(cw+".score", "%s is %s, outside the protocol's 0 to %g", name, formatNumber(score), hivellmChecks[known].max)
		}
		scores[metric] = score
		req.Values = append(req.Values, api.MetricValue{Metric: metric, Value: score})
		if crit, ok := c["critical"]; ok {
			critical[metric] = plain(crit)
		}
		if note, ok := asString(c["note"]); ok {
			notes[metric] = note
		}
	}
	if len(translated) > 0 {
		b.warnf(inner+"checks", "check names in Portuguese, mapped to the schema's English names: %s", strings.Join(translated, ", "))
		req.Settings["check_names_translated"] = true
	}
	if len(critical) > 0 {
		req.Settings["critical"] = critical
	}
	if len(notes) > 0 {
		req.Settings["notes"] = notes
	}
	return scores, problems
}

// consistency reports an entry whose status contradicts its decision, its
// history or, when the master did not decide, the protocol's thresholds.
func (h *hiveParser) consistency(where string, e map[string]any, status string, score float64, hasScore bool, scores map[string]float64) {
	b := h.b
	decision, hasDecision := asObject(e["masterDecision"])
	if hasDecision {
		if d, _ := asString(decision["decision"]); d != "" && d != status {
			b.warnf(where+".masterDecision", "masterDecision.decision is %q but status is %q", d, status)
		}
	}
	history, _ := asArray(e["history"])
	var latest time.Time
	for _, item := range history {
		ev, _ := asObject(item)
		if t, ok := parseTime(ev["timestamp"]); ok && t.After(latest) {
			latest = t
		}
	}
	if n := len(history); n > 0 {
		last, _ := asObject(history[n-1])
		if s, _ := asString(last["status"]); s != "" && s != status {
			b.warnf(fmt.Sprintf("%s.history[%d]", where, n-1), "the last history event sets status %q but status is %q", s, status)
		}
	}
	if updated, ok := parseTime(e["updatedAt"]); ok && !latest.IsZero() && updated.Before(latest) {
		b.warnf(where+".updatedAt", "updatedAt %s is before the latest history event (%s)", updated.Format(time.RFC3339), latest.Format(time.RFC3339))
	}
	if hasDecision || !hasScore || len(scores) == 0 {
		return
	}
	if want := protocolStatus(score, e); want != status {
		b.warnf(where+".status", "status %q without a master decision, but the protocol's thresholds give %q for score %s", status, want, formatNumber(score))
	}
}

// protocolStatus is the status the protocol's thresholds give: general at
// 85 or more without a critical fail; contributor from 65; else rejected.
// A critical fail of Connectivity, File Ops or Completeness rejects.
func protocolStatus(score float64, e map[string]any) string {
	checks, _ := asArray(e["checks"])
	criticalFail := false
	for _, item := range checks {
		c, _ := asObject(item)
		name, _ := asString(c["name"])
		if crit, _ := c["critical"].(bool); crit && (name == "Connectivity" || name == "Cursor File Operations" || name == "Task Completeness") {
			criticalFail = true
		}
	}
	switch {
	case criticalFail || score < 65:
		return "rejected"
	case score >= 85:
		return "general"
	}
	return "contributor"
}

// evaluatedAt is the time of the latest history event that assessed the
// model (any event but master_override), else the entry's updatedAt, else
// the file's updatedAt.
func (h *hiveParser) evaluatedAt(where string, e map[string]any, req *api.ResultRequest) time.Time {
	history, _ := asArray(e["history"])
	var at time.Time
	for _, item := range history {
		ev, _ := asObject(item)
		if name, _ := asString(ev["event"]); name == "master_override" {
			continue
		}
		if t, ok := parseTime(ev["timestamp"]); ok && t.After(at) {
			at = t
		}
	}
	if !at.IsZero() {
		req.Settings["evaluated_at_from"] = "history"
		return at
	}
	if t, ok := parseTime(e["updatedAt"]); ok {
		req.Settings["evaluated_at_from"] = "updatedAt"
		return t
	}
	if !h.fileUpdated.IsZero() {
		h.b.warnf(where, "no date of its own; evaluated_at is the file's updatedAt")
		req.Settings["evaluated_at_from"] = "file updatedAt"
		return h.fileUpdated
	}
	h.b.warnf(where, "no date; evaluated_at is left zero")
	return time.Time{}
}

// modelTests reads metrics/models/*.json and cross-checks each with the
// evaluations.
func (h *hiveParser) modelTests(dir string) {
	b := h.b
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.warnf("", "no test results read from metrics/models (%v)", err)
		return
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if len(names) > 0 {
		b.warnf("models", "the test results in metrics/models carry no date; their evaluated_at is left zero")
	}
	for _, name := range names {
		h.modelTest(filepath.Join(dir, name), "models/"+name)
	}
}

func (h *hiveParser) modelTest(path, where string) {
	b := h.b
	req := api.ResultRequest{
		Benchmark: BenchmarkModelTests, BenchmarkVersion: ModelTestsVersion,
		Harness: HarnessHiveLLM, Source: "metrics/" + where,
		Settings: map[string]any{},
	}
	data, err := readLimited(path)
	if err != nil {
		b.errorf(where, "not read: %v", err)
		b.Results = append(b.Results, Result{Request: req, Where: where})
		return
	}
	req.ArtifactDigest = digest(data)
	doc, err := decodeJSON(data)
	t, ok := asObject(doc)
	if err != nil || !ok {
		b.errorf(where, "not a JSON object: %v", err)
		b.Results = append(b.Results, Result{Request: req, Where: where})
		return
	}
	h.validate(where, h.testResultSchema, "model_test_result.schema.json", doc)
	model, _ := asString(t["model"])
	if model == "" {
		model, _ = asString(t["fullModel"])
	}
	if model == "" {
		b.errorf(where, "names no model (neither model nor fullModel)")
	}
	session, _ := asString(t["sessionId"])
	for _, k := range []string{"provider", "modelFamily", "modelVariant", "version", "sessionId", "selfClassification", "summary"} {
		if v, ok := t[k]; ok {
			req.Settings[k] = plain(v)
		}
	}
	req.Settings["source_id"] = where + "#" + slug(model) + "@" + firstNonEmpty(session, "no-session")
	scores, _ := h.checks(where, where+":", t["checks"], &req)
	if len(req.Values) == 0 {
		b.errorf(where, "no check scores: kept without values")
	}
	h.crossCheck(where, model, session, t, scores)
	b.Results = append(b.Results, Result{Model: model, Request: req, Where: where})
}

// crossCheck compares a test result with the evaluation of the same model
// (by fullModel, ignoring case and punctuation, else by sessionId).
func (h *hiveParser) crossCheck(where, model, session string, t map[string]any, scores map[string]float64) {
	b := h.b
	var match *hiveEval
	key := normalizeModel(model)
	for _, e := range h.evals {
		if key != "" && e.key == key {
			match = e
			break
		}
	}
	if match == nil && session != "" {
		for _, e := range h.evals {
			if e.session == session {
				match = e
				break
			}
		}
	}
	if match == nil {
		b.warnf(where, "no entry in model_evaluations.json for %q", model)
		return
	}
	match.matched = true
	var diffs []string
	if len(match.scores) == 0 && len(scores) > 0 {
		diffs = append(diffs, "the evaluation has no check scores")
	} else {
		for _, c := range hivellmChecks {
			mine, ok1 := scores[c.metric]
			theirs, ok2 := match.scores[c.metric]
			if ok1 && ok2 && mine != theirs {
				diffs = append(diffs, fmt.Sprintf("%s %s vs %s", c.metric, formatNumber(mine), formatNumber(theirs)))
			}
		}
	}
	if session != match.session {
		diffs = append(diffs, fmt.Sprintf("sessionId %q vs %q", session, match.session))
	}
	if self, _ := asString(t["selfClassification"]); self != "" && self != match.status {
		diffs = append(diffs, fmt.Sprintf("selfClassification %q vs status %q", self, match.status))
	}
	if len(diffs) > 0 {
		b.warnf(where, "differs from model_evaluations.json %s (%q): %s (this file vs model_evaluations.json)", match.where, match.model, strings.Join(diffs, "; "))
	}
}

// normalizeModel keys a model name for matching: lowercase letters and
// digits only ("Anthropic Claude-3.5 Sonnet" matches "Anthropic Claude 3.5
// Sonnet").
func normalizeModel(s string) string {
	return strings.ReplaceAll(slug(s), "-", "")
}

func parseTime(v any) (time.Time, bool) {
	s, ok := asString(v)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err == nil
}

// jsonText writes a decoded JSON value briefly, for messages.
func jsonText(v any) string {
	if v == nil {
		return "null"
	}
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	if t, ok := scalarText(v); ok {
		return t
	}
	return fmt.Sprintf("%v", plain(v))
}

// pointerWhere turns a JSON pointer into the notation of Result.Where:
// "/evaluations/3/history/1" is "evaluations[3].history[1]".
func pointerWhere(p string) string {
	if p == "" {
		return ""
	}
	var b strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func joinWhere(prefix, where string) string {
	switch {
	case prefix == "":
		return where
	case where == "":
		return prefix
	}
	return prefix + ":" + where
}

// readLimited reads a file of at most MaxInputSize bytes.
func readLimited(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.Wrap(errs.NotFound, err, "not found")
		}
		return nil, err
	}
	if info.Size() > MaxInputSize {
		return nil, errs.E(errs.TooLarge, "%s: %d bytes, over the limit of %d", path, info.Size(), MaxInputSize)
	}
	return os.ReadFile(path)
}
