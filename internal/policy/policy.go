// Package policy is modelgov's governance policy engine: versioned bundles of
// rules written in CEL (the Common Expression Language), compiled once and
// evaluated on every write.
//
// A bundle ([Bundle]) is a document with api_version modelgov.dev/policy/v1.
// [Parse] reads one from JSON or YAML and validates it against its JSON
// Schema ([SchemaFiles]); [Compile] type-checks every rule, refuses rules
// whose estimated cost is over [MaxCost], and returns a [Program] that is
// safe for concurrent use. [Program.Decide] judges one write and explains
// every rule's outcome in an [api.Decision]; [Program.Check] re-checks a
// stored model against the bundle, as the registry does for every model
// when a new bundle is activated.
//
// The engine fails closed: a rule that cannot be evaluated (a missing map
// key, a result that is not a bool, the cost limit) counts as failed.
//
// docs/POLICY.md describes the bundle format, the CEL variables and the
// default bundle ([Default]) for the people who write bundles.
package policy

import (
	"time"

	"github.com/hivellm/modelgov/api"
)

// APIVersion is the api_version of the bundles this package reads.
const APIVersion = "modelgov.dev/policy/v1"

// Limits on bundles. They bound the work a bundle can ask of the registry:
// its size, and with MaxCost, the work of each rule.
const (
	// MaxBundleBytes is the largest bundle document Parse reads.
	MaxBundleBytes = 1 << 20
	// MaxRules is the most rules a bundle may hold, all sections together.
	MaxRules = 256
	// MaxExpressionLength is the longest expression, in characters.
	MaxExpressionLength = 4096
	// MaxParamsDepth is how deeply params may nest.
	MaxParamsDepth = 8
	// MaxCost is the most an expression may cost, in CEL cost units (about
	// one unit per operation; Kubernetes uses the same limit per
	// expression). Compile refuses a rule whose estimated worst-case cost is
	// higher, and an evaluation that reaches it stops with an error, which
	// fails the rule.
	MaxCost = 1_000_000
)

// Bundle is a policy bundle: the rules in force, and the parameters they
// read. A bundle is immutable once stored; a registry activates one version
// at a time.
type Bundle struct {
	// APIVersion must be APIVersion.
	APIVersion  string `json:"api_version"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Params are named values the rules read as params.NAME. Integral
	// numbers are int64 after Parse, other numbers float64.
	// params.grace_period and params.fallback_roles also configure the
	// registry (see Program.GracePeriod and Program.FallbackRole).
	Params map[string]any `json:"params,omitempty"`
	// Classification holds, by role (general, specialist, experimental),
	// the rules a model must pass to hold that role.
	Classification map[string][]Rule `json:"classification,omitempty"`
	// Validation holds the rules every model must pass.
	Validation []Rule `json:"validation,omitempty"`
	// Transitions holds the rules of lifecycle transitions.
	Transitions []TransitionRule `json:"transitions,omitempty"`
	// Permissions holds the rules that say which callers may take which
	// actions.
	Permissions []PermissionRule `json:"permissions,omitempty"`
}

// Rule is a validation or classification rule: a CEL expression that is
// true when a model passes.
type Rule struct {
	// ID names the rule; ids are unique in a bundle.
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	// Expression is a CEL expression of type bool.
	Expression string `json:"expression"`
	// Message says, when the rule fails, what it requires.
	Message string `json:"message,omitempty"`
	// MessageExpression, when set, is a CEL expression of type string
	// evaluated when the rule fails; its result replaces Message (which
	// stays the fallback when it cannot be evaluated).
	MessageExpression string `json:"message_expression,omitempty"`
	// Action is "deny" (the default: a failure refuses the write) or
	// "warn" (a failure is reported, and the write goes through).
	Action string `json:"action,omitempty"`
}

// TransitionRule is a rule of lifecycle transitions. It applies to a
// transition whose old status is in From and new status in To (an empty
// list matches any status). A caller without one of Roles (when Roles is
// not empty) is refused, as is a transition for which Expression (when
// set) is false.
type TransitionRule struct {
	ID                string       `json:"id"`
	Description       string       `json:"description,omitempty"`
	From              []api.Status `json:"from,omitempty"`
	To                []api.Status `json:"to,omitempty"`
	Roles             []string     `json:"roles,omitempty"`
	Expression        string       `json:"expression,omitempty"`
	Message           string       `json:"message,omitempty"`
	MessageExpression string       `json:"message_expression,omitempty"`
}

// PermissionRule says who may take an action. It applies to the actions in
// Actions ("*" matches every action). A caller without one of Roles (when
// Roles is not empty) is refused, as is a request for which Expression
// (when set) is false. Exemptions never release a permission rule.
type PermissionRule struct {
	ID                string   `json:"id"`
	Description       string   `json:"description,omitempty"`
	Actions           []string `json:"actions"`
	Roles             []string `json:"roles,omitempty"`
	Expression        string   `json:"expression,omitempty"`
	Message           string   `json:"message,omitempty"`
	MessageExpression string   `json:"message_expression,omitempty"`
}

// Rule actions.
const (
	RuleDeny = "deny"
	RuleWarn = "warn"
)

// Action is a write the policy judges. Rules see it as request.action, and
// PermissionRule.Actions lists them.
type Action string

// The actions of the write path.
const (
	ActionCreate      Action = "model.create"
	ActionUpdate      Action = "model.update"
	ActionPatch       Action = "model.patch"
	ActionDelete      Action = "model.delete"
	ActionLifecycle   Action = "model.lifecycle"
	ActionClassify    Action = "model.classify"
	ActionExempt      Action = "model.exempt"
	ActionEnforce     Action = "model.enforce"
	ActionAliasMove   Action = "alias.move"
	ActionAliasDelete Action = "alias.delete"
	// ActionIdentity is a change of a model's identity: registering,
	// verifying, rotating or revoking its key, and endorsing it.
	ActionIdentity Action = "model.identity"
	// ActionReview clears a model held for a governor's review.
	ActionReview Action = "model.review"
)

// Actions returns every action, in the order of the constants.
func Actions() []Action {
	return []Action{ActionCreate, ActionUpdate, ActionPatch, ActionDelete, ActionLifecycle,
		ActionClassify, ActionExempt, ActionEnforce, ActionAliasMove, ActionAliasDelete, ActionIdentity, ActionReview}
}

// Caller is who asks for a write.
type Caller struct {
	Principal string
	// Roles are the caller's roles, such as "governor" or "admin".
	Roles []string
}

// Facts are what the registry knows around a write: registry-wide facts
// the rules read as the CEL variable registry, and the endorsers of the
// judged model, from which model.identity counts its endorsements (and
// old.identity its own: an endorser of old that is not one of model's is
// unknown, and does not count).
type Facts struct {
	// ActiveGenerals is the number of active models with role general
	// before the write, the model being written included
	// (registry.active_generals). The registry counts it for lifecycle
	// actions; it is 0 otherwise.
	ActiveGenerals int64
	// VerifiedGeneralOwners is the number of distinct identity owners
	// among the generals whose identity is verified at the time, other
	// than the judged model and other than the owner of its identity
	// (registry.verified_general_owners): how many independent endorsers
	// the model could have.
	VerifiedGeneralOwners int64
	// Endorsers is what the registry knows, at the time, of each model
	// that endorses the judged model, by model id. An endorsement by a
	// model missing from it never counts (see CountedEndorsements).
	Endorsers map[string]Endorser
	// Evals is the judged model's latest valid score of each metric of
	// each benchmark, by benchmark name then metric (the variable evals).
	// The registry loads it when the bundle reads evals (UsesEvals).
	Evals map[string]map[string]Score
}

// Score is a model's latest valid value of a benchmark's metric.
type Score struct {
	Value float64
	// Stderr is the standard error; HasStderr says whether it is known.
	Stderr      float64
	HasStderr   bool
	EvaluatedAt time.Time
	// Evaluation is the id of the result it comes from.
	Evaluation string
}

// Endorser is what the registry knows of a model that endorses another, at
// the time of the decision.
type Endorser struct {
	// Role is the endorser's governance role.
	Role api.Role
	// IdentityStatus is the status of the endorser's identity at the time
	// (api.Identity.StatusAt): verified, unverified, expired, revoked, or
	// none when it has no identity.
	IdentityStatus string
	// KeyID is the key id of the endorser's current key, "" without one.
	KeyID string
	// Owner is the owner of the endorser's identity.
	Owner string
}

// Input is one write to judge.
type Input struct {
	Action Action
	// Model is the document after the write; nil for a deletion or an
	// action on something other than a model.
	Model *api.Model
	// Old is the document before the write; nil for a creation.
	Old    *api.Model
	Caller Caller
	// Now is the time of the write; exemptions that expire at or before
	// it no longer count.
	Now   time.Time
	Facts Facts
}

// Sections of a decision's results (api.RuleResult.Section).
const (
	SectionPermissions = "permissions"
	SectionValidation  = "validation"
	// SectionClassification is followed by "." and the role, as in
	// "classification.general".
	SectionClassification = "classification"
	SectionTransitions    = "transitions"
)

// classifiedRoles returns the roles that may have classification rules, in
// the order their rules are listed.
func classifiedRoles() []api.Role {
	return []api.Role{api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental}
}
