package policy

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/schema"
)

//go:embed default.yaml
var defaultBundle string

// Default returns the default bundle, hivellm-default, as YAML: the
// founding rule of HiveLLM proposal 035 and the lifecycle rules around it.
// docs/POLICY.md explains it rule by rule.
func Default() []byte { return []byte(defaultBundle) }

// Parse reads a bundle written in JSON or YAML (JSON when its first
// non-space byte is '{') and validates it against the bundle's JSON Schema
// (SchemaFiles) and the rules the schema cannot express: rule ids are
// unique across the bundle, a bundle holds at most MaxRules rules,
// params.grace_period is a duration, params nest at most MaxParamsDepth
// levels.
//
// A document over MaxBundleBytes gives an errs.TooLarge error; one that
// cannot be parsed, or is not an object, an errs.Malformed error; one that
// breaks the schema or those rules an errs.Invalid error listing every bad
// field by JSON pointer. Parse does not compile the expressions: Compile
// does.
//
// Integral numbers in params become int64 (YAML's 70e9 as much as JSON's
// 70000000000), other numbers float64, so that rules compare them with
// model fields exactly.
func Parse(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleBytes {
		return nil, errs.E(errs.TooLarge, "the policy bundle is %d bytes, over the limit of %d", len(data), MaxBundleBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errs.E(errs.Malformed, "the policy bundle is empty")
	}
	text := data
	if trimmed[0] != '{' {
		var err error
		if text, err = yaml.YAMLToJSONStrict(data); err != nil {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "), "yaml: ")
			return nil, errs.E(errs.Malformed, "the policy bundle is neither a JSON object nor valid YAML: %s", msg)
		}
	}
	return parseJSON(text)
}

// parseJSON validates and decodes a bundle's JSON text.
func parseJSON(text []byte) (*Bundle, error) {
	s, err := bundleSchema()
	if err != nil {
		return nil, err
	}
	doc, err := s.decode(text)
	if err != nil {
		return nil, err
	}
	if fields := s.validate(doc); len(fields) > 0 {
		return nil, errs.InvalidFields("the policy bundle does not match policy schema v1", fields)
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var b Bundle
	if err := dec.Decode(&b); err != nil {
		// The schema admits only what Bundle can hold, so this is a bug here.
		return nil, errs.Wrap(errs.Other, err, "decode a policy bundle that matches its schema")
	}
	if b.Params, err = normalizeMap(b.Params); err != nil {
		return nil, errs.Wrap(errs.Other, err, "normalize params")
	}
	if fields := b.check(); len(fields) > 0 {
		return nil, errs.InvalidFields("the policy bundle is not valid", schema.SortFields(fields))
	}
	return &b, nil
}

// check applies the rules the schema cannot express.
func (b *Bundle) check() []api.FieldError {
	var fields []api.FieldError
	first := map[string]string{} // rule id → pointer of its first use
	n := 0
	use := func(at, id string) {
		n++
		if prev, dup := first[id]; dup {
			fields = append(fields, api.FieldError{Pointer: at + "/id",
				Message: fmt.Sprintf("repeats rule id %q of %s: rule ids must be unique in a bundle", id, prev)})
			return
		}
		first[id] = at + "/id"
	}
	for _, role := range classifiedRoles() {
		for i, r := range b.Classification[string(role)] {
			use(fmt.Sprintf("/classification/%s/%d", role, i), r.ID)
		}
	}
	for i, r := range b.Validation {
		use(fmt.Sprintf("/validation/%d", i), r.ID)
	}
	for i, r := range b.Transitions {
		at := fmt.Sprintf("/transitions/%d", i)
		use(at, r.ID)
		if len(r.Roles) == 0 && r.Expression == "" {
			fields = append(fields, api.FieldError{Pointer: at, Message: "needs roles, an expression or both"})
		}
	}
	for i, r := range b.Permissions {
		at := fmt.Sprintf("/permissions/%d", i)
		use(at, r.ID)
		if len(r.Roles) == 0 && r.Expression == "" {
			fields = append(fields, api.FieldError{Pointer: at, Message: "needs roles, an expression or both"})
		}
	}
	if n > MaxRules {
		fields = append(fields, api.FieldError{Pointer: "", Message: fmt.Sprintf("has %d rules, over the limit of %d", n, MaxRules)})
	}
	if s, ok := b.Params["grace_period"].(string); ok {
		if d, err := time.ParseDuration(s); err != nil || d < 0 {
			fields = append(fields, api.FieldError{Pointer: "/params/grace_period",
				Message: `must be a duration such as "720h" (30 days) or "0s"`})
		}
	}
	for k, v := range b.Params {
		if at, ok := tooDeep(v, schema.Pointer("params", k), 1); !ok {
			fields = append(fields, api.FieldError{Pointer: at, Message: fmt.Sprintf("params nest more than %d levels deep", MaxParamsDepth)})
		}
	}
	return fields
}

// tooDeep reports, false with a pointer, a value nested deeper than
// MaxParamsDepth.
func tooDeep(v any, at string, depth int) (string, bool) {
	if depth > MaxParamsDepth {
		return at, false
	}
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			if p, ok := tooDeep(e, at+"/"+strconv.Itoa(i), depth+1); !ok {
				return p, false
			}
		}
	case map[string]any:
		for k, e := range v {
			if p, ok := tooDeep(e, at+schema.Pointer(k), depth+1); !ok {
				return p, false
			}
		}
	}
	return "", true
}

// normalized returns a deep copy of b in the form Parse gives, checked as
// Parse checks it.
func (b *Bundle) normalized() (*Bundle, error) {
	text, err := json.Marshal(b)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the policy bundle cannot be encoded as JSON")
	}
	return parseJSON(text)
}

// normalizeMap returns m with its numbers normalized by normalizeValue.
func normalizeMap(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		n, err := normalizeValue(v)
		if err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}

// normalizeValue turns the numbers of a decoded JSON value into int64 when
// they are integral and in range, float64 otherwise.
func normalizeValue(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", v)
		}
		return normalizeFloat(f), nil
	case float64:
		return normalizeFloat(v), nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			n, err := normalizeValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		return normalizeMap(v)
	}
	return v, nil
}

func normalizeFloat(f float64) any {
	if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
		return int64(f)
	}
	return f
}

// Hash returns "sha256:" and the hex SHA-256 of the bundle's canonical
// JSON: encoding/json's encoding of the Bundle, map keys sorted, with
// params normalized as Parse normalizes them. The JSON and YAML spellings
// of a bundle have the same hash. It returns "" for a nil bundle or one
// whose params cannot be encoded (Compile refuses those).
func Hash(b *Bundle) string {
	if b == nil {
		return ""
	}
	c := *b
	if c.Params != nil {
		text, err := json.Marshal(c.Params)
		if err != nil {
			return ""
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			return ""
		}
		if c.Params, err = normalizeMap(raw); err != nil {
			return ""
		}
	}
	text, err := json.Marshal(&c)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(text)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// errNotObject is the Malformed error of a document that is not an object.
func errNotObject(v any) error {
	what := fmt.Sprintf("%T", v)
	switch v.(type) {
	case nil:
		what = "null"
	case []any:
		what = "an array"
	case string:
		what = "a string"
	case json.Number:
		what = "a number"
	case bool:
		what = "a boolean"
	}
	return errs.E(errs.Malformed, "the policy bundle must be an object (a JSON object or a YAML mapping), not %s", what)
}
