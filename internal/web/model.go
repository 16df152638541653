package web

import (
	"net/http"
	"strings"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

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

// routeModel registers the model page's further views and actions
// (beyond the page and its lifecycle form, registered in New).
func (s *server) routeModel() {}
