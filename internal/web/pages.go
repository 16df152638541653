package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

// page is what every template receives.
type page struct {
	Title  string
	Viewer *viewer
	// Notice is a message of success; Error a refusal or failure.
	Notice string
	Error  *problem
	// Data is the page's own.
	Data any
}

// problem is a refusal as a page shows it: the message and, for a policy
// or access refusal, the rules that failed.
type problem struct {
	Message string
	Failed  []api.RuleResult
	// Allowed lists the statuses a refused transition could reach.
	Allowed []api.Status
	Policy  int64
}

func problemOf(msg string, err error) *problem {
	p := &problem{Message: msg}
	var e *errs.Error
	if errors.As(err, &e) {
		p.Allowed = e.Allowed
		if e.Decision != nil {
			p.Failed = e.Decision.Failed()
			p.Policy = e.Decision.PolicyVersion
		}
	}
	return p
}

var funcs = template.FuncMap{
	"time": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if t == nil {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return ""
	},
	"modelPath": modelPath,
	// modelAction says whether an audit action is about a model, whose
	// target links to its page.
	"modelAction": func(action string) bool { return strings.HasPrefix(action, "model.") },
	"join":        strings.Join,
}

// modelPath is the page of model id.
func modelPath(id string) string {
	provider, name, ok := strings.Cut(id, "/")
	if !ok {
		return "/models/" + url.PathEscape(id)
	}
	return "/models/" + url.PathEscape(provider) + "/" + url.PathEscape(name)
}

// parsePages parses each page with the layout it shares.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes a page; it renders into a buffer first, so that a
// template failure becomes a clean 500.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "web template failed", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// Catalogue filters, as their query parameters.
type catalogueQuery struct {
	Text, Provider, Family, Status, Role, Labels string
	Size                                         int
}

// catalogueData is the catalogue page's.
type catalogueData struct {
	Query    catalogueQuery
	Models   []*api.Model
	Statuses []api.Status
	Roles    []api.Role
	Sizes    []int
	// Next is the link to the next page, "" on the last.
	Next string
}

// Page sizes the catalogue offers.
var catalogueSizes = []int{25, 50, 100, 200}

func (s *server) catalogue(w http.ResponseWriter, r *http.Request, v *viewer) error {
	qs := r.URL.Query()
	q := catalogueQuery{Text: qs.Get("q"), Provider: qs.Get("provider"), Family: qs.Get("family"),
		Status: qs.Get("status"), Role: qs.Get("role"), Labels: qs.Get("label"), Size: 50}
	if n, err := strconv.Atoi(qs.Get("size")); err == nil && slices.Contains(catalogueSizes, n) {
		q.Size = n
	}
	list, err := s.reg.ListModels(r.Context(), registry.ListQuery{Text: q.Text, Provider: q.Provider, Family: q.Family,
		Status: q.Status, Role: q.Role, Labels: q.Labels, PageSize: q.Size, PageToken: qs.Get("page")})
	if err != nil {
		return err
	}
	d := catalogueData{Query: q, Models: list.Items, Sizes: catalogueSizes,
		Statuses: []api.Status{api.StatusProposed, api.StatusActive, api.StatusDeprecated, api.StatusSuspended, api.StatusArchived},
		Roles:    []api.Role{api.RoleNone, api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental}}
	if list.NextPageToken != "" {
		next := url.Values{}
		for k, val := range map[string]string{"q": q.Text, "provider": q.Provider, "family": q.Family, "status": q.Status,
			"role": q.Role, "label": q.Labels, "size": strconv.Itoa(q.Size), "page": list.NextPageToken} {
			if val != "" {
				next.Set(k, val)
			}
		}
		d.Next = "/?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "catalogue.html", page{Title: "Catalogue", Viewer: v, Data: d})
	return nil
}

// modelData is the model page's.
type modelData struct {
	Model       *api.Model
	Revisions   []*api.Revision
	Evaluations []*api.Evaluation
	Audit       []*api.AuditEntry
	// MayChange says whether to offer the lifecycle form: the registry
	// decides, this only spares the others a form they cannot use.
	MayChange bool
	Statuses  []api.Status
	// Form is what the user sent, kept when the change was refused.
	Form api.LifecycleChange
}

// shownRows bounds each list of the model page.
const shownRows = 20

func (s *server) model(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("provider") + "/" + r.PathValue("model")
	p := page{Viewer: v}
	if r.URL.Query().Get("changed") == "lifecycle" {
		p.Notice = "The lifecycle change was allowed by the policy and recorded in the audit log."
	}
	return s.renderModel(w, r, http.StatusOK, id, p, api.LifecycleChange{})
}

func (s *server) renderModel(w http.ResponseWriter, r *http.Request, status int, id string, p page, form api.LifecycleChange) error {
	ctx, v := r.Context(), p.Viewer
	m, err := s.reg.GetModel(ctx, id)
	if err != nil {
		return err
	}
	revs, err := s.reg.ListRevisions(ctx, id, shownRows, "")
	if err != nil {
		return err
	}
	evals, err := s.reg.ListEvaluations(ctx, registry.EvaluationQuery{ModelID: id, PageSize: shownRows})
	if err != nil {
		return err
	}
	entries, err := s.reg.AuditEntries(ctx, registry.AuditQuery{Model: id, PageSize: shownRows})
	if err != nil {
		return err
	}
	d := modelData{Model: m, Revisions: revs.Items, Evaluations: evals.Items, Audit: entries.Items, Form: form,
		Statuses: []api.Status{api.StatusProposed, api.StatusActive, api.StatusDeprecated, api.StatusSuspended, api.StatusArchived},
		// The registry decides; the form is offered to the roles that may
		// ever change a lifecycle. A maintainer who does not own the model
		// gets it too: the registry's refusal explains itself better than a
		// missing form.
		MayChange: v.SignedIn() && v.Has(stewards...)}
	p.Title, p.Data = m.DisplayName, d
	if p.Title == "" {
		p.Title = m.ModelID
	}
	s.render(w, r, status, "model.html", p)
	return nil
}

// stewards are the roles that may ever change a lifecycle.
var stewards = []string{api.RoleAdmin, api.RoleGovernor, api.RoleMaintainer}

func (s *server) changeLifecycle(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("provider") + "/" + r.PathValue("model")
	if !v.Has(stewards...) {
		return errs.E(errs.Forbidden, "%s may not change lifecycles: that needs one of the roles %s, and it has %s",
			v.Principal.Name, strings.Join(stewards, ", "), rolesText(v.Principal.Roles))
	}
	ch := api.LifecycleChange{Status: api.Status(r.PostFormValue("status")), Reason: strings.TrimSpace(r.PostFormValue("reason")),
		Successor: strings.TrimSpace(r.PostFormValue("successor")), Sunset: strings.TrimSpace(r.PostFormValue("sunset"))}
	_, err := s.reg.ChangeLifecycle(r.Context(), id, ch, registry.WriteOptions{Caller: v.caller(), RequestID: "web-" + randomToken()[:16]})
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Other, errs.Unavailable, errs.NotFound:
			return err
		}
		// The policy's answer, on the model's page, with the form as sent.
		return s.renderModel(w, r, statusOf(err), id, page{Viewer: v, Error: problemOf(err.Error(), err)}, ch)
	}
	http.Redirect(w, r, modelPath(id)+"?changed=lifecycle", http.StatusSeeOther)
	return nil
}

func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "none"
	}
	return strings.Join(roles, ", ")
}

// auditData is the audit page's.
type auditData struct {
	Model, Action, Outcome, Actor string
	Entries                       []*api.AuditEntry
	Next                          string
	// Checkpoint is the signed checkpoint, or why there is none.
	Checkpoint string
}

func (s *server) audit(w http.ResponseWriter, r *http.Request, v *viewer) error {
	qs := r.URL.Query()
	d := auditData{Model: qs.Get("model"), Action: qs.Get("action"), Outcome: qs.Get("outcome"), Actor: qs.Get("actor")}
	list, err := s.reg.AuditEntries(r.Context(), registry.AuditQuery{Model: d.Model, Action: d.Action, Outcome: d.Outcome,
		Actor: d.Actor, PageSize: 100, PageToken: qs.Get("page")})
	if err != nil {
		return err
	}
	d.Entries = list.Items
	if list.NextPageToken != "" {
		next := url.Values{"page": {list.NextPageToken}}
		for k, val := range map[string]string{"model": d.Model, "action": d.Action, "outcome": d.Outcome, "actor": d.Actor} {
			if val != "" {
				next.Set(k, val)
			}
		}
		d.Next = "/audit?" + next.Encode()
	}
	switch cp, err := s.reg.AuditCheckpoint(r.Context()); {
	case err == nil:
		d.Checkpoint = string(cp)
	case errs.Is(err, errs.Unavailable):
		d.Checkpoint = "This registry signs no checkpoints: " + err.Error()
	default:
		return err
	}
	s.render(w, r, http.StatusOK, "audit.html", page{Title: "Audit log", Viewer: v, Data: d})
	return nil
}

// signinData is the sign-in page's.
type signinData struct {
	CSRF string
	Next string
}

// signinForm shows the sign-in form with a fresh CSRF token, kept in a
// cookie of its own until there is a session (double submit).
func (s *server) signinForm(w http.ResponseWriter, r *http.Request) {
	s.renderSignin(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), nil)
}

func (s *server) renderSignin(w http.ResponseWriter, r *http.Request, status int, next string, prob *problem) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: token, Path: "/signin", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure, MaxAge: 3600})
	v, _ := s.viewerOf(r)
	s.render(w, r, status, "signin.html", page{Title: "Sign in", Viewer: v, Error: prob, Data: signinData{CSRF: token, Next: next}})
}

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

func (s *server) signout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	s.sessions.end(v.sessionID)
	http.SetCookie(w, s.sessionCookie("", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

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
