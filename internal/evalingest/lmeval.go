package evalingest

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// HarnessLMEval is the Harness of the results LMEvalHarness reads.
const HarnessLMEval = "lm-evaluation-harness"

// topSettings are the top-level fields of a v0.4 results file kept in every
// result's Settings, besides the "config" block.
var topSettings = []string{
	"model_source", "model_name", "model_name_sanitized", "transformers_version",
	"upper_git_hash", "system_instruction_sha", "chat_template_sha",
	"fewshot_as_multiturn", "max_length", "total_evaluation_time_seconds",
}

var (
	fileTimestamp = regexp.MustCompile(`results_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d{1,9})?)`)
	pipLMEval     = regexp.MustCompile(`lm[-_]eval(?:uation[-_]harness)?\s*==\s*([0-9][^\s]*)`)
)

// LMEvalHarness reads a results file of EleutherAI's lm-evaluation-harness,
// v0.4 ("acc,none" keys) or older ("acc" keys). name is the file's name, for
// the results' Source and the timestamp in it. It returns an error, of kind
// errs.Malformed or errs.TooLarge, only when data is not a results file at
// all; everything else is a Problem.
func LMEvalHarness(name string, data []byte) (*Batch, error) {
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("read lm-evaluation-harness results %s: %w", name, err)
	}
	top, ok := asObject(doc)
	if !ok {
		return nil, errs.E(errs.Malformed, "read lm-evaluation-harness results %s: not a JSON object", name)
	}
	results, ok := asObject(top["results"])
	if !ok {
		return nil, errs.E(errs.Malformed, "read lm-evaluation-harness results %s: no \"results\" object", name)
	}
	groups, _ := asObject(top["groups"])
	p := &lmParser{
		b:       &Batch{Format: FormatLMEval},
		top:     top,
		name:    baseName(name),
		digest:  digest(data),
		configs: objectAt(top, "configs"),
		config:  objectAt(top, "config"),
		legacy:  !hasFilterKeys(results) && !hasFilterKeys(groups),
	}
	p.model = p.readModel()
	p.at = p.readDate()
	p.harnessVersion = p.readHarnessVersion()
	if limit, ok := p.config["limit"]; ok && limit != nil {
		text, _ := scalarText(limit)
		p.b.warnf("config.limit", "the run was limited to %s documents per task (config.limit)", text)
	}

	tasks := sortedKeys(results)
	for _, g := range sortedKeys(groups) {
		if r, ok := results[g]; ok {
			if !sameJSON(r, groups[g]) {
				p.b.warnf("groups."+g, "group %q differs between \"results\" and \"groups\"; the \"results\" entry is used", g)
			}
			continue
		}
		tasks = append(tasks, g)
	}
	for _, task := range tasks {
		where, entry := "results."+task, results[task]
		if _, ok := results[task]; !ok {
			where, entry = "groups."+task, groups[task]
		}
		p.task(task, where, entry)
	}
	p.b.boundAccuracies(func(m string) string { before, _, _ := strings.Cut(m, ","); return before })
	p.b.sortBenchmarks()
	return p.b, nil
}

type lmParser struct {
	b              *Batch
	top            map[string]any
	name, digest   string
	configs        map[string]any
	config         map[string]any
	legacy         bool
	model          string
	at             time.Time
	harnessVersion string
}

// metricValue is one metric of a task as the file gives it.
type metricValue struct {
	value     any
	stderr    any
	hasValue  bool
	hasStderr bool
}

func (p *lmParser) task(task, where string, entry any) {
	b := p.b
	obj, ok := asObject(entry)
	req := api.ResultRequest{
		Benchmark:      benchmarkName(task),
		Harness:        HarnessLMEval,
		HarnessVersion: p.harnessVersion,
		EvaluatedAt:    p.at,
		ArtifactDigest: p.digest,
		Source:         p.name + "#" + pointer(strings.SplitN(where, ".", 2)...),
		Settings:       map[string]any{},
	}
	req.Settings["source_id"] = p.digest + ":" + where
	if req.Benchmark != task {
		b.warnf(where, "task name %q is not a valid benchmark name; recorded as %q", task, req.Benchmark)
		req.Settings["task"] = task
	}
	req.BenchmarkVersion = p.version(task, where)
	req.NShot = p.nShot(task, where)
	p.settings(task, req.Settings)
	if !ok {
		b.errorf(where, "the task's results are not an object")
		b.Results = append(b.Results, Result{Model: p.model, Request: req, Where: where})
		return
	}

	// Collect metric keys: "<metric>,<filter>" and "<metric>_stderr,<filter>"
	// (v0.4) or "<metric>" and "<metric>_stderr" (legacy).
	metrics := map[string]*metricValue{}
	var order []string
	get := func(name string) *metricValue {
		if m, ok := metrics[name]; ok {
			return m
		}
		m := &metricValue{}
		metrics[name] = m
		order = append(order, name)
		return m
	}
	filters := map[string]bool{}
	other := map[string]any{}
	for _, key := range sortedKeys(obj) {
		metric, filter, hasFilter := strings.Cut(key, ",")
		if !p.legacy && !hasFilter {
			if key == "alias" {
				req.Settings["alias"] = obj[key]
			} else {
				other[key] = plain(obj[key])
			}
			continue
		}
		if p.legacy {
			if _, isNumber := asNumber(obj[key]); !isNumber && !strings.HasSuffix(key, "_stderr") {
				other[key] = plain(obj[key])
				continue
			}
		}
		base, isStderr := strings.CutSuffix(metric, "_stderr")
		name := base
		if hasFilter && filter != "none" {
			name += "," + filter
		}
		if hasFilter {
			filters[filter] = true
		}
		m := get(name)
		if isStderr {
			m.stderr, m.hasStderr = obj[key], true
		} else {
			m.value, m.hasValue = obj[key], true
		}
	}
	if len(other) > 0 {
		req.Settings["result_fields"] = other
	}
	if fs := sortedKeys(boolMap(filters)); len(fs) > 1 || len(fs) == 1 && fs[0] != "none" {
		req.Settings["filters"] = fs
	}

	bm := &api.Benchmark{
		Name:    req.Benchmark,
		Version: req.BenchmarkVersion,
		Source:  HarnessLMEval + " task " + task,
	}
	cfg := objectAt(p.configs, task)
	if t, ok := asString(cfg["output_type"]); ok {
		bm.Task = t
	}
	if ds, ok := asString(cfg["dataset_path"]); ok && ds != "" {
		bm.Source = ds
	}
	if d, ok := asString(cfg["task_alias"]); ok {
		bm.Description = d
	}
	var na []string
	slices.Sort(order)
	for _, name := range order {
		m := metrics[name]
		if !m.hasValue {
			b.warnf(where, "%s has a standard error but no value", name)
			continue
		}
		value, isNumber := asNumber(m.value)
		if !isNumber {
			text, _ := scalarText(m.value)
			b.errorf(where, "%s is %q, not a number; the value is left out", name, text)
			continue
		}
		mv := api.MetricValue{Metric: name, Value: value}
		if m.hasStderr {
			if se, ok := asNumber(m.stderr); ok {
				mv.Stderr = ptr(se)
			} else {
				text, _ := scalarText(m.stderr)
				if text == "" {
					text = "null"
				}
				na = append(na, fmt.Sprintf("%s (%q)", name, text))
			}
		}
		req.Values = append(req.Values, mv)
		bm.Metrics = append(bm.Metrics, api.BenchmarkMetric{Name: name, Direction: p.direction(task, where, name)})
	}
	if len(na) > 0 {
		b.warnf(where, "no standard error for %s", strings.Join(na, ", "))
	}
	if len(req.Values) == 0 {
		b.errorf(where, "the task reports no metric values")
	}
	b.addBenchmark(bm)
	b.Results = append(b.Results, Result{Model: p.model, Request: req, Where: where})
}

// direction finds the direction of a task's metric: the task config's
// metric_list, the file's higher_is_better block, then the metric's name.
func (p *lmParser) direction(task, where, name string) string {
	base, _, _ := strings.Cut(name, ",")
	fromConfig, fromBlock := "", ""
	if list, ok := asArray(objectAt(p.configs, task)["metric_list"]); ok {
		for _, item := range list {
			m, _ := asObject(item)
			if n, _ := asString(m["metric"]); n == base {
				if hib, ok := m["higher_is_better"].(bool); ok {
					fromConfig = directionOf(hib)
				}
			}
		}
	}
	if hib, ok := objectAt(objectAt(p.top, "higher_is_better"), task)[base].(bool); ok {
		fromBlock = directionOf(hib)
	}
	if fromConfig != "" && fromBlock != "" && fromConfig != fromBlock {
		p.b.warnf(where, "%s: configs says %s is better, higher_is_better says %s; configs is used", name, fromConfig, fromBlock)
	}
	if d := firstNonEmpty(fromConfig, fromBlock, knownDirection(base)); d != "" {
		return d
	}
	p.b.warnf(where, "direction of %s unknown: the file does not state it and the name does not say", name)
	return ""
}

func directionOf(higherIsBetter bool) string {
	if higherIsBetter {
		return api.HigherIsBetter
	}
	return api.LowerIsBetter
}

func (p *lmParser) version(task, where string) string {
	v, ok := objectAt(p.top, "versions")[task]
	if text, isScalar := scalarText(v); ok && isScalar && text != "" {
		return text
	}
	p.b.warnf(where, "no version for task %q; recorded as \"unspecified\"", task)
	return "unspecified"
}

func (p *lmParser) nShot(task, where string) *int {
	fromConfig := -1
	if n, ok := asNumber(objectAt(p.configs, task)["num_fewshot"]); ok {
		fromConfig = int(n)
	}
	if nshot, ok := asObject(p.top["n-shot"]); ok {
		if n, ok := asNumber(nshot[task]); ok {
			if fromConfig >= 0 && fromConfig != int(n) {
				p.b.warnf(where, "n-shot says %d, configs.num_fewshot says %d; n-shot is used", int(n), fromConfig)
			}
			return ptr(int(n))
		}
		if fromConfig >= 0 {
			return ptr(fromConfig)
		}
		p.b.warnf(where, "no n-shot for task %q", task)
		return nil
	}
	if fromConfig >= 0 {
		return ptr(fromConfig)
	}
	if n, ok := asNumber(p.config["num_fewshot"]); ok {
		return ptr(int(n))
	}
	p.b.warnf(where, "no n-shot for task %q (neither n-shot nor config.num_fewshot)", task)
	return nil
}

// settings fills the run's settings: the config block, top-level fields
// about the model and run, and the task's dataset and sample counts.
func (p *lmParser) settings(task string, s map[string]any) {
	for k, v := range p.config {
		s[k] = plain(v)
	}
	for _, k := range topSettings {
		if v, ok := p.top[k]; ok && v != nil {
			s[k] = plain(v)
		}
	}
	cfg := objectAt(p.configs, task)
	for _, k := range []string{"dataset_path", "dataset_name", "test_split", "validation_split", "fewshot_split"} {
		if v, ok := cfg[k]; ok && v != nil {
			s[k] = plain(v)
		}
	}
	if n, ok := asObject(objectAt(p.top, "n-samples")[task]); ok {
		s["n_samples"] = plain(n)
		orig, ok1 := asNumber(n["original"])
		eff, ok2 := asNumber(n["effective"])
		if ok1 && ok2 && eff < orig {
			p.b.warnf("n-samples."+task, "evaluated on %g of %g samples", eff, orig)
		}
	}
	if subs, ok := asArray(objectAt(p.top, "group_subtasks")[task]); ok && len(subs) > 0 {
		s["subtasks"] = plain(subs)
	}
	if h, ok := asString(objectAt(p.top, "task_hashes")[task]); ok {
		s["task_hash"] = h
	}
}

// readModel names the model: pretrained= in config.model_args, else
// model_name.
func (p *lmParser) readModel() string {
	args, _ := asString(p.config["model_args"])
	pretrained := ""
	for _, kv := range strings.Split(args, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(kv), "pretrained="); ok {
			pretrained = v
		}
	}
	modelName, _ := asString(p.top["model_name"])
	model := firstNonEmpty(pretrained, modelName)
	switch {
	case model == "":
		p.b.warnf("config.model_args", "the file names no model (no pretrained= in config.model_args, no model_name); the caller must give one")
	case pretrained != "" && modelName != "" && pretrained != modelName:
		p.b.warnf("model_name", "model_name %q differs from pretrained=%q in config.model_args; the latter is used", modelName, pretrained)
	}
	if strings.HasPrefix(model, "/") || strings.HasPrefix(model, "./") || strings.HasPrefix(model, "~") {
		where := "config.model_args"
		if pretrained == "" {
			where = "model_name"
		}
		p.b.warnf(where, "the model is named by a local path %q; the caller should give the model", model)
	}
	return model
}

// readDate is "date" (unix seconds, to the microsecond), else the
// timestamp of the file name (as UTC).
func (p *lmParser) readDate() time.Time {
	if sec, ok := asNumber(p.top["date"]); ok && sec > 0 && sec < 1e11 {
		whole, frac := math.Modf(sec)
		return time.Unix(int64(whole), 0).Add(time.Duration(math.Round(frac*1e6)) * time.Microsecond).UTC()
	}
	if m := fileTimestamp.FindStringSubmatch(p.name); m != nil {
		if t, err := time.Parse("2006-01-02T15-04-05.999999999", m[1]); err == nil {
			if _, present := p.top["date"]; present {
				p.b.warnf("date", "date is not a unix time; evaluated_at is taken from the file name, read as UTC")
			} else {
				p.b.warnf("", "no date; evaluated_at is taken from the file name, read as UTC")
			}
			return t
		}
	}
	p.b.warnf("", "no date and no timestamp in the file name; evaluated_at is left zero")
	return time.Time{}
}

func (p *lmParser) readHarnessVersion() string {
	if v, ok := scalarText(p.top["lm_eval_version"]); ok && v != "" {
		return v
	}
	if h, ok := asString(p.top["git_hash"]); ok && h != "" {
		return "git:" + h
	}
	if env, ok := asString(p.top["pretty_env_info"]); ok {
		if m := pipLMEval.FindStringSubmatch(env); m != nil {
			return m[1]
		}
	}
	if _, ok := p.top["git_hash"]; ok {
		p.b.warnf("git_hash", "no harness version: git_hash is null and there is no lm_eval_version")
	} else {
		p.b.warnf("", "no harness version: neither lm_eval_version nor git_hash")
	}
	return ""
}

func hasFilterKeys(results map[string]any) bool {
	for _, v := range results {
		if obj, ok := asObject(v); ok {
			for k := range obj {
				if strings.Contains(k, ",") {
					return true
				}
			}
		}
	}
	return false
}

func objectAt(m map[string]any, key string) map[string]any {
	obj, _ := asObject(m[key])
	return obj
}

func boolMap(m map[string]bool) map[string]any {
	out := make(map[string]any, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// sameJSON reports whether two decoded values are equal.
func sameJSON(a, b any) bool {
	return fmt.Sprint(plain(a)) == fmt.Sprint(plain(b))
}
