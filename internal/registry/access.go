package registry

import (
	"fmt"
	"slices"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
)

// Authorization is the registry's own, before any policy bundle is
// consulted: a bundle may refuse more, never allow more. It is decided on
// the caller's roles and, for a maintainer, on ownership: a maintainer acts
// on the models whose owners list names it.
//
//	admin       everything
//	governor    lifecycle of any model, classification, exemptions, reviews,
//	            policies, identity of any model (register for an owner,
//	            revoke)
//	maintainer  create models it owns; edit, delete, move through the
//	            lifecycle, register and prove the identity of, and endorse
//	            with, the models it owns
//	evaluator   evaluation results (reads otherwise)
//	viewer      reads
//
// The HTTP layer refuses a route to a role that may never use it before it
// reads anything (403), and answers 401 to a request without valid
// credentials; the checks here hold for every entry point.

// systemCaller is the registry acting on its own (compliance marks,
// enforcement, the default bundle's installation). It cannot be named by a
// credential: only this package sets system.
var systemCaller = Caller{Principal: SystemPrincipal, Roles: []string{api.RoleAdmin}, system: true}

func isAdmin(c Caller) bool { return c.system || hasRole(c, api.RoleAdmin) }

func isGovernor(c Caller) bool { return isAdmin(c) || hasRole(c, api.RoleGovernor) }

// owns reports whether the caller is among the owners of m.
func owns(c Caller, m *api.Model) bool {
	return m != nil && c.Principal != "" && slices.Contains(m.Owners, c.Principal)
}

// authorizeModel says whether the caller may make a change to a model
// document: cur is the model before it (nil for a creation), next after it
// (nil for a deletion).
func authorizeModel(c Caller, action api.Action, cur, next *api.Model) error {
	if isAdmin(c) {
		return nil
	}
	maintainer := hasRole(c, api.RoleMaintainer)
	switch action {
	case api.ActionCreate:
		if !maintainer {
			return forbidden("only maintainers and admins may register models")
		}
		if !owns(c, next) {
			return forbidden(fmt.Sprintf("a maintainer registers models it owns: list %q in owners", c.Principal))
		}
	case api.ActionUpdate, api.ActionPatch, api.ActionDelete:
		if !maintainer {
			return forbidden("only the model's maintainers and admins may edit or delete it")
		}
		if !owns(c, cur) {
			return forbidden(fmt.Sprintf("%s is not among the owners of %s", c.Principal, cur.ModelID))
		}
	case api.ActionLifecycle:
		if !isGovernor(c) && !(maintainer && owns(c, cur)) {
			return forbidden("only governors, admins and the model's maintainers may change its lifecycle")
		}
	case api.ActionClassify, api.ActionExempt, api.ActionReview:
		if !isGovernor(c) {
			return forbidden("only governors and admins may classify models, grant exemptions or clear reviews")
		}
	case api.ActionIdentity:
		if !isGovernor(c) && !(maintainer && owns(c, cur)) {
			return forbidden("only the model's maintainers, governors and admins may change its identity")
		}
	default:
		return forbidden(fmt.Sprintf("the registry makes %s changes on its own", action))
	}
	// A document names a role or a status only when it is a proposal 035
	// (1.0) document, whose role and status requests go through
	// classification and the lifecycle: those are a governor's.
	if cur != nil && next != nil && (action == api.ActionUpdate || action == api.ActionPatch) ||
		cur == nil && next != nil {
		if next.Role() != roleOf(cur) && !isGovernor(c) {
			return forbidden("only governors and admins may give a model a role")
		}
		if cur != nil && next.Status() != cur.Status() && !isGovernor(c) {
			return forbidden("a document cannot change a model's status; use its lifecycle")
		}
		if cur == nil && next.Status() != api.StatusProposed && !isGovernor(c) {
			return forbidden("a new model starts as proposed; only governors and admins may register it in another status")
		}
	}
	return nil
}

func roleOf(m *api.Model) api.Role {
	if m == nil {
		return api.RoleNone
	}
	return m.Role()
}

// forbidden is the error of a refused caller.
func forbidden(msg string) error {
	return &errs.Error{Kind: errs.Forbidden, Msg: msg}
}

// accessRule names the registry's authorization in audit entries.
const accessRule = "registry-access"

// deny turns an authorization refusal into a recorded denial: the audit
// log keeps refused attempts as it keeps allowed writes.
func deny(opts WriteOptions, now time.Time, action, target string, err error) error {
	e := entry(opts, now, action, target)
	e.Outcome, e.Failed = audit.Denied, []audit.FailedRule{{ID: accessRule, Message: err.Error()}}
	// The refusal explains itself as a policy refusal does: the rule that
	// refused, in a decision the client can read.
	if fe, ok := err.(*errs.Error); ok && fe.Decision == nil {
		c := *fe
		c.Decision = &api.Decision{Action: action, Results: []api.RuleResult{{ID: accessRule, Section: "access",
			Outcome: api.RuleFailed, Forbidden: true, Message: fe.Msg}}}
		err = &c
	}
	return &deniedWrite{err: err, entry: e}
}
