package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/identity"
	"github.com/hivellm/modelgov/internal/registry"
)

// maintainer acts as a maintainer named name.
func maintainer(name string) registry.WriteOptions {
	return registry.WriteOptions{Caller: registry.Caller{Principal: name, Roles: []string{api.RoleMaintainer}}}
}

// record records a result of model id on benchmark (version 1, metric acc
// from 0 to 1, added to the catalogue when missing).
func (s *site) record(t *testing.T, id, benchmark string, at time.Time, acc float64) {
	t.Helper()
	ctx := context.Background()
	lo, hi := 0.0, 1.0
	if _, _, err := s.reg.CreateBenchmark(ctx, api.Benchmark{Name: benchmark, Version: "1",
		Metrics: []api.BenchmarkMetric{{Name: "acc", Direction: api.HigherIsBetter, Min: &lo, Max: &hi}}}, admin); err != nil {
		t.Fatalf("benchmark %s: %v", benchmark, err)
	}
	req := api.ResultRequest{Benchmark: benchmark, BenchmarkVersion: "1", EvaluatedAt: at, Values: []api.MetricValue{{Metric: "acc", Value: acc}}}
	if _, err := s.reg.RecordEvaluation(ctx, id, req, admin); err != nil {
		t.Fatalf("record %s on %s: %v", id, benchmark, err)
	}
}

func TestModelEvaluationChart(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	if res := b.get("/models/openai/gpt-5"); strings.Contains(res.body, "<svg class=\"chart\"") || !strings.Contains(res.body, "No evaluation recorded") {
		t.Errorf("a model without results has a chart:\n%s", res.body)
	}

	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.record(t, "openai/gpt-5", "hellaswag", base, 0.71)
	s.record(t, "openai/gpt-5", "mmlu", base.Add(24*time.Hour), 0.64)
	s.record(t, "openai/gpt-5", "hellaswag", base.Add(72*time.Hour), 0.83)
	s.record(t, "openai/gpt-5", "mmlu", base.Add(96*time.Hour), 0.69)
	res := b.get("/models/openai/gpt-5")
	if res.status != http.StatusOK {
		t.Fatalf("model page: %d\n%s", res.status, res.body)
	}
	svg := regexp.MustCompile(`(?s)<svg class="chart".*?</svg>`).FindString(res.body)
	if svg == "" {
		t.Fatalf("no chart on the page:\n%s", res.body)
	}
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Errorf("the chart has %d lines, want one per benchmark (2):\n%s", n, svg)
	}
	// hellaswag's line runs from its first result (left edge, 0.71) to its
	// last; mmlu's starts a day later.
	if !strings.Contains(svg, `points="72.0,84.4 483.0,56.1"`) || !strings.Contains(svg, `points="209.0,101.0 620.0,89.2"`) {
		t.Errorf("the lines are not where the results put them:\n%s", svg)
	}
	for _, want := range []string{`role="img"`, `aria-labelledby="chart-title chart-desc"`, `<title id="chart-title">Evaluation history of openai/gpt-5</title>`,
		"4 values of 2 lines, from 2026-03-01 to 2026-03-05"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
	// The legend names each line; the table holds every value, for those
	// who cannot see the chart.
	for _, want := range []string{"hellaswag 1 · acc <span class=\"help\">(scale 0 to 1 (the benchmark&#39;s bounds)", "mmlu 1 · acc",
		`<table id="chart-table">`, `<th scope="row">hellaswag 1 · acc</th><td>2026-03-01 12:00:00 UTC</td><td>0.71</td>`,
		`<th scope="row">mmlu 1 · acc</th><td>2026-03-05 12:00:00 UTC</td><td>0.69</td>`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// revise makes revisions 2 (approved) and 3 (renamed) of meta/llama-3-1-405b.
func (s *site) revise(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.reg.ChangeLifecycle(ctx, "meta/llama-3-1-405b", api.LifecycleChange{Status: api.StatusActive, Reason: "approved"}, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.reg.PatchModel(ctx, "meta/llama-3-1-405b", []byte(`{"display_name": "Llama 3.1 405B Instruct", "license": "llama3.1"}`), admin); err != nil {
		t.Fatal(err)
	}
}

func TestRevisionDiff(t *testing.T) {
	s := newSite(t, siteConfig{})
	s.revise(t)
	b := s.signIn(t, "viewer")

	page := b.get("/models/meta/llama-3-1-405b")
	for _, want := range []string{`<form method="get" action="/models/meta/llama-3-1-405b/diff"`, `<label for="diff-from">`,
		`<option value="2" selected>2</option>`, `href="/models/meta/llama-3-1-405b/diff?from=2&amp;to=3"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the model page lacks %q", want)
		}
	}
	// The timeline shows each status the model went through.
	if !regexp.MustCompile(`(?s)<ol class="timeline" id="timeline">.*proposed</span> at .* by root \(revision 1\).*active</span> at .* by root \(revision 2\): “approved”.*</ol>`).MatchString(page.body) {
		t.Errorf("the lifecycle timeline is wrong:\n%s", page.body)
	}

	res := b.get("/models/meta/llama-3-1-405b/diff?from=1&to=3")
	if res.status != http.StatusOK {
		t.Fatalf("diff: %d\n%s", res.status, res.body)
	}
	// change is a row of the diff; values are JSON, as the page escapes them.
	change := func(ptr, kind, old, new string) string {
		cell := func(class, v string) string {
			if v == "" {
				return "—"
			}
			return `<code class="` + class + `">` + strings.ReplaceAll(v, `"`, "&#34;") + `</code>`
		}
		return `<tr class="change-` + kind + `"><th scope="row"><code>` + ptr + `</code></th><td>` + kind + `</td><td>` +
			cell("old", old) + `</td><td>` + cell("new", new) + `</td></tr>`
	}
	for _, want := range []string{
		change("/display_name", "changed", `"Llama 3.1 405B"`, `"Llama 3.1 405B Instruct"`),
		change("/license", "added", "", `"llama3.1"`),
		change("/lifecycle/status", "changed", `"proposed"`, `"active"`),
		`<option value="1" selected>1</option>`, `<option value="3" selected>3</option>`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the diff lacks %s:\n%s", want, res.body)
		}
	}
	if strings.Contains(res.body, "/family") {
		t.Errorf("the diff shows an unchanged field")
	}
	// The other way round, an addition is a removal.
	if back := b.get("/models/meta/llama-3-1-405b/diff?from=3&to=1"); !strings.Contains(back.body, `<tr class="change-removed"><th scope="row"><code>/license</code>`) {
		t.Errorf("the reverse diff does not remove /license:\n%s", back.body)
	}
	if same := b.get("/models/meta/llama-3-1-405b/diff?from=2&to=2"); !strings.Contains(same.body, "the same document") {
		t.Errorf("a revision against itself:\n%s", same.body)
	}
	if latest := b.get("/models/meta/llama-3-1-405b/diff"); latest.status != http.StatusOK || !strings.Contains(latest.body, "from revision 2 to 3") {
		t.Errorf("the diff without revisions is not the latest change: %d\n%s", latest.status, latest.body)
	}

	bad := []struct {
		query  string
		status int
		want   string
	}{
		{"from=abc&to=3", http.StatusBadRequest, "from must be a revision number"},
		{"from=1&to=0", http.StatusBadRequest, "to must be a revision number"},
		{"from=1&to=-2", http.StatusBadRequest, "to must be a revision number"},
		{"from=1", http.StatusBadRequest, "to must be a revision number"},
		{"from=99999999999999999999999&to=1", http.StatusBadRequest, "from must be a revision number"},
		{"from=1&to=" + strings.Repeat("%3Cscript%3E", 1000), http.StatusBadRequest, "to must be a revision number"},
		{"from=1&to=9", http.StatusNotFound, "revision 9 of model meta/llama-3-1-405b not found"},
		{"from=1&to=2&page=3", http.StatusBadRequest, "not &#34;page&#34;"},
	}
	for _, tc := range bad {
		res := b.get("/models/meta/llama-3-1-405b/diff?" + tc.query)
		if res.status != tc.status || !strings.Contains(res.body, tc.want) {
			t.Errorf("diff?%.40s: %d, want %d with %q\n%s", tc.query, res.status, tc.status, tc.want, res.body)
		}
		if strings.Contains(res.body, "<script>") {
			t.Errorf("diff?%.40s: an unescaped script tag", tc.query)
		}
	}
	if res := b.get("/models/meta/nothing/diff?from=1&to=2"); res.status != http.StatusNotFound {
		t.Errorf("the diff of a missing model: %d, want 404", res.status)
	}
	// Without a session, the diff is for those who sign in, as every page.
	if res := s.browser(t).get("/models/meta/llama-3-1-405b/diff?from=1&to=3"); res.status != http.StatusSeeOther ||
		!strings.HasPrefix(res.header.Get("Location"), "/signin?next=") {
		t.Errorf("the diff without a session: %d %q, want a redirect to sign in", res.status, res.header.Get("Location"))
	}
}

// form returns the CSRF token of the form with id on page.
func formToken(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no form %s on the page:\n%s", id, page)
	}
	return csrf(t, page[i:])
}

func TestClassification(t *testing.T) {
	s := newSite(t, siteConfig{})
	ctx := context.Background()

	t.Run("a governor classifies", func(t *testing.T) {
		b := s.signIn(t, "governor")
		page := b.get("/models/openai/gpt-5")
		res := b.post("/models/openai/gpt-5/classification", url.Values{"csrf": {formToken(t, page.body, "classify-form")},
			"role": {"specialist"}, "reason": {"good at code"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/models/openai/gpt-5?changed=classification" {
			t.Fatalf("classify: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
		}
		after := b.get(res.header.Get("Location"))
		for _, want := range []string{"The classification was allowed by the policy", `<dd id="role">specialist</dd>`, "good at code"} {
			if !strings.Contains(after.body, want) {
				t.Errorf("the page after the classification lacks %q", want)
			}
		}
		if m, _ := s.reg.GetModel(ctx, "openai/gpt-5"); m.Role() != api.RoleSpecialist {
			t.Errorf("role = %s, want specialist", m.Role())
		}
		if !regexp.MustCompile(`<td>governor</td><td>model.classify</td>\s*<td><a href="/models/openai/gpt-5">openai/gpt-5</a></td><td>allowed</td>`).
			MatchString(b.get("/audit?model=openai%2Fgpt-5&action=model.classify").body) {
			t.Errorf("the audit log does not show the classification")
		}
	})

	t.Run("the policy refuses a general without identity", func(t *testing.T) {
		b := s.signIn(t, "governor")
		page := b.get("/models/meta/llama-3-1-405b")
		res := b.post("/models/meta/llama-3-1-405b/classification", url.Values{"csrf": {formToken(t, page.body, "classify-form")},
			"role": {"general"}, "reason": {"make it a general"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422\n%s", res.status, res.body)
		}
		for _, want := range []string{`role="alert"`, "failed these rules", "<code>general-verified-identity</code>",
			`value="make it a general"`, `<option value="general" selected>general</option>`} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the refusal lacks %q:\n%s", want, res.body)
			}
		}
		if m, _ := s.reg.GetModel(ctx, "meta/llama-3-1-405b"); m.Role() != api.RoleNone {
			t.Errorf("a refused classification gave the role %s", m.Role())
		}
		if !strings.Contains(b.get("/audit?outcome=denied&action=model.classify").body, "<td>governor</td><td>model.classify</td>") {
			t.Errorf("the refusal is not in the audit log")
		}
	})

	cases := []struct {
		name, user string
		form       url.Values
		status     int
		want       string
	}{
		{"a maintainer may not", "alice", url.Values{"role": {"specialist"}, "reason": {"mine"}}, http.StatusForbidden,
			"alice may not classify models: that needs one of the roles admin, governor, and it has maintainer"},
		{"a viewer may not", "viewer", url.Values{"role": {"specialist"}, "reason": {"x"}}, http.StatusForbidden, "viewer may not classify models"},
		{"no such role", "governor", url.Values{"role": {"emperor"}, "reason": {"x"}}, http.StatusUnprocessableEntity,
			"invalid classification request (role: must be one of none, general"},
		{"no reason", "governor", url.Values{"role": {"specialist"}, "reason": {"  "}}, http.StatusUnprocessableEntity, "reason: a reason of 1 to 1024 characters"},
		{"a huge reason", "governor", url.Values{"role": {"specialist"}, "reason": {strings.Repeat("<b>", 5000)}}, http.StatusUnprocessableEntity, "reason: a reason of 1 to 1024"},
		{"a body too large", "governor", url.Values{"role": {"specialist"}, "reason": {strings.Repeat("x", 70<<10)}}, http.StatusRequestEntityTooLarge, "larger than the 64 KiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := s.signIn(t, tc.user)
			page := b.get("/models/meta/llama-3-1-405b")
			if tc.user != "governor" && strings.Contains(page.body, "classify-form") {
				t.Errorf("%s is offered the classification form", tc.user)
			}
			tc.form.Set("csrf", csrf(t, page.body))
			res := b.post("/models/meta/llama-3-1-405b/classification", tc.form)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) {
				t.Errorf("status %d, want %d with %q\n%s", res.status, tc.status, tc.want, res.body)
			}
			if strings.Contains(res.body, "<b><b>") {
				t.Errorf("the page repeats the hostile reason unescaped")
			}
			if m, _ := s.reg.GetModel(ctx, "meta/llama-3-1-405b"); m.Role() != api.RoleNone {
				t.Errorf("a refused classification gave the role %s", m.Role())
			}
		})
	}
}

// prove registers a new key for model id on behalf of its owner and answers
// its challenge.
func (s *site) prove(t *testing.T, id, owner string) *identity.PrivateKey {
	t.Helper()
	ctx := context.Background()
	key, err := identity.GenerateKey(api.KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.reg.RegisterIdentity(ctx, id, api.IdentityRegistration{PublicKey: key.Public().Base64()}, maintainer(owner)); err != nil {
		t.Fatalf("register the identity of %s: %v", id, err)
	}
	ch, err := s.reg.Challenge(ctx, id, api.ChallengeRequest{}, maintainer(owner))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := key.Sign([]byte(ch.Nonce))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.reg.VerifyIdentity(ctx, id, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sig}, maintainer(owner)); err != nil {
		t.Fatalf("verify the identity of %s: %v", id, err)
	}
	return key
}

var endorsementMessage = regexp.MustCompile(`<code id="endorsement-message">([^<]+)</code>`)

func TestEndorsement(t *testing.T) {
	s := newSite(t, siteConfig{})
	ctx := context.Background()
	// alice owns every model: llama's verified key endorses gpt-5's.
	llama := s.prove(t, "meta/llama-3-1-405b", "alice")
	s.prove(t, "openai/gpt-5", "alice")
	signature := func(t *testing.T, page string) string {
		m := endorsementMessage.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the page does not say what to sign:\n%s", page)
		}
		sig, err := llama.Sign([]byte(html.UnescapeString(m[1])))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}

	t.Run("the identity section", func(t *testing.T) {
		page := s.signIn(t, "viewer").get("/models/openai/gpt-5")
		for _, want := range []string{`<dd id="identity-status">verified</dd>`, `id="no-endorsements"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the identity section lacks %q", want)
			}
		}
		if strings.Contains(page.body, "endorse-form") {
			t.Errorf("a viewer is offered the endorsement form")
		}
		if page := s.signIn(t, "alice").get("/models/evil/script"); strings.Contains(page.body, "endorse-form") {
			t.Errorf("the endorsement form is offered for a model without identity")
		}
	})

	t.Run("refused", func(t *testing.T) {
		cases := []struct {
			name, user string
			form       url.Values
			status     int
			want       []string
		}{
			{"by a viewer", "viewer", url.Values{"endorser": {"meta/llama-3-1-405b"}}, http.StatusForbidden,
				[]string{"viewer may not endorse models: that needs one of the roles admin, governor, maintainer"}},
			{"by a maintainer who does not own the endorser", "bob", url.Values{"endorser": {"meta/llama-3-1-405b"}}, http.StatusForbidden,
				[]string{"<code>registry-access</code>", "bob is not among the owners of the endorser meta/llama-3-1-405b"}},
			{"signed by another key", "alice", url.Values{"endorser": {"meta/llama-3-1-405b"}, "signature": {"AAAA"}}, http.StatusUnprocessableEntity,
				[]string{"the endorsement is not signed by meta/llama-3-1-405b", `value="meta/llama-3-1-405b"`}},
			{"by itself", "alice", url.Values{"endorser": {"openai/gpt-5"}}, http.StatusUnprocessableEntity, []string{"endorser: a model cannot endorse itself"}},
			{"by no model", "alice", url.Values{"endorser": {"<nobody>"}}, http.StatusUnprocessableEntity, []string{"no such model: &lt;nobody&gt;"}},
			{"without a signature", "alice", url.Values{"endorser": {"meta/llama-3-1-405b"}, "signature": {" "}}, http.StatusUnprocessableEntity,
				[]string{"send the endorser&#39;s model id and its signature"}},
			{"a huge signature", "alice", url.Values{"endorser": {"meta/llama-3-1-405b"}, "signature": {strings.Repeat("A", 40<<10)}}, http.StatusUnprocessableEntity,
				[]string{"too long"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				b := s.signIn(t, tc.user)
				page := b.get("/models/openai/gpt-5")
				tc.form.Set("csrf", csrf(t, page.body))
				if !tc.form.Has("signature") {
					tc.form.Set("signature", signature(t, s.signIn(t, "alice").get("/models/openai/gpt-5").body))
				}
				res := b.post("/models/openai/gpt-5/endorsements", tc.form)
				if res.status != tc.status {
					t.Errorf("status %d, want %d\n%s", res.status, tc.status, res.body)
				}
				for _, w := range tc.want {
					if !strings.Contains(res.body, w) {
						t.Errorf("the answer lacks %q:\n%s", w, res.body)
					}
				}
				if m, _ := s.reg.GetModel(ctx, "openai/gpt-5"); len(m.Identity.Endorsements) != 0 {
					t.Errorf("a refused endorsement was recorded: %+v", m.Identity.Endorsements)
				}
			})
		}
		if !strings.Contains(s.signIn(t, "admin").get("/audit?outcome=denied&actor=bob").body, "<td>bob</td><td>model.identity</td>") {
			t.Errorf("bob's refused endorsement is not in the audit log")
		}
	})

	t.Run("a model without identity", func(t *testing.T) {
		b := s.signIn(t, "alice")
		page := b.get("/models/evil/script")
		res := b.post("/models/evil/script/endorsements", url.Values{"csrf": {csrf(t, page.body)}, "endorser": {"meta/llama-3-1-405b"}, "signature": {"AAAA"}})
		if res.status != http.StatusConflict || !strings.Contains(res.body, "has no identity to endorse") {
			t.Errorf("status %d, want 409\n%s", res.status, res.body)
		}
	})

	t.Run("the endorser's owner endorses", func(t *testing.T) {
		b := s.signIn(t, "alice")
		page := b.get("/models/openai/gpt-5")
		res := b.post("/models/openai/gpt-5/endorsements", url.Values{"csrf": {formToken(t, page.body, "endorse-form")},
			"endorser": {"meta/llama-3-1-405b"}, "signature": {signature(t, page.body)}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/models/openai/gpt-5?changed=endorsement" {
			t.Fatalf("endorse: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
		}
		after := b.get(res.header.Get("Location"))
		if !regexp.MustCompile(`<table id="endorsements">(?s:.*)<td><a href="/models/meta/llama-3-1-405b">meta/llama-3-1-405b</a></td>.*<td>alice</td></tr>`).MatchString(after.body) ||
			!strings.Contains(after.body, "The endorsement was accepted") {
			t.Errorf("the page does not show the endorsement:\n%s", after.body)
		}
		audit := b.get("/audit?model=openai%2Fgpt-5&action=model.identity&outcome=allowed")
		if !regexp.MustCompile(`<td>alice</td><td>model.identity</td>\s*<td><a href="/models/openai/gpt-5">openai/gpt-5</a></td><td>allowed</td>\s*<td>endorsed by meta/llama-3-1-405b`).MatchString(audit.body) {
			t.Errorf("the audit log does not show the endorsement:\n%s", audit.body)
		}
	})
}
