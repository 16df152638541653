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
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hivellm/modelgov/api"
)

// A Translator turns the validation errors of
// github.com/santhosh-tekuri/jsonschema/v6 into one [api.FieldError] per
// failing field: the field's JSON pointer and a message in words. The
// messages of the keywords are the same for every schema; a Translator's
// fields word what depends on one schema. The model documents here and the
// policy bundles of internal/policy both use it.
//
// The zero Translator is ready to use. A Translator is safe for concurrent
// use as long as its maps are not changed.
type Translator struct {
	// Patterns says in words what the schema's patterns mean, by pattern.
	// A pattern it lacks gives "must match the pattern PATTERN".
	Patterns map[string]string
	// Locations replaces the message of an error raised at a schema
	// location ("SCHEMA-ID#/allOf/0/then/properties/size_class"), for rules
	// that the keyword's own message would explain badly.
	Locations map[string]string
	// KeyNames names the keys of an object, by the name of the field that
	// holds the object ("labels" → "label key"), in the message of a key
	// that breaks propertyNames. A field it lacks gives "key".
	KeyNames map[string]string
}

// FieldErrors translates an error returned by [jsonschema.Schema.Validate]
// into one field error per failing field, in the order the library reports
// them; [SortFields] puts them in pointer order. An error that is not a
// [*jsonschema.ValidationError] gives one field error, at the document,
// with the error's text.
func (t *Translator) FieldErrors(err error) []api.FieldError {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return []api.FieldError{{Pointer: "", Message: err.Error()}}
	}
	var fields []api.FieldError
	t.collect(verr, &fields)
	return fields
}

// SortFields sorts fields by pointer, then message, and drops repeated ones.
func SortFields(fields []api.FieldError) []api.FieldError {
	slices.SortStableFunc(fields, func(a, b api.FieldError) int {
		return cmp.Or(strings.Compare(a.Pointer, b.Pointer), strings.Compare(a.Message, b.Message))
	})
	return slices.Compact(fields)
}

// Pointer returns the JSON pointer (RFC 6901) made of the reference tokens:
// Pointer("labels", "example.com/tier") is "/labels/example.com~1tier".
func Pointer(tokens ...string) string {
	var b strings.Builder
	for _, tok := range tokens {
		b.WriteByte('/')
		b.WriteString(escape(tok))
	}
	return b.String()
}

func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// collect appends the errors of e's leaf causes to fields.
func (t *Translator) collect(e *jsonschema.ValidationError, fields *[]api.FieldError) {
	if k, ok := e.ErrorKind.(*kind.PropertyNames); ok {
		*fields = append(*fields, t.keyError(e, k.Property))
		return
	}
	for _, c := range e.Causes {
		t.collect(c, fields)
	}
	if len(e.Causes) == 0 {
		*fields = append(*fields, t.leafErrors(e)...)
	}
}

// keyError reports an object key that breaks propertyNames. The library
// reports the key's errors as if the key were the whole document, so their
// pointers are dropped and their messages joined.
func (t *Translator) keyError(e *jsonschema.ValidationError, key string) api.FieldError {
	var causes []api.FieldError
	for _, c := range e.Causes {
		t.collect(c, &causes)
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
		what = cmp.Or(t.KeyNames[location[n-1]], what)
	}
	return api.FieldError{
		Pointer: Pointer(append(location, key)...),
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

// leafErrors translates an error without causes.
func (t *Translator) leafErrors(e *jsonschema.ValidationError) []api.FieldError {
	at := Pointer(e.InstanceLocation...)
	child := func(name, msg string) api.FieldError {
		return api.FieldError{Pointer: at + "/" + escape(name), Message: msg}
	}
	one := func(format string, args ...any) []api.FieldError {
		return []api.FieldError{{Pointer: at, Message: fmt.Sprintf(format, args...)}}
	}
	if msg, ok := t.Locations[e.SchemaURL]; ok {
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
		for i, name := range k.Want {
			want[i] = cmp.Or(typeNames[name], name)
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
		if msg, ok := t.Patterns[k.Want]; ok {
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
	// The library's own words, for the keywords the schemas here seldom
	// use; the printer is made only on this rare path.
	return one("%s", e.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
}

// quoted writes a schema value the way it appears in a document.
func quoted(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}
