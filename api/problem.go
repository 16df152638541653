package api

import "strings"

// ProblemContentType is the media type of a Problem (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object, modelgov's only error body.
type Problem struct {
	Type     string `json:"type,omitempty"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors lists every invalid field of a rejected document.
	Errors []FieldError `json:"errors,omitempty"`
	// Allowed lists the lifecycle statuses reachable from the current one,
	// on a refused transition.
	Allowed []Status `json:"allowed,omitempty"`
	// Decision is the governance policy's decision, on a write the policy
	// refused: every rule that applied, with the failing ones explained.
	Decision *Decision `json:"decision,omitempty"`
	// Import is, for a refused import, its report: every record's outcome
	// and reasons.
	Import *ImportReport `json:"import,omitempty"`
	// RequestID identifies the request in the server's logs.
	RequestID string `json:"request_id,omitempty"`
}

// FieldError is one invalid field: where it is, as a JSON pointer (RFC 6901)
// into the submitted document, and what is wrong with it.
type FieldError struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

// Error makes a Problem usable as a Go error, as the client returns it.
func (p *Problem) Error() string {
	var b strings.Builder
	// "title: detail", unless the detail already says what the title does
	// ("not found: model x not found").
	switch {
	case p.Detail == "":
		b.WriteString(p.Title)
	case strings.Contains(strings.ToLower(p.Detail), strings.ToLower(p.Title)):
		b.WriteString(p.Detail)
	default:
		b.WriteString(p.Title)
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	if len(p.Allowed) > 0 {
		b.WriteString("\n  allowed: ")
		for i, st := range p.Allowed {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(string(st))
		}
	}
	if p.Decision != nil {
		for _, r := range p.Decision.Failed() {
			b.WriteString("\n  rule ")
			b.WriteString(r.ID)
			b.WriteString(": ")
			b.WriteString(r.Message)
		}
	}
	for _, e := range p.Errors {
		b.WriteString("\n  ")
		if e.Pointer != "" {
			b.WriteString(e.Pointer)
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	return b.String()
}
