package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// statusOf is the one place where error kinds become HTTP statuses.
var statusOf = map[errs.Kind]int{
	errs.Malformed:          http.StatusBadRequest,
	errs.Invalid:            http.StatusUnprocessableEntity,
	errs.NotFound:           http.StatusNotFound,
	errs.Exists:             http.StatusConflict,
	errs.Conflict:           http.StatusConflict,
	errs.PreconditionFailed: http.StatusPreconditionFailed,
	errs.Forbidden:          http.StatusForbidden,
	errs.Unauthenticated:    http.StatusUnauthorized,
	errs.PolicyDenied:       http.StatusUnprocessableEntity,
	errs.TooLarge:           http.StatusRequestEntityTooLarge,
	errs.Unavailable:        http.StatusServiceUnavailable,
	errs.RateLimited:        http.StatusTooManyRequests,
}

// problemType names each kind with a stable URI reference that clients may
// switch on (RFC 9457 "type").
var problemType = map[errs.Kind]string{
	errs.Malformed:          "/problems/malformed",
	errs.Invalid:            "/problems/invalid-document",
	errs.NotFound:           "/problems/not-found",
	errs.Exists:             "/problems/already-exists",
	errs.Conflict:           "/problems/conflict",
	errs.PreconditionFailed: "/problems/precondition-failed",
	errs.Forbidden:          "/problems/forbidden",
	errs.Unauthenticated:    "/problems/unauthenticated",
	errs.PolicyDenied:       "/problems/policy-denied",
	errs.TooLarge:           "/problems/too-large",
	errs.Unavailable:        "/problems/unavailable",
	errs.RateLimited:        "/problems/rate-limited",
}

// writeError answers err as an RFC 9457 problem. Unexpected errors are
// logged with the request id and answered without their details.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problemOf(r, err)
	switch p.Status {
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="modelgov"`)
	}
	writeProblem(w, p)
}

// problemOf is the problem that answers err (logged, when it is the
// server's failure).
func (s *Server) problemOf(r *http.Request, err error) *api.Problem {
	kind := errs.KindOf(err)
	p := &api.Problem{Status: http.StatusInternalServerError, Title: kind.String(), RequestID: requestID(r.Context())}
	if code, ok := statusOf[kind]; ok {
		p.Status = code
		p.Type = problemType[kind]
		p.Detail = err.Error()
		var e *errs.Error
		if errors.As(err, &e) {
			p.Errors = e.Fields
			p.Allowed = e.Allowed
			p.Decision = e.Decision
			p.Import = e.Import
		}
	} else {
		p.Detail = "the server failed to answer; the error is logged under request id " + p.RequestID
		s.log.ErrorContext(r.Context(), "request failed", slog.String("request_id", p.RequestID),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	p.Instance = r.URL.Path
	return p
}

func writeProblem(w http.ResponseWriter, p *api.Problem) {
	w.Header().Set("Content-Type", api.ProblemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = jsonEncode(w, p)
}

// problem answers a status the HTTP layer decides by itself (no route, a
// wrong method, an unsupported media type).
func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	writeProblem(w, &api.Problem{Status: status, Title: http.StatusText(status), Detail: detail,
		Instance: r.URL.Path, RequestID: requestID(r.Context())})
}
