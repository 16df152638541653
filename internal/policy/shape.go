package policy

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"

	"github.com/hivellm/modelgov/internal/editdistance"
)

// shape describes the values a CEL variable can hold: which fields a map
// has and how large strings, lists and maps can grow. Compile uses shapes to
// refuse selections of fields that do not exist (model.size_clas) and to
// estimate the worst-case cost of a rule. The bounds of the model document
// are those of its JSON Schema (internal/schema, model v1.1).
type shape struct {
	// size bounds a string's length, a list's items or a map's entries; 1
	// for a number, a bool or a timestamp.
	size uint64
	// fields are the keys of a map whose keys are known: selecting any
	// other key is an error.
	fields map[string]*shape
	// items is the shape of a list's elements.
	items *shape
	// keys and values are the shapes of a map's keys and values. A map
	// without fields accepts any key.
	keys, values *shape
}

func scalarShape() *shape                       { return &shape{size: 1} }
func stringShape(max uint64) *shape             { return &shape{size: max} }
func listShape(max uint64, items *shape) *shape { return &shape{size: max, items: items} }

func objectShape(fields map[string]*shape) *shape {
	s := &shape{size: uint64(len(fields)), fields: fields, values: &shape{}}
	var keyLen uint64
	for name, f := range fields {
		keyLen = max(keyLen, uint64(len(name)))
		s.values = union(s.values, f)
	}
	s.keys = stringShape(keyLen)
	return s
}

// freeMapShape is a map with any keys, such as labels.
func freeMapShape(max uint64, keys, values *shape) *shape {
	return &shape{size: max, keys: keys, values: values}
}

// union returns a shape that bounds both a and b.
func union(a, b *shape) *shape {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	u := &shape{size: max(a.size, b.size), items: union(a.items, b.items),
		keys: union(a.keys, b.keys), values: union(a.values, b.values)}
	if a.fields != nil || b.fields != nil {
		u.fields = map[string]*shape{}
		for name, f := range a.fields {
			u.fields[name] = f
		}
		for name, f := range b.fields {
			u.fields[name] = union(u.fields[name], f)
		}
	}
	return u
}

// child returns the shape one step down: a field name, or one of the cost
// estimator's steps "@items", "@keys" and "@values". It returns nil when s
// has no such child.
func (s *shape) child(step string) *shape {
	switch step {
	case "@items":
		return s.items
	case "@keys":
		// The estimator cannot tell a dyn list from a dyn map, and names the
		// elements of both "@keys" when a comprehension iterates over them.
		if s.items != nil {
			return s.items
		}
		return s.keys
	case "@values":
		return s.values
	}
	if s.fields != nil {
		return s.fields[step]
	}
	return s.values
}

// modelShape is the shape of the CEL variables model and old, with the
// bounds of model schema v1.1 (identity: 256 endorsements, key ids of 32
// hex digits, artifact digests of "sha256:" and 64 hex digits).
func modelShape() *shape {
	str := stringShape
	word := str(32)
	words := func(n uint64) *shape { return listShape(n, word) }
	refs := listShape(256, str(1024))
	ts := scalarShape()
	return objectShape(map[string]*shape{
		"model_id":     str(192),
		"provider":     str(63),
		"display_name": str(256),
		"family":       str(128),
		"version":      str(128),
		"release_date": str(10),
		"size_class":   str(6),
		"parameters": objectShape(map[string]*shape{
			"count": scalarShape(), "active": scalarShape(), "source": str(9)}),
		"context_window":    scalarShape(),
		"max_output_tokens": scalarShape(),
		"modalities":        objectShape(map[string]*shape{"input": words(16), "output": words(16)}),
		"capabilities":      words(64),
		"license":           str(128),
		"endpoints": listShape(32, objectShape(map[string]*shape{
			"url": str(2048), "api": str(128), "description": str(1024)})),
		"owners":       listShape(32, str(256)),
		"labels":       freeMapShape(64, str(317), str(63)),
		"annotations":  freeMapShape(64, str(317), str(16384)),
		"eval_refs":    refs,
		"source_files": refs,
		"notes":        str(65536),
		"role":         str(12),
		"status":       str(10),
		"governance": objectShape(map[string]*shape{
			"role":              str(12),
			"reason":            str(4096),
			"classified_by":     str(256),
			"policy_version":    scalarShape(),
			"policy_hash":       str(128),
			"size_confirmed_by": str(256),
			"exemptions": listShape(64, objectShape(map[string]*shape{
				"id": str(64), "rules": listShape(64, str(128)), "reason": str(4096),
				"granted_by": str(256), "granted_at": ts, "expires_at": ts})),
			"review": objectShape(map[string]*shape{
				"status": str(7), "reason": str(4096), "similar_to": listShape(64, str(192))}),
		}),
		"lifecycle": objectShape(map[string]*shape{
			"status": str(10), "since": ts, "reason": str(4096), "changed_by": str(256),
			"successor": str(192), "sunset": str(10), "suspended_from": str(10)}),
		"identity": objectShape(map[string]*shape{
			"status": str(10), "key_type": str(9), "key_id": str(32), "owner": str(256),
			"artifact_digest": str(71), "verified_at": ts, "expires_at": ts,
			"endorsements": listShape(256, objectShape(map[string]*shape{
				"by": str(192), "key_id": str(32), "at": ts, "counted": scalarShape()})),
			"general_endorsements": scalarShape()}),
	})
}

// requestShape is the shape of the CEL variable request.
func requestShape() *shape {
	return objectShape(map[string]*shape{
		"principal": stringShape(256),
		"roles":     listShape(64, stringShape(64)),
		"action":    stringShape(32),
		"from":      stringShape(10),
		"to":        stringShape(10),
		"role":      stringShape(12),
	})
}

// registryShape is the shape of the CEL variable registry.
func registryShape() *shape {
	return objectShape(map[string]*shape{"active_generals": scalarShape(), "verified_general_owners": scalarShape()})
}

// valueShape is the exact shape of a params value.
func valueShape(v any) *shape {
	switch v := v.(type) {
	case string:
		return stringShape(uint64(len(v)))
	case []any:
		s := &shape{size: uint64(len(v))}
		for _, e := range v {
			s.items = union(s.items, valueShape(e))
		}
		if s.items == nil {
			s.items = &shape{}
		}
		return s
	case map[string]any:
		fields := make(map[string]*shape, len(v))
		for k, e := range v {
			fields[k] = valueShape(e)
		}
		return objectShape(fields)
	}
	return scalarShape()
}

// shapes are the shapes of a bundle's CEL variables, by name.
type shapes map[string]*shape

// newShapes returns the shapes of the variables, params being the bundle's.
func newShapes(params map[string]any) shapes {
	m := modelShape()
	return shapes{
		"model":    m,
		"old":      m,
		"request":  requestShape(),
		"params":   valueShape(params),
		"registry": registryShape(),
		"evals":    evalsShape(),
	}
}

// Bounds of the variable evals: the benchmarks of one model, the metrics
// of one benchmark, and the lengths of their names (the registry's own
// limits on benchmark and metric names).
const (
	MaxEvalBenchmarks   = 1024
	MaxBenchmarkMetrics = 64
	maxBenchmarkName    = 160
	maxMetricName       = 64
)

// evalsShape is the shape of the CEL variable evals: the model's latest
// score of each metric of each benchmark.
func evalsShape() *shape {
	score := objectShape(map[string]*shape{"value": scalarShape(), "stderr": scalarShape(), "evaluated_at": scalarShape(),
		"evaluation": stringShape(64)})
	return freeMapShape(MaxEvalBenchmarks, stringShape(maxBenchmarkName),
		freeMapShape(MaxBenchmarkMetrics, stringShape(maxMetricName), score))
}

// EstimateSize implements cost.Estimator: the size bound of a value the
// expression reads from a variable.
func (sh shapes) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	path := n.Path()
	if len(path) == 0 {
		return nil
	}
	s := sh[path[0]]
	for _, step := range path[1:] {
		if s == nil {
			return nil
		}
		s = s.child(step)
	}
	if s == nil {
		return nil
	}
	return &cost.SizeEstimate{Min: 0, Max: s.size}
}

// EstimateCallCost implements cost.Estimator; CEL's own estimates apply.
func (shapes) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	return nil
}

// selection is a path of field selections from a variable, such as
// model.parameters.count, found in an expression.
type selection struct {
	path     []string
	id       int64 // the expression that selects the last field
	testOnly bool  // has(): the last field may be missing
}

func (s selection) String() string { return strings.Join(s.path, ".") }

// selections returns the maximal field paths rooted at the variables in
// sh that e reads, in order of appearance, without repeats. Selections by
// a constant string index (model.labels['team']) count as fields.
// Comprehension variables that shadow a variable are not followed.
func (sh shapes) selections(e ast.Expr) []selection {
	var out []selection
	sh.walkPaths(e, func(e ast.Expr, path []string) {
		if len(path) > 1 && !slices.ContainsFunc(out, func(s selection) bool { return slices.Equal(s.path, path) }) {
			testOnly := e.Kind() == ast.SelectKind && e.AsSelect().IsTestOnly()
			out = append(out, selection{path: path, id: e.ID(), testOnly: testOnly})
		}
	})
	return out
}

// walkPaths calls visit, in order of appearance, for every outermost
// expression of e that selects a field path from a variable in sh (the
// expression and the path), and does not look inside it. Comprehension
// variables that shadow a variable are not followed.
func (sh shapes) walkPaths(e ast.Expr, visit func(e ast.Expr, path []string)) {
	var walk func(e ast.Expr, shadowed []string)
	walk = func(e ast.Expr, shadowed []string) {
		if path, ok := sh.path(e, shadowed); ok {
			visit(e, path)
			return
		}
		switch e.Kind() {
		case ast.CallKind:
			c := e.AsCall()
			if c.IsMemberFunction() {
				walk(c.Target(), shadowed)
			}
			for _, a := range c.Args() {
				walk(a, shadowed)
			}
		case ast.SelectKind:
			walk(e.AsSelect().Operand(), shadowed)
		case ast.ListKind:
			for _, el := range e.AsList().Elements() {
				walk(el, shadowed)
			}
		case ast.MapKind:
			for _, en := range e.AsMap().Entries() {
				me := en.AsMapEntry()
				walk(me.Key(), shadowed)
				walk(me.Value(), shadowed)
			}
		case ast.StructKind:
			for _, f := range e.AsStruct().Fields() {
				walk(f.AsStructField().Value(), shadowed)
			}
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			walk(c.IterRange(), shadowed)
			walk(c.AccuInit(), shadowed)
			inner := append(slices.Clip(shadowed), c.IterVar(), c.AccuVar())
			if c.HasIterVar2() {
				inner = append(inner, c.IterVar2())
			}
			walk(c.LoopCondition(), inner)
			walk(c.LoopStep(), inner)
			walk(c.Result(), append(slices.Clip(shadowed), c.AccuVar()))
		}
	}
	walk(e, nil)
}

// path returns the field path e selects from a variable, if it is one.
func (sh shapes) path(e ast.Expr, shadowed []string) ([]string, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		name := e.AsIdent()
		if _, ok := sh[name]; !ok || slices.Contains(shadowed, name) {
			return nil, false
		}
		return []string{name}, true
	case ast.SelectKind:
		sel := e.AsSelect()
		p, ok := sh.path(sel.Operand(), shadowed)
		if !ok {
			return nil, false
		}
		return append(p, sel.FieldName()), true
	case ast.CallKind:
		c := e.AsCall()
		if c.FunctionName() != operators.Index || len(c.Args()) != 2 || c.Args()[1].Kind() != ast.LiteralKind {
			return nil, false
		}
		key, ok := c.Args()[1].AsLiteral().(types.String)
		if !ok {
			return nil, false
		}
		p, ok := sh.path(c.Args()[0], shadowed)
		if !ok {
			return nil, false
		}
		return append(p, string(key)), true
	}
	return nil, false
}

// check returns why a selection names a field that does not exist, or "".
func (sh shapes) check(sel selection) string {
	s := sh[sel.path[0]]
	for i, step := range sel.path[1:] {
		at := strings.Join(sel.path[:i+1], ".")
		switch {
		case s.fields != nil:
			next, ok := s.fields[step]
			if !ok && sel.testOnly && i == len(sel.path)-2 {
				return ""
			}
			if !ok {
				return fmt.Sprintf("%s has no field '%s' (%s)", at, step, suggest(step, s.fields))
			}
			s = next
		case s.values != nil:
			s = s.values
		default:
			return fmt.Sprintf("%s has no fields: it is not a map", at)
		}
	}
	return ""
}

// suggest names the field closest to a misspelled one, or lists the
// fields.
func suggest(name string, fields map[string]*shape) string {
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	slices.Sort(names)
	best, bestDistance := "", 3 // suggest only near misses
	for _, f := range names {
		if d := editdistance.Levenshtein(name, f); d < bestDistance {
			best, bestDistance = f, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean '%s'?", best)
	}
	if len(names) == 0 {
		return "it has none"
	}
	return "it has " + strings.Join(names, ", ")
}
