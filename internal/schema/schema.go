// Package schema holds the JSON Schemas of modelgov's model documents and
// validates documents against them at the edge, before the registry does
// anything else.
//
// Two versions are accepted on input: modelgov's own schema 1.1, which
// describes [api.Model] exactly, and proposal 035's schema 1.0, which is
// validated as written in the proposal and then upgraded to 1.1. Every error
// is an [*errs.Error]: Malformed when the bytes are not a JSON or YAML object,
// Invalid with one [api.FieldError] per failing field otherwise.
//
// A [Translator] puts the errors of a JSON Schema into those field errors;
// internal/policy uses it for the policy bundle's schema too.
package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// The schemas' identifiers, which are also the addresses they are served at.
//
// Proposal 035 declares its schema as "hivellm://schemas/model_registry.schema.json#".
// That URI cannot be resolved, uses a scheme of its own and ends in an empty
// fragment, which draft 2020-12 discourages; since modelgov serves both
// schemas side by side, v1.0 gets an https identifier next to v1.1's and
// keeps the proposal's identifier in its $comment.
const (
	ModelV11ID = "https://modelgov.dev/schemas/model/v1.1.json"
	ModelV10ID = "https://modelgov.dev/schemas/model/v1.0.json"
)

//go:embed schemas
var embedded embed.FS

// schemaFiles maps each accepted schema version to its path in Files.
var schemaFiles = []struct{ version, path, id string }{
	{api.LegacySchemaVersion, "model/v1.0.json", ModelV10ID},
	{api.SchemaVersion, "model/v1.1.json", ModelV11ID},
}

// Files returns the schema files for serving, at the paths Names lists
// ("model/v1.0.json" and "model/v1.1.json").
func Files() fs.FS {
	sub, err := fs.Sub(embedded, "schemas")
	if err != nil {
		panic(fmt.Sprintf("schema: embedded files: %v", err)) // "schemas" is a valid path
	}
	return sub
}

// Names returns the paths of the schema files in Files, oldest version first.
func Names() []string {
	names := make([]string, len(schemaFiles))
	for i, f := range schemaFiles {
		names[i] = f.path
	}
	return names
}

// Decoded is a model document read by Decode.
type Decoded struct {
	// Model is the document in schema version 1.1, whatever version it was
	// written in.
	Model *api.Model
	// SourceVersion is the schema version the document declared: "1.0" or
	// "1.1" (also when it declared none).
	SourceVersion string
	// RequestedRole is a 1.0 document's role, which the caller may pass on
	// to classification; "" for a 1.1 document.
	RequestedRole api.Role
	// RequestedStatus is a 1.0 document's status, which the caller may pass
	// on to a lifecycle transition; "" for a 1.1 document.
	RequestedStatus api.Status
}

// Validator checks model documents against the embedded schemas. It is
// built once by New and is safe for concurrent use.
type Validator struct {
	v10, v11 *jsonschema.Schema
	fields   Translator
}

// New compiles the embedded schemas.
func New() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	// Timestamps and dates are checked the way encoding/json and the registry
	// parse them, so that a document that passes the schema always decodes.
	c.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: validateDateTime})
	c.RegisterFormat(&jsonschema.Format{Name: "date", Validate: validateDate})
	for _, f := range schemaFiles {
		b, err := fs.ReadFile(Files(), f.path)
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", f.path, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", f.path, err)
		}
		if err := c.AddResource(f.id, doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", f.path, err)
		}
	}
	v := &Validator{fields: Translator{Patterns: patternMessages, Locations: locationMessages, KeyNames: keyNames}}
	var err error
	if v.v10, err = c.Compile(ModelV10ID); err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", ModelV10ID, err)
	}
	if v.v11, err = c.Compile(ModelV11ID); err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", ModelV11ID, err)
	}
	return v, nil
}

// Decode reads a model document written in JSON or YAML (JSON when its first
// non-space byte is '{'), validates it against the schema version it
// declares (1.1 when it declares none) and returns it in version 1.1.
//
// A document that cannot be parsed, has duplicate keys or is not an object
// gives a Malformed error; one that breaks the schema or a rule the schema
// cannot express gives an Invalid error listing every bad field. A 1.0
// document is validated against 1.0, upgraded with Upgrade10, and the result
// validated against 1.1; errors in that last step point into the upgraded
// document and the error message says so.
func (v *Validator) Decode(data []byte) (*Decoded, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	d, err := v.decode(doc)
	var e *errs.Error
	if doc.yaml && errors.As(err, &e) {
		// YAML 1.1 reads yes, no, on, off and unquoted numbers as other
		// types than strings, to the surprise of most people.
		for i, f := range e.Fields {
			if strings.HasPrefix(f.Message, "must be a string, not ") {
				e.Fields[i].Message += " (in YAML, put it in quotes)"
			}
		}
	}
	return d, err
}

func (v *Validator) decode(doc *document) (*Decoded, error) {
	version, err := declaredVersion(doc.obj)
	if err != nil {
		return nil, err
	}
	if version == api.LegacySchemaVersion {
		return v.decode10(doc.obj)
	}
	if fields := v.check(v.v11, doc.obj); len(fields) > 0 {
		return nil, errs.InvalidFields("the document does not match model schema v1.1", fields)
	}
	dec := json.NewDecoder(bytes.NewReader(doc.text))
	dec.DisallowUnknownFields()
	var m api.Model
	if err := dec.Decode(&m); err != nil {
		// The schema admits only what api.Model can hold, so this is a bug here.
		return nil, errs.Wrap(errs.Other, err, "decode a model document that matches schema v1.1")
	}
	m.SchemaVersion = api.SchemaVersion
	normalize(&m)
	return &Decoded{Model: &m, SourceVersion: api.SchemaVersion}, nil
}

func (v *Validator) decode10(doc map[string]any) (*Decoded, error) {
	if fields := v.check(v.v10, doc); len(fields) > 0 {
		return nil, errs.InvalidFields("the document does not match model schema v1.0", fields)
	}
	d := Upgrade10(modelV10From(doc))
	fields, err := v.checkModel(d.Model)
	if err != nil {
		return nil, fmt.Errorf("check upgraded model: %w", err)
	}
	if len(fields) > 0 {
		return nil, errs.InvalidFields("the document matches model schema v1.0, but once upgraded it does not match "+
			"model schema v1.1 (the pointers refer to the upgraded document)", fields)
	}
	return d, nil
}

// Validate checks a model against schema 1.1 and the rules the schema cannot
// express, with the same errors as Decode. The registry calls it on the
// result of a JSON merge patch. The model's SchemaVersion must be "1.1".
func (v *Validator) Validate(m *api.Model) error {
	if m == nil {
		return errs.E(errs.Invalid, "no model to validate")
	}
	fields, err := v.checkModel(m)
	if err != nil {
		return err
	}
	if len(fields) > 0 {
		return errs.InvalidFields("the document does not match model schema v1.1", fields)
	}
	return nil
}

// checkModel validates m, through its JSON form, against schema 1.1.
func (v *Validator) checkModel(m *api.Model) ([]api.FieldError, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "encode model")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, errs.Wrap(errs.Other, err, "decode encoded model")
	}
	return v.check(v.v11, doc), nil
}

// check validates doc against s and, for schema 1.1, the rules s cannot
// express, and returns the failing fields sorted by pointer.
func (v *Validator) check(s *jsonschema.Schema, doc any) []api.FieldError {
	var fields []api.FieldError
	if err := s.Validate(doc); err != nil {
		fields = v.fields.FieldErrors(err)
	}
	if s == v.v11 {
		fields = append(fields, ruleErrors(doc)...)
	}
	return SortFields(fields)
}

// modelIDSyntax is the pattern of model_id in schema 1.1.
const modelIDSyntax = `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$`

var modelIDPattern = regexp.MustCompile(modelIDSyntax)

// ValidID reports whether s has the syntax of a model_id, a lowercase slug
// "provider/model"; alias names follow the same rule.
func ValidID(s string) bool { return modelIDPattern.MatchString(s) }

// ruleErrors checks the rules of schema 1.1 that JSON Schema cannot express.
func ruleErrors(doc any) []api.FieldError {
	obj, _ := doc.(map[string]any)
	id, _ := obj["model_id"].(string)
	provider, ok := obj["provider"].(string)
	if !ok || !modelIDPattern.MatchString(id) {
		return nil // the schema reports these
	}
	if want, _, _ := strings.Cut(id, "/"); provider != want {
		return []api.FieldError{{Pointer: "/provider", Message: fmt.Sprintf("must be %q, the provider part of model_id %q", want, id)}}
	}
	return nil
}

// declaredVersion returns the schema version doc declares, api.SchemaVersion
// when it declares none.
func declaredVersion(doc map[string]any) (string, error) {
	raw, ok := doc["schema_version"]
	if !ok {
		return api.SchemaVersion, nil
	}
	supported := make([]string, len(schemaFiles))
	for i, f := range schemaFiles {
		supported[i] = fmt.Sprintf("%q", f.version)
		if raw == f.version {
			return f.version, nil
		}
	}
	list := strings.Join(supported, " or ")
	field := api.FieldError{Pointer: "/schema_version"}
	switch raw := raw.(type) {
	case string:
		field.Message = fmt.Sprintf("unsupported version %q: must be %s", raw, list)
	case json.Number:
		field.Message = fmt.Sprintf("must be a string, %s (in YAML, quote it: schema_version: %q)", list, api.SchemaVersion)
	default:
		field.Message = fmt.Sprintf("must be a string, %s", list)
	}
	return "", errs.InvalidFields("unsupported model schema version", []api.FieldError{field})
}

// normalize makes a decoded model equal to the one decoded from its own JSON
// form: empty lists and maps, which that form leaves out, become nil, and
// timestamps at offset zero are put in UTC, since "+00:00" decodes in the
// local time zone when it has that offset, and "Z" in UTC.
func normalize(m *api.Model) {
	for _, t := range []*time.Time{m.CreatedAt, m.UpdatedAt} {
		utcIfZeroOffset(t)
	}
	if m.Governance != nil {
		utcIfZeroOffset(m.Governance.ClassifiedAt)
	}
	if m.Lifecycle != nil {
		utcIfZeroOffset(&m.Lifecycle.Since)
	}
	m.Capabilities = nilIfEmpty(m.Capabilities)
	m.Endpoints = nilIfEmpty(m.Endpoints)
	m.Owners = nilIfEmpty(m.Owners)
	m.EvalRefs = nilIfEmpty(m.EvalRefs)
	m.SourceFiles = nilIfEmpty(m.SourceFiles)
	if len(m.Labels) == 0 {
		m.Labels = nil
	}
	if len(m.Annotations) == 0 {
		m.Annotations = nil
	}
	if m.Modalities != nil {
		m.Modalities.Input = nilIfEmpty(m.Modalities.Input)
		m.Modalities.Output = nilIfEmpty(m.Modalities.Output)
	}
}

// utcIfZeroOffset puts *t in UTC when its offset is zero. Other offsets are
// kept: converting them could move a time past year 9999, which JSON cannot
// encode.
func utcIfZeroOffset(t *time.Time) {
	if t == nil {
		return
	}
	if _, offset := t.Zone(); offset == 0 {
		*t = t.UTC()
	}
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

func validateDateTime(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	var t time.Time
	if err := t.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("not an RFC 3339 timestamp: %w", err)
	}
	return nil
}

func validateDate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return fmt.Errorf("not a YYYY-MM-DD date: %w", err)
	}
	return nil
}
