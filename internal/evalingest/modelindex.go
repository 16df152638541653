package evalingest

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

var (
	// percentValue is a number with a percent sign: "73.8%".
	percentValue = regexp.MustCompile(`^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*%\s*$`)
	// spreadValue is a number followed by a spread or an interval:
	// "1518.70 +/- 568.14", "0.14 [0.14, 0.15]".
	spreadValue = regexp.MustCompile(`^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(\+/-\s*[0-9]*\.?[0-9]+|±\s*[0-9]*\.?[0-9]+|\[\s*[-+]?[0-9]*\.?[0-9]+\s*,\s*[-+]?[0-9]*\.?[0-9]+\s*\])\s*$`)
)

// ModelIndex reads the model-index block in the YAML front-matter of a
// Hugging Face model card (a README.md). name is the file's name, for the
// results' Source. A card without a model-index gives an empty Batch and a
// Problem. It returns an error, of kind errs.Malformed or errs.TooLarge,
// only when the front-matter cannot be read.
func ModelIndex(name string, data []byte) (*Batch, error) {
	if len(data) > MaxInputSize {
		return nil, errs.E(errs.TooLarge, "read model card %s: %d bytes, over the limit of %d", name, len(data), MaxInputSize)
	}
	front, err := frontMatter(data)
	if err != nil {
		return nil, fmt.Errorf("read model card %s: %w", name, err)
	}
	b := &Batch{Format: FormatModelIndex}
	if len(bytes.TrimSpace(front)) == 0 {
		b.errorf("", "no model-index: the card has no YAML front-matter")
		return b, nil
	}
	js, err := yaml.YAMLToJSON(front)
	if err != nil {
		return nil, errs.Wrap(errs.Malformed, err, fmt.Sprintf("read model card %s: malformed YAML front-matter", name))
	}
	doc, err := decodeJSON(js)
	if err != nil {
		return nil, fmt.Errorf("read model card %s: front-matter: %w", name, err)
	}
	meta, ok := asObject(doc)
	if !ok {
		return nil, errs.E(errs.Malformed, "read model card %s: the front-matter is not a mapping", name)
	}
	index, present := meta["model-index"]
	if !present || index == nil {
		b.errorf("", "no model-index")
		return b, nil
	}
	models, ok := asArray(index)
	if !ok {
		b.errorf("model-index", "model-index is not a list")
		return b, nil
	}
	p := &indexParser{b: b, name: baseName(name), digest: digest(data), units: map[string]bool{}}
	for i, m := range models {
		p.model(fmt.Sprintf("model-index[%d]", i), m)
	}
	if len(b.Results) > 0 {
		b.warnf("model-index", "the model card does not say when the evaluations ran; evaluated_at is left zero")
	}
	b.boundAccuracies(func(m string) string { before, _, _ := strings.Cut(m, ":"); return before })
	b.sortBenchmarks()
	return b, nil
}

// frontMatter returns the YAML between a leading "---" line and the next
// "---" (or "...") line; nil when the card has none.
func frontMatter(data []byte) ([]byte, error) {
	text := bytes.TrimPrefix(data, []byte("\ufeff"))
	text = bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
	first, rest, found := bytes.Cut(text, []byte("\n"))
	if !found || strings.TrimSpace(string(first)) != "---" {
		return nil, nil
	}
	var out [][]byte
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if t := strings.TrimRight(string(line), " \t"); t == "---" || t == "..." {
			return bytes.Join(out, []byte("\n")), nil
		}
		out = append(out, line)
	}
	return nil, errs.E(errs.Malformed, "the YAML front-matter has no closing \"---\"")
}

type indexParser struct {
	b            *Batch
	name, digest string
	units        map[string]bool
	warnedDir    map[string]bool
}

func (p *indexParser) model(where string, v any) {
	m, ok := asObject(v)
	if !ok {
		p.b.errorf(where, "not a mapping")
		return
	}
	model, _ := scalarText(m["name"])
	if model == "" {
		p.b.warnf(where, "no name: the caller must give the model")
	}
	results, ok := asArray(m["results"])
	if !ok {
		if m["results"] != nil {
			p.b.errorf(where+".results", "results is not a list")
		}
		return
	}
	if len(results) == 0 {
		p.b.warnf(where+".results", "results is empty")
	}
	for i, r := range results {
		p.result(model, fmt.Sprintf("%s.results[%d]", where, i), r)
	}
}

func (p *indexParser) result(model, where string, v any) {
	b := p.b
	r, ok := asObject(v)
	req := api.ResultRequest{
		ArtifactDigest: p.digest,
		Source:         p.name + "#" + where,
		Settings:       map[string]any{"source_id": p.digest + ":" + where},
	}
	keep := func() { b.Results = append(b.Results, Result{Model: model, Request: req, Where: where}) }
	if !ok {
		b.errorf(where, "not a mapping")
		keep()
		return
	}
	task, _ := asObject(r["task"])
	dataset, _ := asObject(r["dataset"])
	source, _ := asObject(r["source"])

	dsType, _ := scalarText(dataset["type"])
	dsName, _ := scalarText(dataset["name"])
	req.Benchmark = benchmarkName(dsType)
	switch {
	case dsType == "":
		b.errorf(where+".dataset.type", "no dataset type: the result names no benchmark")
	case req.Benchmark == "":
		b.errorf(where+".dataset.type", "dataset type %q has no letters or digits to name a benchmark", dsType)
	case req.Benchmark != dsType:
		b.warnf(where+".dataset.type", "dataset type %q recorded as benchmark %q", dsType, req.Benchmark)
	}
	config, _ := scalarText(dataset["config"])
	revision, _ := scalarText(dataset["revision"])
	if revision == "None" || revision == "null" {
		b.warnf(where+".dataset.revision", "revision is the string %q; treated as absent", revision)
		revision = ""
	}
	switch {
	case config != "" && revision != "":
		req.BenchmarkVersion = config + "@" + revision
	case config != "":
		req.BenchmarkVersion = config
	case revision != "":
		req.BenchmarkVersion = revision
	default:
		req.BenchmarkVersion = "unspecified"
		b.warnf(where+".dataset", "no dataset config or revision; benchmark version recorded as \"unspecified\"")
	}
	for _, k := range []string{"split", "config", "revision"} {
		if s, ok := scalarText(dataset[k]); ok && s != "" {
			req.Settings[k] = s
		}
	}
	if dsName != "" {
		req.Settings["dataset_name"] = dsName
	}
	if args, ok := dataset["args"]; ok && args != nil {
		req.Settings["args"] = plain(args)
		if a, ok := asObject(args); ok {
			if n, ok := asNumber(a["num_few_shot"]); ok {
				req.NShot = ptr(int(n))
			}
		}
	}
	taskType, _ := scalarText(task["type"])
	if taskType != "" {
		req.Settings["task_type"] = taskType
	}
	if tn, _ := scalarText(task["name"]); tn != "" {
		req.Settings["task_name"] = tn
	}
	if ta, ok := task["args"]; ok && ta != nil {
		req.Settings["task_args"] = plain(ta)
	}
	if s, _ := scalarText(source["name"]); s != "" {
		req.Settings["source_name"] = s
	}
	if s, _ := scalarText(source["url"]); s != "" {
		req.Settings["source_url"] = s
	}

	bm := &api.Benchmark{Name: req.Benchmark, Version: req.BenchmarkVersion, Task: taskType, Description: dsName}
	if url, ok := asString(source["url"]); ok {
		bm.Source = url
	}
	p.metrics(where, r["metrics"], &req, bm)
	if req.Benchmark != "" {
		b.addBenchmark(bm)
	}
	keep()
}

// indexMetric is one entry of a result's metrics.
type indexMetric struct {
	where, typ, name string
	value            float64
	raw              any
	entry            map[string]any
}

func (p *indexParser) metrics(where string, v any, req *api.ResultRequest, bm *api.Benchmark) {
	b := p.b
	list, ok := asArray(v)
	if !ok || len(list) == 0 {
		b.errorf(where+".metrics", "no metrics")
		return
	}
	var parsed []indexMetric
	byType := map[string][]int{}
	var types []string
	units, raws, verified, tokens := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	for i, item := range list {
		mw := fmt.Sprintf("%s.metrics[%d]", where, i)
		m, ok := asObject(item)
		if !ok {
			b.errorf(mw, "not a mapping; left out")
			continue
		}
		typ, _ := scalarText(m["type"])
		if typ == "" {
			b.errorf(mw, "no metric type; left out")
			continue
		}
		name, _ := scalarText(m["name"])
		value, unit, ok := p.value(mw, typ, m["value"])
		if !ok {
			continue
		}
		im := indexMetric{where: mw, typ: typ, name: name, value: value, raw: m["value"], entry: m}
		if unit != "" {
			units[typ] = unit
		}
		if _, isNum := asNumber(m["value"]); !isNum {
			raws[typ] = plain(m["value"])
		}
		if _, seen := byType[typ]; !seen {
			types = append(types, typ)
		}
		byType[typ] = append(byType[typ], len(parsed))
		parsed = append(parsed, im)
	}
	// A type given twice: the same value again is a duplicate, left out;
	// different values under different names are told apart by name;
	// different values under one name make the result ambiguous.
	names := make([]string, len(parsed))
	drop := make([]bool, len(parsed))
	for _, typ := range types {
		idx := byType[typ]
		for _, i := range idx {
			names[i] = typ
		}
		if len(idx) < 2 {
			continue
		}
		distinctNames := map[string]bool{}
		for _, i := range idx {
			distinctNames[parsed[i].name] = true
		}
		if len(distinctNames) == len(idx) {
			for _, i := range idx {
				names[i] = typ + ":" + slug(parsed[i].name)
			}
			b.warnf(where+".metrics", "metric type %q appears %d times with different names; recorded as %s", typ, len(idx), quoteList(names, idx))
			continue
		}
		first := parsed[idx[0]]
		for _, i := range idx[1:] {
			switch {
			case parsed[i].value == first.value && parsed[i].name == first.name:
				drop[i] = true
				b.warnf(parsed[i].where, "repeats %s = %s of %s; the repeat is left out", typ, formatNumber(first.value), first.where)
			default:
				b.errorf(parsed[i].where, "%s is %s here but %s at %s; both are kept and the result is ambiguous", typ, formatNumber(parsed[i].value), formatNumber(first.value), first.where)
			}
		}
	}
	for i, im := range parsed {
		if drop[i] {
			continue
		}
		req.Values = append(req.Values, api.MetricValue{Metric: names[i], Value: im.value})
		if ver, ok := im.entry["verified"].(bool); ok {
			verified[names[i]] = ver
		}
		if tok, ok := asString(im.entry["verifyToken"]); ok {
			tokens[names[i]] = tok
		}
		if args, ok := im.entry["args"]; ok && args != nil {
			req.Settings["metric_args"] = mergeInto(req.Settings["metric_args"], names[i], plain(args))
		}
		if !containsMetric(bm.Metrics, names[i]) {
			bm.Metrics = append(bm.Metrics, api.BenchmarkMetric{Name: names[i], Direction: p.direction(im.where, im.typ), Description: im.name})
		}
	}
	for k, m := range map[string]map[string]any{"units": units, "raw_values": raws, "verified": verified, "verify_tokens": tokens} {
		if len(m) > 0 {
			req.Settings[k] = m
		}
	}
	if len(req.Values) == 0 {
		b.errorf(where, "no usable metric value; the result is kept without values")
	}
}

// value parses a metric value: a number, or a string holding a number
// ("85.3", "85.3%", "1518.70 +/- 568.14", "0.14 [0.14, 0.15]"), which is
// read as written and reported. unit is "percent" for "85.3%".
func (p *indexParser) value(where, typ string, v any) (value float64, unit string, ok bool) {
	if n, ok := asNumber(v); ok {
		return n, "", true
	}
	s, isString := asString(v)
	if !isString {
		text, _ := scalarText(v)
		if v == nil {
			text = "null"
		}
		p.b.errorf(where, "%s value %s is not a number; left out", typ, text)
		return 0, "", false
	}
	if n, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		p.b.warnf(where, "%s value is the string %q; read as %s", typ, s, formatNumber(n))
		return n, "", true
	}
	if m := percentValue.FindStringSubmatch(s); m != nil {
		n, _ := strconv.ParseFloat(m[1], 64)
		p.b.warnf(where, "%s value is the string %q; read as %s, unit percent (not divided by 100)", typ, s, formatNumber(n))
		return n, "percent", true
	}
	if m := spreadValue.FindStringSubmatch(s); m != nil {
		n, _ := strconv.ParseFloat(m[1], 64)
		p.b.warnf(where, "%s value is the string %q; read as %s, the spread %q kept in settings.raw_values (not a standard error)", typ, s, formatNumber(n), strings.TrimSpace(m[2]))
		return n, "", true
	}
	p.b.errorf(where, "%s value %q is not a number; left out", typ, s)
	return 0, "", false
}

func (p *indexParser) direction(where, typ string) string {
	if d := knownDirection(typ); d != "" {
		return d
	}
	if p.warnedDir == nil {
		p.warnedDir = map[string]bool{}
	}
	if !p.warnedDir[typ] {
		p.warnedDir[typ] = true
		p.b.warnf(where, "direction of metric %q unknown: the card does not state it and the name does not say", typ)
	}
	return ""
}

func containsMetric(ms []api.BenchmarkMetric, name string) bool {
	for _, m := range ms {
		if m.Name == name {
			return true
		}
	}
	return false
}

func mergeInto(existing any, key string, v any) map[string]any {
	m, _ := existing.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m[key] = v
	return m
}

func quoteList(names []string, idx []int) string {
	q := make([]string, len(idx))
	for i, j := range idx {
		q[i] = strconv.Quote(names[j])
	}
	return strings.Join(q, ", ")
}

func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}
