// Package lifecycle is the state machine of a model's lifecycle status.
//
// A model is registered as proposed and moves between statuses as follows:
//
//	proposed   → active, archived (a proposal refused but kept on record)
//	active     → deprecated, suspended
//	deprecated → active (deprecation withdrawn), suspended, archived
//	suspended  → the status it was suspended from, archived
//	archived   → nothing: archived is final
//
// The functions are pure: they take the current api.Lifecycle block and a
// requested api.LifecycleChange and return the next block or an *errs.Error,
// leaving storage, authorization and the audit record to the caller.
package lifecycle

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// InitialReason is the reason recorded on a newly registered model.
const InitialReason = "registered"

// MaxReasonLength is the longest reason a change may give, in characters.
const MaxReasonLength = 1024

// dateLayout is the form of a sunset date.
const dateLayout = "2006-01-02"

// Initial returns the lifecycle block of a model registered by actor at now:
// status proposed since now (in UTC), reason InitialReason.
func Initial(now time.Time, actor string) api.Lifecycle {
	return api.Lifecycle{
		Status:    api.StatusProposed,
		Since:     now.UTC(),
		Reason:    InitialReason,
		ChangedBy: actor,
	}
}

// statuses returns every status in the order Allowed lists them.
func statuses() []api.Status {
	return []api.Status{
		api.StatusProposed,
		api.StatusActive,
		api.StatusDeprecated,
		api.StatusSuspended,
		api.StatusArchived,
	}
}

func known(s api.Status) bool {
	for _, k := range statuses() {
		if s == k {
			return true
		}
	}
	return false
}

// Allowed returns the statuses a model whose lifecycle is cur may move to,
// in the order proposed, active, deprecated, suspended, archived; nil for
// archived or an unknown status. A suspended model may only go back to the
// status it was suspended from, cur.SuspendedFrom, or be archived; a
// suspended block that does not record active or deprecated there (the
// server always does) is taken to have been suspended from active.
//
// Each call returns a new slice.
func Allowed(cur api.Lifecycle) []api.Status {
	switch cur.Status {
	case api.StatusProposed:
		return []api.Status{api.StatusActive, api.StatusArchived}
	case api.StatusActive:
		return []api.Status{api.StatusDeprecated, api.StatusSuspended}
	case api.StatusDeprecated:
		return []api.Status{api.StatusActive, api.StatusSuspended, api.StatusArchived}
	case api.StatusSuspended:
		return []api.Status{resumeStatus(cur), api.StatusArchived}
	}
	return nil
}

// resumeStatus is the status a suspended model goes back to.
func resumeStatus(cur api.Lifecycle) api.Status {
	if cur.SuspendedFrom == api.StatusDeprecated {
		return api.StatusDeprecated
	}
	return api.StatusActive
}

// Transition checks the change ch, asked for by actor at now, against the
// model's current lifecycle cur, and returns the model's next lifecycle
// block. cur is not modified.
//
// The change itself is checked first, and every problem with it is reported
// at once in an errs.Invalid error whose Fields point into the change:
//   - /reason: required, at most MaxReasonLength characters once
//     surrounding whitespace is trimmed;
//   - /status: required and one of the five statuses;
//   - /sunset: required when deprecating, a date YYYY-MM-DD no earlier than
//     now's date in UTC; not allowed otherwise;
//   - /successor: allowed only when deprecating.
//
// Then the transition is checked against cur: moving to the current status,
// or along a transition the state machine does not have, is an errs.Conflict
// error whose Allowed lists Allowed(cur) and whose message says why, as in
// "cannot go from proposed to deprecated; allowed: active, archived".
//
// Transition does not know the model's name nor other models, so it does not
// check the successor beyond its being allowed: the caller looks it up and
// calls CheckSuccessor.
//
// The returned block has the target status, Since now in UTC, the trimmed
// reason and ChangedBy actor. Successor and Sunset are set only on a
// deprecated block, SuspendedFrom only on a suspended one (to cur.Status).
// A deprecated model that is suspended keeps its Successor and Sunset, and
// resuming it to deprecated without naming them again keeps them too; the
// other transitions clear them.
func Transition(cur api.Lifecycle, ch api.LifecycleChange, actor string, now time.Time) (api.Lifecycle, error) {
	now = now.UTC()
	if ch.Status == api.StatusDeprecated && cur.Status == api.StatusSuspended && cur.SuspendedFrom == api.StatusDeprecated {
		if ch.Sunset == "" {
			ch.Sunset = cur.Sunset
		}
		if ch.Successor == "" {
			ch.Successor = cur.Successor
		}
	}
	reason := strings.TrimSpace(ch.Reason)
	if fields := checkChange(ch, reason, now); len(fields) > 0 {
		return api.Lifecycle{}, invalid("invalid lifecycle change", fields)
	}
	if err := checkTransition(cur, ch.Status); err != nil {
		return api.Lifecycle{}, err
	}
	next := api.Lifecycle{
		Status:    ch.Status,
		Since:     now,
		Reason:    reason,
		ChangedBy: actor,
	}
	switch ch.Status {
	case api.StatusDeprecated:
		next.Sunset = ch.Sunset
		next.Successor = ch.Successor
	case api.StatusSuspended:
		next.SuspendedFrom = cur.Status
		if cur.Status == api.StatusDeprecated {
			next.Sunset, next.Successor = cur.Sunset, cur.Successor
		}
	}
	return next, nil
}

// checkChange returns what is wrong with the change on its own.
func checkChange(ch api.LifecycleChange, reason string, now time.Time) []api.FieldError {
	var fields []api.FieldError
	add := func(pointer, format string, args ...any) {
		fields = append(fields, api.FieldError{Pointer: pointer, Message: fmt.Sprintf(format, args...)})
	}

	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		add("/reason", "a reason is required")
	case n > MaxReasonLength:
		add("/reason", "the reason is %d characters long; at most %d are allowed", n, MaxReasonLength)
	}

	switch {
	case ch.Status == "":
		add("/status", "a target status is required")
	case !known(ch.Status):
		add("/status", "unknown status %q; the statuses are %s", string(ch.Status), list(statuses()))
	case ch.Status == api.StatusDeprecated:
		if problem := sunsetProblem(ch.Sunset, now); problem != "" {
			add("/sunset", "%s", problem)
		}
	default:
		if ch.Sunset != "" {
			add("/sunset", "a sunset date is only allowed when deprecating, not when the target is %s", ch.Status)
		}
		if ch.Successor != "" {
			add("/successor", "a successor is only allowed when deprecating, not when the target is %s", ch.Status)
		}
	}
	return fields
}

// sunsetProblem says what is wrong with a deprecation's sunset date, "" if
// nothing is.
func sunsetProblem(sunset string, now time.Time) string {
	if sunset == "" {
		return "a sunset date (YYYY-MM-DD) is required when deprecating"
	}
	date, err := time.Parse(dateLayout, sunset)
	if err != nil || date.Format(dateLayout) != sunset {
		return fmt.Sprintf("%q is not a date of the form YYYY-MM-DD", sunset)
	}
	if today := now.Format(dateLayout); sunset < today {
		return fmt.Sprintf("the sunset date %s is in the past; it must be %s (today, UTC) or later", sunset, today)
	}
	return ""
}

// checkTransition reports whether the state machine goes from cur to target.
func checkTransition(cur api.Lifecycle, target api.Status) error {
	allowed := Allowed(cur)
	refuse := func(format string, args ...any) error {
		e := errs.E(errs.Conflict, format, args...)
		e.Allowed = allowed
		return e
	}
	switch {
	case cur.Status == "":
		return refuse("the model has no lifecycle status; no transition is possible")
	case !known(cur.Status):
		return refuse("the model's lifecycle status %q is unknown; no transition is possible", string(cur.Status))
	case target == cur.Status:
		return refuse("model is already %s", target)
	case cur.Status == api.StatusArchived:
		return refuse("cannot go from archived to %s: archived is final", target)
	}
	for _, s := range allowed {
		if s == target {
			return nil
		}
	}
	if cur.Status == api.StatusSuspended {
		return refuse("cannot go from suspended to %s: the model was suspended from %s; allowed: %s",
			target, resumeStatus(cur), list(allowed))
	}
	return refuse("cannot go from %s to %s; allowed: %s", cur.Status, target, list(allowed))
}

// list writes statuses as "a, b, c".
func list(statuses []api.Status) string {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// CheckSuccessor checks the successor a change names when deprecating the
// model self, once the caller has looked it up: found says whether a model
// named successor exists, and successorStatus is its status. Pass model IDs,
// with aliases already resolved. An empty successor (none named) passes.
//
// A successor must be another model, exist, and be active. Every failure is
// an errs.Invalid error with a field pointing at /successor, since the fix
// is to name a different successor.
//
// Call it after Transition has accepted the change, which also ensures a
// successor is only named when deprecating.
func CheckSuccessor(self, successor string, successorStatus api.Status, found bool) error {
	var problem string
	switch {
	case successor == "":
		return nil
	case successor == self:
		problem = "a model cannot be its own successor"
	case !found:
		problem = fmt.Sprintf("model %q does not exist", successor)
	case successorStatus != api.StatusActive:
		status := string(successorStatus)
		if status == "" {
			status = "without a lifecycle status"
		}
		problem = fmt.Sprintf("model %q is %s; a successor must be active", successor, status)
	default:
		return nil
	}
	return invalid("invalid successor", []api.FieldError{{Pointer: "/successor", Message: problem}})
}

// invalid returns an Invalid error listing fields, whose message also says
// what they are, for logs and Go callers.
func invalid(what string, fields []api.FieldError) error {
	messages := make([]string, len(fields))
	for i, f := range fields {
		messages[i] = f.Pointer + ": " + f.Message
	}
	return errs.InvalidFields(what+": "+strings.Join(messages, "; "), fields)
}

// Path returns the shortest sequence of statuses that leads from cur to
// target through allowed transitions (not including cur's own status), or
// nil when target cannot be reached or is cur's status. Proposal 035
// documents state a status, not a transition, so the registry walks this
// path to honour them.
func Path(cur api.Lifecycle, target api.Status) []api.Status {
	type node struct {
		lc   api.Lifecycle
		path []api.Status
	}
	seen := map[api.Status]bool{cur.Status: true}
	queue := []node{{lc: cur}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, next := range Allowed(n.lc) {
			if seen[next] {
				continue
			}
			seen[next] = true
			path := append(append([]api.Status(nil), n.path...), next)
			if next == target {
				return path
			}
			lc := api.Lifecycle{Status: next}
			if next == api.StatusSuspended {
				lc.SuspendedFrom = n.lc.Status
			}
			queue = append(queue, node{lc: lc, path: path})
		}
	}
	return nil
}
