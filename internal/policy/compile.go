package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// Program is a compiled bundle. It is immutable and safe for concurrent use.
type Program struct {
	version  int64
	hash     string
	bundle   *Bundle
	params   map[string]any
	grace    time.Duration
	fallback map[api.Role]api.Role
	ids      []string

	permissions    []*rule
	validation     []*rule
	classification map[api.Role][]*rule
	transitions    []*rule
	// usesEvals is set when a rule reads the variable evals, which the
	// registry then loads for every decision and check.
	usesEvals bool
}

// UsesEvals reports whether a rule of the bundle reads the variable evals
// (the model's latest evaluation scores), so that the registry knows to
// load them into Facts.Evals and to re-check a model when a result is
// recorded.
func (p *Program) UsesEvals() bool { return p.usesEvals }

// rule is a compiled rule of any section.
type rule struct {
	id, section string
	message     string
	warn        bool
	roles       []string     // the caller needs one of them, when set
	actions     []Action     // permission rules: the actions it applies to
	anyAction   bool         // permission rules: "*"
	from, to    []api.Status // transition rules
	expr        cel.Program  // nil when the rule has no expression
	// unmetered is expr without the run-time cost limit, for inputs within
	// the bounds its cost estimate assumed (see withinBounds).
	unmetered   cel.Program
	messageExpr cel.Program // nil when the rule has no message expression
	reads       []selection // what the expressions read, for Values
}

// Version returns the bundle version the program was compiled for.
func (p *Program) Version() int64 { return p.version }

// Hash returns the bundle's hash, as Hash computes it.
func (p *Program) Hash() string { return p.hash }

// Bundle returns the compiled bundle, with its params normalized as Parse
// does. The caller must not modify it.
func (p *Program) Bundle() *Bundle { return p.bundle }

// GracePeriod returns params.grace_period: how long a model found
// non-compliant by a newly activated bundle keeps its role. It is 0 when
// the bundle does not set it.
func (p *Program) GracePeriod() time.Duration { return p.grace }

// FallbackRole returns params.fallback_roles[r], the role a model with role
// r is lowered to when its grace period ends; api.RoleNone when the bundle
// names none.
func (p *Program) FallbackRole(r api.Role) api.Role {
	if f, ok := p.fallback[r]; ok {
		return f
	}
	return api.RoleNone
}

// RuleIDs returns the id of every rule of the bundle, in the order of the
// bundle (classification by role, validation, transitions, permissions).
func (p *Program) RuleIDs() []string { return slices.Clone(p.ids) }

// Compile compiles a bundle into a program for the given bundle version.
//
// The bundle is checked as Parse checks a document, so a bundle built in Go
// obeys the same limits; then every expression is type-checked in the CEL
// environment that docs/POLICY.md describes. Compile refuses, with an
// errs.Invalid error whose Fields point at each bad expression (such as
// "/validation/2/expression") and carry "line:column: message", a rule that
// does not parse or type-check, selects a field that does not exist, is not
// of type bool (message expressions: string), or whose estimated worst-case
// cost is over MaxCost. Every bad rule is reported, not only the first.
func Compile(b *Bundle, version int64) (*Program, error) {
	if b == nil {
		return nil, errs.E(errs.Invalid, "no policy bundle to compile")
	}
	b, err := b.normalized()
	if err != nil {
		return nil, err
	}
	p := &Program{version: version, hash: Hash(b), bundle: b, params: b.Params,
		classification: map[api.Role][]*rule{}, fallback: map[api.Role]api.Role{}}
	if p.params == nil {
		p.params = map[string]any{}
	}
	p.configure()
	c, err := newCompiler(p.params)
	if err != nil {
		return nil, errs.Wrap(errs.Other, err, "create the CEL environment")
	}
	for _, role := range classifiedRoles() {
		for i, r := range b.Classification[string(role)] {
			at := fmt.Sprintf("/classification/%s/%d", role, i)
			cr := c.rule(at, r.ID, SectionClassification+"."+string(role), r.Expression, r.MessageExpression, r.Message)
			cr.warn = r.Action == RuleWarn
			p.classification[role] = append(p.classification[role], cr)
			p.ids = append(p.ids, r.ID)
		}
	}
	for i, r := range b.Validation {
		cr := c.rule(fmt.Sprintf("/validation/%d", i), r.ID, SectionValidation, r.Expression, r.MessageExpression, r.Message)
		cr.warn = r.Action == RuleWarn
		p.validation = append(p.validation, cr)
		p.ids = append(p.ids, r.ID)
	}
	for i, r := range b.Transitions {
		cr := c.rule(fmt.Sprintf("/transitions/%d", i), r.ID, SectionTransitions, r.Expression, r.MessageExpression, r.Message)
		cr.roles, cr.from, cr.to = r.Roles, r.From, r.To
		p.transitions = append(p.transitions, cr)
		p.ids = append(p.ids, r.ID)
	}
	for i, r := range b.Permissions {
		cr := c.rule(fmt.Sprintf("/permissions/%d", i), r.ID, SectionPermissions, r.Expression, r.MessageExpression, r.Message)
		cr.roles = r.Roles
		for _, a := range r.Actions {
			if a == "*" {
				cr.anyAction = true
			}
			cr.actions = append(cr.actions, Action(a))
		}
		p.permissions = append(p.permissions, cr)
		p.ids = append(p.ids, r.ID)
	}
	if len(c.fields) > 0 {
		return nil, errs.InvalidFields("the policy bundle does not compile", c.fields)
	}
	p.usesEvals = c.usesEvals
	return p, nil
}

// configure reads the params that configure the registry, which Parse has
// checked: grace_period is a duration, fallback_roles maps roles to roles.
func (p *Program) configure() {
	if s, ok := p.params["grace_period"].(string); ok {
		p.grace, _ = time.ParseDuration(s)
	}
	if m, ok := p.params["fallback_roles"].(map[string]any); ok {
		for from, to := range m {
			if s, ok := to.(string); ok {
				p.fallback[api.Role(from)] = api.Role(s)
			}
		}
	}
}

// compiler compiles the expressions of one bundle and collects the errors.
type compiler struct {
	env    *cel.Env
	shapes shapes
	params map[string]any
	fold   *cel.StaticOptimizer
	fields []api.FieldError
	// usesEvals is set when an expression reads the variable evals.
	usesEvals bool
}

// readsIdent reports whether expression e refers to the variable name.
func readsIdent(e ast.Expr, name string) bool {
	found := false
	ast.PostOrderVisit(e, ast.NewExprVisitor(func(x ast.Expr) {
		if x.Kind() == ast.IdentKind && x.AsIdent() == name {
			found = true
		}
	}))
	return found
}

func newCompiler(params map[string]any) (*compiler, error) {
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	sh := newShapes(params)
	opt, err := cel.NewStaticOptimizer(&paramsInliner{shapes: sh, params: params})
	if err != nil {
		return nil, err
	}
	return &compiler{env: env, shapes: sh, params: params, fold: opt}, nil
}

// maxRangeSize bounds lists.range(n), which allocates its list before the
// cost of the call is counted.
const maxRangeSize = 10_000

// newEnv returns the CEL environment of the rules: the variables
// docs/POLICY.md lists, CEL's standard library (with matches, RE2 regular
// expressions) and the extensions for strings, lists, sets and math.
func newEnv() (*cel.Env, error) {
	dynMap := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable("model", cel.DynType),
		cel.Variable("old", cel.DynType),
		cel.Variable("request", dynMap),
		cel.Variable("params", dynMap),
		cel.Variable("registry", dynMap),
		cel.Variable("evals", dynMap),
		cel.Variable("now", cel.TimestampType),
		ext.Strings(),
		ext.Bindings(),
		ext.Lists(ext.ListsMaxRangeSize(maxRangeSize)),
		ext.Sets(),
		ext.Math(),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ASTValidators(cel.ValidateDurationLiterals(), cel.ValidateTimestampLiterals()),
	)
}

// rule compiles one rule at pointer at (such as "/validation/2").
func (c *compiler) rule(at, id, section, expr, messageExpr, message string) *rule {
	r := &rule{id: id, section: section, message: message}
	if expr != "" {
		r.expr, r.unmetered, r.reads = c.expression(at+"/expression", expr, cel.BoolType)
	}
	if messageExpr != "" {
		var reads []selection
		r.messageExpr, _, reads = c.expression(at+"/message_expression", messageExpr, cel.StringType)
		for _, s := range reads {
			if !slices.ContainsFunc(r.reads, func(t selection) bool { return slices.Equal(s.path, t.path) }) {
				r.reads = append(r.reads, s)
			}
		}
	}
	return r
}

// expression compiles one expression of type want, at pointer at: a program
// that stops at the cost limit, and one that does not, for inputs within
// the bounds of the cost estimate, which cannot reach it. On failure it
// records the errors and returns nil programs.
func (c *compiler) expression(at, src string, want *cel.Type) (cel.Program, cel.Program, []selection) {
	fail := func(loc common.Location, format string, args ...any) {
		c.fields = append(c.fields, api.FieldError{Pointer: at, Message: position(loc) + fmt.Sprintf(format, args...)})
	}
	const maxErrors = 3 // a syntax error often brings more that add nothing
	checked, iss := c.env.Compile(src)
	if iss.Err() != nil {
		for i, e := range iss.Errors() {
			if i == maxErrors {
				break
			}
			fail(e.Location, "%s", e.Message)
		}
		return nil, nil, nil
	}
	info := checked.NativeRep().SourceInfo()
	start := info.GetLocationByOffset(0)
	if got := checked.OutputType(); !got.IsExactType(want) && !got.IsExactType(cel.DynType) {
		fail(start, "the expression must evaluate to a %s, not %s", want, got)
		return nil, nil, nil
	}
	reads := c.shapes.selections(checked.NativeRep().Expr())
	if readsIdent(checked.NativeRep().Expr(), "evals") {
		c.usesEvals = true
	}
	bad := false
	for _, sel := range reads {
		if msg := c.shapes.check(sel); msg != "" {
			fail(info.GetStartLocation(sel.id), "%s", msg)
			bad = true
		}
	}
	for _, re := range c.regexes(checked.NativeRep().Expr()) {
		if _, err := regexp.Compile(re.pattern); err != nil {
			fail(info.GetStartLocation(re.id), "%s is not a valid regular expression (RE2): %v", re.what, err)
			bad = true
		}
	}
	if bad {
		return nil, nil, nil
	}
	est, err := c.env.EstimateCost(checked, c.shapes)
	if err != nil {
		fail(start, "cannot estimate the cost of the expression: %v", err)
		return nil, nil, nil
	}
	if est.Max > MaxCost {
		limit := "an unbounded value"
		if est.Max != ^uint64(0) {
			limit = strconv.FormatUint(est.Max, 10)
		}
		fail(start, "the expression may cost up to %s, over the limit of %d: iterate over fewer or smaller "+
			"values (nested comprehensions over lists multiply their sizes)", limit, MaxCost)
		return nil, nil, nil
	}
	// Params are constants of the bundle: write them into the expression as
	// literals, so that a regular expression taken from params is compiled
	// once, here, and a list from params becomes a set.
	optimized, iss := c.fold.Optimize(c.env, checked)
	if iss.Err() != nil {
		for i, e := range iss.Errors() {
			if i == maxErrors {
				break
			}
			fail(e.Location, "once params are inlined: %s", e.Message)
		}
		return nil, nil, nil
	}
	prg, err := c.env.Program(optimized, cel.CostLimit(MaxCost), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		fail(start, "%v", err)
		return nil, nil, nil
	}
	unmetered, err := c.env.Program(optimized, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		fail(start, "%v", err)
		return nil, nil, nil
	}
	return prg, unmetered, reads
}

// paramsInliner is a CEL optimizer that replaces each selection of params
// (params.size_ranges, params.fallback_roles.general, has(params.x)) with
// its value, as a literal. Unlike CEL's constant folder, it evaluates
// nothing, so it costs nothing whatever the expression.
type paramsInliner struct {
	shapes shapes
	params map[string]any
}

// Optimize implements cel.ASTOptimizer.
func (o *paramsInliner) Optimize(ctx *cel.OptimizerContext, a *ast.AST) *ast.AST {
	var targets []ast.Expr
	o.shapes.walkPaths(a.Expr(), func(e ast.Expr, path []string) {
		if path[0] == "params" {
			targets = append(targets, e)
		}
	})
	for _, e := range targets {
		path, _ := o.shapes.path(e, nil)
		v, found := lookup(o.params, path[1:])
		if e.Kind() == ast.SelectKind && e.AsSelect().IsTestOnly() {
			v, found = hasKey(o.params, path[1:])
		}
		if !found {
			continue // it fails when evaluated, as it would without inlining
		}
		ctx.UpdateExpr(e, literal(ctx, v))
		delete(a.ReferenceMap(), e.ID())
	}
	return a
}

// lookup returns the value at path in params.
func lookup(params map[string]any, path []string) (any, bool) {
	var v any = params
	for _, step := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[step]; !ok {
			return nil, false
		}
	}
	return v, true
}

// hasKey returns what has() says of path in params: whether the map at
// path[:len-1] has the key path[len-1]. It returns false, false when there
// is no such map, which has() reports as an error.
func hasKey(params map[string]any, path []string) (has, ok bool) {
	parent, ok := lookup(params, path[:len(path)-1])
	if !ok {
		return false, false
	}
	m, ok := parent.(map[string]any)
	if !ok {
		return false, false
	}
	_, has = m[path[len(path)-1]]
	return has, true
}

// literal returns the CEL literal of a normalized params value.
func literal(ctx *cel.OptimizerContext, v any) ast.Expr {
	switch v := v.(type) {
	case []any:
		elems := make([]ast.Expr, len(v))
		for i, e := range v {
			elems[i] = literal(ctx, e)
		}
		return ctx.NewList(elems, nil)
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		entries := make([]ast.EntryExpr, len(keys))
		for i, k := range keys {
			entries[i] = ctx.NewMapEntry(ctx.NewLiteral(types.String(k)), literal(ctx, v[k]), false)
		}
		return ctx.NewMap(entries)
	case bool:
		return ctx.NewLiteral(types.Bool(v))
	}
	return ctx.NewLiteral(types.DefaultTypeAdapter.NativeToValue(v))
}

// regex is the pattern of a call to matches that is known at compile time.
type regex struct {
	pattern, what string
	id            int64
}

// regexes returns the patterns of e's calls to matches that are string
// literals or params.
func (c *compiler) regexes(e ast.Expr) []regex {
	var out []regex
	ast.PreOrderVisit(e, ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.CallKind || e.AsCall().FunctionName() != overloads.Matches {
			return
		}
		call := e.AsCall()
		args := call.Args()
		if !call.IsMemberFunction() {
			args = args[1:]
		}
		if len(args) != 1 {
			return
		}
		arg := args[0]
		if arg.Kind() == ast.LiteralKind {
			if s, ok := arg.AsLiteral().(types.String); ok {
				out = append(out, regex{pattern: string(s), what: strconv.Quote(string(s)), id: arg.ID()})
			}
			return
		}
		if path, ok := c.shapes.path(arg, nil); ok && path[0] == "params" {
			var v any = c.params
			for _, step := range path[1:] {
				m, _ := v.(map[string]any)
				v = m[step]
			}
			if s, ok := v.(string); ok {
				out = append(out, regex{pattern: s, what: selection{path: path}.String(), id: arg.ID()})
			}
		}
	}))
	return out
}

// position formats a location as "line:column: " with a 1-based column,
// as CEL writes it; "" for no location.
func position(loc common.Location) string {
	if loc == nil || loc.Line() < 1 {
		return ""
	}
	return strconv.Itoa(loc.Line()) + ":" + strconv.Itoa(loc.Column()+1) + ": "
}
