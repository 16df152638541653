package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/internal/policy"
)

// licensedBundle is the default bundle changed the way a governor would:
// every model must declare a licence (a new validation rule), the
// general-size-class rule says more, and generals need more endorsements.
func licensedBundle(t *testing.T) []byte {
	t.Helper()
	var b map[string]any
	if err := yaml.Unmarshal(policy.Default(), &b); err != nil {
		t.Fatal(err)
	}
	b["name"] = "hivellm-licensed"
	b["params"].(map[string]any)["general_min_endorsements"] = 3
	b["validation"] = append(b["validation"].([]any), map[string]any{"id": "has-license",
		"expression": "model.license != ''", "message": "every model must declare its licence"})
	for _, r := range b["classification"].(map[string]any)["general"].([]any) {
		if r := r.(map[string]any); r["id"] == "general-size-class" {
			r["message"] = "a general must be large, xl or xxl: see proposal 035"
		}
	}
	doc, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// uploadLicensed stores licensedBundle as version 2, not active.
func (s *site) uploadLicensed(t *testing.T) {
	t.Helper()
	p, err := s.reg.UploadPolicy(context.Background(), licensedBundle(t), admin)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 {
		t.Fatalf("uploaded version %d, want 2", p.Version)
	}
}

// wantIn reports every string of want that body lacks.
func wantIn(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// TestGovernancePage: the page shows the active version, its rules and
// parameters, the versions and the compliance report; no activation for a viewer.
func TestGovernancePage(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	res := b.get("/governance")
	if res.status != http.StatusOK {
		t.Fatalf("GET /governance: %d\n%s", res.status, res.body)
	}
	wantIn(t, "the governance page", res.body,
		`<dd id="policy-version">1</dd>`, "hivellm-default", "activated by system",
		// Rules, with section, expression and message.
		`<tr id="rule-general-size-class">`, "classification.general",
		"model.size_class in params.general_size_classes", "a general must be of size class large, xl or xxl (proposal 035)",
		`<tr id="rule-lifecycle-approval">`, "Applies from proposed to active; only governor, admin",
		`<tr id="rule-classify-by-governor">`, "Applies actions model.classify; only governor, admin",
		// Parameters, as JSON.
		`<code>general_size_classes</code></th><td><code class="gov-value">[&#34;large&#34;,&#34;xl&#34;,&#34;xxl&#34;]</code>`,
		// Versions and the compliance report.
		`<a href="/governance/policies/1">1</a>`, "Every model complies.")
	if strings.Contains(res.body, "activate-dry-run") {
		t.Errorf("the governance page offers a viewer the activation")
	}
}

// TestGovernanceDiff: the diff of two versions shows the rule added, the
// rule and the parameter changed, and the line diff of the bundle source.
func TestGovernanceDiff(t *testing.T) {
	s := newSite(t, siteConfig{})
	s.uploadLicensed(t)
	b := s.signIn(t, "viewer")
	if res := b.get("/governance"); !strings.Contains(res.body, `<option value="1" selected>1 · hivellm-default</option>`) ||
		!strings.Contains(res.body, `<option value="2" selected>2 · hivellm-licensed</option>`) {
		t.Errorf("the governance page does not offer to compare versions 1 and 2:\n%s", res.body)
	}
	res := b.get("/governance/diff?from=1&to=2")
	if res.status != http.StatusOK {
		t.Fatalf("GET diff: %d\n%s", res.status, res.body)
	}
	added := regexp.MustCompile(`(?s)<ul id="rules-added".*?</ul>`).FindString(res.body)
	wantIn(t, "the added rules", added, "<code>has-license</code> (validation)", "model.license != &#39;&#39;", "every model must declare its licence")
	changed := regexp.MustCompile(`(?s)<table id="rules-changed">.*?</table>`).FindString(res.body)
	wantIn(t, "the changed rules", changed, `<th scope="row"><code>general-size-class</code></th><td>message</td>`,
		`<td class="gov-before">a general must be of size class large, xl or xxl (proposal 035)</td>`,
		`<td class="gov-after">a general must be large, xl or xxl: see proposal 035</td>`)
	if strings.Contains(changed, "general-parameters") || strings.Contains(res.body, `id="rules-removed"`) {
		t.Errorf("an unchanged rule is shown as changed or removed:\n%s", changed)
	}
	params := regexp.MustCompile(`(?s)<table id="params-changed">.*?</table>`).FindString(res.body)
	wantIn(t, "the changed parameters", params, "<code>general_min_endorsements</code></th><td>changed</td>",
		`<td class="gov-before"><code>2</code></td><td class="gov-after"><code>3</code></td>`)
	if strings.Count(params, "<tr>") != 2 { // the header and the one change
		t.Errorf("parameters that did not change are listed:\n%s", params)
	}
	source := regexp.MustCompile(`(?s)<table id="source-diff".*?</table>`).FindString(res.body)
	wantIn(t, "the source diff", source, `<tr class="gov-del">`, `<code>name: hivellm-default</code>`,
		`<tr class="gov-ins">`, `<code>name: hivellm-licensed</code>`, `<code>  general_min_endorsements: 3</code>`, `<tr class="gov-gap">`)

	// Only the changed lines are marked, with unchanged lines around them.
	if !regexp.MustCompile(`<tr class="gov-del"><td>75</td><td></td><td>−</td><td><code>name: hivellm-default</code></td></tr>\s*` +
		`<tr class="gov-ins"><td></td><td>75</td><td>\+</td><td><code>name: hivellm-licensed</code></td></tr>\s*` +
		`<tr class="gov-same"><td>76</td><td>76</td><td></td><td><code>params:</code></td></tr>`).MatchString(source) {
		t.Errorf("the source diff does not mark the renamed bundle alone:\n%s", source)
	}
	if n := strings.Count(source, `<tr class="gov-del">`) + strings.Count(source, `<tr class="gov-ins">`); n != 9 {
		t.Errorf("the source diff marks %d lines, want 9 (3 removed, 6 added)", n)
	}

	same := b.get("/governance/diff?from=2&to=2")
	wantIn(t, "a version compared with itself", same.body, "Versions 2 and 2 hold the same bundle.")
}

// TestGovernanceCompliance: a governor activates a version, impact first;
// the report then lists each model out of compliance, why, since when and
// until when. A viewer may do neither.
func TestGovernanceCompliance(t *testing.T) {
	s := newSite(t, siteConfig{})
	s.uploadLicensed(t)
	ctx := context.Background()

	// A viewer sees version 2 but may not activate it.
	viewer := s.signIn(t, "viewer")
	res := viewer.get("/governance/policies/2")
	if res.status != http.StatusOK || strings.Contains(res.body, "activate-dry-run") || !strings.Contains(res.body, "Only governors and admins may activate") {
		t.Errorf("a viewer's version page: %d\n%s", res.status, res.body)
	}
	for _, dry := range []string{"true", ""} {
		res = viewer.post("/governance/policies/2/activate", url.Values{"csrf": {csrf(t, res.body)}, "dry_run": {dry}})
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "viewer may not activate policy versions") {
			t.Errorf("a viewer's activation (dry run %q): %d\n%s", dry, res.status, res.body)
		}
	}

	// A governor sees the impact first, then activates.
	gov := s.signIn(t, "governor")
	res = gov.get("/governance/policies/2")
	wantIn(t, "the governor's version page", res.body, `id="activate-dry-run-form"`, "Activate this version (dry run first)",
		`<a href="/governance/diff?from=1&amp;to=2" id="diff-active">`)
	res = gov.post("/governance/policies/2/activate", url.Values{"csrf": {csrf(t, res.body)}, "dry_run": {"true"}})
	if res.status != http.StatusOK {
		t.Fatalf("dry run of the activation: %d\n%s", res.status, res.body)
	}
	impact := regexp.MustCompile(`(?s)<div id="impact">.*?</div>\s*</div>`).FindString(res.body)
	wantIn(t, "the activation's impact", impact, `<a href="/models/openai/gpt-5">openai/gpt-5</a>`, "<code>has-license</code> (validation): every model must declare its licence")
	wantIn(t, "the page after the dry run", res.body, "Dry run: nothing was written", `id="activate-form"`)
	if p, _ := s.reg.ActivePolicy(ctx); p.Version != 1 {
		t.Fatalf("the dry run activated version %d", p.Version)
	}
	res = gov.post("/governance/policies/2/activate", url.Values{"csrf": {csrf(t, res.body)}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/governance?activated=2" {
		t.Fatalf("activation: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	if p, _ := s.reg.ActivePolicy(ctx); p.Version != 2 || p.ActivatedBy != "governor" {
		t.Fatalf("active policy after the activation: %d by %s", p.Version, p.ActivatedBy)
	}

	// Every reader sees who is out of compliance, why, since when and until when.
	m, err := s.reg.GetModel(ctx, "openai/gpt-5")
	if err != nil {
		t.Fatal(err)
	}
	c := m.Governance.Compliance
	if c == nil || c.Deadline == nil {
		t.Fatalf("openai/gpt-5 has no compliance deadline: %+v", m.Governance)
	}
	res = gov.get("/governance?activated=2")
	wantIn(t, "the page the activation leads to", res.body, "Policy version 2 was activated")
	if res := gov.get("/governance?activated=1"); strings.Contains(res.body, "was activated;") {
		t.Errorf("the page says version 1 was activated, which is not the active one")
	}
	res = viewer.get("/governance")
	wantIn(t, "the governance page after the activation", res.body, `<dd id="policy-version">2</dd>`, "activated by governor")
	report := regexp.MustCompile(`(?s)<table id="compliance">.*?</table>`).FindString(res.body)
	row := regexp.MustCompile(`(?s)<tr><td><a href="/models/openai/gpt-5">openai/gpt-5</a></td>.*?</tr>`).FindString(report)
	wantIn(t, "openai/gpt-5's row of the compliance report", row, "<code>has-license</code> (validation): every model must declare its licence",
		"<td>"+c.Since.UTC().Format("2006-01-02 15:04:05 UTC")+"</td>", "<td>"+c.Deadline.UTC().Format("2006-01-02 15:04:05 UTC")+"</td>")

	// The report is paged.
	res = viewer.get("/governance?size=25")
	if !strings.Contains(res.body, "Last page") || strings.Count(res.body, `<a href="/models/`) != 3 {
		t.Errorf("the compliance report of 3 models in a page of 25:\n%s", res.body)
	}
}

// TestGovernancePaging: the compliance report is paged with a cursor.
func TestGovernancePaging(t *testing.T) {
	s := newSite(t, siteConfig{models: 30})
	s.uploadLicensed(t)
	if _, err := s.reg.ActivatePolicy(context.Background(), 2, false, admin); err != nil {
		t.Fatal(err)
	}
	b := s.signIn(t, "viewer")
	res := b.get("/governance?size=25")
	next := regexp.MustCompile(`href="([^"]+)" rel="next" id="compliance-next"`).FindStringSubmatch(res.body)
	if next == nil || strings.Count(res.body, `<tr><td><a href="/models/`) != 25 {
		t.Fatalf("first page of the compliance report: no next link or not 25 rows\n%s", res.body)
	}
	res = b.get(html.UnescapeString(next[1]))
	if res.status != http.StatusOK || strings.Count(res.body, `<tr><td><a href="/models/`) != 8 || !strings.Contains(res.body, "Last page") {
		t.Errorf("second page of the compliance report: %d\n%s", res.status, res.body)
	}
}

// dryRun posts the dry-run form with the CSRF token of the form's page.
func (b *browser) dryRun(form url.Values) response {
	b.t.Helper()
	page := b.get("/governance/dry-run")
	form.Set("csrf", csrf(b.t, page.body))
	return b.post("/governance/dry-run", form)
}

const smallModel = `{"schema_version": "1.1", "model_id": "acme/tiny-1b", "provider": "acme", "display_name": "Tiny", "size_class": "small", "owners": ["alice"]}`

// TestGovernanceDryRun: the dry run explains the decision rule by rule,
// writes nothing and keeps the form as sent.
func TestGovernanceDryRun(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "governor")

	res := b.dryRun(url.Values{"document": {smallModel}, "action": {"model.classify"}, "role": {"general"}})
	if res.status != http.StatusOK {
		t.Fatalf("dry run: %d\n%s", res.status, res.body)
	}
	wantIn(t, "the refused dry run", res.body, "<strong>Refused</strong>", "model.classify of <code>acme/tiny-1b</code> under policy version 1",
		`would keep the role <strong id="outcome-role">none</strong> (it is not registered)`,
		`<tr class="gov-failed"><th scope="row"><code>general-size-class</code></th><td>classification.general</td><td><span class="gov-outcome">failed</span></td><td>a general must be of size class large, xl or xxl (proposal 035)</td>`,
		`<code>model.size_class = &#34;small&#34;</code>`,
		`<code>classify-by-governor</code></th><td>permissions</td><td><span class="gov-outcome">passed</span>`,
		// The form keeps what was sent.
		html.EscapeString(smallModel), `<option selected>general</option>`)
	if _, err := s.reg.GetModel(context.Background(), "acme/tiny-1b"); err == nil {
		t.Errorf("the dry run registered the model")
	}

	// YAML, as the API accepts it; a registered model keeps its role.
	res = b.dryRun(url.Values{"document": {"schema_version: '1.1'\nmodel_id: openai/gpt-5\nprovider: openai\ndisplay_name: GPT-5\nsize_class: large\nowners: [alice]\n"},
		"action": {"model.update"}})
	wantIn(t, "the allowed dry run", res.body, "<strong>Allowed</strong>", `would hold the role <strong id="outcome-role">none</strong>`)

	// A viewer may ask too; the decision is taken as the viewer.
	res = s.signIn(t, "viewer").dryRun(url.Values{"document": {smallModel}, "action": {"model.classify"}, "role": {"experimental"}})
	wantIn(t, "a viewer's dry run", res.body, "<strong>Refused</strong>",
		`<code>classify-by-governor</code></th><td>permissions</td><td><span class="gov-outcome">failed</span></td><td>only a governor or an admin may classify a model</td>`)
}

// TestGovernanceBadInput: bad documents, form values and query parameters
// get a 4xx page that says what is wrong, never a 500.
func TestGovernanceBadInput(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "governor")
	cases := []struct {
		name   string
		form   url.Values
		status int
		want   []string
	}{
		{"malformed document", url.Values{"document": {`{"model_id": "acme/x",`}, "action": {"model.create"}}, http.StatusBadRequest,
			[]string{`role="alert"`, "Refused:", "JSON", html.EscapeString(`{"model_id": "acme/x",`) + "</textarea>"}},
		{"invalid document", url.Values{"document": {`{"schema_version": "1.1", "provider": "acme", "size_class": "enormous"}`}, "action": {"model.create"}},
			http.StatusUnprocessableEntity, []string{`role="alert"`, `<ul id="fields">`, "<code>/size_class</code>"}},
		{"empty document", url.Values{"document": {"  "}, "action": {"model.create"}}, http.StatusBadRequest,
			[]string{"paste a model document (JSON or YAML) to judge"}},
		{"unknown action", url.Values{"document": {smallModel}, "action": {"model.explode"}}, http.StatusBadRequest,
			[]string{"action &#34;model.explode&#34; is not one of"}},
		{"unknown role", url.Values{"document": {smallModel}, "action": {"model.classify"}, "role": {"<b>king</b>"}}, http.StatusBadRequest,
			[]string{"role &#34;&lt;b&gt;king&lt;/b&gt;&#34; is not a model role"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := b.dryRun(tc.form)
			if res.status != tc.status {
				t.Errorf("status %d, want %d\n%s", res.status, tc.status, res.body)
			}
			wantIn(t, "the answer", res.body, tc.want...)
		})
	}

	t.Run("huge form", func(t *testing.T) {
		res := b.dryRun(url.Values{"document": {strings.Repeat("x", 70<<10)}, "action": {"model.create"}})
		if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "the form is over 64 KiB") {
			t.Errorf("huge form: %d\n%s", res.status, res.body)
		}
	})

	for path, status := range map[string]int{
		"/governance/diff?from=abc&to=1":     http.StatusBadRequest,
		"/governance/diff?from=1":            http.StatusBadRequest,
		"/governance/diff?from=1&to=-3":      http.StatusBadRequest,
		"/governance/diff?from=1&to=99":      http.StatusNotFound,
		"/governance/policies/0":             http.StatusBadRequest,
		"/governance/policies/99999999999":   http.StatusNotFound,
		"/governance/policies/1%3Cscript%3E": http.StatusBadRequest,
		"/governance?size=7":                 http.StatusBadRequest,
		"/governance?page=%25%25%25":         http.StatusBadRequest,
	} {
		res := b.get(path)
		if res.status != status || !strings.Contains(res.body, `role="alert"`) || strings.Contains(res.body, "<script>") {
			t.Errorf("GET %s: %d, want %d with an explanation\n%s", path, res.status, status, res.body)
		}
	}
}

// TestGovernanceAccess: the pages need a reader; the dry run checks a
// session's CSRF token; only governors and admins activate.
func TestGovernanceAccess(t *testing.T) {
	s := newSite(t, siteConfig{})
	anonymous := s.browser(t)
	for _, path := range []string{"/governance", "/governance/diff?from=1&to=1", "/governance/policies/1", "/governance/dry-run"} {
		res := anonymous.get(path)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/signin?next=") {
			t.Errorf("GET %s without a session: %d %q, want 303 to /signin", path, res.status, res.header.Get("Location"))
		}
	}
	res := anonymous.post("/governance/dry-run", url.Values{"document": {smallModel}, "action": {"model.create"}})
	if res.status != http.StatusSeeOther {
		t.Errorf("POST dry run without a session: %d, want 303 to /signin", res.status)
	}

	// A signed-in viewer's dry run needs the session's CSRF token.
	viewer := s.signIn(t, "viewer")
	res = viewer.post("/governance/dry-run", url.Values{"document": {smallModel}, "action": {"model.create"}, "csrf": {"AAAA"}})
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "CSRF token") {
		t.Errorf("dry run with a wrong CSRF token: %d\n%s", res.status, res.body)
	}
	// A maintainer may not activate either.
	alice := s.signIn(t, "alice")
	s.uploadLicensed(t)
	page := alice.get("/governance/policies/2")
	if strings.Contains(page.body, "activate-dry-run") {
		t.Errorf("a maintainer is offered the activation")
	}
	if res := alice.post("/governance/policies/2/activate", url.Values{"csrf": {csrf(t, page.body)}}); res.status != http.StatusForbidden {
		t.Errorf("a maintainer's activation: %d, want 403", res.status)
	}
	if p, _ := s.reg.ActivePolicy(context.Background()); p.Version != 1 {
		t.Errorf("a refused activation activated version %d", p.Version)
	}

	// Open reads: anonymous readers see the page and may ask for a dry run,
	// as the API's readers may, but not activate.
	open := newSite(t, siteConfig{anonymousRead: true})
	b := open.browser(t)
	res = b.get("/governance")
	if res.status != http.StatusOK || !strings.Contains(res.body, "Reading anonymously") || !strings.Contains(res.body, `<dd id="policy-version">1</dd>`) {
		t.Errorf("anonymous read of /governance: %d\n%s", res.status, res.body)
	}
	res = b.post("/governance/dry-run", url.Values{"document": {smallModel}, "action": {"model.classify"}, "role": {"general"}})
	if res.status != http.StatusOK || !strings.Contains(res.body, "<strong>Refused</strong>") || strings.Contains(res.body, `name="csrf"`) {
		t.Errorf("anonymous dry run: %d\n%s", res.status, res.body)
	}
	if res := b.post("/governance/policies/1/activate", url.Values{"dry_run": {"true"}}); res.status != http.StatusForbidden {
		t.Errorf("anonymous activation: %d, want 403", res.status)
	}
}
