package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/registry"
)

// The governance pages show the policy in force and what it does: the
// active bundle and its rules, every stored version and the differences
// between two of them, the compliance report, and a dry run that explains
// the decision the policy would take on a pasted model document. Every
// reader may see them, as every reader may read the API's /v1/policies,
// /v1/compliance and POST /v1/policy/evaluate; governors and admins also get
// the activation of a version, impact first.

// routeGovernance registers the governance pages.
func (s *server) routeGovernance() {
	s.mux.HandleFunc("GET /governance", s.reader(s.governance))
	s.mux.HandleFunc("GET /governance/policies/{version}", s.reader(s.policyPage))
	s.mux.HandleFunc("POST /governance/policies/{version}/activate", s.writer(s.activatePolicy))
	s.mux.HandleFunc("GET /governance/diff", s.reader(s.policyDiff))
	s.mux.HandleFunc("GET /governance/dry-run", s.reader(s.dryRunForm))
	// A dry run writes nothing, and the API lets every reader ask for one,
	// anonymous readers included when reads are open: it is a reader's
	// POST. It still checks the CSRF token of a signed-in viewer, since the
	// decision is taken as that viewer.
	s.mux.HandleFunc("POST /governance/dry-run", s.reader(s.dryRun))
}

// policyManagers are the roles that may upload and activate policy
// bundles, as the API's governors route access and the registry's
// policy-managers rule say.
var policyManagers = []string{api.RoleAdmin, api.RoleGovernor}

// governanceData is the data of governance.html, which shows the active
// policy (with the versions and the compliance report) or one stored
// version (with its activation, for policy managers).
type governanceData struct {
	// Policy is the version shown; nil when no policy is active.
	Policy *api.Policy
	Bundle *bundleView
	// Main says the page is /governance, not a version's page.
	Main bool
	// Versions lists every stored version, newest first (main page).
	Versions []*api.Policy
	// DiffFrom and DiffTo preselect the diff form's versions.
	DiffFrom, DiffTo int64
	// Compliance is the registry's compliance report (main page).
	Compliance *complianceView
	// MayActivate offers the activation form of a version that is not
	// active to a signed-in policy manager.
	MayActivate bool
	// Impact is the compliance report of an activation or its dry run.
	Impact *impactView
	// Active is the active version, on a version's page; 0 when none is.
	Active int64
}

// complianceView is one page of the compliance report.
type complianceView struct {
	Report *api.ComplianceReport
	Rows   []complianceRow
	Sizes  []int
	Size   int
	// Next is the link to the next page, "" on the last.
	Next string
}

// complianceRow is one model out of compliance.
type complianceRow struct {
	ModelID  string
	Role     api.Role
	Failing  []api.RuleResult
	Since    time.Time
	Deadline *time.Time
}

// impactView is what an activation of a version finds (or would find).
type impactView struct {
	DryRun bool
	Report *api.ComplianceReport
	// Rows are the first models out of compliance; More counts the others.
	Rows []api.ModelCompliance
	More int
}

// Page sizes of the compliance report.
var complianceSizes = []int{25, 50, 100}

// shownImpact bounds the models an activation's impact lists.
const shownImpact = 200

// governance serves /governance: the active policy, the versions and a
// page of the compliance report (query parameters size and page).
func (s *server) governance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	qs := r.URL.Query()
	size := 50
	if raw := qs.Get("size"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || !slices.Contains(complianceSizes, n) {
			return errs.E(errs.Malformed, "page size %q is not one of 25, 50 or 100", truncated(raw, 40))
		}
		size = n
	}
	d := governanceData{Main: true}
	p := page{Title: "Governance", Viewer: v, Data: &d}
	switch active, err := s.reg.ActivePolicy(ctx); {
	case err == nil:
		if d.Bundle, err = bundleOf(active); err != nil {
			return err
		}
		d.Policy = active
		// The notice of an activation, only while it is true.
		if qs.Get("activated") == strconv.FormatInt(active.Version, 10) {
			p.Notice = fmt.Sprintf("Policy version %d was activated; the compliance report below is checked against it.", active.Version)
		}
	case !errs.Is(err, errs.NotFound):
		return err
	}
	list, err := s.reg.ListPolicies(ctx)
	if err != nil {
		return err
	}
	d.Versions = list.Items
	if len(d.Versions) > 1 {
		d.DiffFrom, d.DiffTo = d.Versions[1].Version, d.Versions[0].Version
	}
	if d.Policy != nil {
		if d.Compliance, err = s.complianceOf(r, size, qs.Get("page")); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "governance.html", p)
	return nil
}

// complianceOf reads one page of the compliance report, with the time each
// model fell out of compliance.
func (s *server) complianceOf(r *http.Request, size int, token string) (*complianceView, error) {
	ctx := r.Context()
	report, err := s.reg.Compliance(ctx, size, token)
	if err != nil {
		return nil, err
	}
	c := &complianceView{Report: report, Sizes: complianceSizes, Size: size}
	for _, mc := range report.NonCompliant {
		row := complianceRow{ModelID: mc.ModelID, Role: mc.Role, Failing: mc.Failing, Deadline: mc.Deadline}
		if mc.Since != nil {
			row.Since = *mc.Since
		}
		c.Rows = append(c.Rows, row)
	}
	if report.NextPageToken != "" {
		c.Next = "/governance?" + url.Values{"size": {strconv.Itoa(size)}, "page": {report.NextPageToken}}.Encode() + "#compliance-h"
	}
	return c, nil
}

// versionOf reads a positive version number from a path or query value.
func versionOf(name, raw string) (int64, error) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.E(errs.Malformed, "%s %q is not a policy version (a positive whole number)", name, truncated(raw, 40))
	}
	return n, nil
}

// policyPage serves the page of one stored version.
func (s *server) policyPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	version, err := versionOf("policy version", r.PathValue("version"))
	if err != nil {
		return err
	}
	return s.renderPolicy(w, r, http.StatusOK, version, page{Viewer: v}, nil)
}

// renderPolicy renders the page of a stored version, with the impact of its
// activation when there is one.
func (s *server) renderPolicy(w http.ResponseWriter, r *http.Request, status int, version int64, p page, impact *impactView) error {
	pol, err := s.reg.GetPolicy(r.Context(), version)
	if err != nil {
		return err
	}
	b, err := bundleOf(pol)
	if err != nil {
		return err
	}
	v := p.Viewer
	d := &governanceData{Policy: pol, Bundle: b, Impact: impact,
		MayActivate: !pol.Active && v.SignedIn() && v.Has(policyManagers...)}
	switch active, err := s.reg.ActivePolicy(r.Context()); {
	case err == nil:
		d.Active = active.Version
	case !errs.Is(err, errs.NotFound):
		return err
	}
	p.Title, p.Data = fmt.Sprintf("Policy version %d", pol.Version), d
	s.render(w, r, status, "governance.html", p)
	return nil
}

// activatePolicy serves the activation form: with dry_run=true (the form
// a policy manager sees first) it shows what activation would find; without,
// it activates the version through the registry's write path.
func (s *server) activatePolicy(w http.ResponseWriter, r *http.Request, v *viewer) error {
	version, err := versionOf("policy version", r.PathValue("version"))
	if err != nil {
		return err
	}
	// ActivatePolicy's dry run checks no role, so this is the check; the
	// real activation is checked again by the registry.
	if !v.Has(policyManagers...) {
		return errs.E(errs.Forbidden, "%s may not activate policy versions: that needs one of the roles %s, and it has %s",
			v.Principal.Name, strings.Join(policyManagers, ", "), rolesText(v.Principal.Roles))
	}
	dry := r.PostFormValue("dry_run") == "true"
	a, err := s.reg.ActivatePolicy(r.Context(), version, dry, registry.WriteOptions{Caller: v.caller(), RequestID: "web-" + randomToken()[:16]})
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Other, errs.Unavailable, errs.NotFound:
			return err
		}
		return s.renderPolicy(w, r, statusOf(err), version, page{Viewer: v, Error: problemOf(err.Error(), err)}, nil)
	}
	if !dry {
		http.Redirect(w, r, "/governance?activated="+strconv.FormatInt(version, 10), http.StatusSeeOther)
		return nil
	}
	impact := &impactView{DryRun: true, Report: a.Report, Rows: a.Report.NonCompliant}
	if len(impact.Rows) > shownImpact {
		impact.Rows, impact.More = impact.Rows[:shownImpact], len(impact.Rows)-shownImpact
	}
	return s.renderPolicy(w, r, http.StatusOK, version, page{Viewer: v,
		Notice: "Dry run: nothing was written. Activating this version would find the models below out of compliance."}, impact)
}

// ruleView is one rule of a bundle as the pages show it.
type ruleView struct {
	ID, Section, Description string
	// Expression is the CEL expression; Message what a failure says
	// (its CEL expression, when it has one, is in MessageExpression).
	Expression, Message, MessageExpression string
	// Scope says what a transition or permission rule applies to, and who
	// may; Action is "deny" or "warn" for the other rules.
	Scope, Action string
}

// fields lists the rule's parts by name, for the diff.
func (r ruleView) fields() [][2]string {
	return [][2]string{{"section", r.Section}, {"description", r.Description}, {"expression", r.Expression},
		{"message", r.Message}, {"message expression", r.MessageExpression}, {"applies to", r.Scope}, {"action", r.Action}}
}

// paramView is one parameter of a bundle, its value as JSON.
type paramView struct{ Name, Value string }

// bundleView is a stored bundle as the pages show it.
type bundleView struct {
	Name, Description string
	Params            []paramView
	Rules             []ruleView
	// Source is the bundle as YAML, for the line diff.
	Source string
}

// classificationOrder orders the classification sections; other roles
// follow in name order.
var classificationOrder = []string{string(api.RoleGeneral), string(api.RoleSpecialist), string(api.RoleExperimental)}

// bundleOf reads a stored policy's bundle for display.
func bundleOf(p *api.Policy) (*bundleView, error) {
	var b policy.Bundle
	if err := json.Unmarshal(p.Bundle, &b); err != nil {
		return nil, fmt.Errorf("read policy bundle %d: %w", p.Version, err)
	}
	// Params are read again as raw JSON, to show numbers as written.
	var raw struct {
		Params map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(p.Bundle, &raw); err != nil {
		return nil, fmt.Errorf("read policy bundle %d params: %w", p.Version, err)
	}
	v := &bundleView{Name: b.Name, Description: b.Description}
	for name, val := range raw.Params {
		v.Params = append(v.Params, paramView{Name: name, Value: string(val)})
	}
	slices.SortFunc(v.Params, func(a, b paramView) int { return strings.Compare(a.Name, b.Name) })
	plain := func(section string, rules []policy.Rule) {
		for _, r := range rules {
			action := r.Action
			if action == "" {
				action = policy.RuleDeny
			}
			v.Rules = append(v.Rules, ruleView{ID: r.ID, Section: section, Description: r.Description, Expression: r.Expression,
				Message: r.Message, MessageExpression: r.MessageExpression, Action: action})
		}
	}
	plain("validation", b.Validation)
	roles := make([]string, 0, len(b.Classification))
	for role := range b.Classification {
		roles = append(roles, role)
	}
	slices.SortFunc(roles, func(a, b string) int {
		ia, ib := slices.Index(classificationOrder, a), slices.Index(classificationOrder, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, role := range roles {
		plain("classification."+role, b.Classification[role])
	}
	for _, t := range b.Transitions {
		v.Rules = append(v.Rules, ruleView{ID: t.ID, Section: "transitions", Description: t.Description, Expression: t.Expression,
			Message: t.Message, MessageExpression: t.MessageExpression,
			Scope: "from " + anyOf(statusNames(t.From)) + " to " + anyOf(statusNames(t.To)) + whoMay(t.Roles)})
	}
	for _, pr := range b.Permissions {
		v.Rules = append(v.Rules, ruleView{ID: pr.ID, Section: "permissions", Description: pr.Description, Expression: pr.Expression,
			Message: pr.Message, MessageExpression: pr.MessageExpression, Scope: "actions " + anyOf(pr.Actions) + whoMay(pr.Roles)})
	}
	src, err := yaml.JSONToYAML(p.Bundle)
	if err != nil {
		return nil, fmt.Errorf("show policy bundle %d as YAML: %w", p.Version, err)
	}
	v.Source = string(src)
	return v, nil
}

// statusNames lists statuses as strings.
func statusNames(st []api.Status) []string {
	out := make([]string, len(st))
	for i, s := range st {
		out[i] = string(s)
	}
	return out
}

// anyOf lists names, or says "any" for an empty list, which matches all.
func anyOf(names []string) string {
	if len(names) == 0 || slices.Contains(names, "*") {
		return "any"
	}
	return strings.Join(names, ", ")
}

// whoMay says which roles a rule admits, "" when it admits any.
func whoMay(roles []string) string {
	if len(roles) == 0 {
		return ""
	}
	return "; only " + strings.Join(roles, ", ")
}

// diffData is the data of governance-diff.html.
type diffData struct {
	Versions []*api.Policy
	// From and To are the versions compared; nil before the form is sent.
	From, To *api.Policy
	Added    []ruleView
	Removed  []ruleView
	Changed  []ruleChange
	Params   []paramChange
	// Lines is the unified line diff of the bundles' YAML source, in
	// hunks; Identical says there is no difference at all.
	Lines     []diffLine
	Identical bool
}

// ruleChange is a rule both versions hold, with the parts that differ.
type ruleChange struct {
	ID     string
	Fields []fieldChange
}

// fieldChange is one part of a rule, or one parameter, before and after.
type fieldChange struct{ Name, Before, After string }

// paramChange is a parameter added, removed or changed.
type paramChange struct {
	Name, Before, After string
	// Change is "added", "removed" or "changed".
	Change string
}

// policyDiff serves /governance/diff?from=N&to=M: the form, and the
// differences between the two versions once both are given.
func (s *server) policyDiff(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	qs := r.URL.Query()
	list, err := s.reg.ListPolicies(ctx)
	if err != nil {
		return err
	}
	d := &diffData{Versions: list.Items}
	p := page{Title: "Compare policy versions", Viewer: v, Data: d}
	if qs.Get("from") == "" && qs.Get("to") == "" {
		s.render(w, r, http.StatusOK, "governance-diff.html", p)
		return nil
	}
	from, err := versionOf("from", qs.Get("from"))
	if err != nil {
		return err
	}
	to, err := versionOf("to", qs.Get("to"))
	if err != nil {
		return err
	}
	if d.From, err = s.reg.GetPolicy(ctx, from); err != nil {
		return err
	}
	if d.To, err = s.reg.GetPolicy(ctx, to); err != nil {
		return err
	}
	before, err := bundleOf(d.From)
	if err != nil {
		return err
	}
	after, err := bundleOf(d.To)
	if err != nil {
		return err
	}
	d.Added, d.Removed, d.Changed = diffRules(before.Rules, after.Rules)
	d.Params = diffParams(before.Params, after.Params)
	d.Lines = hunks(diffLines(splitLines(before.Source), splitLines(after.Source)), 3)
	d.Identical = len(d.Lines) == 0
	p.Title = fmt.Sprintf("Policy version %d → %d", from, to)
	s.render(w, r, http.StatusOK, "governance-diff.html", p)
	return nil
}

// diffRules compares two bundles' rules by id.
func diffRules(before, after []ruleView) (added, removed []ruleView, changed []ruleChange) {
	old := map[string]ruleView{}
	for _, r := range before {
		old[r.ID] = r
	}
	seen := map[string]bool{}
	for _, r := range after {
		seen[r.ID] = true
		o, ok := old[r.ID]
		if !ok {
			added = append(added, r)
			continue
		}
		var fields []fieldChange
		of, nf := o.fields(), r.fields()
		for i := range nf {
			if of[i][1] != nf[i][1] {
				fields = append(fields, fieldChange{Name: nf[i][0], Before: of[i][1], After: nf[i][1]})
			}
		}
		if len(fields) > 0 {
			changed = append(changed, ruleChange{ID: r.ID, Fields: fields})
		}
	}
	for _, r := range before {
		if !seen[r.ID] {
			removed = append(removed, r)
		}
	}
	return added, removed, changed
}

// diffParams compares two bundles' parameters, in name order.
func diffParams(before, after []paramView) []paramChange {
	old := map[string]string{}
	for _, p := range before {
		old[p.Name] = p.Value
	}
	var out []paramChange
	seen := map[string]bool{}
	for _, p := range after {
		seen[p.Name] = true
		switch o, ok := old[p.Name]; {
		case !ok:
			out = append(out, paramChange{Name: p.Name, After: p.Value, Change: "added"})
		case o != p.Value:
			out = append(out, paramChange{Name: p.Name, Before: o, After: p.Value, Change: "changed"})
		}
	}
	for _, p := range before {
		if !seen[p.Name] {
			out = append(out, paramChange{Name: p.Name, Before: p.Value, Change: "removed"})
		}
	}
	slices.SortStableFunc(out, func(a, b paramChange) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// diffLine is one line of a line diff.
type diffLine struct {
	// Op is "=" (in both), "-" (only before), "+" (only after), or "…"
	// for unchanged lines left out between hunks.
	Op   string
	Text string
	// Old and New number the line in each text, 0 where it has none.
	Old, New int
}

// Class is the line's CSS class.
func (l diffLine) Class() string {
	switch l.Op {
	case "-":
		return "gov-del"
	case "+":
		return "gov-ins"
	case "…":
		return "gov-gap"
	}
	return "gov-same"
}

// splitLines splits a text into lines, without a last empty one.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// maxDiffCells bounds the LCS table of a line diff (after the common
// prefix and suffix are set aside); beyond it the middle is shown as
// removed, then added.
const maxDiffCells = 4 << 20

// diffLines returns a line diff of a and b that keeps a longest common
// subsequence of lines, removals before additions at each change.
func diffLines(a, b []string) []diffLine {
	var out []diffLine
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		out = append(out, diffLine{Op: "=", Text: a[pre], Old: pre + 1, New: pre + 1})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	i, j := 0, 0
	del := func() { out = append(out, diffLine{Op: "-", Text: ma[i], Old: pre + i + 1}); i++ }
	ins := func() { out = append(out, diffLine{Op: "+", Text: mb[j], New: pre + j + 1}); j++ }
	if len(ma)*len(mb) <= maxDiffCells {
		// lcs[i][j] is the length of an LCS of ma[i:] and mb[j:].
		w := len(mb) + 1
		lcs := make([]int32, (len(ma)+1)*w)
		for x := len(ma) - 1; x >= 0; x-- {
			for y := len(mb) - 1; y >= 0; y-- {
				if ma[x] == mb[y] {
					lcs[x*w+y] = lcs[(x+1)*w+y+1] + 1
				} else {
					lcs[x*w+y] = max(lcs[(x+1)*w+y], lcs[x*w+y+1])
				}
			}
		}
		for i < len(ma) && j < len(mb) {
			switch {
			case ma[i] == mb[j]:
				out = append(out, diffLine{Op: "=", Text: ma[i], Old: pre + i + 1, New: pre + j + 1})
				i++
				j++
			case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
				del()
			default:
				ins()
			}
		}
	}
	for i < len(ma) {
		del()
	}
	for j < len(mb) {
		ins()
	}
	for k := range suf {
		x, y := len(a)-suf+k, len(b)-suf+k
		out = append(out, diffLine{Op: "=", Text: a[x], Old: x + 1, New: y + 1})
	}
	return out
}

// hunks keeps the changed lines of a diff and context unchanged lines
// around each, marking what it leaves out with a "…" line. A diff without
// changes gives nothing.
func hunks(lines []diffLine, context int) []diffLine {
	keep := make([]bool, len(lines))
	changed := false
	for i, l := range lines {
		if l.Op == "=" {
			continue
		}
		changed = true
		for k := max(0, i-context); k <= min(len(lines)-1, i+context); k++ {
			keep[k] = true
		}
	}
	if !changed {
		return nil
	}
	var out []diffLine
	for i, l := range lines {
		switch {
		case keep[i]:
			out = append(out, l)
		case len(out) == 0 || out[len(out)-1].Op != "…":
			out = append(out, diffLine{Op: "…"})
		}
	}
	return out
}

// dryRunData is the data of governance-dryrun.html.
type dryRunData struct {
	// The form as sent.
	Document, Action, Role, Status string
	Actions                        []string
	Roles                          []api.Role
	Statuses                       []api.Status
	// Decision is the policy's answer, nil before the form is sent or when
	// the document could not be judged; Results its rules' outcomes.
	Decision *api.Decision
	Results  []resultView
	// ModelID is the document's model; Current its role now ("" for a
	// model not registered); Outcome the role it would hold after the write.
	ModelID, Current, Outcome string
	// Fields lists what is wrong with an invalid document.
	Fields []api.FieldError
}

// resultView is one rule's outcome in a decision, the values it looked at
// as JSON, in path order.
type resultView struct {
	ID, Section, Outcome, Message string
	Values                        []paramView
}

// dryRunActions are the writes a dry run may judge.
var dryRunActions = []string{"model.classify", "model.create", "model.update", "model.patch", "model.lifecycle"}

// newDryRun is the dry-run form before anything is sent.
func newDryRun() *dryRunData {
	return &dryRunData{Action: "model.classify", Actions: dryRunActions,
		Roles:    []api.Role{api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental, api.RoleNone},
		Statuses: []api.Status{api.StatusProposed, api.StatusActive, api.StatusDeprecated, api.StatusSuspended, api.StatusArchived}}
}

// dryRunForm serves the empty dry-run form.
func (s *server) dryRunForm(w http.ResponseWriter, r *http.Request, v *viewer) error {
	s.render(w, r, http.StatusOK, "governance-dryrun.html", page{Title: "Policy dry run", Viewer: v, Data: newDryRun()})
	return nil
}

// dryRun judges the pasted document with the registry's Evaluate, as the
// viewer, and shows the decision with the form as sent; a document that
// cannot be judged is shown as the reason, on the same page.
func (s *server) dryRun(w http.ResponseWriter, r *http.Request, v *viewer) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return errs.E(errs.TooLarge, "the form is over %d KiB; paste a single model document", maxForm>>10)
		}
		return errs.E(errs.Malformed, "the form could not be read: %v", err)
	}
	if v.SignedIn() && !sameToken(r.PostForm.Get("csrf"), v.session.csrf) {
		return errs.E(errs.Forbidden, "the form's CSRF token is missing or does not match your session; reload the page and try again")
	}
	d := newDryRun()
	d.Document, d.Action = r.PostForm.Get("document"), r.PostForm.Get("action")
	d.Role, d.Status = r.PostForm.Get("role"), r.PostForm.Get("status")
	p := page{Title: "Policy dry run", Viewer: v, Data: d}
	fail := func(err error) error {
		p.Error = problemOf(err.Error(), err)
		var e *errs.Error
		if errors.As(err, &e) {
			d.Fields = e.Fields
		}
		s.render(w, r, statusOf(err), "governance-dryrun.html", p)
		return nil
	}
	switch {
	case strings.TrimSpace(d.Document) == "":
		return fail(errs.E(errs.Malformed, "paste a model document (JSON or YAML) to judge"))
	case !slices.Contains(dryRunActions, d.Action):
		return fail(errs.E(errs.Malformed, "action %q is not one of %s", truncated(d.Action, 40), strings.Join(dryRunActions, ", ")))
	case d.Role != "" && !slices.Contains(d.Roles, api.Role(d.Role)):
		return fail(errs.E(errs.Malformed, "role %q is not a model role", truncated(d.Role, 40)))
	case d.Status != "" && !slices.Contains(d.Statuses, api.Status(d.Status)):
		return fail(errs.E(errs.Malformed, "status %q is not a lifecycle status", truncated(d.Status, 40)))
	}
	dec, err := s.reg.Evaluate(r.Context(), api.EvaluationRequest{Model: json.RawMessage(d.Document), Action: d.Action,
		Role: api.Role(d.Role), Status: api.Status(d.Status)}, v.caller())
	if err != nil {
		if errs.KindOf(err) == errs.Other || errs.KindOf(err) == errs.Unavailable {
			return err
		}
		return fail(err)
	}
	d.Decision = dec
	for _, res := range dec.Results {
		rv := resultView{ID: res.ID, Section: res.Section, Outcome: string(res.Outcome), Message: res.Message}
		for k, val := range res.Values {
			text, err := json.Marshal(val)
			if err != nil {
				text = []byte(fmt.Sprint(val))
			}
			rv.Values = append(rv.Values, paramView{Name: k, Value: string(text)})
		}
		slices.SortFunc(rv.Values, func(a, b paramView) int { return strings.Compare(a.Name, b.Name) })
		d.Results = append(d.Results, rv)
	}
	// The document judged is valid, so it reads as YAML (JSON included).
	var doc struct {
		ModelID string   `json:"model_id"`
		Role    api.Role `json:"role"`
	}
	if yaml.Unmarshal([]byte(d.Document), &doc) == nil && doc.ModelID != "" {
		d.ModelID = doc.ModelID
		switch m, err := s.reg.GetModel(r.Context(), doc.ModelID); {
		case err == nil:
			d.Current = string(m.Role())
		case !errs.Is(err, errs.NotFound):
			return err
		}
	}
	requested := api.Role(d.Role)
	if requested == "" {
		requested = doc.Role // a 1.0 document's role
	}
	switch current := d.Current; {
	case current == "" && (!dec.Allowed || requested == ""):
		d.Outcome = string(api.RoleNone)
	case !dec.Allowed || requested == "":
		d.Outcome = current
	default:
		d.Outcome = string(requested)
	}
	s.render(w, r, http.StatusOK, "governance-dryrun.html", p)
	return nil
}
