package policy

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/schema"
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
	schema *jsonschema.Schema
	fields schema.Translator
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
	return &validator{schema: s, fields: schema.Translator{Patterns: patternMessages}}, nil
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
	return schema.SortFields(v.fields.FieldErrors(err))
}

// patternMessages says in words what the schema's patterns mean.
var patternMessages = map[string]string{
	`^[a-z0-9][a-z0-9-]{0,62}$`:            `must be a rule id: at most 63 lowercase letters, digits and "-", not starting with "-", such as "general-size-class"`,
	`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`: `must be a lowercase slug of at most 63 characters (a-z, 0-9 and "-"), such as "hivellm-default"`,
	`^[a-z_][a-z0-9_]{0,62}$`:              `must be a CEL identifier: at most 63 lowercase letters, digits and "_", not starting with a digit`,
	`^[a-z][a-z0-9_.:-]{0,63}$`:            `must be a role name such as "governor"`,
}
