package api

import "time"

// ModelList is one page of models.
type ModelList struct {
	Items []*Model `json:"items"`
	// NextPageToken, when not empty, fetches the next page.
	NextPageToken string `json:"next_page_token,omitempty"`
}

// Action names what a write did. It is recorded on every revision.
type Action string

// Write actions.
const (
	ActionCreate    Action = "create"
	ActionUpdate    Action = "update"
	ActionPatch     Action = "patch"
	ActionDelete    Action = "delete"
	ActionLifecycle Action = "lifecycle"
	ActionClassify  Action = "classify"
	ActionAlias     Action = "alias"
	// ActionExempt grants or revokes an exemption.
	ActionExempt Action = "exempt"
	// ActionCompliance records the policy's finding that a model complies
	// or not, after a bundle is activated or on a periodic re-check.
	ActionCompliance Action = "compliance"
	// ActionEnforce lowers the role of a model whose grace period ended.
	ActionEnforce Action = "enforce"
	// ActionIdentity registers, proves, rotates or revokes a model's
	// identity, or adds or withdraws an endorsement of it.
	ActionIdentity Action = "identity"
	// ActionReview clears a model's near-duplicate review.
	ActionReview Action = "review"
	// ActionEvaluation records what an evaluation result did to a model:
	// a regression flagged, or cleared by a better result.
	ActionEvaluation Action = "evaluation"
)

// Revision is one immutable entry of a model's history: the whole document
// as it stood after one write.
type Revision struct {
	ModelID  string    `json:"model_id"`
	Revision int64     `json:"revision"`
	Action   Action    `json:"action"`
	Actor    string    `json:"actor"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`
	// RequestID ties the revision to the request that made it.
	RequestID string `json:"request_id,omitempty"`
	// Model is the document after the write; nil for a deletion.
	Model *Model `json:"model,omitempty"`
}

// RevisionList is one page of a model's revisions, newest first.
type RevisionList struct {
	Items         []*Revision `json:"items"`
	NextPageToken string      `json:"next_page_token,omitempty"`
}

// LifecycleChange asks for a lifecycle transition.
type LifecycleChange struct {
	Status Status `json:"status"`
	Reason string `json:"reason"`
	// Successor optionally names the active model that replaces a deprecated one.
	Successor string `json:"successor,omitempty"`
	// Sunset is required when deprecating: a date, YYYY-MM-DD.
	Sunset string `json:"sunset,omitempty"`
}

// Alias is a stable name that points to a model, such as hivellm/chair.
type Alias struct {
	Name            string    `json:"name"`
	Target          string    `json:"target"`
	ResourceVersion string    `json:"resource_version,omitempty"`
	UpdatedAt       time.Time `json:"updated_at"`
	UpdatedBy       string    `json:"updated_by,omitempty"`
	Reason          string    `json:"reason,omitempty"`
}

// AliasMove points an alias at a model.
type AliasMove struct {
	Target string `json:"target"`
	Reason string `json:"reason,omitempty"`
}

// AliasList lists aliases.
type AliasList struct {
	Items         []*Alias `json:"items"`
	NextPageToken string   `json:"next_page_token,omitempty"`
}

// AliasHistory lists an alias's moves, newest first.
type AliasHistory struct {
	Items []*Alias `json:"items"`
}
