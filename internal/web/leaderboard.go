package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

// leaderboardSize is how many models one page of a leaderboard ranks.
const leaderboardSize = 50

// maxLeaderboardOffset is the largest offset the registry accepts.
const maxLeaderboardOffset = 1_000_000

// benchmarkGroup is a benchmark of the catalogue with all its versions,
// newest first.
type benchmarkGroup struct {
	Name     string
	Versions []*api.Benchmark
}

// Newest is the version a leaderboard shows by default.
func (g benchmarkGroup) Newest() *api.Benchmark { return g.Versions[0] }

// Path is the page of the benchmark's leaderboard, on its newest version.
func (g benchmarkGroup) Path() string { return leaderboardPath(g.Name, nil) }

// VersionPath is the page of the leaderboard of one of its versions.
func (g benchmarkGroup) VersionPath(version string) string {
	return leaderboardPath(g.Name, url.Values{"version": {version}})
}

// leaderboardsData is the leaderboards index's.
type leaderboardsData struct {
	Benchmarks []benchmarkGroup
}

// leaderboardQuery is a leaderboard's filters, as their query parameters.
type leaderboardQuery struct {
	Version, Metric, Role, Status string
	Offset                        int
}

// leaderboardData is a leaderboard page's.
type leaderboardData struct {
	Benchmark *api.Benchmark
	// Path is the leaderboard's page, where its filters form goes.
	Path string
	// Versions are the benchmark's versions, newest first; the page offers
	// the choice when there are several.
	Versions []*api.Benchmark
	Query    leaderboardQuery
	Board    *api.Leaderboard
	Rows     []leaderboardRow
	// First and Last are the ranks on the page.
	First, Last int
	Roles       []api.Role
	Statuses    []api.Status
	// Filtered says whether a role or status filter is set, for the empty
	// state's wording.
	Filtered bool
	// Prev and Next link to the neighbouring pages, "" at either end.
	Prev, Next string
}

// leaderboardRow is one ranked model, formatted for the page.
type leaderboardRow struct {
	Rank    int
	ModelID string
	Score   string
	Role    api.Role
	Status  api.Status
	// Date is the day of the evaluation; At its full time, for the
	// datetime attribute.
	Date, At string
}

// routeLeaderboards registers the leaderboard pages: the benchmarks, and
// each benchmark's ranking (whose name may hold slashes). Every reader may
// read them, as in the API (GET /v1/benchmarks, GET /v1/leaderboards/).
func (s *server) routeLeaderboards() {
	s.mux.HandleFunc("GET /leaderboards", s.reader(s.leaderboards))
	s.mux.HandleFunc("GET /leaderboards/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/leaderboards", http.StatusMovedPermanently)
	})
	s.mux.HandleFunc("GET /leaderboards/{benchmark...}", s.reader(s.leaderboard))
}

// benchmarkGroups groups the catalogue by name, names in order, versions
// newest first.
func benchmarkGroups(list []*api.Benchmark) []benchmarkGroup {
	byName := map[string][]*api.Benchmark{}
	for _, b := range list {
		byName[b.Name] = append(byName[b.Name], b)
	}
	groups := make([]benchmarkGroup, 0, len(byName))
	for name, versions := range byName {
		slices.SortFunc(versions, func(a, b *api.Benchmark) int {
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.Version, a.Version))
		})
		groups = append(groups, benchmarkGroup{Name: name, Versions: versions})
	}
	slices.SortFunc(groups, func(a, b benchmarkGroup) int { return strings.Compare(a.Name, b.Name) })
	return groups
}

// leaderboards lists the benchmarks, each linking to its leaderboard.
func (s *server) leaderboards(w http.ResponseWriter, r *http.Request, v *viewer) error {
	list, err := s.reg.ListBenchmarks(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "leaderboards.html", page{Title: "Leaderboards", Viewer: v,
		Data: leaderboardsData{Benchmarks: benchmarkGroups(list.Items)}})
	return nil
}

// leaderboardPath is the page of a benchmark's leaderboard; query, when
// not nil, adds its parameters.
func leaderboardPath(name string, query url.Values) string {
	segments := strings.Split(name, "/")
	for i, seg := range segments {
		segments[i] = url.PathEscape(seg)
	}
	p := "/leaderboards/" + strings.Join(segments, "/")
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	return p
}

// parseLeaderboardQuery reads and checks a leaderboard's parameters.
func parseLeaderboardQuery(qs url.Values) (leaderboardQuery, error) {
	q := leaderboardQuery{Version: qs.Get("version"), Metric: qs.Get("metric"), Role: qs.Get("role"), Status: qs.Get("status")}
	for name, values := range qs {
		if len(values) > 1 {
			return q, errs.E(errs.Malformed, "the parameter %q is given %d times; give it once", truncated(name, 64), len(values))
		}
	}
	if q.Role != "" && !slices.Contains(boardRoles, api.Role(q.Role)) {
		return q, errs.E(errs.Malformed, "role %q is not one of %s", truncated(q.Role, 64), boardJoin(boardRoles))
	}
	if q.Status != "" && !slices.Contains(boardStatuses, api.Status(q.Status)) {
		return q, errs.E(errs.Malformed, "status %q is not one of %s", truncated(q.Status, 64), boardJoin(boardStatuses))
	}
	if o := qs.Get("offset"); o != "" {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 || n > maxLeaderboardOffset {
			return q, errs.E(errs.Malformed, "offset %q is not a whole number between 0 and %d", truncated(o, 64), maxLeaderboardOffset)
		}
		q.Offset = n
	}
	return q, nil
}

// The filters a leaderboard offers.
var (
	boardRoles    = []api.Role{api.RoleNone, api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental}
	boardStatuses = []api.Status{api.StatusProposed, api.StatusActive, api.StatusDeprecated, api.StatusSuspended, api.StatusArchived}
)

// boardJoin lists values for an error message.
func boardJoin[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// leaderboard ranks the models on a benchmark: its newest version or the
// one asked for, its first metric or the one asked for, filtered by role
// and status.
func (s *server) leaderboard(w http.ResponseWriter, r *http.Request, v *viewer) error {
	name := r.PathValue("benchmark")
	q, err := parseLeaderboardQuery(r.URL.Query())
	if err != nil {
		return err
	}
	list, err := s.reg.ListBenchmarks(r.Context())
	if err != nil {
		return err
	}
	var group *benchmarkGroup
	for _, g := range benchmarkGroups(list.Items) {
		if g.Name == name {
			group = &g
			break
		}
	}
	if group == nil {
		return errs.E(errs.NotFound, "benchmark %q is not in the catalogue; the leaderboards page lists those that are", truncated(name, 64))
	}
	bench := group.Newest()
	if q.Version != "" {
		i := slices.IndexFunc(group.Versions, func(b *api.Benchmark) bool { return b.Version == q.Version })
		if i < 0 {
			return errs.E(errs.NotFound, "benchmark %s has no version %q; its versions: %s", name, truncated(q.Version, 64), boardVersions(group.Versions))
		}
		bench = group.Versions[i]
	}
	if q.Metric != "" && !slices.ContainsFunc(bench.Metrics, func(m api.BenchmarkMetric) bool { return m.Name == q.Metric }) {
		return errs.E(errs.NotFound, "benchmark %s version %s has no metric %q; its metrics: %s", name, bench.Version, truncated(q.Metric, 64), boardMetrics(bench))
	}
	board, err := s.reg.Leaderboard(r.Context(), registry.LeaderboardQuery{Benchmark: name, Version: bench.Version, Metric: q.Metric,
		Role: api.Role(q.Role), Status: api.Status(q.Status), Offset: q.Offset, PageSize: leaderboardSize})
	if err != nil {
		return err
	}
	d := leaderboardData{Benchmark: bench, Path: leaderboardPath(name, nil), Versions: group.Versions, Query: q, Board: board, Roles: boardRoles,
		Statuses: boardStatuses, Filtered: q.Role != "" || q.Status != ""}
	for _, e := range board.Items {
		row := leaderboardRow{Rank: e.Rank, ModelID: e.ModelID, Role: e.Role, Status: e.Status, Score: strconv.FormatFloat(e.Value, 'g', 6, 64),
			Date: e.At.UTC().Format("2006-01-02"), At: e.At.UTC().Format("2006-01-02T15:04:05Z")}
		if e.Stderr != nil {
			row.Score += " ± " + strconv.FormatFloat(*e.Stderr, 'g', 3, 64)
		}
		d.Rows = append(d.Rows, row)
	}
	if n := len(d.Rows); n > 0 {
		d.First, d.Last = d.Rows[0].Rank, d.Rows[n-1].Rank
	}
	// The links keep the filters and the version shown.
	link := func(offset int) string {
		p := url.Values{}
		for k, val := range map[string]string{"version": q.Version, "metric": q.Metric, "role": q.Role, "status": q.Status} {
			if val != "" {
				p.Set(k, val)
			}
		}
		if offset > 0 {
			p.Set("offset", strconv.Itoa(offset))
		}
		return leaderboardPath(name, p)
	}
	if q.Offset > 0 {
		d.Prev = link(max(0, q.Offset-leaderboardSize))
	}
	if len(board.Items) == leaderboardSize && q.Offset+leaderboardSize <= maxLeaderboardOffset {
		d.Next = link(q.Offset + leaderboardSize)
	}
	title := "Leaderboard: " + bench.Name
	s.render(w, r, http.StatusOK, "leaderboard.html", page{Title: title, Viewer: v, Data: d})
	return nil
}

// boardVersions lists a benchmark's versions for an error message.
func boardVersions(versions []*api.Benchmark) string {
	s := make([]string, len(versions))
	for i, b := range versions {
		s[i] = b.Version
	}
	return strings.Join(s, ", ")
}

// boardMetrics lists a benchmark's metrics for an error message.
func boardMetrics(b *api.Benchmark) string {
	s := make([]string, len(b.Metrics))
	for i, m := range b.Metrics {
		s[i] = m.Name
	}
	return strings.Join(s, ", ")
}
