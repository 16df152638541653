package api

import (
	"encoding/json"
	"time"
)

// Compliance says whether a model complies with the active policy bundle.
type Compliance struct {
	// Status is "compliant" or "non_compliant".
	Status ComplianceStatus `json:"status"`
	// Failing lists the rules the model breaks, while it is non-compliant.
	Failing []RuleResult `json:"failing,omitempty"`
	// Since is when the model entered this status.
	Since time.Time `json:"since"`
	// Deadline is when a non-compliant model's role is lowered, unless it
	// complies again before.
	Deadline *time.Time `json:"deadline,omitempty"`
	// PolicyVersion is the bundle version the status was found under.
	PolicyVersion int64 `json:"policy_version"`
}

// ComplianceStatus is a model's standing against the active policy.
type ComplianceStatus string

// Compliance statuses.
const (
	Compliant    ComplianceStatus = "compliant"
	NonCompliant ComplianceStatus = "non_compliant"
)

// Exemption releases one model from named rules of the policy until it
// expires. Governors grant exemptions; they are the registry's visible,
// time-limited form of a "master override".
type Exemption struct {
	ID        string    `json:"id"`
	Rules     []string  `json:"rules"`
	Reason    string    `json:"reason"`
	GrantedBy string    `json:"granted_by"`
	GrantedAt time.Time `json:"granted_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ExemptionRequest asks for an exemption.
type ExemptionRequest struct {
	Rules     []string  `json:"rules"`
	Reason    string    `json:"reason"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Classification asks for a governance role.
type Classification struct {
	Role   Role   `json:"role"`
	Reason string `json:"reason"`
}

// RuleOutcome is what one rule said about one write.
type RuleOutcome string

// Rule outcomes.
const (
	RulePassed   RuleOutcome = "passed"
	RuleFailed   RuleOutcome = "failed"
	RuleWarned   RuleOutcome = "warned"   // failed, but the rule only warns
	RuleExempted RuleOutcome = "exempted" // failed, but the model is exempted from it
	RuleError    RuleOutcome = "error"    // could not be evaluated; counts as failed
	RuleSkipped  RuleOutcome = "skipped"  // did not apply to this write
)

// RuleResult is one rule's outcome in a decision.
type RuleResult struct {
	// ID names the rule in its bundle.
	ID string `json:"id"`
	// Section is where the rule stands: "validation", "classification.general",
	// "transitions", ...
	Section string      `json:"section"`
	Outcome RuleOutcome `json:"outcome"`
	// Message says, for a person, what the rule requires.
	Message string `json:"message,omitempty"`
	// Values are the values the rule looked at, by path (such as
	// "model.size_class"), so that a failure explains itself.
	Values map[string]any `json:"values,omitempty"`
	// Forbidden is true when the rule refuses the caller rather than the
	// model (an answer of 403 rather than 422).
	Forbidden bool `json:"forbidden,omitempty"`
}

// Decision is the policy's answer to one write.
type Decision struct {
	Allowed       bool         `json:"allowed"`
	Action        string       `json:"action"`
	PolicyVersion int64        `json:"policy_version"`
	PolicyHash    string       `json:"policy_hash"`
	Results       []RuleResult `json:"results"`
}

// Failed returns the results that deny the write.
func (d *Decision) Failed() []RuleResult {
	var out []RuleResult
	for _, r := range d.Results {
		if r.Outcome == RuleFailed || r.Outcome == RuleError {
			out = append(out, r)
		}
	}
	return out
}

// Policy is a stored policy bundle version.
type Policy struct {
	Version     int64      `json:"version"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Hash        string     `json:"hash"`
	CreatedAt   time.Time  `json:"created_at"`
	CreatedBy   string     `json:"created_by"`
	Active      bool       `json:"active"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	ActivatedBy string     `json:"activated_by,omitempty"`
	// Bundle is the bundle document, as JSON.
	Bundle json.RawMessage `json:"bundle"`
}

// PolicyList lists policy versions, newest first.
type PolicyList struct {
	Items []*Policy `json:"items"`
}

// ComplianceReport says how the registry's models stand against a bundle.
type ComplianceReport struct {
	PolicyVersion int64     `json:"policy_version"`
	PolicyHash    string    `json:"policy_hash"`
	Time          time.Time `json:"time"`
	Checked       int       `json:"checked"`
	// NonCompliant lists the models that break the bundle, with the rules.
	NonCompliant []ModelCompliance `json:"non_compliant"`
	// NextPageToken, on GET /v1/compliance, fetches the next page.
	NextPageToken string `json:"next_page_token,omitempty"`
}

// Activation is the answer to activating a policy version (or to its dry
// run): the version and the compliance report of the registry under it.
type Activation struct {
	Policy *Policy           `json:"policy"`
	Report *ComplianceReport `json:"report"`
	DryRun bool              `json:"dry_run,omitempty"`
}

// ModelCompliance is one model's standing in a report.
type ModelCompliance struct {
	ModelID string       `json:"model_id"`
	Role    Role         `json:"role"`
	Failing []RuleResult `json:"failing"`
	// Since is when the model fell out of compliance, in the registry's
	// compliance report (not in an activation's, which finds it now).
	Since    *time.Time `json:"since,omitempty"`
	Deadline *time.Time `json:"deadline,omitempty"`
}

// EvaluationRequest asks the policy for a decision without writing
// anything (a dry run).
type EvaluationRequest struct {
	// Model is the document after the change (any accepted schema version).
	Model json.RawMessage `json:"model"`
	// Action is the write to judge: create, update, lifecycle, classify, ...
	Action string `json:"action"`
	// Role, for a classify action, is the role asked for.
	Role Role `json:"role,omitempty"`
	// Status, for a lifecycle action, is the status asked for.
	Status Status `json:"status,omitempty"`
	// Bundle, when set, is a candidate bundle (YAML or JSON text) to judge
	// with instead of the active one.
	Bundle string `json:"bundle,omitempty"`
}
