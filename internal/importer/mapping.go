package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Mapping describes how the records of a JSON, YAML or CSV source become
// model documents: where the records are, which to skip, and how to get
// each document field. It is data, read from a YAML or JSON mapping file
// by ParseMapping; docs/IMPORT.md describes the format. The built-in
// LiteLLM and OpenRouter mappings (mappings/*.yaml) are mappings too.
type Mapping struct {
	// Format is the source's format: json, yaml or csv.
	Format string `json:"format"`
	// Records says where the records are (JSON and YAML sources).
	Records RecordsSpec `json:"records"`
	// Key is the source's own name for a record; by default the entry's
	// key when the records are an object's entries.
	Key *Value `json:"key,omitempty"`
	// Skip lists the records that are not models, each with its reason.
	Skip []SkipRule `json:"skip,omitempty"`
	// Vars are named values computed in order, for templates ("{name}").
	Vars []Var `json:"vars,omitempty"`
	// Fields says how to get each document field.
	Fields Fields `json:"fields"`
	// EstimateSize is the text (usually the model's name) from which a size
	// class is estimated when no size_class or parameter count is mapped.
	EstimateSize *Value `json:"estimate_size,omitempty"`
}

// RecordsSpec says where a JSON or YAML source keeps its records.
type RecordsSpec struct {
	// Path lists where to look, first match wins: a path to an array (each
	// item a record) or an object (each entry a record, its key $key). "$"
	// or "" is the whole source. Left out, the whole source.
	Path stringList `json:"path,omitempty"`
}

// SkipRule skips the records matching its condition; skipped records are
// listed in the Batch's notes with Reason, never silently dropped.
type SkipRule struct {
	Condition
	Reason string `json:"reason"`
}

// Condition tests one field of a record.
type Condition struct {
	// Field is a path, or $key, $index.
	Field string `json:"field"`
	// In matches when the field's value is one of these.
	In []string `json:"in,omitempty"`
	// NotIn matches when the field's value is none of these (a missing
	// field is none of them).
	NotIn []string `json:"not_in,omitempty"`
	// Matches matches when the field's value matches this regular
	// expression (RE2).
	Matches string `json:"matches,omitempty"`
	// Missing matches when the field is missing or empty.
	Missing bool `json:"missing,omitempty"`

	pattern *regexp.Regexp
}

// Var is a named value that templates and later vars can use.
type Var struct {
	Name string `json:"name"`
	Value
}

// Fields maps each document field to the way to get it.
type Fields struct {
	ModelID         *Value           `json:"model_id,omitempty"`
	Provider        *Value           `json:"provider,omitempty"`
	DisplayName     *Value           `json:"display_name,omitempty"`
	Family          *Value           `json:"family,omitempty"`
	Version         *Value           `json:"version,omitempty"`
	ReleaseDate     *Value           `json:"release_date,omitempty"`
	SizeClass       *Value           `json:"size_class,omitempty"`
	Parameters      *ParametersSpec  `json:"parameters,omitempty"`
	ContextWindow   *Value           `json:"context_window,omitempty"`
	MaxOutputTokens *Value           `json:"max_output_tokens,omitempty"`
	Modalities      *ModalitiesSpec  `json:"modalities,omitempty"`
	Capabilities    *List            `json:"capabilities,omitempty"`
	License         *Value           `json:"license,omitempty"`
	Owners          *List            `json:"owners,omitempty"`
	EvalRefs        *List            `json:"eval_refs,omitempty"`
	Labels          map[string]Value `json:"labels,omitempty"`
	Annotations     map[string]Value `json:"annotations,omitempty"`
	Notes           *Value           `json:"notes,omitempty"`
}

// ParametersSpec maps a declared parameter count.
type ParametersSpec struct {
	Count  *Value `json:"count,omitempty"`
	Active *Value `json:"active,omitempty"`
}

// ModalitiesSpec maps what a model reads and writes.
type ModalitiesSpec struct {
	Input  *List `json:"input,omitempty"`
	Output *List `json:"output,omitempty"`
}

// List builds a list of words: one for each flag field that is true, and
// the values of Items (a value that is a list gives all its items). The
// result is deduplicated and sorted.
type List struct {
	// Flags maps a source path to the word added when its value is true.
	Flags map[string]string `json:"flags,omitempty"`
	Items []Value           `json:"items,omitempty"`
}

// Value says how to get one value. Exactly one source: Path, Template,
// Const (written "value") or First. Then, in this order, to the value or
// to each item of a list: Split, TrimPrefix, Replace, Map, Convert; and
// Default when the result is empty.
type Value struct {
	// Path is a dotted path into the record with array indexes
	// ("architecture.input_modalities", "data[0].id"); $key is the entry's
	// key, $index its position. For CSV, a column name.
	Path string `json:"path,omitempty"`
	// Template combines values: {x} is the var x, or else the path x. A
	// template with an empty placeholder is empty.
	Template string `json:"template,omitempty"`
	// Const is a fixed value.
	Const any `json:"value,omitempty"`
	// First is the first of these values that is not empty.
	First []Value `json:"first,omitempty"`

	// Split cuts a string into a list at this separator.
	Split string `json:"split,omitempty"`
	// TrimPrefix removes the first of these prefixes (templates) that the
	// value starts with.
	TrimPrefix stringList `json:"trim_prefix,omitempty"`
	// Replace rewrites the value with regular expressions, in order.
	Replace []Replacement `json:"replace,omitempty"`
	// Map replaces a value by its entry; Unmapped says what happens to a
	// value that has none: keep it (the default), drop it, or error.
	Map      map[string]string `json:"map,omitempty"`
	Unmapped string            `json:"unmapped,omitempty"`
	// Convert lists conversions applied in order; see conversions.
	Convert stringList `json:"convert,omitempty"`
	// Default is used when the value is empty.
	Default string `json:"default,omitempty"`

	replace []*regexp.Regexp
}

// Replacement is a regular expression (RE2) and its replacement, which
// may name groups as $1.
type Replacement struct {
	Pattern string `json:"pattern"`
	With    string `json:"with"`
}

// stringList is a list of strings that a mapping may write as one string.
type stringList []string

// UnmarshalJSON accepts a string or a list of strings.
func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be a string or a list of strings")
	}
	*l = many
	return nil
}

// conversions are the names Convert accepts; docs/IMPORT.md explains each.
var conversions = []string{"string", "int", "number", "bool", "lowercase", "trim", "slug", "provider", "word", "date"}

// labelKey is the syntax of label and annotation keys (schema qualifiedKey).
var labelKey = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)

var varName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// ParseMapping reads a mapping written in YAML or JSON and checks it.
// Unknown fields, a missing model_id, unknown conversions and bad regular
// expressions are errors that name the field ("fields.model_id.convert").
func ParseMapping(data []byte) (*Mapping, error) {
	var m Mapping
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "error unmarshaling JSON: "), "while decoding JSON: ")
		return nil, fmt.Errorf("mapping: %s", strings.TrimPrefix(msg, "json: "))
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	return &m, nil
}

// check validates the mapping and compiles its regular expressions.
func (m *Mapping) check() error {
	switch m.Format {
	case "json", "yaml", "csv":
	case "":
		return errors.New("format: missing; one of json, yaml, csv")
	default:
		return fmt.Errorf("format: %q is not one of json, yaml, csv", m.Format)
	}
	if m.Format == "csv" && len(m.Records.Path) > 0 {
		return errors.New("records.path: a CSV source has no paths; its records are its rows")
	}
	for i := range m.Skip {
		r := &m.Skip[i]
		where := fmt.Sprintf("skip[%d]", i)
		if err := r.Condition.check(where); err != nil {
			return err
		}
		if strings.TrimSpace(r.Reason) == "" {
			return fmt.Errorf("%s.reason: missing; say why such records are not models", where)
		}
	}
	seen := map[string]bool{}
	for i := range m.Vars {
		v := &m.Vars[i]
		where := fmt.Sprintf("vars[%d]", i)
		if !varName.MatchString(v.Name) {
			return fmt.Errorf("%s.name: %q must be lowercase letters, digits and _", where, v.Name)
		}
		if seen[v.Name] {
			return fmt.Errorf("%s.name: %q is defined twice", where, v.Name)
		}
		seen[v.Name] = true
		if err := v.Value.check(where); err != nil {
			return err
		}
	}
	if m.Fields.ModelID == nil {
		return errors.New("fields.model_id: missing; a mapping must say how to get the model id")
	}
	for _, c := range m.values() {
		if c.v == nil {
			continue
		}
		if err := c.v.check(c.where); err != nil {
			return err
		}
	}
	for _, l := range m.lists() {
		if l.l == nil {
			continue
		}
		for path, word := range l.l.Flags {
			if path == "" || word == "" {
				return fmt.Errorf("%s.flags: %q: %q: both the path and the word must be given", l.where, path, word)
			}
		}
		for i := range l.l.Items {
			if err := l.l.Items[i].check(fmt.Sprintf("%s.items[%d]", l.where, i)); err != nil {
				return err
			}
		}
	}
	for _, kv := range []struct {
		where string
		m     map[string]Value
	}{{"fields.labels", m.Fields.Labels}, {"fields.annotations", m.Fields.Annotations}} {
		for _, k := range sortedKeys(kv.m) {
			if !labelKey.MatchString(k) {
				return fmt.Errorf("%s: key %q is not a valid key (an optional DNS prefix and a slash, then 1 to 63 letters, digits, '-', '_' or '.')", kv.where, k)
			}
			v := kv.m[k]
			if err := v.check(kv.where + "." + k); err != nil {
				return err
			}
			kv.m[k] = v
		}
	}
	return nil
}

type namedValue struct {
	where string
	v     *Value
}

type namedList struct {
	where string
	l     *List
}

// values lists the mapping's single values with their place in the file.
func (m *Mapping) values() []namedValue {
	f := &m.Fields
	vs := []namedValue{
		{"key", m.Key}, {"estimate_size", m.EstimateSize},
		{"fields.model_id", f.ModelID}, {"fields.provider", f.Provider}, {"fields.display_name", f.DisplayName},
		{"fields.family", f.Family}, {"fields.version", f.Version}, {"fields.release_date", f.ReleaseDate},
		{"fields.size_class", f.SizeClass}, {"fields.context_window", f.ContextWindow},
		{"fields.max_output_tokens", f.MaxOutputTokens}, {"fields.license", f.License}, {"fields.notes", f.Notes},
	}
	if f.Parameters != nil {
		vs = append(vs, namedValue{"fields.parameters.count", f.Parameters.Count}, namedValue{"fields.parameters.active", f.Parameters.Active})
	}
	return vs
}

// lists lists the mapping's lists with their place in the file.
func (m *Mapping) lists() []namedList {
	f := &m.Fields
	ls := []namedList{{"fields.capabilities", f.Capabilities}, {"fields.owners", f.Owners}, {"fields.eval_refs", f.EvalRefs}}
	if f.Modalities != nil {
		ls = append(ls, namedList{"fields.modalities.input", f.Modalities.Input}, namedList{"fields.modalities.output", f.Modalities.Output})
	}
	return ls
}

func (c *Condition) check(where string) error {
	if c.Field == "" {
		return fmt.Errorf("%s.field: missing", where)
	}
	n := 0
	if len(c.In) > 0 {
		n++
	}
	if len(c.NotIn) > 0 {
		n++
	}
	if c.Missing {
		n++
	}
	if c.Matches != "" {
		n++
		re, err := regexp.Compile(c.Matches)
		if err != nil {
			return fmt.Errorf("%s.matches: %v", where, err)
		}
		c.pattern = re
	}
	if n != 1 {
		return fmt.Errorf("%s: give exactly one of in, not_in, matches, missing", where)
	}
	return nil
}

func (v *Value) check(where string) error {
	sources := 0
	for _, set := range []bool{v.Path != "", v.Template != "", v.Const != nil, len(v.First) > 0} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return fmt.Errorf("%s: give exactly one of path, template, value, first", where)
	}
	switch v.Const.(type) {
	case nil, string, float64, bool:
	default:
		return fmt.Errorf("%s.value: must be a string, number or boolean", where)
	}
	if v.Template != "" {
		if err := checkTemplate(v.Template); err != nil {
			return fmt.Errorf("%s.template: %v", where, err)
		}
	}
	for _, p := range v.TrimPrefix {
		if err := checkTemplate(p); err != nil {
			return fmt.Errorf("%s.trim_prefix: %v", where, err)
		}
	}
	for i := range v.First {
		if err := v.First[i].check(fmt.Sprintf("%s.first[%d]", where, i)); err != nil {
			return err
		}
	}
	v.replace = v.replace[:0]
	for i, r := range v.Replace {
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return fmt.Errorf("%s.replace[%d].pattern: %v", where, i, err)
		}
		v.replace = append(v.replace, re)
	}
	switch v.Unmapped {
	case "", "keep", "drop", "error":
	default:
		return fmt.Errorf("%s.unmapped: %q is not one of keep, drop, error", where, v.Unmapped)
	}
	for _, c := range v.Convert {
		if !slices.Contains(conversions, c) {
			return fmt.Errorf("%s.convert: %q is not one of %s", where, c, strings.Join(conversions, ", "))
		}
	}
	return nil
}

// checkTemplate checks that every { is closed and names something.
func checkTemplate(t string) error {
	for rest := t; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return fmt.Errorf("%q has a } without {", t)
			}
			return nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("%q has a { without }", t)
		}
		if strings.TrimSpace(rest[i+1:i+j]) == "" {
			return fmt.Errorf("%q has an empty {}", t)
		}
		rest = rest[i+j+1:]
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
