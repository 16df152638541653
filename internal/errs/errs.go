// Package errs gives modelgov's errors a kind, so that domain code says what
// went wrong (not found, conflict, invalid, ...) and one place, the HTTP
// layer, decides how to answer it.
package errs

import (
	"errors"
	"fmt"

	"github.com/hivellm/modelgov/api"
)

// Kind classifies an error.
type Kind uint8

// Error kinds.
const (
	Other              Kind = iota // an unexpected failure
	Malformed                      // the request cannot be parsed at all (bad JSON or YAML)
	Invalid                        // the document parses but breaks the schema or a rule
	NotFound                       // the named thing does not exist
	Exists                         // the thing to create already exists
	Conflict                       // the request is valid but the current state refuses it
	PreconditionFailed             // If-Match or resource_version does not match
	Forbidden                      // the caller may not do this
	Unauthenticated                // no or bad credentials
	PolicyDenied                   // the governance policy refuses the change
	TooLarge                       // the request body is over the limit
	Unavailable                    // the service cannot answer now
	RateLimited                    // the caller sent too many requests
)

var kindNames = [...]string{
	Other:              "internal error",
	Malformed:          "malformed request",
	Invalid:            "invalid document",
	NotFound:           "not found",
	Exists:             "already exists",
	Conflict:           "conflict",
	PreconditionFailed: "precondition failed",
	Forbidden:          "forbidden",
	Unauthenticated:    "unauthenticated",
	PolicyDenied:       "denied by policy",
	TooLarge:           "request too large",
	Unavailable:        "unavailable",
	RateLimited:        "too many requests",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is an error with a kind and the details a client needs to act on it.
type Error struct {
	Kind Kind
	// Msg says what went wrong, for a person.
	Msg string
	// Fields lists invalid fields, for Invalid.
	Fields []api.FieldError
	// Allowed lists reachable lifecycle statuses, for a refused transition.
	Allowed []api.Status
	// Decision is the policy decision that refused a write, for PolicyDenied
	// and Forbidden.
	Decision *api.Decision
	// Import is the report of a refused import.
	Import *api.ImportReport
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E returns an error of kind k with a formatted message.
func E(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k with message msg and cause err.
func Wrap(k Kind, err error, msg string) *Error {
	return &Error{Kind: k, Msg: msg, Err: err}
}

// InvalidFields returns an Invalid error listing every bad field.
func InvalidFields(msg string, fields []api.FieldError) *Error {
	return &Error{Kind: Invalid, Msg: msg, Fields: fields}
}

// KindOf returns the kind of the first *Error in err's chain, Other if none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool {
	return err != nil && KindOf(err) == k
}
