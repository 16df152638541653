package web

import (
	"net/http"
	"net/url"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

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
