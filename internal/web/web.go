// Package web is modelgov's web interface: server-rendered HTML pages over
// the registry — the catalogue (catalogue.go), a model's page with its
// evaluation chart, revisions and their diffs (model.go, chart.go,
// diff.go), the leaderboards (leaderboard.go), governance: the policy
// bundles, their diffs, the compliance report and a dry run
// (governance.go), the audit log and its verification (audit.go) and the
// live event stream (live.go) — and the actions a user takes from a
// browser (a lifecycle change, a classification, an endorsement, a policy
// activation), each through the registry's write path. The pages need no
// JavaScript (the live page streams new events with a small script when
// it runs); templates, stylesheet and script are embedded.
//
// A user signs in with an API token or, when one is configured, with an
// OpenID Connect issuer (oidc.go). The server keeps a session in memory
// (per process: sessions do not survive a restart and are not shared
// between processes) and sets an HttpOnly, SameSite=Strict cookie naming
// it. Every form carries a CSRF token, checked on every POST. Every request
// authenticates the session's token again, so that a revoked token ends
// its sessions at once, and sees only what its roles may read.
package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

//go:embed templates/*.html static/*
var files embed.FS

// Cookie names.
const (
	// SessionCookie names the session.
	SessionCookie = "modelgov_session"
	// signinCookie holds the CSRF token of the sign-in form, before there is
	// a session to hold it.
	signinCookie = "modelgov_signin"
)

// Config holds what the web interface needs.
type Config struct {
	Registry *registry.Service
	// Logger receives the interface's logs; nil means slog.Default().
	Logger *slog.Logger
	// Secure marks the cookies Secure: set it when the server is reached
	// over TLS (directly or behind a proxy).
	Secure bool
	// AnonymousRead lets visitors without a session read the pages, as
	// viewers; actions still need a session.
	AnonymousRead bool
	// MaxSessions caps the sessions kept; 0 means DefaultMaxSessions.
	MaxSessions int
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// OIDC, when not nil, offers sign-in with an OpenID Connect issuer
	// beside the API token form (NewOIDCSignin).
	OIDC *OIDCSignin
}

// Paths lists the path prefixes the web interface serves, for a server
// that puts it beside the API: everything else belongs to the API.
var Paths = []string{"/{$}", "/models/", "/leaderboards", "/leaderboards/", "/governance", "/governance/", "/audit", "/audit/", "/live", "/live/", "/signin", "/signin/", "/signout", "/static/"}

// Mount registers h, the handler New returns, on mux for Paths.
func Mount(mux *http.ServeMux, h http.Handler) {
	for _, p := range Paths {
		mux.Handle(p, h)
	}
}

type server struct {
	reg       *registry.Service
	log       *slog.Logger
	secure    bool
	anonymous bool
	sessions  *sessions
	oidc      *OIDCSignin
	pages     map[string]*template.Template
	mux       *http.ServeMux
}

// New returns the web interface's handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Registry == nil {
		return nil, errors.New("web: a registry is required")
	}
	s := &server{reg: cfg.Registry, log: cfg.Logger, secure: cfg.Secure, anonymous: cfg.AnonymousRead, oidc: cfg.OIDC, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.Default()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s.sessions = newSessions(cfg.MaxSessions, now)
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.reader(s.catalogue))
	s.mux.HandleFunc("GET /models/{provider}/{model}", s.reader(s.model))
	s.mux.HandleFunc("POST /models/{provider}/{model}/lifecycle", s.writer(s.changeLifecycle))
	s.mux.HandleFunc("GET /audit", s.reader(s.audit))
	s.mux.HandleFunc("GET /signin", s.signinForm)
	s.mux.HandleFunc("POST /signin", s.signin)
	s.mux.HandleFunc("POST /signout", s.writer(s.signout))
	s.routeModel()
	s.routeAudit()
	s.routeOIDC()
	s.routeLeaderboards()
	s.routeGovernance()
	s.routeLive()
	s.mux.HandleFunc("/", s.notFound)
	return securityHeaders(s.mux), nil
}

// securityHeaders sets the headers every answer carries: no scripts or
// styles but our own, no framing, no referrer outside the site, no
// content sniffing, no caching of pages that show a user's data.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		if len(r.URL.Path) < 8 || r.URL.Path[:8] != "/static/" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// viewer is who a page is rendered for.
type viewer struct {
	Principal *api.Principal
	// session is nil for an anonymous reader.
	session   *session
	sessionID string
}

// CSRF is the token the viewer's forms carry.
func (v *viewer) CSRF() string {
	if v == nil || v.session == nil {
		return ""
	}
	return v.session.csrf
}

// SignedIn reports whether the viewer has a session.
func (v *viewer) SignedIn() bool { return v != nil && v.session != nil }

// Has reports whether the viewer holds one of roles.
func (v *viewer) Has(roles ...string) bool {
	return v != nil && v.Principal != nil && slices.ContainsFunc(v.Principal.Roles, func(r string) bool { return slices.Contains(roles, r) })
}

// caller is the viewer as the registry knows callers.
func (v *viewer) caller() registry.Caller {
	if v == nil || v.Principal == nil {
		return registry.Anonymous
	}
	return registry.Caller{Principal: v.Principal.Name, Roles: v.Principal.Roles}
}

// viewerOf returns who sends r: the session's principal, authenticated
// again; an anonymous viewer when reads are open; or nil.
func (s *server) viewerOf(r *http.Request) (*viewer, error) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if sess := s.sessions.get(c.Value); sess != nil {
			p, err := s.principalOf(r.Context(), sess)
			switch {
			case err == nil:
				return &viewer{Principal: p, session: sess, sessionID: c.Value}, nil
			case errs.Is(err, errs.Unauthenticated):
				s.sessions.end(c.Value) // the token was revoked or expired
			default:
				return nil, err
			}
		}
	}
	if s.anonymous {
		return &viewer{Principal: &api.Principal{Name: registry.Anonymous.Principal, Roles: []string{api.RoleViewer}, Method: "anonymous"}}, nil
	}
	return nil, nil
}

type pageHandler func(w http.ResponseWriter, r *http.Request, v *viewer) error

// reader serves a page to whoever may read: a signed-in principal with a
// role, or anyone when reads are open. Others are sent to sign in.
func (s *server) reader(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.viewerOf(r)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		if v == nil {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(safeNext(r.URL.RequestURI())), http.StatusSeeOther)
			return
		}
		if err := mayRead(v); err != nil {
			s.fail(w, r, v, err)
			return
		}
		if err := h(w, r, v); err != nil {
			s.fail(w, r, v, err)
		}
	}
}

// mayRead refuses a viewer who has no role that may read the registry.
func mayRead(v *viewer) error {
	if !v.Has(api.PrincipalRoles()...) {
		return errs.E(errs.Forbidden, "%s has no role that may read the registry", v.Principal.Name)
	}
	return nil
}

// writer serves a form's POST: it needs a session and the session's CSRF
// token, and answers 403 without either.
func (s *server) writer(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		v, err := s.viewerOf(r)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		if !v.SignedIn() {
			s.fail(w, r, v, errs.E(errs.Forbidden, "sign in first: this form needs a session"))
			return
		}
		if err := r.ParseForm(); err != nil {
			if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
				s.fail(w, r, v, errs.E(errs.TooLarge, "the form is larger than the %d KiB a form may send; nothing was changed", maxForm>>10))
				return
			}
			s.fail(w, r, v, errs.E(errs.Malformed, "the form could not be read: %v", err))
			return
		}
		if !sameToken(r.PostFormValue("csrf"), v.session.csrf) {
			s.fail(w, r, v, errs.E(errs.Forbidden, "the form's CSRF token is missing or does not match your session; reload the page and try again"))
			return
		}
		if err := h(w, r, v); err != nil {
			s.fail(w, r, v, err)
		}
	}
}

// maxForm caps a form's body.
const maxForm = 64 << 10

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	v, _ := s.viewerOf(r)
	s.fail(w, r, v, errs.E(errs.NotFound, "no page at %s", r.URL.Path))
}

// statusOf maps an error's kind to the status of its page.
func statusOf(err error) int {
	switch errs.KindOf(err) {
	case errs.Malformed:
		return http.StatusBadRequest
	case errs.Invalid, errs.PolicyDenied:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Exists, errs.Conflict:
		return http.StatusConflict
	case errs.PreconditionFailed:
		return http.StatusPreconditionFailed
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.RateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// fail renders an error page. An unexpected error is logged and shown
// without its details.
func (s *server) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.LogAttrs(r.Context(), slog.LevelError, "web page failed", slog.String("path", r.URL.Path), slog.String("error", msg))
		msg = "the server could not answer; try again later"
	}
	s.render(w, r, status, "error.html", page{Title: http.StatusText(status), Viewer: v, Error: problemOf(msg, err)})
}
