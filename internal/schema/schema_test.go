package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

func newValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// minimal returns a valid 1.1 document with the given fields added or,
// when nil, removed.
func minimal(t testing.TB, fields map[string]any) []byte {
	t.Helper()
	doc := map[string]any{"model_id": "openai/gpt-5", "provider": "openai", "display_name": "GPT-5"}
	for k, v := range fields {
		if v == nil {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecode(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		name  string
		input []byte
		check func(t *testing.T, d *Decoded)
	}{
		{
			name:  "P035 example entry is upgraded",
			input: readFile(t, "testdata/p035-example.json"),
			check: func(t *testing.T, d *Decoded) {
				want := &Decoded{
					Model: &api.Model{
						SchemaVersion: "1.1",
						ModelID:       "openai/gpt-5-general",
						Provider:      "openai",
						DisplayName:   "GPT-5 (General)",
						SizeClass:     api.SizeXL,
						Capabilities:  []string{"code", "reasoning", "tools"},
						Annotations: map[string]string{
							AnnotationP035ModelID:   "openai-gpt-5-general",
							AnnotationP035CreatedAt: "2025-09-07T00:00:00Z",
							AnnotationP035UpdatedAt: "2025-09-07T00:00:00Z",
						},
						EvalRefs:    []string{"eval-openai-gpt-5-2025-09-07"},
						SourceFiles: []string{"metrics/models/openai-gpt-5-general.json"},
						Notes:       "Primary large model entry for generals group.",
					},
					SourceVersion:   "1.0",
					RequestedRole:   api.RoleGeneral,
					RequestedStatus: api.StatusActive,
				}
				if !reflect.DeepEqual(d, want) {
					t.Errorf("got  %s\nwant %s", dump(d), dump(want))
				}
			},
		},
		{
			name:  "full 1.1 document keeps every field",
			input: readFile(t, "testdata/full-v1.1.json"),
			check: func(t *testing.T, d *Decoded) {
				m := d.Model
				since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("", 3600))
				switch {
				case d.SourceVersion != "1.1" || d.RequestedRole != "" || d.RequestedStatus != "":
					t.Errorf("got source %q role %q status %q, want 1.1 and no requests", d.SourceVersion, d.RequestedRole, d.RequestedStatus)
				case m.Parameters == nil || m.Parameters.Count != 405e9 || m.Parameters.Source != api.ParametersDeclared:
					t.Errorf("parameters = %+v", m.Parameters)
				case m.Labels["example.com/tier"] != "gold" || len(m.Labels) != 3:
					t.Errorf("labels = %v", m.Labels)
				case m.Role() != api.RoleGeneral || m.Status() != api.StatusDeprecated || !m.Lifecycle.Since.Equal(since):
					t.Errorf("governance %+v lifecycle %+v", m.Governance, m.Lifecycle)
				case len(m.Endpoints) != 1 || m.Endpoints[0].API != "openai-chat" || m.ResourceVersion != "17" || m.CreatedAt == nil:
					t.Errorf("endpoints %+v resource version %q created %v", m.Endpoints, m.ResourceVersion, m.CreatedAt)
				}
			},
		},
		{
			name:  "YAML file",
			input: readFile(t, "testdata/model.yaml"),
			check: wantModel(func(m *api.Model) bool {
				return m.ModelID == "mistral/mistral-large-2" && m.Parameters.Count == 123_000_000_000 && m.ContextWindow == 128000 &&
					slices.Equal(m.Modalities.Input, []string{"text"}) && m.Labels["team"] == "research"
			}),
		},
		{
			name:  "YAML exponent parameter count",
			input: []byte("model_id: meta/llama-3-70b\nprovider: meta\ndisplay_name: Llama 3 70B\nparameters: {count: 70e9, source: declared}\n"),
			check: wantModel(func(m *api.Model) bool { return m.Parameters.Count == 70_000_000_000 }),
		},
		{
			name:  "LiteLLM-style float counts",
			input: minimal(t, map[string]any{"context_window": json.Number("2000000.0"), "parameters": map[string]any{"count": json.Number("7e10"), "source": "estimated"}}),
			check: wantModel(func(m *api.Model) bool { return m.ContextWindow == 2_000_000 && m.Parameters.Count == 70_000_000_000 }),
		},
		{
			name:  "no schema_version means 1.1",
			input: minimal(t, nil),
			check: func(t *testing.T, d *Decoded) {
				if d.SourceVersion != "1.1" || d.Model.SchemaVersion != "1.1" {
					t.Errorf("source %q, model version %q; want 1.1 and 1.1", d.SourceVersion, d.Model.SchemaVersion)
				}
			},
		},
		{
			name:  "empty lists and maps decode as nil",
			input: minimal(t, map[string]any{"labels": map[string]any{}, "capabilities": []any{}, "modalities": map[string]any{"input": []any{}}}),
			check: wantModel(func(m *api.Model) bool {
				return m.Labels == nil && m.Capabilities == nil && m.Modalities != nil && m.Modalities.Input == nil
			}),
		},
		{
			name: "timestamps at offset zero are in UTC",
			input: minimal(t, map[string]any{
				"created_at": "2025-09-07T00:00:00+00:00", "updated_at": "2025-09-07T00:00:00-00:00",
				"governance": map[string]any{"role": "none", "classified_at": "2025-09-07T00:00:00.000Z"},
				"lifecycle":  map[string]any{"status": "active", "since": "2025-09-07T01:00:00+01:00"},
			}),
			check: wantModel(func(m *api.Model) bool {
				_, since := m.Lifecycle.Since.Zone()
				return m.CreatedAt.Location() == time.UTC && m.UpdatedAt.Location() == time.UTC &&
					m.Governance.ClassifiedAt.Location() == time.UTC && since == 3600
			}),
		},
		{
			name:  "byte order mark and leading space",
			input: append([]byte("\uFEFF \n"), minimal(t, nil)...),
			check: wantModel(func(m *api.Model) bool { return m.ModelID == "openai/gpt-5" }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := v.Decode(tt.input)
			if err != nil {
				t.Fatalf("Decode(%.60q): %v %+v", tt.input, err, fieldsOf(err))
			}
			tt.check(t, d)
		})
	}
}

func wantModel(ok func(*api.Model) bool) func(*testing.T, *Decoded) {
	return func(t *testing.T, d *Decoded) {
		t.Helper()
		if !ok(d.Model) {
			t.Errorf("unexpected model %s", dump(d.Model))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	v := newValidator(t)
	v10 := func(fields map[string]any) []byte {
		doc := map[string]any{}
		if err := json.Unmarshal(readFile(t, "testdata/p035-example.json"), &doc); err != nil {
			t.Fatal(err)
		}
		for k, val := range fields {
			doc[k] = val
		}
		b, _ := json.Marshal(doc)
		return b
	}
	tests := []struct {
		name       string
		input      []byte
		wantKind   errs.Kind
		wantMsg    string // a substring of the message
		wantFields []api.FieldError
	}{
		{"truncated JSON", []byte("{\n  \"model_id\": "), errs.Malformed, "line 2", nil},
		{"JSON syntax error", []byte("{\n \"a\": 1,\n \"b\" 2}"), errs.Malformed, "line 3, column 6: invalid character '2'", nil},
		{"duplicate key", []byte(`{"model_id": "a/b", "model_id": "c/d"}`), errs.Malformed, `duplicate key "model_id"`, nil},
		{"trailing data", []byte(`{} {}`), errs.Malformed, "unexpected data after the document", nil},
		{"huge exponent", []byte(`{"context_window": 1e999999}`), errs.Malformed, "out of range", nil},
		{"too deep", []byte(strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)), errs.Malformed, "nested more than", nil},
		{"bad YAML", []byte("model_id: [\n"), errs.Malformed, "valid YAML", nil},
		{"duplicate YAML key", []byte("a: 1\na: 2\n"), errs.Malformed, `"a" already set`, nil},
		{"empty", []byte(" \n"), errs.Malformed, "empty", nil},
		{"YAML alias bomb", aliasBomb(), errs.Malformed, "excessive aliasing", nil},
		{"top level array", []byte(`[{"model_id": "a/b"}]`), errs.Malformed, "not an array", nil},
		{"top level string", []byte(`"openai/gpt-5"`), errs.Malformed, "not a string", nil},
		{"top level null", []byte("null"), errs.Malformed, "not null", nil},
		{
			"unknown version", minimal(t, map[string]any{"schema_version": "2.0"}), errs.Invalid, "unsupported",
			[]api.FieldError{{Pointer: "/schema_version", Message: `unsupported version "2.0": must be "1.0" or "1.1"`}},
		},
		{
			"unquoted YAML version", []byte("schema_version: 1.1\nmodel_id: openai/gpt-5\n"), errs.Invalid, "unsupported",
			[]api.FieldError{{Pointer: "/schema_version", Message: `must be a string, "1.0" or "1.1" (in YAML, quote it: schema_version: "1.1")`}},
		},
		{
			"unknown field", minimal(t, map[string]any{"colour": "red"}), errs.Invalid, "the document does not match model schema v1.1",
			[]api.FieldError{{Pointer: "/colour", Message: `unknown field "colour"`}},
		},
		{
			"unknown nested field", minimal(t, map[string]any{"parameters": map[string]any{"count": 1, "source": "declared", "kind": "dense"}}), errs.Invalid, "v1.1",
			[]api.FieldError{{Pointer: "/parameters/kind", Message: `unknown field "kind"`}},
		},
		{
			"several errors", minimal(t, map[string]any{
				"model_id": "OpenAI/GPT 5", "display_name": nil, "colour": "red", "size_class": "huge",
				"parameters": map[string]any{"count": 0}, "labels": map[string]any{"team": "a b"},
				"capabilities": []any{"code", "code"}, "release_date": "7 Sep 2025", "owners": []any{""},
				"endpoints": []any{map[string]any{"url": "not a uri"}}, "notes": 42,
			}), errs.Invalid, "v1.1",
			[]api.FieldError{
				{Pointer: "/capabilities/1", Message: "repeats item 0"},
				{Pointer: "/colour", Message: `unknown field "colour"`},
				{Pointer: "/display_name", Message: "is required"},
				{Pointer: "/endpoints/0/url", Message: "must be an absolute URI such as https://api.example.com/v1"},
				{Pointer: "/labels/team", Message: `must be empty or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`},
				{Pointer: "/model_id", Message: `must be a lowercase slug "provider/model", such as "openai/gpt-5"`},
				{Pointer: "/notes", Message: "must be a string, not a number"},
				{Pointer: "/owners/0", Message: "must not be empty"},
				{Pointer: "/parameters/count", Message: "must be at least 1"},
				{Pointer: "/parameters/source", Message: "is required"},
				{Pointer: "/release_date", Message: "must be a date such as 2025-09-07"},
				{Pointer: "/size_class", Message: "must be one of nano, mini, small, medium, large, xl, xxl"},
			},
		},
		{
			"YAML reads yes as true", []byte("model_id: openai/gpt-5\nprovider: openai\ndisplay_name: x\nlabels: {enabled: yes}\n"), errs.Invalid, "v1.1",
			[]api.FieldError{{Pointer: "/labels/enabled", Message: "must be a string, not true or false (in YAML, put it in quotes)"}},
		},
		{
			"fractional count", minimal(t, map[string]any{"context_window": 1.5}), errs.Invalid, "v1.1",
			[]api.FieldError{{Pointer: "/context_window", Message: "must be a whole number"}},
		},
		{
			"provider differs from model_id", minimal(t, map[string]any{"provider": "anthropic"}), errs.Invalid, "v1.1",
			[]api.FieldError{{Pointer: "/provider", Message: `must be "openai", the provider part of model_id "openai/gpt-5"`}},
		},
		{
			"impossible date", minimal(t, map[string]any{"release_date": "2025-02-30", "created_at": "2025-09-07T25:00:00Z"}), errs.Invalid, "v1.1",
			[]api.FieldError{
				{Pointer: "/created_at", Message: "must be an RFC 3339 timestamp such as 2025-09-07T00:00:00Z"},
				{Pointer: "/release_date", Message: "must be a date such as 2025-09-07"},
			},
		},
		{
			"server-owned blocks are checked too", minimal(t, map[string]any{
				"governance": map[string]any{"role": "captain"},
				"lifecycle":  map[string]any{"status": "active", "successor": "GPT-6"},
			}), errs.Invalid, "v1.1",
			[]api.FieldError{
				{Pointer: "/governance/role", Message: "must be one of none, general, specialist, experimental"},
				{Pointer: "/lifecycle/since", Message: "is required"},
				{Pointer: "/lifecycle/successor", Message: `must be a lowercase slug "provider/model", such as "openai/gpt-5"`},
			},
		},
		{
			"too long", minimal(t, map[string]any{"display_name": strings.Repeat("x", 257), "capabilities": slices.Repeat([]any{"x"}, 65)}), errs.Invalid, "v1.1",
			[]api.FieldError{
				{Pointer: "/capabilities", Message: "must have at most 64 items"},
				{Pointer: "/capabilities/1", Message: "repeats item 0"},
				{Pointer: "/display_name", Message: "must be at most 256 characters"},
			},
		},
		{
			"1.0 general must be large", v10(map[string]any{"size_class": "mini"}), errs.Invalid, "the document does not match model schema v1.0",
			[]api.FieldError{{Pointer: "/size_class", Message: "must be large, xl or xxl for a model with role general"}},
		},
		{
			"1.0 missing fields", []byte(`{"schema_version": "1.0", "model_id": "x", "provider": "x", "display_name": "x", "role": "boss"}`), errs.Invalid, "v1.0",
			[]api.FieldError{
				{Pointer: "/capabilities", Message: "is required"},
				{Pointer: "/created_at", Message: "is required"},
				{Pointer: "/role", Message: "must be one of general, specialist, experimental"},
				{Pointer: "/size_class", Message: "is required"},
				{Pointer: "/source_files", Message: "is required"},
				{Pointer: "/status", Message: "is required"},
			},
		},
		{
			"1.0 upgrade result is invalid", v10(map[string]any{"provider": "!!!", "capabilities": []any{"C++", "tool use"}}), errs.Invalid, "once upgraded",
			[]api.FieldError{
				{Pointer: "/capabilities/0", Message: `must be a lowercase word of at most 32 characters (a-z, 0-9, "-" and "_"), such as "reasoning"`},
				{Pointer: "/model_id", Message: `must be a lowercase slug "provider/model", such as "openai/gpt-5"`},
				{Pointer: "/provider", Message: `must be a lowercase slug of at most 63 characters (a-z, 0-9 and "-"), such as "openai"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := v.Decode(tt.input)
			if err == nil {
				t.Fatalf("Decode(%.80q) = %s, want an error", tt.input, dump(d))
			}
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode(%.80q): error %T %v is not an *errs.Error", tt.input, err, err)
			}
			if e.Kind != tt.wantKind || !strings.Contains(e.Msg, tt.wantMsg) {
				t.Errorf("Decode(%.80q): kind %v, message %q; want %v, containing %q", tt.input, e.Kind, e.Msg, tt.wantKind, tt.wantMsg)
			}
			if tt.wantKind == errs.Invalid && !reflect.DeepEqual(e.Fields, tt.wantFields) {
				t.Errorf("Decode(%.80q) fields:\ngot  %s\nwant %s", tt.input, dump(e.Fields), dump(tt.wantFields))
			}
		})
	}
}

func TestLabelsAndAnnotations(t *testing.T) {
	v := newValidator(t)
	name63, name64 := strings.Repeat("n", 63), strings.Repeat("n", 64)
	prefix253 := strings.Repeat("p", 253)
	tests := []struct {
		name        string
		field       string // labels or annotations
		key, value  string
		wantMessage string // "" when valid
	}{
		{"plain key", "labels", "team", "research", ""},
		{"prefixed key", "labels", "example.com/tier", "gold", ""},
		{"empty value", "labels", "team", "", ""},
		{"63-character name", "labels", name63, "x", ""},
		{"253-character prefix", "labels", prefix253 + "/x", "x", ""},
		{"dotted value", "labels", "version", "v1.2_rc-3", ""},
		{"key starts with dash", "labels", "-bad", "x", "is not a valid label key: it " + keyMessage},
		{"64-character name", "labels", name64, "x", "is not a valid label key: it " + keyMessage},
		{"254-character prefix", "labels", prefix253 + "p/x", "x", "is not a valid label key: it " + keyMessage},
		{"uppercase prefix", "labels", "Example.com/tier", "x", "is not a valid label key: it " + keyMessage},
		{"empty key", "labels", "", "x", "is not a valid label key: it " + keyMessage},
		{"value with spaces", "labels", "team", "research team", patternMessages[`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`]},
		{"64-character value", "labels", "team", name64, "must be at most 63 characters"},
		{"annotation value may be free text", "annotations", "example.com/why", "any text, at all.", ""},
		{"annotation key rules", "annotations", "bad key", "x", "is not a valid annotation key: it " + keyMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Decode(minimal(t, map[string]any{tt.field: map[string]any{tt.key: tt.value}}))
			var want []api.FieldError
			if tt.wantMessage != "" {
				want = []api.FieldError{{Pointer: "/" + tt.field + "/" + escape(tt.key), Message: tt.wantMessage}}
			}
			if got := fieldsOf(err); !reflect.DeepEqual(got, want) {
				t.Errorf("%s {%q: %q}:\ngot  %s (%v)\nwant %s", tt.field, tt.key, tt.value, dump(got), err, dump(want))
			}
		})
	}
	t.Run("at most 64 labels", func(t *testing.T) {
		labels := map[string]any{}
		for i := range 65 {
			labels[fmt.Sprint("k", i)] = "v"
		}
		_, err := v.Decode(minimal(t, map[string]any{"labels": labels, "annotations": labels}))
		want := []api.FieldError{
			{Pointer: "/annotations", Message: "must have at most 64 entries"},
			{Pointer: "/labels", Message: "must have at most 64 entries"},
		}
		if got := fieldsOf(err); !reflect.DeepEqual(got, want) {
			t.Errorf("got  %s\nwant %s", dump(got), dump(want))
		}
	})
}

func TestValidate(t *testing.T) {
	v := newValidator(t)
	valid := func() *api.Model {
		return &api.Model{SchemaVersion: "1.1", ModelID: "openai/gpt-5", Provider: "openai", DisplayName: "GPT-5"}
	}
	tests := []struct {
		name       string
		model      func() *api.Model
		wantFields []api.FieldError // nil when valid
	}{
		{"valid", valid, nil},
		{"patched provider", func() *api.Model { m := valid(); m.Provider = "anthropic"; return m }, []api.FieldError{
			{Pointer: "/provider", Message: `must be "openai", the provider part of model_id "openai/gpt-5"`},
		}},
		{"no schema version", func() *api.Model { m := valid(); m.SchemaVersion = ""; return m }, []api.FieldError{
			{Pointer: "/schema_version", Message: `must be "1.1"`},
		}},
		{"bad label and size", func() *api.Model {
			m := valid()
			m.Labels = map[string]string{"a/b/c": "x"}
			m.SizeClass = "huge"
			m.Parameters = &api.Parameters{Count: 1}
			return m
		}, []api.FieldError{
			{Pointer: "/labels/a~1b~1c", Message: "is not a valid label key: it " + keyMessage},
			{Pointer: "/parameters/source", Message: "must be one of declared, estimated"},
			{Pointer: "/size_class", Message: "must be one of nano, mini, small, medium, large, xl, xxl"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Validate(tt.model())
			if (err == nil) != (tt.wantFields == nil) || errs.KindOf(err) != errs.Invalid && err != nil {
				t.Fatalf("Validate = %v, want fields %v", err, tt.wantFields)
			}
			if got := fieldsOf(err); !reflect.DeepEqual(got, tt.wantFields) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tt.wantFields))
			}
		})
	}
	if err := v.Validate(nil); !errs.Is(err, errs.Invalid) {
		t.Errorf("Validate(nil) = %v, want an Invalid error", err)
	}
}

func TestFiles(t *testing.T) {
	var walked []string
	err := fs.WalkDir(Files(), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			walked = append(walked, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(walked, Names()) {
		t.Errorf("Files() holds %v, Names() = %v", walked, Names())
	}
	for _, f := range schemaFiles {
		b, err := fs.ReadFile(Files(), f.path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s is not valid JSON: %v", f.path, err)
		}
		if doc["$id"] != f.id || doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $id %v, $schema %v", f.path, doc["$id"], doc["$schema"])
		}
		// Compiled alone, as a client that downloads it would.
		c := jsonschema.NewCompiler()
		if err := c.AddResource(f.id, doc); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Compile(f.id); err != nil {
			t.Errorf("%s does not compile: %v", f.path, err)
		}
		forEachKeyword(doc, "pattern", func(p any) {
			if _, ok := patternMessages[p.(string)]; !ok {
				t.Errorf("%s: pattern %s has no message in patternMessages", f.path, p)
			}
		})
	}
}

// TestSchemaMatchesModel keeps schema 1.1 and api.Model from drifting apart:
// every JSON field of api.Model, nested types included, is a property of
// the schema, and every property is a field.
func TestSchemaMatchesModel(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(readFile(t, "schemas/model/v1.1.json"), &root); err != nil {
		t.Fatal(err)
	}
	resolve := func(s map[string]any) map[string]any {
		for {
			ref, ok := s["$ref"].(string)
			if !ok {
				return s
			}
			s = root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
	}
	timeType := reflect.TypeFor[time.Time]()
	var walk func(path string, typ reflect.Type, s map[string]any)
	walk = func(path string, typ reflect.Type, s map[string]any) {
		s = resolve(s)
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			if typ.Kind() == reflect.Slice {
				items, ok := s["items"].(map[string]any)
				if !ok {
					t.Errorf("%s: schema has no items for %v", path, typ)
					return
				}
				s, path = resolve(items), path+"/0"
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == timeType {
			return
		}
		props, _ := s["properties"].(map[string]any)
		if s["additionalProperties"] != false {
			t.Errorf("%s: schema allows unknown fields", path)
		}
		seen := map[string]bool{}
		for field := range typ.Fields() {
			name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			seen[name] = true
			sub, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s/%s: field %s.%s is not in the schema", path, name, typ.Name(), field.Name)
				continue
			}
			walk(path+"/"+name, field.Type, sub)
		}
		for name := range props {
			if !seen[name] {
				t.Errorf("%s/%s: schema property is not a field of %s", path, name, typ.Name())
			}
		}
	}
	walk("", reflect.TypeFor[api.Model](), root)
}

func TestConcurrentUse(t *testing.T) {
	v := newValidator(t)
	inputs := [][]byte{readFile(t, "testdata/p035-example.json"), readFile(t, "testdata/full-v1.1.json"), minimal(t, map[string]any{"colour": 1})}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			input := inputs[i%len(inputs)]
			_, err := v.Decode(input)
			if (err != nil) != (i%len(inputs) == 2) {
				t.Errorf("Decode(%.40q) = %v", input, err)
			}
		})
	}
	wg.Wait()
}

// forEachKeyword calls f with the value of every keyword named name in a
// schema document.
func forEachKeyword(v any, name string, f func(any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if k == name {
				if _, isSchema := sub.(map[string]any); !isSchema {
					f(sub)
					continue
				}
			}
			forEachKeyword(sub, name, f)
		}
	case []any:
		for _, sub := range v {
			forEachKeyword(sub, name, f)
		}
	}
}

// aliasBomb returns a small YAML document that expands to 9^9 strings.
func aliasBomb() []byte {
	var b strings.Builder
	b.WriteString("a: &a [" + strings.Repeat(`"lol",`, 8) + "\"lol\"]\n")
	for name := 'b'; name <= 'i'; name++ {
		fmt.Fprintf(&b, "%c: &%c [%s*%c]\n", name, name, strings.Repeat(fmt.Sprintf("*%c,", name-1), 8), name-1)
	}
	return []byte(b.String())
}

func fieldsOf(err error) []api.FieldError {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

func dump(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return b.String()
}
