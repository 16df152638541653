package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/hivellm/modelgov/api"
)

// Decide judges one write and returns every applicable rule's outcome, in
// the order of the bundle: permissions, validation, classification,
// transitions. The write is allowed when no rule failed or erred.
//
//   - Permission rules apply when their actions contain in.Action or "*".
//     A caller without one of the rule's roles, or a request for which its
//     expression is false, fails it with Forbidden set.
//   - When in.Model is set: every validation rule, and the classification
//     rules of in.Model's role (none for role none).
//   - For ActionLifecycle, transition rules whose From holds the old status
//     and To the new one (an empty list matches any status); a caller
//     without one of the rule's roles fails it with Forbidden set.
//   - A failed rule whose action is warn is warned; one that the model is
//     exempted from (an exemption of in.Model, of in.Old for a deletion,
//     that expires after in.Now) is exempted. Neither denies the write.
//     Permission rules and Forbidden failures cannot be exempted: an
//     exemption releases a model, never a caller.
//   - A rule that cannot be evaluated has outcome error and denies the
//     write (the engine fails closed).
//
// Results that did not pass carry Values: the values the rule read, by
// path, such as "model.size_class".
func (p *Program) Decide(in *Input) *api.Decision {
	if in == nil {
		in = &Input{}
	}
	d := &api.Decision{Allowed: true, Action: string(in.Action), PolicyVersion: p.version, PolicyHash: p.hash}
	e := evaluation{p: p, in: in, bounded: withinBounds(in)}
	var classification []*rule
	if in.Model != nil {
		classification = p.classification[in.Model.Role()]
	}
	d.Results = make([]api.RuleResult, 0, len(p.permissions)+len(p.validation)+len(classification)+len(p.transitions))
	for _, r := range p.permissions {
		if r.anyAction || slices.Contains(r.actions, in.Action) {
			d.Results = append(d.Results, e.judge(r, false))
		}
	}
	if in.Model != nil {
		for _, r := range p.validation {
			d.Results = append(d.Results, e.judge(r, true))
		}
		for _, r := range classification {
			d.Results = append(d.Results, e.judge(r, true))
		}
	}
	if in.Action == ActionLifecycle {
		from, to := statusOf(in.Old), statusOf(in.Model)
		for _, r := range p.transitions {
			if (len(r.from) == 0 || slices.Contains(r.from, from)) && (len(r.to) == 0 || slices.Contains(r.to, to)) {
				d.Results = append(d.Results, e.judge(r, true))
			}
		}
	}
	for _, r := range d.Results {
		if r.Outcome == api.RuleFailed || r.Outcome == api.RuleError {
			d.Allowed = false
		}
	}
	return d
}

// Check re-checks a stored model against the bundle: its validation rules
// and the classification rules of its current role. It returns only the
// rules the model breaks (outcome failed or error), after its exemptions
// that expire after now; nil when it complies. Warn rules never count.
//
// Rules see the model as both model and old (nothing changes), request
// with an empty action and principal, request.from and request.to equal to
// the model's status, and the facts: registry.verified_general_owners and
// the endorsers from which model.identity counts the model's endorsements,
// as the registry knows them at now (it leaves registry.active_generals 0
// in a check). nil facts are zero facts: no endorser is known, so no
// endorsement counts, and registry.verified_general_owners is 0.
func (p *Program) Check(m *api.Model, now time.Time, facts *Facts) []api.RuleResult {
	if m == nil {
		return nil
	}
	in := &Input{Model: m, Now: now}
	if facts != nil {
		in.Facts = *facts
	}
	e := evaluation{p: p, in: in, check: true, bounded: modelWithinBounds(m)}
	var failing []api.RuleResult
	for _, rules := range [][]*rule{p.validation, p.classification[m.Role()]} {
		for _, r := range rules {
			if res := e.judge(r, true); res.Outcome == api.RuleFailed || res.Outcome == api.RuleError {
				failing = append(failing, res)
			}
		}
	}
	return failing
}

// evaluation is the state of one decision: the input and, built on first
// use, the activation the expressions read.
type evaluation struct {
	p     *Program
	in    *Input
	check bool // a compliance check: old is the model itself
	// bounded says the input is within the bounds the rules' cost
	// estimates assumed, so that they may run unmetered (bounds.go).
	bounded bool
	vars    *activation
}

// judge evaluates one rule. exemptible says whether an exemption may
// release the model from it.
func (e *evaluation) judge(r *rule, exemptible bool) api.RuleResult {
	res := api.RuleResult{ID: r.id, Section: r.section, Outcome: api.RulePassed}
	if len(r.roles) > 0 && !hasAny(e.in.Caller.Roles, r.roles) {
		res.Outcome, res.Forbidden = api.RuleFailed, true
		res.Message = fmt.Sprintf("the caller needs one of the roles %s", strings.Join(r.roles, ", "))
		if r.expr == nil && r.message != "" {
			res.Message = r.message
		}
		roles := e.in.Caller.Roles
		if roles == nil {
			roles = []string{}
		}
		res.Values = map[string]any{"request.roles": roles}
		return res
	}
	if r.expr == nil {
		return res
	}
	vars := e.activation()
	prg := r.expr
	if e.bounded && r.unmetered != nil {
		prg = r.unmetered
	}
	out, _, err := prg.Eval(vars)
	switch {
	case err != nil:
		res.Outcome, res.Message = api.RuleError, fmt.Sprintf("the rule cannot be evaluated: %v", err)
	case out == types.True:
		return res
	case out == types.False:
		res.Outcome, res.Message = api.RuleFailed, r.failureMessage(vars)
		res.Forbidden = r.section == SectionPermissions
	default:
		res.Outcome = api.RuleError
		res.Message = fmt.Sprintf("the rule cannot be evaluated: it gave %s %v, not a bool", out.Type().TypeName(), out)
	}
	if res.Outcome == api.RuleFailed && !res.Forbidden {
		switch {
		case exemptible && e.exempted(r.id):
			res.Outcome = api.RuleExempted
		case r.warn:
			res.Outcome = api.RuleWarned
		}
	}
	res.Values = vars.values(r.reads)
	return res
}

// failureMessage is the message of a failed rule.
func (r *rule) failureMessage(vars *activation) string {
	if r.messageExpr != nil {
		if out, _, err := r.messageExpr.Eval(vars); err == nil {
			if s, ok := out.(types.String); ok && s != "" {
				return string(s)
			}
		}
	}
	if r.message != "" {
		return r.message
	}
	return fmt.Sprintf("rule %s failed", r.id)
}

// exempted reports whether the model has an unexpired exemption from the
// rule.
func (e *evaluation) exempted(id string) bool {
	m := e.in.Model
	if m == nil {
		m = e.in.Old
	}
	if m == nil || m.Governance == nil {
		return false
	}
	for _, x := range m.Governance.Exemptions {
		if x.ExpiresAt.After(e.in.Now) && slices.Contains(x.Rules, id) {
			return true
		}
	}
	return false
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// activation returns the variables of the decision, building them once.
func (e *evaluation) activation() *activation {
	if e.vars != nil {
		return e.vars
	}
	in := e.in
	a := &activation{params: e.p.params, now: types.Timestamp{Time: in.Now}, model: types.NullValue, old: types.NullValue}
	if in.Model != nil {
		a.model = a.modelObj.init(in.Model, in.Now, in.Facts.Endorsers)
	}
	switch {
	case e.check:
		a.old = a.model
	case in.Old != nil:
		a.old = a.oldObj.init(in.Old, in.Now, in.Facts.Endorsers)
	}
	r := &a.requestObj
	r.self = r
	r.principal, r.roles, r.action = in.Caller.Principal, in.Caller.Roles, string(in.Action)
	if r.roles == nil {
		r.roles = []string{}
	}
	r.from, r.to = string(statusOf(in.Old)), string(statusOf(in.Model))
	if e.check {
		r.from = r.to
	}
	if in.Model != nil {
		r.role = string(in.Model.Role())
	}
	a.registryObj.self, a.registryObj.facts = &a.registryObj, in.Facts
	a.evalFacts = in.Facts.Evals
	e.vars = a
	return a
}

// activation holds the CEL variables of one decision, in one allocation.
type activation struct {
	model, old       any // *modelObject, or types.NullValue when absent
	params           map[string]any
	now              ref.Val
	modelObj, oldObj modelObject
	requestObj       requestObject
	registryObj      registryObject
	// evals is built from evalFacts when a rule first reads it.
	evals     map[string]any
	evalFacts map[string]map[string]Score
}

// evalsValue is the variable evals: for each benchmark, for each metric, a
// map of value, stderr (when known), evaluated_at and evaluation.
func evalsValue(ev map[string]map[string]Score) map[string]any {
	out := make(map[string]any, len(ev))
	for b, metrics := range ev {
		m := make(map[string]any, len(metrics))
		for name, sc := range metrics {
			v := map[string]any{"value": sc.Value, "evaluated_at": types.Timestamp{Time: sc.EvaluatedAt}, "evaluation": sc.Evaluation}
			if sc.HasStderr {
				v["stderr"] = sc.Stderr
			}
			m[name] = v
		}
		out[b] = m
	}
	return out
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "model":
		return a.model, true
	case "old":
		return a.old, true
	case "request":
		return &a.requestObj, true
	case "params":
		return a.params, true
	case "registry":
		return &a.registryObj, true
	case "evals":
		if a.evals == nil {
			a.evals = evalsValue(a.evalFacts)
		}
		return a.evals, true
	case "now":
		return a.now, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

// values looks up the values of the selections, by path. A path that
// leads nowhere (a missing key, a null model) is left out.
func (a *activation) values(reads []selection) map[string]any {
	if len(reads) == 0 {
		return nil
	}
	out := make(map[string]any, len(reads))
	for _, sel := range reads {
		v, ok := a.ResolveName(sel.path[0])
		for _, step := range sel.path[1:] {
			if !ok {
				break
			}
			switch m := v.(type) {
			case object:
				v, ok = m.FindStringKey(step)
			case map[string]any:
				v, ok = m[step]
			case map[string]string:
				v, ok = m[step]
			default:
				ok = false
			}
		}
		if ok {
			out[sel.String()] = plain(v)
		}
	}
	return out
}

// statusOf returns m's lifecycle status, "" for a nil model.
func statusOf(m *api.Model) api.Status {
	if m == nil {
		return ""
	}
	return m.Status()
}
