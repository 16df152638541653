package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/schema"
)

// SourceKeyAnnotation keeps a record's own name for the model in the
// source, which the model_id rules may have had to change.
const SourceKeyAnnotation = "modelgov.io/source-key"

// validator is compiled once; it holds no mutable state.
var validator = sync.OnceValues(schema.New)

// entry is one record of a source before mapping.
type entry struct {
	record any
	key    string // the object key, for records that are an object's entries
	index  int
	source string
}

// Apply maps a source named name (a file name, used in Record.Source and
// source_files) to a Batch with the format FormatMapping, or FormatCSV for
// a CSV source. Every record the source holds is in the Batch: with a Doc
// that passes schema 1.1, or with Problems and no Doc; a record that a
// skip rule matches is listed in Batch.Notes instead. An error means the
// source itself could not be read (not JSON, no records at the path).
func (m *Mapping) Apply(name string, data []byte) (*Batch, error) {
	entries, err := m.entries(name, data)
	if err != nil {
		return nil, err
	}
	v, err := validator()
	if err != nil {
		return nil, fmt.Errorf("compile the model schema: %w", err)
	}
	format := FormatMapping
	if m.Format == "csv" {
		format = FormatCSV
	}
	b := &Batch{Format: format}
	for _, e := range entries {
		if reason, skip := m.skip(e); skip {
			b.Notes = append(b.Notes, fmt.Sprintf("skipped %s: %s", e.source, reason))
			continue
		}
		b.Records = append(b.Records, m.record(v, name, e))
	}
	markDuplicates(b.Records)
	return b, nil
}

// entries reads the source's records.
func (m *Mapping) entries(name string, data []byte) ([]entry, error) {
	if m.Format == "csv" {
		return csvEntries(name, data)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if m.Format == "yaml" {
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("read %s as YAML: %w", name, err)
		}
		data = j
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("read %s as JSON: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("read %s as JSON: unexpected data after the first value", name)
	}
	paths := m.Records.Path
	if len(paths) == 0 {
		paths = stringList{"$"}
	}
	for _, p := range paths {
		at, pointer := root, ""
		if p != "$" && p != "" {
			at = walk(root, p)
			pointer = "/" + strings.NewReplacer(".", "/", "[", "/", "]", "").Replace(p)
		}
		switch at := at.(type) {
		case []any:
			out := make([]entry, len(at))
			for i, r := range at {
				out[i] = entry{record: r, index: i, source: fmt.Sprintf("%s#%s/%d", name, pointer, i)}
			}
			return out, nil
		case map[string]any:
			keys := sortedKeys(at)
			out := make([]entry, len(keys))
			for i, k := range keys {
				out[i] = entry{record: at[k], key: k, index: i, source: name + "#" + pointer + "/" + escapePointer(k)}
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("%s: no array or object of records at %s", name, strings.Join(paths, " or "))
}

// csvEntries reads a CSV file whose header row names the columns; a
// record maps each column to its cell, empty cells left out.
func csvEntries(name string, data []byte) ([]entry, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read the header row of %s: %w", name, err)
	}
	var out []entry
	for i := 0; ; i++ {
		row, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		rec := map[string]any{}
		for c, cell := range row {
			if c < len(header) && strings.TrimSpace(cell) != "" {
				rec[strings.TrimSpace(header[c])] = cell
			}
		}
		out = append(out, entry{record: rec, index: i, source: name + ":" + strconv.Itoa(line)})
	}
}

func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

// skip reports whether a skip rule matches e, and its reason.
func (m *Mapping) skip(e entry) (string, bool) {
	s := &scope{record: e.record, key: e.key, index: e.index}
	for _, r := range m.Skip {
		if r.matches(s) {
			return r.Reason, true
		}
	}
	return "", false
}

func (c *Condition) matches(s *scope) bool {
	v := s.lookup(c.Field, false)
	if c.Missing {
		return empty(v)
	}
	str, err := text(v)
	if err != nil {
		return len(c.NotIn) > 0
	}
	switch {
	case len(c.In) > 0:
		return !empty(v) && slices.Contains(c.In, str)
	case c.pattern != nil:
		return !empty(v) && c.pattern.MatchString(str)
	}
	return empty(v) || !slices.Contains(c.NotIn, str)
}

// builder gathers one record's document and problems.
type builder struct {
	s        *scope
	rec      *Record
	problems []Problem
}

func (b *builder) problem(field, format string, args ...any) {
	b.problems = append(b.problems, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// str evaluates a single text value; "" when not mapped or empty.
func (b *builder) str(field string, v *Value) string {
	if v == nil {
		return ""
	}
	out, err := v.eval(b.s)
	if err != nil {
		b.problem(field, "%v", err)
		return ""
	}
	s, err := text(out)
	if err != nil {
		b.problem(field, "%s %v", v.describe(), err)
		return ""
	}
	return strings.TrimSpace(s)
}

// count evaluates a whole number; 0 when not mapped or empty.
func (b *builder) count(field string, v *Value) api.Count {
	s := b.str(field, v)
	if s == "" {
		return 0
	}
	n, err := wholeNumber(s)
	if err != nil {
		b.problem(field, "%s: %v", v.describe(), err)
		return 0
	}
	if n < 1 {
		b.problem(field, "%s is %d; a count must be at least 1", v.describe(), n)
		return 0
	}
	return api.Count(n)
}

// list builds a List's words.
func (b *builder) list(field string, l *List) []string {
	if l == nil {
		return nil
	}
	var words []string
	for _, path := range sortedKeys(l.Flags) {
		word := l.Flags[path]
		if on, ok := truth(b.s.lookup(path, false)); ok && on {
			words = append(words, word)
		} else if !ok {
			b.problem(field, "%s is neither true nor false", path)
		}
	}
	for i := range l.Items {
		out, err := l.Items[i].eval(b.s)
		if err != nil {
			b.problem(field, "%v", err)
			continue
		}
		items, isList := out.([]any)
		if !isList {
			items = []any{out}
		}
		for _, item := range items {
			if s, err := text(item); err == nil && strings.TrimSpace(s) != "" {
				words = append(words, strings.TrimSpace(s))
			}
		}
	}
	sort.Strings(words)
	return slices.Compact(words)
}

// pairs builds labels or annotations, leaving out empty values.
func (b *builder) pairs(field string, spec map[string]Value) map[string]string {
	out := map[string]string{}
	for _, k := range sortedKeys(spec) {
		v := spec[k]
		if s := b.str(field+"/"+k, &v); s != "" {
			out[k] = s
		}
	}
	return out
}

// record maps one entry.
func (m *Mapping) record(v *schema.Validator, name string, e entry) Record {
	rec := Record{Source: e.source, Key: e.key}
	b := &builder{s: &scope{record: e.record, key: e.key, index: e.index, vars: map[string]any{}}, rec: &rec}
	if _, isObj := e.record.(map[string]any); !isObj {
		b.problem("", "the entry is %s, not an object describing a model", describeValue(e.record))
		rec.Problems = b.problems
		return rec
	}
	if m.Key != nil {
		rec.Key = b.str("", m.Key)
	}
	for i := range m.Vars {
		val, err := m.Vars[i].eval(b.s)
		if err != nil {
			b.problem("", "%s (while computing %s)", err, m.Vars[i].Name)
			continue
		}
		b.s.vars[m.Vars[i].Name] = val
	}
	f := &m.Fields
	doc := &api.Model{
		SchemaVersion:   api.SchemaVersion,
		ModelID:         b.str("/model_id", f.ModelID),
		Provider:        b.str("/provider", f.Provider),
		DisplayName:     b.str("/display_name", f.DisplayName),
		Family:          b.str("/family", f.Family),
		Version:         b.str("/version", f.Version),
		ReleaseDate:     b.str("/release_date", f.ReleaseDate),
		SizeClass:       api.SizeClass(b.str("/size_class", f.SizeClass)),
		ContextWindow:   b.count("/context_window", f.ContextWindow),
		MaxOutputTokens: b.count("/max_output_tokens", f.MaxOutputTokens),
		Capabilities:    b.list("/capabilities", f.Capabilities),
		License:         b.str("/license", f.License),
		Owners:          b.list("/owners", f.Owners),
		EvalRefs:        b.list("/eval_refs", f.EvalRefs),
		Labels:          b.pairs("/labels", f.Labels),
		Annotations:     b.pairs("/annotations", f.Annotations),
		Notes:           b.str("/notes", f.Notes),
		SourceFiles:     []string{name},
	}
	if f.Modalities != nil {
		in, out := b.list("/modalities/input", f.Modalities.Input), b.list("/modalities/output", f.Modalities.Output)
		if len(in) > 0 || len(out) > 0 {
			doc.Modalities = &api.Modalities{Input: in, Output: out}
		}
	}
	if rec.Key != "" {
		doc.Annotations[SourceKeyAnnotation] = rec.Key
	}
	if len(doc.Labels) == 0 {
		doc.Labels = nil
	}
	if len(doc.Annotations) == 0 {
		doc.Annotations = nil
	}
	switch {
	case doc.ModelID == "":
		b.problem("/model_id", "no model id: the source gives nothing for %s", f.ModelID.describe())
	case doc.Provider == "":
		if p, _, ok := strings.Cut(doc.ModelID, "/"); ok {
			doc.Provider = p
		}
	}
	if doc.DisplayName == "" && doc.ModelID != "" {
		_, rest, _ := strings.Cut(doc.ModelID, "/")
		doc.DisplayName = rest
	}
	m.size(b, doc)
	if len(b.problems) == 0 {
		if err := v.Validate(doc); err != nil {
			var e *errs.Error
			if errors.As(err, &e) && len(e.Fields) > 0 {
				for _, fe := range e.Fields {
					b.problem(fe.Pointer, "%s", fe.Message)
				}
			} else {
				b.problem("", "%v", err)
			}
		}
	}
	rec.Problems = b.problems
	if len(rec.Problems) == 0 {
		rec.Doc = doc
	}
	return rec
}

// size sets the size class and parameters: declared when the mapping maps
// them, else derived from a declared count, else estimated from the name.
func (m *Mapping) size(b *builder, doc *api.Model) {
	if p := m.Fields.Parameters; p != nil {
		if n := b.count("/parameters/count", p.Count); n > 0 {
			doc.Parameters = &api.Parameters{Count: n, Active: b.count("/parameters/active", p.Active), Source: api.ParametersDeclared}
			if doc.SizeClass == "" {
				doc.SizeClass = classOf(int64(n))
				b.rec.Notes = append(b.rec.Notes, fmt.Sprintf("size class %s follows from the declared %s parameters", doc.SizeClass, human(int64(n))))
			}
		}
	}
	if doc.SizeClass != "" || m.EstimateSize == nil {
		return
	}
	est, ok := estimateSize(strings.ToLower(b.str("", m.EstimateSize)))
	if !ok {
		return
	}
	doc.SizeClass = est.class
	if est.count > 0 && doc.Parameters == nil {
		doc.Parameters = &api.Parameters{Count: api.Count(est.count), Active: api.Count(est.active), Source: api.ParametersEstimated}
	}
	b.rec.Estimated = true
	b.rec.Notes = append(b.rec.Notes, fmt.Sprintf("size class %s estimated from %s; a governor should confirm it", est.class, est.reason))
}

// markDuplicates gives every record whose model_id an earlier record
// already has a Problem naming the earlier one, and no Doc.
func markDuplicates(records []Record) {
	first := map[string]int{}
	for i := range records {
		r := &records[i]
		if r.Doc == nil {
			continue
		}
		j, dup := first[r.Doc.ModelID]
		if !dup {
			first[r.Doc.ModelID] = i
			continue
		}
		r.Problems = append(r.Problems, Problem{Field: "/model_id",
			Message: fmt.Sprintf("duplicate: %s maps to model_id %q, as %s (key %q) does; only the first is imported", describeRecord(r), r.Doc.ModelID, records[j].Source, records[j].Key)})
		r.Doc = nil
	}
}

func describeRecord(r *Record) string {
	if r.Key != "" {
		return fmt.Sprintf("key %q", r.Key)
	}
	return r.Source
}

func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "an object"
}
