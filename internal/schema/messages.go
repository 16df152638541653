package schema

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/hivellm/modelgov/api"
)

// patternMessages says in words what the schemas' patterns mean.
var patternMessages = map[string]string{
	modelIDSyntax:                                   `must be a lowercase slug "provider/model", such as "openai/gpt-5"`,
	`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`:          `must be a lowercase slug of at most 63 characters (a-z, 0-9 and "-"), such as "openai"`,
	`^\d{4}-\d{2}-\d{2}$`:                           `must be a date such as 2025-09-07`,
	`^[a-z][a-z0-9_-]{0,31}$`:                       `must be a lowercase word of at most 32 characters (a-z, 0-9, "-" and "_"), such as "reasoning"`,
	`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`: `must be empty or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`,
	`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`: keyMessage,
	`^([^/]{1,253}/)?[^/]{1,63}$`: keyMessage,
}

const keyMessage = `must be a name of at most 63 characters (letters, digits, "-", "_" and ".", starting and ending ` +
	`with a letter or digit), optionally after a DNS subdomain of at most 253 characters and "/", such as "team" or "example.com/tier"`

// locationMessages replaces the message of an error raised by the schema
// at a location, for rules that a bare enum would explain badly.
var locationMessages = map[string]string{
	ModelV10ID + "#/allOf/0/then/properties/size_class": "must be large, xl or xxl for a model with role general",
}

var formatMessages = map[string]string{
	"date":      "must be a date such as 2025-09-07",
	"date-time": "must be an RFC 3339 timestamp such as 2025-09-07T00:00:00Z",
	"uri":       "must be an absolute URI such as https://api.example.com/v1",
}

var typeNames = map[string]string{
	"object":  "an object",
	"array":   "an array",
	"string":  "a string",
	"integer": "a whole number",
	"number":  "a number",
	"boolean": "true or false",
	"null":    "null",
}

// fieldErrors translates a schema validation error into one FieldError per
// failing field.
func (v *Validator) fieldErrors(err error) []api.FieldError {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return []api.FieldError{{Pointer: "", Message: err.Error()}}
	}
	var fields []api.FieldError
	v.collect(verr, &fields)
	return fields
}

// collect appends the errors of e's leaf causes to fields.
func (v *Validator) collect(e *jsonschema.ValidationError, fields *[]api.FieldError) {
	if k, ok := e.ErrorKind.(*kind.PropertyNames); ok {
		*fields = append(*fields, v.keyError(e, k.Property))
		return
	}
	for _, c := range e.Causes {
		v.collect(c, fields)
	}
	if len(e.Causes) == 0 {
		*fields = append(*fields, v.leafErrors(e)...)
	}
}

// keyError reports an object key that breaks propertyNames. The library
// reports the key's errors as if the key were the whole document, so their
// pointers are dropped and their messages joined.
func (v *Validator) keyError(e *jsonschema.ValidationError, key string) api.FieldError {
	var causes []api.FieldError
	for _, c := range e.Causes {
		v.collect(c, &causes)
	}
	var msgs []string
	for _, c := range causes {
		if !slices.Contains(msgs, c.Message) {
			msgs = append(msgs, c.Message)
		}
	}
	location := keyLocation(e)
	what := "key"
	if n := len(location); n > 0 {
		switch location[n-1] {
		case "labels":
			what = "label key"
		case "annotations":
			what = "annotation key"
		}
	}
	return api.FieldError{
		Pointer: pointer(append(location, key)),
		Message: fmt.Sprintf("is not a valid %s: it %s", what, strings.Join(msgs, "; ")),
	}
}

// keyLocation returns the location of the object whose key broke
// propertyNames. The library shares that location's backing array with
// later siblings, which overwrite it, so it is rebuilt from the schema
// location ("…#/properties/labels/propertyNames" → ["labels"]) when the
// schema path names the properties on the way; the length of the
// library's location, which is right, tells.
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

// leafErrors translates an error without causes.
func (v *Validator) leafErrors(e *jsonschema.ValidationError) []api.FieldError {
	at := pointer(e.InstanceLocation)
	child := func(name, msg string) api.FieldError {
		return api.FieldError{Pointer: at + "/" + escape(name), Message: msg}
	}
	one := func(format string, args ...any) []api.FieldError {
		return []api.FieldError{{Pointer: at, Message: fmt.Sprintf(format, args...)}}
	}
	if msg, ok := locationMessages[e.SchemaURL]; ok {
		return one("%s", msg)
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		fields := make([]api.FieldError, len(k.Missing))
		for i, name := range k.Missing {
			fields[i] = child(name, "is required")
		}
		return fields
	case *kind.AdditionalProperties:
		fields := make([]api.FieldError, len(k.Properties))
		for i, name := range k.Properties {
			fields[i] = child(name, fmt.Sprintf("unknown field %q", name))
		}
		return fields
	case *kind.UniqueItems:
		first, dup := min(k.Duplicates[0], k.Duplicates[1]), max(k.Duplicates[0], k.Duplicates[1])
		return []api.FieldError{child(strconv.Itoa(dup), fmt.Sprintf("repeats item %d", first))}
	case *kind.Type:
		if k.Got == "number" && slices.Equal(k.Want, []string{"integer"}) {
			return one("must be a whole number")
		}
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
		return one("must be %s", quoted(k.Want))
	case *kind.Pattern:
		if msg, ok := patternMessages[k.Want]; ok {
			return one("%s", msg)
		}
		return one("must match the pattern %s", k.Want)
	case *kind.Format:
		if msg, ok := formatMessages[k.Want]; ok {
			return one("%s", msg)
		}
		return one("must be a valid %s", k.Want)
	case *kind.MinLength:
		if k.Want == 1 {
			return one("must not be empty")
		}
		return one("must be at least %d characters", k.Want)
	case *kind.MaxLength:
		return one("must be at most %d characters", k.Want)
	case *kind.Minimum:
		return one("must be at least %s", k.Want.RatString())
	case *kind.Maximum:
		return one("must be at most %s", k.Want.RatString())
	case *kind.MinItems:
		return one("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return one("must have at most %d items", k.Want)
	case *kind.MinProperties:
		return one("must have at least %d entries", k.Want)
	case *kind.MaxProperties:
		return one("must have at most %d entries", k.Want)
	case *kind.FalseSchema:
		return one("is not allowed")
	}
	return one("%s", e.ErrorKind.LocalizedString(v.printer))
}

// quoted writes a schema value the way it appears in a document.
func quoted(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
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
