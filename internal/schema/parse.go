package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/internal/errs"
)

const (
	// maxDepth bounds nesting; model documents need four levels.
	maxDepth = 64
	// maxNumberLen and maxExponent bound numbers: the validator turns them
	// into exact rationals, and 1e999999 takes milliseconds. Every float64
	// fits the bounds.
	maxNumberLen = 64
	maxExponent  = 400
)

// document is a parsed model document.
type document struct {
	obj  map[string]any // the form the validator takes, numbers as json.Number
	text []byte         // the JSON text, converted when the input was YAML
	yaml bool           // whether the input was YAML
}

// parseDocument reads a JSON or YAML document. Errors are Malformed.
func parseDocument(data []byte) (*document, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errs.E(errs.Malformed, "the document is empty")
	}
	format, text := "JSON", data
	if trimmed[0] != '{' {
		format = "YAML"
		var err error
		if text, err = yaml.YAMLToJSONStrict(data); err != nil {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "), "yaml: ")
			return nil, errs.E(errs.Malformed, "the document is neither a JSON object nor valid YAML: %s", msg)
		}
	}
	// Positions in JSON converted from YAML would mislead, and YAML errors
	// are all caught by the conversion.
	p := jsonParser{dec: json.NewDecoder(bytes.NewReader(text)), text: text, positions: format == "JSON"}
	p.dec.UseNumber()
	v, err := p.document()
	if err != nil {
		return nil, errs.E(errs.Malformed, "the document is not valid %s: %v", format, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errs.E(errs.Malformed, "the document must be an object (a JSON object or a YAML mapping), not %s", describe(v))
	}
	return &document{obj: obj, text: text, yaml: format == "YAML"}, nil
}

// jsonParser builds a document token by token, which lets it refuse
// duplicate keys that encoding/json would silently overwrite.
type jsonParser struct {
	dec       *json.Decoder
	text      []byte
	positions bool // whether errors name a line and column
}

func (p *jsonParser) document() (any, error) {
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p.errorAt(p.dec.InputOffset(), "unexpected data after the document")
	}
	return v, nil
}

func (p *jsonParser) value(depth int) (any, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.wrap(err)
	}
	switch tok := tok.(type) {
	case json.Number:
		if !numberInRange(tok) {
			return nil, p.errorAt(p.dec.InputOffset(), "number %.24s is out of range", tok)
		}
		return tok, nil
	case json.Delim:
		if depth >= maxDepth {
			return nil, p.errorAt(p.dec.InputOffset(), "nested more than %d levels deep", maxDepth)
		}
		if tok == '[' {
			return p.array(depth)
		}
		return p.object(depth)
	default: // string, bool or nil
		return tok, nil
	}
}

func (p *jsonParser) object(depth int) (map[string]any, error) {
	obj := map[string]any{}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, p.wrap(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, p.errorAt(p.dec.InputOffset(), "expected an object key")
		}
		if _, dup := obj[key]; dup {
			return nil, p.errorAt(p.dec.InputOffset(), "duplicate key %q", key)
		}
		if obj[key], err = p.value(depth + 1); err != nil {
			return nil, err
		}
	}
	if _, err := p.dec.Token(); err != nil { // '}'
		return nil, p.wrap(err)
	}
	return obj, nil
}

func (p *jsonParser) array(depth int) ([]any, error) {
	arr := []any{}
	for p.dec.More() {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := p.dec.Token(); err != nil { // ']'
		return nil, p.wrap(err)
	}
	return arr, nil
}

// numberInRange reports whether n is short and its exponent small.
func numberInRange(n json.Number) bool {
	if len(n) > maxNumberLen {
		return false
	}
	i := strings.IndexAny(string(n), "eE")
	if i < 0 {
		return true
	}
	exp, err := strconv.Atoi(string(n[i+1:]))
	return err == nil && exp >= -maxExponent && exp <= maxExponent
}

// wrap adds the position to an error of encoding/json.
func (p *jsonParser) wrap(err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return p.errorAt(syntax.Offset, "%s", syntax.Error())
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return p.errorAt(int64(len(p.text)), "unexpected end of the document")
	}
	return err
}

// errorAt returns an error that names the line and column of offset.
func (p *jsonParser) errorAt(offset int64, format string, args ...any) error {
	if !p.positions {
		return fmt.Errorf(format, args...)
	}
	offset = min(max(offset, 0), int64(len(p.text)))
	before := p.text[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	column := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Errorf("line %d, column %d: %s", line, column, fmt.Sprintf(format, args...))
}

// describe names the JSON type of v, with an article.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}
