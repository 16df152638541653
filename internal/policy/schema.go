package policy

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// SchemaID is the identifier of the bundle's JSON Schema, which is also
// the address it is served at.
const SchemaID = "https://modelgov.dev/schemas/policy/v1.json"

//go:embed schemas
var embedded embed.FS

// SchemaFiles returns the bundle's JSON Schema for serving, at the path
// "policy/v1.json".
func SchemaFiles() fs.FS {
	sub, err := fs.Sub(embedded, "schemas")
	if err != nil {
		panic(fmt.Sprintf("policy: embedded files: %v", err)) // "schemas" is a valid path
	}
	return sub
}

// validator is the compiled bundle schema.
type validator struct {
	schema  *jsonschema.Schema
	printer *message.Printer
}

// bundleSchema compiles the embedded schema once; it never changes after.
var bundleSchema = sync.OnceValues(func() (*validator, error) {
	b, err := fs.ReadFile(SchemaFiles(), "policy/v1.json")
	if err != nil {
		return nil, fmt.Errorf("policy: read the bundle schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("policy: parse the bundle schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, fmt.Errorf("policy: add the bundle schema: %w", err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		return nil, fmt.Errorf("policy: compile the bundle schema: %w", err)
	}
	return &validator{schema: s, printer: message.NewPrinter(language.English)}, nil
})

// Numbers are bounded before validation: the validator turns them into
// exact rationals, and 1e999999 takes a long time.
const maxNumberLen = 64

// decode parses JSON text into the form the validator takes. Errors are
// Malformed.
func (v *validator) decode(text []byte) (any, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
	if err != nil {
		return nil, errs.E(errs.Malformed, "the policy bundle is not valid JSON: %v", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errNotObject(doc)
	}
	if err := checkNumbers(doc); err != nil {
		return nil, errs.E(errs.Malformed, "the policy bundle is not valid: %v", err)
	}
	return doc, nil
}

// checkNumbers refuses numbers that are too long or out of float64 range.
func checkNumbers(v any) error {
	switch v := v.(type) {
	case json.Number:
		if len(v) > maxNumberLen {
			return fmt.Errorf("number %.24s... is too long", v)
		}
		if _, err := strconv.ParseFloat(string(v), 64); err != nil {
			return fmt.Errorf("number %s is out of range", v)
		}
	case []any:
		for _, e := range v {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range v {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// validate checks a decoded document against the schema and returns the
// failing fields, sorted by pointer.
func (v *validator) validate(doc any) []api.FieldError {
	err := v.schema.Validate(doc)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return []api.FieldError{{Pointer: "", Message: err.Error()}}
	}
	var fields []api.FieldError
	v.collect(verr, &fields)
	return sortFields(fields)
}

// collect appends the errors of e's leaf causes to fields, as
// internal/schema does for model documents.
func (v *validator) collect(e *jsonschema.ValidationError, fields *[]api.FieldError) {
	if k, ok := e.ErrorKind.(*kind.PropertyNames); ok {
		// The library reports a bad key's errors as if the key were the
		// whole document: name the key instead.
		var causes []api.FieldError
		for _, c := range e.Causes {
			v.collect(c, &causes)
		}
		msgs := make([]string, 0, len(causes))
		for _, c := range causes {
			msgs = append(msgs, c.Message)
		}
		*fields = append(*fields, api.FieldError{Pointer: pointer(keyLocation(e)) + "/" + escape(k.Property),
			Message: "is not a valid key: it " + strings.Join(slices.Compact(msgs), "; ")})
		return
	}
	for _, c := range e.Causes {
		v.collect(c, fields)
	}
	if len(e.Causes) == 0 {
		*fields = append(*fields, v.leafErrors(e)...)
	}
}

// keyLocation returns the location of the object whose key broke
// propertyNames, rebuilt from the schema location when it names the
// properties on the way: the library shares the backing array of
// InstanceLocation between siblings (see internal/schema).
func keyLocation(e *jsonschema.ValidationError) []string {
	_, fragment, _ := strings.Cut(e.SchemaURL, "#")
	tokens := strings.Split(strings.TrimPrefix(fragment, "/"), "/")
	var location []string
	for i := 0; i+1 < len(tokens); i++ {
		if tokens[i] == "properties" {
			i++
			location = append(location, strings.ReplaceAll(strings.ReplaceAll(tokens[i], "~1", "/"), "~0", "~"))
		}
	}
	if len(location) != len(e.InstanceLocation) {
		return slices.Clone(e.InstanceLocation)
	}
	return location
}

// patternMessages says in words what the schema's patterns mean.
func patternMessage(pattern string) string {
	switch pattern {
	case `^[a-z0-9][a-z0-9-]{0,62}$`:
		return `must be a rule id: at most 63 lowercase letters, digits and "-", not starting with "-", such as "general-size-class"`
	case `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`:
		return `must be a lowercase slug of at most 63 characters (a-z, 0-9 and "-"), such as "hivellm-default"`
	case `^[a-z_][a-z0-9_]{0,62}$`:
		return `must be a CEL identifier: at most 63 lowercase letters, digits and "_", not starting with a digit`
	case `^[a-z][a-z0-9_.:-]{0,63}$`:
		return `must be a role name such as "governor"`
	}
	return "must match the pattern " + pattern
}

var typeNames = map[string]string{
	"object": "an object", "array": "an array", "string": "a string", "integer": "a whole number",
	"number": "a number", "boolean": "true or false", "null": "null",
}

// leafErrors translates an error without causes.
func (v *validator) leafErrors(e *jsonschema.ValidationError) []api.FieldError {
	at := pointer(e.InstanceLocation)
	one := func(format string, args ...any) []api.FieldError {
		return []api.FieldError{{Pointer: at, Message: fmt.Sprintf(format, args...)}}
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		fields := make([]api.FieldError, len(k.Missing))
		for i, name := range k.Missing {
			fields[i] = api.FieldError{Pointer: at + "/" + escape(name), Message: "is required"}
		}
		return fields
	case *kind.AdditionalProperties:
		fields := make([]api.FieldError, len(k.Properties))
		for i, name := range k.Properties {
			fields[i] = api.FieldError{Pointer: at + "/" + escape(name), Message: fmt.Sprintf("unknown field %q", name)}
		}
		return fields
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, t := range k.Want {
			want[i] = cmp.Or(typeNames[t], t)
		}
		return one("must be %s, not %s", strings.Join(want, " or "), cmp.Or(typeNames[k.Got], k.Got))
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return one("must be one of %s", strings.Join(want, ", "))
	case *kind.Const:
		return one("must be %q", fmt.Sprint(k.Want))
	case *kind.Pattern:
		return one("%s", patternMessage(k.Want))
	case *kind.UniqueItems:
		return []api.FieldError{{Pointer: at + "/" + strconv.Itoa(max(k.Duplicates[0], k.Duplicates[1])),
			Message: fmt.Sprintf("repeats item %d", min(k.Duplicates[0], k.Duplicates[1]))}}
	case *kind.MinLength:
		if k.Want == 1 {
			return one("must not be empty")
		}
		return one("must be at least %d characters", k.Want)
	case *kind.MaxLength:
		return one("must be at most %d characters", k.Want)
	case *kind.MinItems:
		return one("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return one("must have at most %d items", k.Want)
	case *kind.MaxProperties:
		return one("must have at most %d entries", k.Want)
	case *kind.FalseSchema:
		return one("is not allowed")
	}
	return one("%s", e.ErrorKind.LocalizedString(v.printer))
}

// pointer returns the JSON pointer (RFC 6901) of a location.
func pointer(location []string) string {
	var b strings.Builder
	for _, tok := range location {
		b.WriteByte('/')
		b.WriteString(escape(tok))
	}
	return b.String()
}

func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// sortFields sorts fields by pointer and drops repeated ones.
func sortFields(fields []api.FieldError) []api.FieldError {
	slices.SortStableFunc(fields, func(a, b api.FieldError) int {
		return cmp.Or(strings.Compare(a.Pointer, b.Pointer), strings.Compare(a.Message, b.Message))
	})
	return slices.Compact(fields)
}
