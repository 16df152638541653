package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/benchdata"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
	"github.com/hivellm/modelgov/internal/store/storetest"
	"github.com/hivellm/modelgov/internal/web"
)

// catalogueModel returns the document of model i of a seeded catalogue:
// benchdata's model i, in the status benchdata.Lifecycle brings it to,
// last updated at a time that does not follow its index, and one in fifty
// out of compliance, one in three not checked yet, the others compliant.
func catalogueModel(i, n int) *api.Model {
	m := benchdata.Model(i, false, "the catalogue tests")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	created := base.Add(time.Duration(i) * time.Second)
	// A permutation of the indexes (7919 is prime), and a fraction of a
	// second that the stored text of a time trims when it is zero.
	updated := base.Add(time.Duration((i*7919)%n)*time.Minute + time.Duration(i%3)*time.Millisecond)
	status := api.StatusProposed
	if changes := benchdata.Lifecycle(i); len(changes) > 0 {
		status = changes[len(changes)-1].Status
	}
	m.Lifecycle = &api.Lifecycle{Status: status, Since: created, Reason: "seeded"}
	m.Governance = &api.Governance{Role: api.RoleNone}
	switch {
	case i%50 == 7:
		deadline := updated.Add(72 * time.Hour)
		m.Governance.Compliance = &api.Compliance{Status: api.NonCompliant, Since: updated, Deadline: &deadline, PolicyVersion: 1,
			Failing: []api.RuleResult{{ID: "general-size-class", Section: "classification.general", Outcome: api.RuleFailed}}}
	case i%3 != 0:
		m.Governance.Compliance = &api.Compliance{Status: api.Compliant, Since: updated, PolicyVersion: 1}
	}
	m.ResourceVersion, m.CreatedAt, m.UpdatedAt = "1", &created, &updated
	return m
}

// openCatalogue seeds a new SQLite registry with n models of
// catalogueModel, stored straight through the store in transactions of a
// thousand (as the registry's benchmarks seed: the pages are measured, not
// the write path), reopens it as a restarted server would, and returns
// the web interface's handler over it, open to anonymous readers (who
// read as viewers), with the registry.
func openCatalogue(tb testing.TB, n int) (http.Handler, *registry.Service) {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "modelgov.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	for start := 0; start < n; start += 1000 {
		err := st.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				if err := tx.PutModel(ctx, catalogueModel(i, n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
	if st, err = sqlite.Open(ctx, path, sqlite.Options{}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	v, err := schema.New()
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	reg, err := registry.New(registry.Config{Store: st, Schema: v, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := web.New(web.Config{Registry: reg, Logger: logger, AnonymousRead: true})
	if err != nil {
		tb.Fatal(err)
	}
	return h, reg
}

var (
	catalogueRow  = regexp.MustCompile(`<td><a href="/models/[^"]+">([^<]+)</a></td>`)
	catalogueNext = regexp.MustCompile(`<a href="([^"]+)" rel="next" id="next-page">`)
)

// catalogueWalk follows a catalogue's Next links from path and returns
// every model id it lists, in order, with every page's body.
func catalogueWalk(t *testing.T, srv *httptest.Server, path string) (ids, pages []string) {
	t.Helper()
	for range 100 {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, body)
		}
		pages = append(pages, body)
		for _, m := range catalogueRow.FindAllStringSubmatch(body, -1) {
			ids = append(ids, html.UnescapeString(m[1]))
		}
		next := catalogueNext.FindStringSubmatch(body)
		if next == nil {
			return ids, pages
		}
		path = html.UnescapeString(next[1])
	}
	t.Fatalf("%s: the pages do not end", path)
	return nil, nil
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCatalogueSortAndCompliance walks the catalogue page by page under
// each sort, with and without filters, and compares the models it lists
// with the same order computed from the seeded documents; and checks that
// the filters and the sort survive the Next link, that the form and the
// headers show the sort, and that each row shows its compliance.
func TestCatalogueSortAndCompliance(t *testing.T) {
	const n = 130
	h, _ := openCatalogue(t, n)
	srv := httptest.NewServer(h)
	defer srv.Close()
	var all []*api.Model
	for i := range n {
		all = append(all, catalogueModel(i, n))
	}
	outOf := func(m *api.Model) bool {
		return m.Governance.Compliance != nil && m.Governance.Compliance.Status == api.NonCompliant
	}
	want := func(sort store.ModelSort, keep func(*api.Model) bool) []string {
		return storetest.SortedIDs(all, sort, keep)
	}
	byID, byName, byUpdate := store.SortModelID, store.SortDisplayName, store.SortUpdated
	every := func(*api.Model) bool { return true }
	cases := []struct {
		query string
		want  []string
	}{
		{"size=25", want(byID, every)},
		{"sort=provider&size=25", want(byID, every)},
		{"sort=display_name&size=25", want(byName, every)},
		{"sort=updated_at&size=25", want(byUpdate, every)},
		{"sort=updated_at&compliance=non_compliant&size=25", want(byUpdate, outOf)},
		{"sort=display_name&compliance=compliant&status=active&size=25",
			want(byName, func(m *api.Model) bool { return !outOf(m) && m.Status() == api.StatusActive })},
		{"sort=updated_at&provider=openai&compliance=any&size=25", want(byUpdate, func(m *api.Model) bool { return m.Provider == "openai" })},
	}
	if slices.Equal(cases[2].want, cases[0].want) || slices.Equal(cases[3].want, cases[0].want) {
		t.Fatal("the seeded models' names or times of update follow their ids: the test would not tell the sorts apart")
	}
	for _, tc := range cases {
		got, pages := catalogueWalk(t, srv, "/?"+tc.query)
		if !slices.Equal(got, tc.want) {
			t.Errorf("/?%s lists\n%v\nwant\n%v", tc.query, got, tc.want)
		}
		q, _ := url.ParseQuery(tc.query)
		for i, p := range pages[:len(pages)-1] {
			next := html.UnescapeString(catalogueNext.FindStringSubmatch(p)[1])
			u, err := url.Parse(next)
			if err != nil {
				t.Fatal(err)
			}
			for k := range q {
				if q.Get(k) != "any" && u.Query().Get(k) != q.Get(k) {
					t.Errorf("/?%s page %d: the Next link %s loses %s=%s", tc.query, i+1, next, k, q.Get(k))
				}
			}
		}
	}

	res, err := http.Get(srv.URL + "/?sort=display_name&compliance=non_compliant&provider=openai")
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, res)
	for _, w := range []string{
		`<option value="display_name" selected>Name</option>`,
		`<option value="non_compliant" selected>out of compliance</option>`,
		`<th scope="col" aria-sort="ascending"><a href="/?compliance=non_compliant&amp;provider=openai&amp;size=50&amp;sort=display_name">Name</a>`,
		`<a href="/?compliance=non_compliant&amp;provider=openai&amp;size=50&amp;sort=updated_at">Last update</a>`,
		`<a href="/?compliance=non_compliant&amp;provider=openai&amp;size=50">Model</a>`,
		`sorted by Name</caption>`,
		`<span class="compliance compliance-out">out of compliance</span>`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the sorted, filtered page has no %s:\n%s", w, page)
		}
	}
	if strings.Contains(page, "compliance-in") || strings.Contains(page, "not checked") {
		t.Errorf("the out-of-compliance page shows a model in compliance:\n%s", page)
	}
	res, err = http.Get(srv.URL + "/?size=200")
	if err != nil {
		t.Fatal(err)
	}
	page = readAll(t, res)
	for _, w := range []string{`<th scope="col" aria-sort="ascending"><a href="/?size=200">Model</a>`, `sorted by Model id</caption>`,
		`<span class="compliance compliance-in">compliant</span>`, `<span class="compliance-none">not checked</span>`,
		`<span class="compliance compliance-out">out of compliance</span><br><span class="compliance-deadline">role lowered 20`,
		`<td class="updated">2026-`} {
		if !strings.Contains(page, w) {
			t.Errorf("the first page has no %s", w)
		}
	}
}

// TestCatalogueBadInput sends the catalogue malformed and hostile query
// strings: each is a 400 page that says what is wrong, never a 500, and
// shows the hostile text escaped.
func TestCatalogueBadInput(t *testing.T) {
	h, _ := openCatalogue(t, 60)
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(query string) (int, string) {
		res, err := http.Get(srv.URL + "/?" + query)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, readAll(t, res)
	}
	first := func(query string) string {
		_, body := get(query)
		m := catalogueNext.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("/?%s has no next page", query)
		}
		u, _ := url.Parse(html.UnescapeString(m[1]))
		return url.QueryEscape(u.Query().Get("page"))
	}
	nameToken, idToken := first("sort=display_name&size=25"), first("size=25")
	for _, tc := range []struct{ query, says string }{
		{"sort=size", "sort &#34;size&#34; is not one of model_id, provider, display_name, updated_at"},
		{"sort=%3Cscript%3Ealert(1)%3C/script%3E", "sort &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34; is not one of"},
		{"compliance=maybe", "compliance &#34;maybe&#34; is not one of any, compliant, non_compliant"},
		{"sort=updated_at&page=" + nameToken, "page_token was made for sort display_name, not updated_at"},
		{"sort=display_name&page=" + idToken, "page_token was made for sort model_id, not display_name"},
		{"sort=display_name&page=v2.bm9wZQ", "page_token is not valid"},
		{"page=" + strings.Repeat("A", 20000), "page_token is not valid"},
		{"q=" + strings.Repeat("x", 5000), "q is longer than 256 characters"},
		{"status=bogus&sort=updated_at", "status &#34;bogus&#34; is not one of"},
	} {
		code, body := get(tc.query)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.says) {
			t.Errorf("/?%.80s: %d, want 400 saying %s\n%.2000s", tc.query, code, tc.says, body)
		}
		if strings.Contains(body, "<script>alert") {
			t.Errorf("/?%.80s: the page shows the query unescaped", tc.query)
		}
	}
}

// TestCatalogueReaders checks who may read the sorted catalogue: any
// signed-in role, a viewer included (GET /v1/models is open to every
// role), and nobody without a session when reads are not open.
func TestCatalogueReaders(t *testing.T) {
	s := newSite(t, siteConfig{})
	res := s.browser(t).get("/?sort=updated_at&compliance=compliant")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/signin?next=") {
		t.Errorf("no session: %d %s, want 303 to /signin", res.status, res.header.Get("Location"))
	}
	b := s.signIn(t, "viewer")
	res = b.get("/?sort=updated_at")
	if res.status != http.StatusOK || !strings.Contains(res.body, `<option value="updated_at" selected>`) {
		t.Fatalf("a viewer's sorted catalogue: %d\n%s", res.status, res.body)
	}
	// The newest model first: openai/gpt-5 was created after meta/llama-3-1-405b.
	ids := catalogueRow.FindAllStringSubmatch(res.body, -1)
	var got []string
	for _, m := range ids {
		got = append(got, m[1])
	}
	if want := []string{"evil/script", "openai/gpt-5", "meta/llama-3-1-405b"}; !slices.Equal(got, want) {
		t.Errorf("a viewer's catalogue by last update lists %v, want %v", got, want)
	}
	// Models not checked against a policy yet count as not out of compliance.
	if res := b.get("/?compliance=non_compliant"); !strings.Contains(res.body, "No model matches") {
		t.Errorf("no model is out of compliance, yet the filter lists some:\n%s", res.body)
	}
}
