package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/auth"
	"github.com/hivellm/modelgov/internal/errs"
)

// OIDCCallbackPath is where the issuer sends the browser back: the path of
// OIDCConfig.RedirectURL.
const OIDCCallbackPath = "/signin/oidc/callback"

// oidcCookie holds a sign-in in progress (its state, nonce, PKCE verifier
// and where to go next) between the redirect to the issuer and its
// callback. It is SameSite=Lax, so that the browser sends it on the
// issuer's redirect back, which is a cross-site navigation.
const oidcCookie = "modelgov_oidc"

// oidcFlowTTL bounds how long a user may take at the issuer.
const oidcFlowTTL = 10 * time.Minute

// OIDCConfig configures sign-in with an OpenID Connect issuer: the
// authorization-code flow with PKCE, for a client registered with the
// issuer.
type OIDCConfig struct {
	// Provider names the issuer and says how its tokens' claims map to a
	// principal, exactly as for the API's bearer tokens (the server passes
	// the same configuration). Its Audience is not used: the ID tokens of
	// this flow are issued for ClientID.
	Provider auth.OIDCConfig
	// ClientID and ClientSecret are the web interface's credentials at the
	// issuer; the secret may be empty for a public client (PKCE alone).
	ClientID     string
	ClientSecret string
	// RedirectURL is the absolute URL of OIDCCallbackPath as browsers reach
	// it, registered with the issuer.
	RedirectURL string
	// Name is the issuer's name on the sign-in page ("Sign in with Name");
	// "" means the issuer's host.
	Name string
	// Scopes are asked for beside "openid" (which is always asked for),
	// for issuers that put the roles claim in the ID token only for some
	// scope.
	Scopes []string
}

// OIDCSignin is sign-in with an OpenID Connect issuer, ready to serve:
// NewOIDCSignin returns it and Config.OIDC takes it. It is safe for
// concurrent use.
type OIDCSignin struct {
	name   string
	oauth  oauth2.Config
	tokens *auth.OIDC
	client *http.Client
}

// NewOIDCSignin returns the sign-in with cfg's issuer. It fetches the
// issuer's discovery document with ctx, so the issuer must be reachable.
func NewOIDCSignin(ctx context.Context, cfg OIDCConfig) (*OIDCSignin, error) {
	switch {
	case cfg.Provider.Issuer == "":
		return nil, errors.New("web: OIDC sign-in needs the issuer URL")
	case cfg.ClientID == "":
		return nil, errors.New("web: OIDC sign-in needs the client id")
	}
	redirect, err := url.Parse(cfg.RedirectURL)
	if err != nil || (redirect.Scheme != "https" && redirect.Scheme != "http") || redirect.Host == "" ||
		!strings.HasSuffix(redirect.Path, OIDCCallbackPath) || redirect.RawQuery != "" || redirect.Fragment != "" {
		return nil, fmt.Errorf("web: the OIDC redirect URL %q is not an absolute http(s) URL whose path ends in %s", cfg.RedirectURL, OIDCCallbackPath)
	}
	client := cfg.Provider.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Provider.Issuer)
	if err != nil {
		return nil, fmt.Errorf("web: discovering OIDC issuer %s: %w", cfg.Provider.Issuer, err)
	}
	// The ID tokens are verified and mapped to a principal by the API's
	// own authenticator, with the client id as their audience.
	mapping := cfg.Provider
	mapping.Audience, mapping.HTTPClient = cfg.ClientID, client
	tokens, err := auth.NewOIDC(ctx, mapping)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	issuer, _ := url.Parse(cfg.Provider.Issuer)
	name := cfg.Name
	if name == "" && issuer != nil {
		name = issuer.Host
	}
	return &OIDCSignin{name: name, tokens: tokens, client: client, oauth: oauth2.Config{ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL, Endpoint: provider.Endpoint(),
		Scopes: append([]string{oidc.ScopeOpenID}, slices.DeleteFunc(slices.Clone(cfg.Scopes), func(s string) bool { return s == oidc.ScopeOpenID })...)}}, nil
}

// Name is the issuer's name, as the sign-in page shows it.
func (o *OIDCSignin) Name() string { return o.name }

// routeOIDC registers the OIDC sign-in, when it is configured.
func (s *server) routeOIDC() {
	if s.oidc == nil {
		return
	}
	s.mux.HandleFunc("GET /signin/oidc", s.oidcStart)
	s.mux.HandleFunc("GET "+OIDCCallbackPath, s.oidcCallback)
}

// oidcFlow is a sign-in in progress, as its cookie holds it.
type oidcFlow struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
	Expires  int64  `json:"expires"`
}

// oidcStart sends the browser to the issuer, with a new state, nonce and
// PKCE verifier kept in a short-lived cookie.
func (s *server) oidcStart(w http.ResponseWriter, r *http.Request) {
	flow := oidcFlow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(r.URL.Query().Get("next")), Expires: s.sessions.now().Add(oidcFlowTTL).Unix()}
	value, err := json.Marshal(flow)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, s.oidcFlowCookie(base64.RawURLEncoding.EncodeToString(value), int(oidcFlowTTL.Seconds())))
	target := s.oidc.oauth.AuthCodeURL(flow.State, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// oidcFlowCookie is the cookie of a sign-in in progress; a negative
// maxAge deletes it.
func (s *server) oidcFlowCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: oidcCookie, Value: value, Path: "/signin/oidc", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.secure, MaxAge: maxAge}
}

// flowOf returns the sign-in in progress r's cookie holds, or nil when
// there is none, or it is malformed or too old.
func (s *server) flowOf(r *http.Request) *oidcFlow {
	c, err := r.Cookie(oidcCookie)
	if err != nil || len(c.Value) > 2048 {
		return nil
	}
	data, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	var flow oidcFlow
	if json.Unmarshal(data, &flow) != nil || flow.State == "" || flow.Nonce == "" || flow.Verifier == "" ||
		s.sessions.now().Unix() >= flow.Expires {
		return nil
	}
	flow.Next = safeNext(flow.Next)
	return &flow
}

// oidcCallback ends the sign-in: it checks the state, exchanges the code
// (with the PKCE verifier), has the API's authenticator verify the ID
// token (signature, issuer, audience, expiry) and map it to a principal,
// checks the nonce, and starts a session that ends when the ID token
// expires. Every refusal is the sign-in page with the reason.
func (s *server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	flow := s.flowOf(r)
	// A flow is used once, whatever the outcome.
	http.SetCookie(w, s.oidcFlowCookie("", -1))
	refuse := func(status int, next, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "web OIDC sign-in refused", slog.String("remote", r.RemoteAddr), slog.String("reason", msg))
		s.renderSignin(w, r, status, next, &problem{Message: "Sign-in with " + s.oidc.name + " refused: " + msg})
	}
	if flow == nil {
		refuse(http.StatusBadRequest, "/", "this browser has no sign-in in progress (it was not started here, took longer than %s, or was already used); start again", oidcFlowTTL)
		return
	}
	if !sameToken(q.Get("state"), flow.State) {
		refuse(http.StatusForbidden, flow.Next, "the answer's state does not match the sign-in this browser started; start again")
		return
	}
	if e := q.Get("error"); e != "" {
		refuse(http.StatusUnauthorized, flow.Next, "the issuer answered %q%s", truncated(e, 64), descriptionOf(q.Get("error_description")))
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		refuse(http.StatusBadRequest, flow.Next, "the issuer's answer has no usable authorization code")
		return
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, s.oidc.client)
	tok, err := s.oidc.oauth.Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			refuse(http.StatusUnauthorized, flow.Next, "the issuer would not exchange the authorization code: %q%s", truncated(re.ErrorCode, 64), descriptionOf(re.ErrorDescription))
			return
		}
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "web OIDC code exchange failed", slog.String("error", err.Error()))
		refuse(http.StatusBadGateway, flow.Next, "the issuer could not be reached to exchange the authorization code; try again later")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse(http.StatusUnauthorized, flow.Next, "the issuer's answer has no ID token")
		return
	}
	p, err := s.oidc.tokens.Authenticate(ctx, raw)
	if err != nil {
		if !errs.Is(err, errs.Unauthenticated) {
			s.fail(w, r, nil, err)
			return
		}
		refuse(http.StatusUnauthorized, flow.Next, "the ID token was refused: %s", err)
		return
	}
	if !sameToken(nonceOf(raw), flow.Nonce) {
		refuse(http.StatusUnauthorized, flow.Next, "the ID token's nonce does not match this sign-in's; start again")
		return
	}
	if len(p.Roles) == 0 {
		refuse(http.StatusForbidden, flow.Next, "%s holds no modelgov role (%s); ask an administrator for one", p.Name, strings.Join(api.PrincipalRoles(), ", "))
		return
	}
	// A new session on every sign-in: an id planted before it is useless.
	if old, err := r.Cookie(SessionCookie); err == nil {
		s.sessions.end(old.Value)
	}
	id, sess := s.sessions.createOIDC(p)
	http.SetCookie(w, s.sessionCookie(id, int(sess.expires.Sub(s.sessions.now()).Seconds())))
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "web sign-in", slog.String("principal", p.Name), slog.String("method", auth.MethodOIDC))
	// The browser came here from the issuer, so a redirect would still be a
	// cross-site navigation, which does not carry the SameSite=Strict
	// session cookie: the page refreshes to next from this site instead.
	w.Header().Set("Refresh", "0; url="+flow.Next)
	v := &viewer{Principal: p, session: sess, sessionID: id}
	s.render(w, r, http.StatusOK, "signin.html", page{Title: "Signed in", Viewer: v,
		Data: signinData{Next: flow.Next, SignedIn: true, OIDC: s.oidc.name}})
}

// descriptionOf is an issuer's error description, shortened, for a
// refusal's message.
func descriptionOf(d string) string {
	if d == "" {
		return ""
	}
	return ": " + truncated(d, 64)
}

// nonceOf returns the nonce claim of a JWT that has been verified.
func nonceOf(rawJWT string) string {
	parts := strings.Split(rawJWT, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Nonce string `json:"nonce"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Nonce
}
