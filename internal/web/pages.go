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
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
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
