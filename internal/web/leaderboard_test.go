package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/registry"
)

// boardSite is a site with a benchmarks catalogue and results:
//
//   - hellaswag version 1 (acc_norm, then acc; higher is better): gpt-5 0.91,
//     llama 0.85, acme/m-000 0.70 (and 0.60 before, superseded by time),
//     evil/script 0.50; and version 2, newer, where only acme/m-001 has a
//     result;
//   - wikitext version 2 (word_perplexity, lower is better): gpt-5 3.5,
//     llama 7.25;
//   - hivellm/governance-checks version 1, whose name holds a slash, with
//     no result.
//
// gpt-5 is active; llama is classified experimental.
func boardSite(t *testing.T, cfg siteConfig) *site {
	t.Helper()
	cfg.models = max(cfg.models, 2)
	s := newSite(t, cfg)
	ctx := context.Background()
	ptr := func(v float64) *float64 { return &v }
	unit := func(name string) api.BenchmarkMetric {
		return api.BenchmarkMetric{Name: name, Direction: api.HigherIsBetter, Min: ptr(0.0), Max: ptr(1.0)}
	}
	for _, b := range []api.Benchmark{
		{Name: "hellaswag", Version: "1", Task: "multiple_choice", Description: `<b>commonsense</b> "completion"`,
			Metrics: []api.BenchmarkMetric{unit("acc_norm"), unit("acc")}},
		{Name: "wikitext", Version: "2", Metrics: []api.BenchmarkMetric{{Name: "word_perplexity", Direction: api.LowerIsBetter, Min: ptr(0.0)}}},
		{Name: "hivellm/governance-checks", Version: "1", Metrics: []api.BenchmarkMetric{unit("score")}},
		{Name: "hellaswag", Version: "2", Metrics: []api.BenchmarkMetric{unit("acc_norm")}},
	} {
		if _, _, err := s.reg.CreateBenchmark(ctx, b, admin); err != nil {
			t.Fatalf("benchmark %s %s: %v", b.Name, b.Version, err)
		}
		time.Sleep(2 * time.Millisecond) // versions ordered by creation
	}
	day := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	result := func(model, bench, version, metric string, value float64, at time.Time) registry.EvaluationItem {
		return registry.EvaluationItem{ModelID: model, Request: api.ResultRequest{Benchmark: bench, BenchmarkVersion: version,
			EvaluatedAt: at, Harness: "lm-evaluation-harness",
			Values: []api.MetricValue{{Metric: metric, Value: value, Stderr: ptr(0.004)}}}}
	}
	items := []registry.EvaluationItem{
		result("openai/gpt-5", "hellaswag", "1", "acc_norm", 0.91, day),
		result("meta/llama-3-1-405b", "hellaswag", "1", "acc_norm", 0.85, day),
		result("acme/m-000", "hellaswag", "1", "acc_norm", 0.60, day),
		result("acme/m-000", "hellaswag", "1", "acc_norm", 0.70, day.Add(24*time.Hour)),
		result("evil/script", "hellaswag", "1", "acc_norm", 0.50, day),
		result("acme/m-001", "hellaswag", "2", "acc_norm", 0.40, day),
		result("openai/gpt-5", "wikitext", "2", "word_perplexity", 3.5, day),
		result("meta/llama-3-1-405b", "wikitext", "2", "word_perplexity", 7.25, day),
	}
	for i := 2; i < cfg.models; i++ {
		items = append(items, result(fmt.Sprintf("acme/m-%03d", i), "hellaswag", "1", "acc_norm", 0.001*float64(i), day))
	}
	if _, err := s.reg.RecordEvaluations(ctx, items, nil, admin); err != nil {
		t.Fatal(err)
	}
	governor := registry.WriteOptions{Caller: registry.Caller{Principal: "governor", Roles: []string{api.RoleGovernor}}}
	if _, err := s.reg.ChangeLifecycle(ctx, "openai/gpt-5", api.LifecycleChange{Status: api.StatusActive, Reason: "approved"}, governor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.reg.Classify(ctx, "meta/llama-3-1-405b", api.Classification{Role: api.RoleExperimental, Reason: "trial"}, governor); err != nil {
		t.Fatal(err)
	}
	return s
}

var rankedModel = regexp.MustCompile(`<td class="rank">(\d+)</td>\s*<td><a href="/models/([^"]+)">`)

// ranking returns the models of a leaderboard page as "rank model".
func ranking(body string) []string {
	var out []string
	for _, m := range rankedModel.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	return out
}

func TestLeaderboardsIndex(t *testing.T) {
	t.Run("empty catalogue", func(t *testing.T) {
		s := newSite(t, siteConfig{})
		res := s.signIn(t, "viewer").get("/leaderboards")
		if res.status != http.StatusOK || !strings.Contains(res.body, `id="no-benchmarks"`) || strings.Contains(res.body, "<table") {
			t.Errorf("an empty catalogue: %d, want the empty state\n%s", res.status, res.body)
		}
	})
	s := boardSite(t, siteConfig{})
	res := s.signIn(t, "viewer").get("/leaderboards")
	if res.status != http.StatusOK {
		t.Fatalf("status %d\n%s", res.status, res.body)
	}
	links := regexp.MustCompile(`<td><a href="(/leaderboards/[^"]+)">([^<]+)</a></td>`).FindAllStringSubmatch(res.body, -1)
	var got []string
	for _, l := range links {
		got = append(got, l[1]+" "+l[2])
	}
	want := []string{"/leaderboards/hellaswag hellaswag", "/leaderboards/hivellm/governance-checks hivellm/governance-checks",
		"/leaderboards/wikitext wikitext"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("benchmark links = %q, want %q", got, want)
	}
	for _, w := range []string{
		// Versions newest first, each a link.
		`<a href="/leaderboards/hellaswag?version=2" aria-label="hellaswag version 2">2</a>, <a href="/leaderboards/hellaswag?version=1"`,
		"word_perplexity (lower is better)",
		// The newest version's description, escaped.
	} {
		if !strings.Contains(res.body, w) {
			t.Errorf("the index lacks %q\n%s", w, res.body)
		}
	}
	if strings.Contains(res.body, "<b>commonsense</b>") {
		t.Errorf("a description was not escaped")
	}
}

func TestLeaderboardRanking(t *testing.T) {
	s := boardSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	cases := []struct {
		name, path string
		want       []string
		contains   []string
	}{
		{"higher is better, latest result of each model", "/leaderboards/hellaswag?version=1",
			[]string{"1 openai/gpt-5", "2 meta/llama-3-1-405b", "3 acme/m-000", "4 evil/script"},
			[]string{"acc_norm, higher is better", "0.91 ± 0.004", `<time datetime="2026-10-02T12:00:00Z">2026-10-02</time>`,
				`<option value="1" selected>1</option>`, `<label for="metric-choice">Metric</label>`}},
		{"lower is better", "/leaderboards/wikitext", []string{"1 openai/gpt-5", "2 meta/llama-3-1-405b"},
			[]string{"word_perplexity, lower is better", "7.25 ± 0.004"}},
		{"newest version by default", "/leaderboards/hellaswag", []string{"1 acme/m-001"},
			[]string{`<dd id="version">2</dd>`, `<option value="2" selected>2</option>`}},
		{"status filter", "/leaderboards/hellaswag?version=1&status=active", []string{"1 openai/gpt-5"},
			[]string{`<option value="active" selected>active</option>`}},
		{"role filter", "/leaderboards/hellaswag?version=1&role=experimental", []string{"1 meta/llama-3-1-405b"},
			[]string{`<option value="experimental" selected>experimental</option>`, ">experimental</td>"}},
		{"filters with no match", "/leaderboards/hellaswag?version=1&role=general", nil,
			[]string{`id="empty"`, "No model with these filters"}},
		{"another metric with no result", "/leaderboards/hellaswag?version=1&metric=acc", nil,
			[]string{`id="empty"`, "No model has a valid result on acc of hellaswag version 1 yet"}},
		{"a name with a slash, no result", "/leaderboards/hivellm/governance-checks", nil,
			[]string{"Leaderboard: hivellm/governance-checks", "No model has a valid result on score"}},
		{"an offset past the end", "/leaderboards/wikitext?offset=2", nil,
			[]string{"No more models past rank 2", `id="prev-page"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := b.get(tc.path)
			if res.status != http.StatusOK {
				t.Fatalf("status %d\n%s", res.status, res.body)
			}
			if got := ranking(res.body); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ranking = %q, want %q", got, tc.want)
			}
			for _, w := range tc.contains {
				if !strings.Contains(res.body, w) {
					t.Errorf("the page lacks %q\n%s", w, res.body)
				}
			}
		})
	}
	// One version only: no version choice to offer.
	if res := b.get("/leaderboards/wikitext"); strings.Contains(res.body, "version-choice") {
		t.Errorf("a benchmark with one version offers a version choice")
	}
}

func TestLeaderboardPages(t *testing.T) {
	// Proposed on hellaswag 1: llama, acme/m-000, evil/script, then
	// acme/m-059 down to acme/m-002: 61 models.
	s := boardSite(t, siteConfig{models: 60})
	b := s.signIn(t, "viewer")
	first := b.get("/leaderboards/hellaswag?version=1&status=proposed")
	got := ranking(first.body)
	if len(got) != 50 || got[0] != "1 meta/llama-3-1-405b" || got[49] != "50 acme/m-013" {
		t.Fatalf("first page: %d rows, %q ... %q", len(got), got[0], got[len(got)-1])
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if next == nil {
		t.Fatalf("the first page has no next page link")
	}
	link := strings.ReplaceAll(next[1], "&amp;", "&")
	u, _ := url.Parse(link)
	if u.Query().Get("status") != "proposed" || u.Query().Get("version") != "1" || u.Query().Get("offset") != "50" {
		t.Errorf("the next page link %q loses the filters", link)
	}
	second := ranking(b.get(link).body)
	if len(second) != 11 || second[0] != "51 acme/m-012" || second[10] != "61 acme/m-002" {
		t.Errorf("second page: %q", second)
	}
}

func TestLeaderboardBadParameters(t *testing.T) {
	s := boardSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	huge := strings.Repeat("x", 20_000)
	cases := []struct {
		name, path string
		status     int
		want       string
	}{
		{"unknown role", "/leaderboards/hellaswag?role=admin", http.StatusBadRequest, `role &#34;admin&#34; is not one of none, general`},
		{"unknown status", "/leaderboards/hellaswag?status=gone", http.StatusBadRequest, `status &#34;gone&#34; is not one of proposed`},
		{"negative offset", "/leaderboards/hellaswag?offset=-1", http.StatusBadRequest, "offset &#34;-1&#34; is not a whole number"},
		{"offset not a number", "/leaderboards/hellaswag?offset=ten", http.StatusBadRequest, "is not a whole number"},
		{"offset too large", "/leaderboards/hellaswag?offset=99999999999999999999", http.StatusBadRequest, "between 0 and 1000000"},
		{"repeated parameter", "/leaderboards/hellaswag?role=none&role=general", http.StatusBadRequest, "given 2 times"},
		{"huge value", "/leaderboards/hellaswag?status=" + huge, http.StatusBadRequest, "xxx…"},
		{"unknown version", "/leaderboards/hellaswag?version=9", http.StatusNotFound, "has no version &#34;9&#34;; its versions: 2, 1"},
		{"unknown metric", "/leaderboards/hellaswag?version=1&metric=f1", http.StatusNotFound, "its metrics: acc_norm, acc"},
		{"metric of another version", "/leaderboards/hellaswag?metric=acc", http.StatusNotFound, "version 2 has no metric"},
		{"unknown benchmark", "/leaderboards/nope", http.StatusNotFound, "benchmark &#34;nope&#34; is not in the catalogue"},
		{"hostile name", "/leaderboards/%3Cscript%3E", http.StatusNotFound, "&lt;script&gt;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := b.get(tc.path)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, `role="alert"`) {
				t.Errorf("status %d, want %d with %q\n%s", res.status, tc.status, tc.want, res.body)
			}
			if strings.Contains(res.body, huge) || strings.Contains(res.body, "<script>") {
				t.Errorf("the error page quotes the hostile value back")
			}
		})
	}
	if res := b.get("/leaderboards/"); res.status != http.StatusMovedPermanently || res.header.Get("Location") != "/leaderboards" {
		t.Errorf("/leaderboards/: %d %q, want a redirect to /leaderboards", res.status, res.header.Get("Location"))
	}
}

func TestLeaderboardAccess(t *testing.T) {
	s := boardSite(t, siteConfig{})
	for _, path := range []string{"/leaderboards", "/leaderboards/hellaswag?version=1"} {
		// Without a session, and reads closed: sent to sign in.
		res := s.browser(t).get(path)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/signin?next="+url.QueryEscape(path) {
			t.Errorf("%s without a session: %d %q, want a redirect to sign in", path, res.status, res.header.Get("Location"))
		}
		if strings.Contains(res.body, "openai/gpt-5") {
			t.Errorf("%s without a session shows the ranking", path)
		}
		// Every role may read, as in the API.
		for _, user := range []string{"viewer", "bob", "governor", "admin"} {
			if res := s.signIn(t, user).get(path); res.status != http.StatusOK || !strings.Contains(res.body, "hellaswag") {
				t.Errorf("%s as %s: %d", path, user, res.status)
			}
		}
	}
	open := boardSite(t, siteConfig{anonymousRead: true})
	if res := open.browser(t).get("/leaderboards/hellaswag?version=1"); res.status != http.StatusOK || len(ranking(res.body)) != 4 {
		t.Errorf("an anonymous reader on an open registry: %d, %q", res.status, ranking(res.body))
	}
}
