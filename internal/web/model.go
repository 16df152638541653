package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

// modelData is the model page's.
type modelData struct {
	Model *api.Model
	// Revisions and Evaluations are the newest shownRows of each, newest
	// first.
	Revisions   []*api.Revision
	Evaluations []*api.Evaluation
	Audit       []*api.AuditEntry
	// Chart draws the evaluation history; nil without results. ChartCapped
	// says it holds only the oldest maxCharted results.
	Chart       *chart
	ChartCapped bool
	// Timeline lists the lifecycle's steps, oldest first; TimelineCapped
	// says older steps are only in the revisions' history.
	Timeline       []timelineStep
	TimelineCapped bool
	// DiffFrom and DiffTo are the revisions the diff form proposes;
	// Choices the revisions it offers, newest first.
	DiffFrom, DiffTo int64
	Choices          []int64
	// IdentityStatus is the identity's status now (expired past its date).
	IdentityStatus string
	// EndorsementMessage is what an endorser's key signs to endorse the
	// model's current key, "" when there is nothing to endorse.
	EndorsementMessage string
	// MayChange, MayClassify and MayEndorse say whether to offer each form:
	// the registry decides, this only spares the others a form they cannot
	// use.
	MayChange, MayClassify, MayEndorse bool
	Statuses                           []api.Status
	Roles                              []api.Role
	// Form is what the user sent, kept when a form was refused.
	Form modelForms
}

// modelForms are the model page's forms as the user filled them.
type modelForms struct {
	Lifecycle      api.LifecycleChange
	Classification api.Classification
	Endorsement    api.EndorsementRequest
}

// timelineStep is a change of a model's lifecycle status.
type timelineStep struct {
	Revision int64
	Status   api.Status
	At       string
	By       string
	Reason   string
}

// shownRows bounds each list of the model page.
const shownRows = 20

// Bounds of what the model page reads.
const (
	// maxCharted bounds the results the chart draws.
	maxCharted = 1000
	// maxTimeline bounds the revisions the timeline and the diff form read.
	maxTimeline = 100
)

// Notices of the actions that were allowed, by the changed parameter.
var modelNotices = map[string]string{
	"lifecycle":      "The lifecycle change was allowed by the policy and recorded in the audit log.",
	"classification": "The classification was allowed by the policy and recorded in the audit log.",
	"endorsement":    "The endorsement was accepted and recorded in the audit log.",
}

// model serves a model's page, with the notice of the action that sent
// the browser back to it.
func (s *server) model(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("provider") + "/" + r.PathValue("model")
	p := page{Viewer: v, Notice: modelNotices[r.URL.Query().Get("changed")]}
	return s.renderModel(w, r, http.StatusOK, id, p, modelForms{})
}

// renderModel renders model id's page with status, p's notice or error,
// and the forms as form holds them.
func (s *server) renderModel(w http.ResponseWriter, r *http.Request, status int, id string, p page, form modelForms) error {
	ctx, v := r.Context(), p.Viewer
	m, err := s.reg.GetModel(ctx, id)
	if err != nil {
		return err
	}
	revs, err := s.reg.ListRevisions(ctx, id, maxTimeline, "")
	if err != nil {
		return err
	}
	evals, err := s.reg.ListEvaluations(ctx, registry.EvaluationQuery{ModelID: id, PageSize: maxCharted})
	if err != nil {
		return err
	}
	entries, err := s.reg.AuditEntries(ctx, registry.AuditQuery{Model: id, PageSize: shownRows})
	if err != nil {
		return err
	}
	d := modelData{Model: m, Revisions: revs.Items[:min(len(revs.Items), shownRows)], Audit: entries.Items, Form: form,
		Statuses: []api.Status{api.StatusProposed, api.StatusActive, api.StatusDeprecated, api.StatusSuspended, api.StatusArchived},
		Roles:    []api.Role{api.RoleNone, api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental},
		// The registry decides; the lifecycle form is offered to the roles
		// that may ever change a lifecycle. A maintainer who does not own
		// the model gets it too: the registry's refusal explains itself
		// better than a missing form.
		MayChange:      v.SignedIn() && v.Has(stewards...),
		MayClassify:    v.SignedIn() && v.Has(governors...),
		IdentityStatus: m.Identity.StatusAt(s.sessions.now()),
		ChartCapped:    evals.NextPageToken != "",
		TimelineCapped: revs.NextPageToken != ""}
	if d.Form.Classification.Role == "" {
		d.Form.Classification.Role = m.Role() // the form starts from the model's role
	}
	if id := m.Identity; id != nil && id.Status != api.IdentityRevoked {
		d.EndorsementMessage = string(api.EndorsementMessage(m.ModelID, id.KeyID))
		// Whoever owns a model with a verified identity may endorse with
		// it: the registry checks the endorser's owners.
		d.MayEndorse = v.SignedIn() && v.Has(stewards...)
	}
	for i := len(evals.Items) - 1; i >= 0 && len(d.Evaluations) < shownRows; i-- {
		d.Evaluations = append(d.Evaluations, evals.Items[i])
	}
	benchmarks, err := s.benchmarksOf(r, evals.Items)
	if err != nil {
		return err
	}
	d.Chart = evaluationChart(m.ModelID, evals.Items, benchmarks)
	d.Timeline = lifecycleTimeline(revs.Items)
	for _, rev := range revs.Items {
		d.Choices = append(d.Choices, rev.Revision)
	}
	if len(d.Choices) > 0 {
		d.DiffTo, d.DiffFrom = d.Choices[0], d.Choices[min(1, len(d.Choices)-1)]
	}
	p.Title, p.Data = m.DisplayName, d
	if p.Title == "" {
		p.Title = m.ModelID
	}
	s.render(w, r, status, "model.html", p)
	return nil
}

// benchmarksOf reads the catalogue entries of the benchmarks evals name,
// for the bounds of their metrics. A benchmark missing from the catalogue
// is left out: its lines are drawn on the scale of their values.
func (s *server) benchmarksOf(r *http.Request, evals []*api.Evaluation) ([]*api.Benchmark, error) {
	type key struct{ name, version string }
	var out []*api.Benchmark
	seen := map[key]bool{}
	for _, ev := range evals {
		k := key{ev.Benchmark, ev.BenchmarkVersion}
		if seen[k] {
			continue
		}
		seen[k] = true
		b, err := s.reg.GetBenchmark(r.Context(), k.name, k.version)
		switch {
		case errs.Is(err, errs.NotFound):
			continue
		case err != nil:
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// lifecycleTimeline lists the revisions of revs (newest first) that changed
// the model's status, oldest first: its lifecycle's steps.
func lifecycleTimeline(revs []*api.Revision) []timelineStep {
	var steps []timelineStep
	var last api.Status
	for _, rev := range slices.Backward(revs) {
		if rev.Model == nil {
			steps = append(steps, timelineStep{Revision: rev.Revision, Status: "deleted", At: formatTime(rev), By: rev.Actor, Reason: rev.Reason})
			last = ""
			continue
		}
		if st := rev.Model.Status(); st != last {
			steps = append(steps, timelineStep{Revision: rev.Revision, Status: st, At: formatTime(rev), By: rev.Actor, Reason: rev.Reason})
			last = st
		}
	}
	return steps
}

// formatTime is a revision's time as the pages show times.
func formatTime(rev *api.Revision) string {
	return rev.Time.UTC().Format("2006-01-02 15:04:05 UTC")
}

// stewards are the roles that may ever change a lifecycle or an identity.
var stewards = []string{api.RoleAdmin, api.RoleGovernor, api.RoleMaintainer}

// governors are the roles that may ever classify a model.
var governors = []string{api.RoleAdmin, api.RoleGovernor}

// mayNot is the refusal of a viewer whose roles never allow what.
func mayNot(v *viewer, what string, roles []string) error {
	return errs.E(errs.Forbidden, "%s may not %s: that needs one of the roles %s, and it has %s",
		v.Principal.Name, what, strings.Join(roles, ", "), rolesText(v.Principal.Roles))
}

// changeLifecycle asks the registry for a lifecycle transition of the
// model.
func (s *server) changeLifecycle(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("provider") + "/" + r.PathValue("model")
	if !v.Has(stewards...) {
		return mayNot(v, "change lifecycles", stewards)
	}
	ch := api.LifecycleChange{Status: api.Status(r.PostFormValue("status")), Reason: strings.TrimSpace(r.PostFormValue("reason")),
		Successor: strings.TrimSpace(r.PostFormValue("successor")), Sunset: strings.TrimSpace(r.PostFormValue("sunset"))}
	_, err := s.reg.ChangeLifecycle(r.Context(), id, ch, s.writeOptions(v))
	return s.answer(w, r, v, id, "lifecycle", err, modelForms{Lifecycle: ch})
}

// classify asks the registry for a governance role for the model: the
// active policy judges it against the role's rules.
func (s *server) classify(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("provider") + "/" + r.PathValue("model")
	if !v.Has(governors...) {
		return mayNot(v, "classify models", governors)
	}
	c := api.Classification{Role: api.Role(strings.TrimSpace(r.PostFormValue("role"))), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	_, err := s.reg.Classify(r.Context(), id, c, s.writeOptions(v))
	return s.answer(w, r, v, id, "classification", err, modelForms{Classification: c})
}

// endorse submits an endorsement of the model's identity: a signature, by
// the verified key of a model the viewer owns, of the endorsement message.
func (s *server) endorse(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("provider") + "/" + r.PathValue("model")
	if !v.Has(stewards...) {
		return mayNot(v, "endorse models", stewards)
	}
	e := api.EndorsementRequest{Endorser: strings.TrimSpace(r.PostFormValue("endorser")), Signature: strings.TrimSpace(r.PostFormValue("signature"))}
	_, err := s.reg.Endorse(r.Context(), id, e, s.writeOptions(v))
	return s.answer(w, r, v, id, "endorsement", err, modelForms{Endorsement: e})
}

// writeOptions are a write's options on behalf of v.
func (s *server) writeOptions(v *viewer) registry.WriteOptions {
	return registry.WriteOptions{Caller: v.caller(), RequestID: "web-" + randomToken()[:16]}
}

// answer ends an action on model id: back to its page with a notice when
// err is nil; when the registry refused, the page again with the
// refusal, its rules and the form as sent.
func (s *server) answer(w http.ResponseWriter, r *http.Request, v *viewer, id, changed string, err error, form modelForms) error {
	if err == nil {
		http.Redirect(w, r, modelPath(id)+"?changed="+changed, http.StatusSeeOther)
		return nil
	}
	switch errs.KindOf(err) {
	case errs.Other, errs.Unavailable, errs.NotFound:
		return err
	}
	return s.renderModel(w, r, statusOf(err), id, page{Viewer: v, Error: refusalOf(err)}, form)
}

// refusalOf is a refusal as the page shows it, with the fields an invalid
// request got wrong.
func refusalOf(err error) *problem {
	p := problemOf(err.Error(), err)
	var e *errs.Error
	if errs.KindOf(err) == errs.Invalid && errors.As(err, &e) && len(e.Fields) > 0 {
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			field := strings.TrimPrefix(f.Pointer, "/")
			if field == "" {
				parts[i] = f.Message
			} else {
				parts[i] = fmt.Sprintf("%s: %s", field, f.Message)
			}
		}
		p.Message += " (" + strings.Join(parts, "; ") + ")"
	}
	return p
}

// rolesText lists roles in a sentence.
func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "none"
	}
	return strings.Join(roles, ", ")
}

// routeModel registers the model page's further views and actions
// (beyond the page and its lifecycle form, registered in New).
func (s *server) routeModel() {
	s.mux.HandleFunc("GET /models/{provider}/{model}/diff", s.reader(s.revisionDiff))
	s.mux.HandleFunc("POST /models/{provider}/{model}/classification", s.writer(s.classify))
	s.mux.HandleFunc("POST /models/{provider}/{model}/endorsements", s.writer(s.endorse))
}

// Previous is the revision before n, which the diff links compare n with.
func (modelData) Previous(n int64) int64 { return n - 1 }

// Value formats a metric's value as the chart does.
func (modelData) Value(f float64) string { return chartValue(f) }
