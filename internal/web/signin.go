package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/hivellm/modelgov/internal/errs"
)

// signinData is the sign-in page's.
type signinData struct {
	CSRF string
	Next string
	// OIDC names the issuer to offer sign-in with, "" when none is
	// configured.
	OIDC string
	// SignedIn says the page confirms an OIDC sign-in and leads on to Next.
	SignedIn bool
}

// OIDCStart is the link that starts sign-in with the issuer, back to Next.
func (d signinData) OIDCStart() string {
	if d.Next == "/" {
		return "/signin/oidc"
	}
	return "/signin/oidc?" + url.Values{"next": {d.Next}}.Encode()
}

// signinForm shows the sign-in form with a fresh CSRF token, kept in a
// cookie of its own until there is a session (double submit).
func (s *server) signinForm(w http.ResponseWriter, r *http.Request) {
	s.renderSignin(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), nil)
}

// renderSignin shows the sign-in page with a fresh CSRF token and, when
// prob is not nil, why the last attempt was refused.
func (s *server) renderSignin(w http.ResponseWriter, r *http.Request, status int, next string, prob *problem) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: token, Path: "/signin", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure, MaxAge: 3600})
	v, _ := s.viewerOf(r)
	d := signinData{CSRF: token, Next: next}
	if s.oidc != nil {
		d.OIDC = s.oidc.name
	}
	s.render(w, r, status, "signin.html", page{Title: "Sign in", Viewer: v, Error: prob, Data: d})
}

// signin checks the form's API token and starts a session for it.
func (s *server) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	c, err := r.Cookie(signinCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		s.fail(w, r, nil, errs.E(errs.Forbidden, "the sign-in form's CSRF token is missing or does not match; reload the sign-in page and try again"))
		return
	}
	next := safeNext(r.PostFormValue("next"))
	token := strings.TrimSpace(r.PostFormValue("token"))
	p, err := s.reg.Authenticate(r.Context(), token)
	if err != nil {
		if !errs.Is(err, errs.Unauthenticated) {
			s.fail(w, r, nil, err)
			return
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "web sign-in refused", slog.String("remote", r.RemoteAddr), slog.String("reason", err.Error()))
		s.renderSignin(w, r, http.StatusUnauthorized, next, &problem{Message: "Sign-in refused: " + err.Error()})
		return
	}
	// A new session on every sign-in: an id planted before it is useless.
	if old, err := r.Cookie(SessionCookie); err == nil {
		s.sessions.end(old.Value)
	}
	id, _ := s.sessions.create(token)
	http.SetCookie(w, s.sessionCookie(id, int(SessionTTL.Seconds())))
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Path: "/signin", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure, MaxAge: -1})
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "web sign-in", slog.String("principal", p.Name))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout ends the viewer's session.
func (s *server) signout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	s.sessions.end(v.sessionID)
	http.SetCookie(w, s.sessionCookie("", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// sessionCookie is the session's cookie; a negative maxAge deletes it.
func (s *server) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secure, MaxAge: maxAge}
}

// safeNext keeps a redirect target on this site: a path, never a URL to
// another host.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/signin") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
