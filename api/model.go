package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the model document schema version this package describes.
const SchemaVersion = "1.1"

// LegacySchemaVersion is proposal 035's original schema version, accepted on
// input and upgraded to SchemaVersion.
const LegacySchemaVersion = "1.0"

// Role is a model's governance role.
type Role string

// The governance roles. Only generals vote on governance proposals.
const (
	RoleNone         Role = "none"
	RoleGeneral      Role = "general"
	RoleSpecialist   Role = "specialist"
	RoleExperimental Role = "experimental"
)

// Status is a model's lifecycle status.
type Status string

// The lifecycle statuses. A model starts as proposed; archived is final.
const (
	StatusProposed   Status = "proposed"
	StatusActive     Status = "active"
	StatusDeprecated Status = "deprecated"
	StatusSuspended  Status = "suspended"
	StatusArchived   Status = "archived"
)

// SizeClass is proposal 035's coarse size scale.
type SizeClass string

// The size classes, smallest first.
const (
	SizeNano   SizeClass = "nano"
	SizeMini   SizeClass = "mini"
	SizeSmall  SizeClass = "small"
	SizeMedium SizeClass = "medium"
	SizeLarge  SizeClass = "large"
	SizeXL     SizeClass = "xl"
	SizeXXL    SizeClass = "xxl"
)

// Model is a model document, schema version 1.1.
//
// The fields up to Notes are written by the model's owners. Governance,
// Lifecycle, Identity, ResourceVersion, CreatedAt and UpdatedAt are owned by the server:
// a create or update may leave them out or repeat their stored values, but
// never change them. Roles change through classification and statuses
// through lifecycle transitions.
type Model struct {
	SchemaVersion   string            `json:"schema_version"`
	ModelID         string            `json:"model_id"`
	Provider        string            `json:"provider"`
	DisplayName     string            `json:"display_name"`
	Family          string            `json:"family,omitempty"`
	Version         string            `json:"version,omitempty"`
	ReleaseDate     string            `json:"release_date,omitempty"`
	SizeClass       SizeClass         `json:"size_class,omitempty"`
	Parameters      *Parameters       `json:"parameters,omitempty"`
	ContextWindow   Count             `json:"context_window,omitempty"`
	MaxOutputTokens Count             `json:"max_output_tokens,omitempty"`
	Modalities      *Modalities       `json:"modalities,omitempty"`
	Capabilities    []string          `json:"capabilities,omitempty"`
	License         string            `json:"license,omitempty"`
	Endpoints       []Endpoint        `json:"endpoints,omitempty"`
	Owners          []string          `json:"owners,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	EvalRefs        []string          `json:"eval_refs,omitempty"`
	SourceFiles     []string          `json:"source_files,omitempty"`
	Notes           string            `json:"notes,omitempty"`

	Governance *Governance `json:"governance,omitempty"`
	Lifecycle  *Lifecycle  `json:"lifecycle,omitempty"`
	// Identity is the model's verified key and its endorsements; it
	// changes only through the identity operations.
	Identity        *Identity  `json:"identity,omitempty"`
	ResourceVersion string     `json:"resource_version,omitempty"`
	CreatedAt       *time.Time `json:"created_at,omitempty"`
	UpdatedAt       *time.Time `json:"updated_at,omitempty"`
}

// Parameters is a model's parameter count and where the figure comes from.
type Parameters struct {
	// Count is the total number of parameters.
	Count Count `json:"count"`
	// Active is, for a mixture of experts, the parameters active per token.
	Active Count `json:"active,omitempty"`
	// Source says whether the provider declared Count or it is estimated.
	Source ParameterSource `json:"source"`
}

// ParameterSource says where a parameter count comes from.
type ParameterSource string

// Parameter count sources.
const (
	ParametersDeclared  ParameterSource = "declared"
	ParametersEstimated ParameterSource = "estimated"
)

// Modalities lists what a model reads and writes (text, image, audio, video, ...).
type Modalities struct {
	Input  []string `json:"input,omitempty"`
	Output []string `json:"output,omitempty"`
}

// Endpoint is a place where a model is served.
type Endpoint struct {
	URL         string `json:"url"`
	API         string `json:"api,omitempty"`
	Description string `json:"description,omitempty"`
}

// Governance is the server-owned governance block of a model.
type Governance struct {
	Role         Role       `json:"role"`
	Reason       string     `json:"reason,omitempty"`
	ClassifiedAt *time.Time `json:"classified_at,omitempty"`
	ClassifiedBy string     `json:"classified_by,omitempty"`
	// PolicyVersion and PolicyHash name the bundle the role was granted under.
	PolicyVersion int64  `json:"policy_version,omitempty"`
	PolicyHash    string `json:"policy_hash,omitempty"`
	// SizeConfirmedBy names the governor who confirmed an estimated size
	// class; any later change of size_class or parameters clears it.
	SizeConfirmedBy string     `json:"size_confirmed_by,omitempty"`
	SizeConfirmedAt *time.Time `json:"size_confirmed_at,omitempty"`
	// Compliance is the model's standing against the active policy.
	Compliance *Compliance `json:"compliance,omitempty"`
	// Exemptions release the model from named rules until they expire.
	Exemptions []Exemption `json:"exemptions,omitempty"`
	// Review, when pending, holds the model for a governor's review.
	Review *Review `json:"review,omitempty"`
	// Regressions flag the benchmarks on which the model's latest result
	// is worse than the one before it by more than the noise; a later
	// result that is not worse clears the flag.
	Regressions []RegressionFlag `json:"regressions,omitempty"`
}

// RegressionFlag marks a benchmark metric on which a model regressed.
type RegressionFlag struct {
	Benchmark  string    `json:"benchmark"`
	Metric     string    `json:"metric"`
	Evaluation string    `json:"evaluation"`
	Previous   string    `json:"previous"`
	Before     float64   `json:"before"`
	After      float64   `json:"after"`
	Threshold  float64   `json:"threshold"`
	Since      time.Time `json:"since"`
}

// Lifecycle is the server-owned lifecycle block of a model.
type Lifecycle struct {
	Status    Status    `json:"status"`
	Since     time.Time `json:"since"`
	Reason    string    `json:"reason,omitempty"`
	ChangedBy string    `json:"changed_by,omitempty"`
	// Successor names the model that replaces a deprecated one.
	Successor string `json:"successor,omitempty"`
	// Sunset is the date (YYYY-MM-DD) after which a deprecated model is archived.
	Sunset string `json:"sunset,omitempty"`
	// SuspendedFrom is the status a suspended model returns to.
	SuspendedFrom Status `json:"suspended_from,omitempty"`
}

// Count is a non-negative integer quantity (parameters, tokens). Unlike a
// plain int64 it also decodes integral numbers written in exponent or
// decimal form, such as 7e10 or 2000000.0, which YAML files and provider
// catalogues use.
type Count int64

// UnmarshalJSON accepts any JSON number with an integral value in int64 range.
func (c *Count) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*c = Count(n)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("%s is not a number", b)
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || f >= math.MaxInt64 || f < math.MinInt64 {
		return fmt.Errorf("%s is not a whole number in range", b)
	}
	*c = Count(f)
	return nil
}

// MarshalJSON writes the count as a plain integer.
func (c Count) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(c), 10), nil
}

// Role returns the model's governance role, RoleNone when it has none.
func (m *Model) Role() Role {
	if m.Governance == nil || m.Governance.Role == "" {
		return RoleNone
	}
	return m.Governance.Role
}

// Status returns the model's lifecycle status, "" when it has none yet.
func (m *Model) Status() Status {
	if m.Lifecycle == nil {
		return ""
	}
	return m.Lifecycle.Status
}

// Clone returns a deep copy of m.
func (m *Model) Clone() *Model {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("api: marshal model: %v", err)) // every field is marshalable
	}
	var c Model
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("api: unmarshal model: %v", err))
	}
	return &c
}

// legacyRoles maps the words the HiveLLM ecosystem's files use for roles
// (its roster's groups, its evaluation statuses) to modelgov's roles.
var legacyRoles = map[string]Role{
	"generals":      RoleGeneral,
	"collaborator":  RoleSpecialist,
	"collaborators": RoleSpecialist,
	"contributor":   RoleSpecialist,
	"contributors":  RoleSpecialist,
	"specialists":   RoleSpecialist,
	"rejected":      RoleExperimental,
}

// ParseRole reads a role, accepting beside modelgov's own words (none,
// general, specialist, experimental) those of the ecosystem's existing
// files: generals → general; collaborator(s), contributor(s) and specialists
// → specialist; rejected (a model refused a role) → experimental. Case and
// surrounding spaces do not matter. The mapping is documented in
// docs/POLICY.md.
func ParseRole(word string) (Role, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	switch r := Role(w); r {
	case RoleNone, RoleGeneral, RoleSpecialist, RoleExperimental:
		return r, true
	}
	r, ok := legacyRoles[w]
	return r, ok
}
