package importer

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// scope is what a record's values are read from: the record, its key and
// position, and the vars computed so far.
type scope struct {
	record any
	key    string
	index  int
	vars   map[string]any
}

// lookup reads a path: $key, $index, a var name (in templates), or a
// dotted path with array indexes. A missing path gives nil.
func (s *scope) lookup(path string, vars bool) any {
	switch path {
	case "$key":
		if s.key == "" {
			return nil
		}
		return s.key
	case "$index":
		return json.Number(strconv.Itoa(s.index))
	case "$", ".":
		return s.record
	}
	if vars {
		if v, ok := s.vars[path]; ok {
			return v
		}
	}
	return walk(s.record, path)
}

// walk follows a dotted path with array indexes ("a.b[0].c") through v. A
// key holding a dot is reached by the whole remaining path first, so that
// CSV columns and keys such as "gpt-4.1" still work.
func walk(v any, path string) any {
	if path == "" {
		return v
	}
	obj, isObj := v.(map[string]any)
	if isObj {
		if w, ok := obj[path]; ok {
			return w
		}
	}
	head, rest := path, ""
	if i := strings.IndexAny(path, ".["); i >= 0 {
		head, rest = path[:i], path[i:]
	}
	if head != "" {
		if !isObj {
			return nil
		}
		w, ok := obj[head]
		if !ok {
			return nil
		}
		return walk(w, strings.TrimPrefix(rest, "."))
	}
	// rest starts with '['
	j := strings.IndexByte(path, ']')
	if j < 0 {
		return nil
	}
	n, err := strconv.Atoi(path[1:j])
	arr, ok := v.([]any)
	if err != nil || !ok || n < 0 || n >= len(arr) {
		return nil
	}
	return walk(arr[n], strings.TrimPrefix(path[j+1:], "."))
}

// empty reports whether v counts as no value.
func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	case []any:
		return len(v) == 0
	}
	return false
}

// text is the string form of a scalar value.
func text(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case []any:
		return "", fmt.Errorf("is a list, not a single value")
	case map[string]any:
		return "", fmt.Errorf("is an object, not a single value")
	}
	return "", fmt.Errorf("has an unexpected type %T", v)
}

// eval computes a value in a scope. The result is nil (no value), a
// scalar (string, json.Number, bool) or a list of scalars.
func (v *Value) eval(s *scope) (any, error) {
	var out any
	switch {
	case v.Path != "":
		out = s.lookup(v.Path, false)
	case v.Template != "":
		t, err := s.template(v.Template)
		if err != nil {
			return nil, err
		}
		out = t
	case v.Const != nil:
		out = v.Const
		if f, ok := out.(float64); ok {
			out = json.Number(strconv.FormatFloat(f, 'f', -1, 64))
		}
	default:
		for i := range v.First {
			w, err := v.First[i].eval(s)
			if err != nil {
				return nil, err
			}
			if !empty(w) {
				out = w
				break
			}
		}
	}
	if _, isObj := out.(map[string]any); isObj {
		return nil, fmt.Errorf("%s is an object, not a value", v.describe())
	}
	if str, ok := out.(string); ok && v.Split != "" {
		var items []any
		for _, part := range strings.Split(str, v.Split) {
			items = append(items, strings.TrimSpace(part))
		}
		out = items
	}
	if list, ok := out.([]any); ok {
		var items []any
		for _, item := range list {
			w, err := v.transform(s, item)
			if err != nil {
				return nil, err
			}
			if !empty(w) {
				items = append(items, w)
			}
		}
		out = items
		if len(items) == 0 {
			out = nil
		}
	} else {
		w, err := v.transform(s, out)
		if err != nil {
			return nil, err
		}
		out = w
	}
	if empty(out) && v.Default != "" {
		return v.Default, nil
	}
	return out, nil
}

// describe names a value's source for messages.
func (v *Value) describe() string {
	switch {
	case v.Path != "":
		return v.Path
	case v.Template != "":
		return "template " + v.Template
	}
	return "the value"
}

// transform applies trim_prefix, replace, map and convert to one scalar.
func (v *Value) transform(s *scope, item any) (any, error) {
	if empty(item) {
		return nil, nil
	}
	if _, isList := item.([]any); isList {
		return nil, fmt.Errorf("%s is a list of lists", v.describe())
	}
	if _, isObj := item.(map[string]any); isObj {
		return nil, fmt.Errorf("%s holds an object, not a value", v.describe())
	}
	if len(v.TrimPrefix) > 0 || len(v.replace) > 0 {
		str, err := text(item)
		if err != nil {
			return nil, fmt.Errorf("%s %v", v.describe(), err)
		}
		for _, p := range v.TrimPrefix {
			prefix, err := s.template(p)
			if err != nil {
				return nil, err
			}
			if prefix != "" && strings.HasPrefix(str, prefix) {
				str = str[len(prefix):]
				break
			}
		}
		for i, re := range v.replace {
			str = re.ReplaceAllString(str, v.Replace[i].With)
		}
		item = str
	}
	if v.Map != nil {
		str, err := text(item)
		if err != nil {
			return nil, fmt.Errorf("%s %v", v.describe(), err)
		}
		if to, ok := v.Map[str]; ok {
			item = to
		} else {
			switch v.Unmapped {
			case "drop":
				return nil, nil
			case "error":
				return nil, fmt.Errorf("%q (from %s) has no entry in the mapping's map", str, v.describe())
			}
		}
		if empty(item) {
			return nil, nil
		}
	}
	for _, c := range v.Convert {
		var err error
		if item, err = convert(c, item); err != nil {
			return nil, fmt.Errorf("%s: %v", v.describe(), err)
		}
		if empty(item) {
			return nil, nil
		}
	}
	return item, nil
}

// template fills {x} placeholders: a var, else a path. An empty
// placeholder makes the whole template empty.
func (s *scope) template(t string) (string, error) {
	var b strings.Builder
	for rest := t; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("template %q has a { without }", t)
		}
		b.WriteString(rest[:i])
		name := strings.TrimSpace(rest[i+1 : i+j])
		v := s.lookup(name, true)
		if empty(v) {
			return "", nil
		}
		str, err := text(v)
		if err != nil {
			return "", fmt.Errorf("template %q: {%s} %v", t, name, err)
		}
		b.WriteString(str)
		rest = rest[i+j+1:]
	}
}

// convert applies one named conversion to a scalar.
func convert(name string, v any) (any, error) {
	str, err := text(v)
	if err != nil {
		return nil, err
	}
	switch name {
	case "string":
		return str, nil
	case "trim":
		return strings.TrimSpace(str), nil
	case "lowercase":
		return strings.ToLower(str), nil
	case "int":
		n, err := wholeNumber(str)
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.FormatInt(n, 10)), nil
	case "number":
		f, err := strconv.ParseFloat(strings.TrimSpace(str), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q is not a number", str)
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case "bool":
		b, ok := truth(v)
		if !ok {
			return nil, fmt.Errorf("%q is not true or false", str)
		}
		return b, nil
	case "slug":
		return slug(str, "._-"), nil
	case "provider":
		return slug(str, "-"), nil
	case "word":
		w := slug(str, "_-")
		return strings.TrimLeft(w, "0123456789_-"), nil
	case "date":
		return date(str)
	}
	return nil, fmt.Errorf("unknown conversion %q", name)
}

// wholeNumber reads an integral number, also written 2000000.0 or 7e10.
func wholeNumber(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return int64(f), nil
}

// truth reads a boolean: true/false, yes/no, 1/0, in any case.
func truth(v any) (bool, bool) {
	if b, ok := v.(bool); ok {
		return b, true
	}
	str, err := text(v)
	if err != nil {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(str)) {
	case "true", "yes", "y", "1":
		return true, true
	case "false", "no", "n", "0", "":
		return false, true
	}
	return false, false
}

// slug lowercases s and turns every run of characters outside a-z, 0-9
// and keep into one '-', then trims anything but a letter or digit from
// both ends: the model_id rules (keep "._-") and the provider rules
// (keep "-").
func slug(s, keep string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r < 128 && strings.ContainsRune(keep, r):
			if r == '-' && dash {
				continue
			}
			b.WriteRune(r)
			dash = r == '-'
		default:
			if !dash {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimFunc(b.String(), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// date reads YYYY-MM-DD, an RFC 3339 timestamp or Unix seconds, and
// writes YYYY-MM-DD.
func date(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 10 {
		if t, err := time.Parse(time.DateOnly, s[:10]); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC().Format(time.DateOnly), nil
	}
	return "", fmt.Errorf("%q is not a date (YYYY-MM-DD, RFC 3339 or Unix seconds)", s)
}
