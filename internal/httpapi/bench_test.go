package httpapi_test

// Benchmarks of the HTTP API over the SQLite store at 10k and 100k models,
// and the check that list queries walk indexes. docs/BENCHMARKS.md records
// the command and the figures.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/benchdata"
	"github.com/hivellm/modelgov/internal/httpapi"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store/sqlite"
)

// The shape of a seeded registry. Every family has familySize members and
// exactly rareMembers models carry the label team=audit and the capability
// audio-transcription, whatever the size of the registry, so that the rare
// filters select the same models at 10k and at 100k and any difference in
// their cost comes from the size of the registry.
const (
	familySize  = benchdata.FamilySize
	rareMembers = 50
	rareTeam    = benchdata.RareTeam
	rareCap     = benchdata.RareCapability
)

// benchFamily returns the family of model i.
func benchFamily(i int) (string, string) { return benchdata.Family(i) }

// benchModelID returns the id of model i.
func benchModelID(i int) string { return benchdata.ModelID(i) }

// benchModel returns the document of model i of a registry of n models:
// rareMembers of them, spread evenly over the seed, are rare; models
// created by the benchmarks (i >= n) never are.
func benchModel(i, n int) *api.Model {
	return benchdata.Model(i, i < n && i%(n/rareMembers) == n/rareMembers/2, "the HTTP benchmarks")
}

// benchLifecycle returns the lifecycle changes that bring model i to its
// status (benchdata.Lifecycle).
func benchLifecycle(i int) []api.LifecycleChange { return benchdata.Lifecycle(i) }

// openRegistry opens the store at path and the registry over it.
func openRegistry(tb testing.TB, path string) (*sqlite.Store, *registry.Service) {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		tb.Fatalf("open store %s: %v", path, err)
	}
	v, err := schema.New()
	if err != nil {
		tb.Fatalf("schema.New: %v", err)
	}
	reg, err := registry.New(registry.Config{Store: st, Schema: v})
	if err != nil {
		tb.Fatalf("registry.New: %v", err)
	}
	return st, reg
}

// seed registers n models in a new database file at path through the
// registry service, with several writers at once, and closes the store so
// that the file is checkpointed and its planner statistics refreshed, as
// after a restart of the server.
func seed(tb testing.TB, path string, n int) {
	tb.Helper()
	ctx := context.Background()
	st, reg := openRegistry(tb, path)
	// An admin: it registers models and, as the default policy lets it, approves, suspends and archives them.
	opts := registry.WriteOptions{Caller: registry.Caller{Principal: "seed", Roles: []string{"admin"}}}
	start := time.Now()
	var (
		next   atomic.Int64
		writes atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed error
	)
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				err := func() error {
					doc, err := json.Marshal(benchModel(i, n))
					if err != nil {
						return err
					}
					if _, err := reg.CreateModel(ctx, doc, opts); err != nil {
						return fmt.Errorf("create model %d: %w", i, err)
					}
					writes.Add(1)
					for _, ch := range benchLifecycle(i) {
						if _, err := reg.ChangeLifecycle(ctx, benchModelID(i), ch, opts); err != nil {
							return fmt.Errorf("move model %d to %s: %w", i, ch.Status, err)
						}
						writes.Add(1)
					}
					return nil
				}()
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	if failed != nil {
		tb.Fatalf("seed: %v", failed)
	}
	elapsed := time.Since(start)
	if err := st.Close(); err != nil {
		tb.Fatalf("close seeded store: %v", err)
	}
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	tb.Logf("seeded %d models (%d writes) through the registry in %v: %.0f writes/s; database file %d MiB",
		n, writes.Load(), elapsed.Round(time.Millisecond), float64(writes.Load())/elapsed.Seconds(), size>>20)
}

// loadAverage returns the machine's load averages over 1, 5 and 15
// minutes, to tell whether other work shared the CPUs with a benchmark.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// processCPU returns the CPU time (user and system) the process has used,
// from /proc/self/stat, or 0 where that cannot be read.
func processCPU() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces) start with
	// the state; utime and stime are the 12th and 13th after it, in clock
	// ticks of 1/100 s on Linux.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// copyDatabase copies the database file at src (and its WAL, if any) into
// a new temporary directory and returns the copy's path.
func copyDatabase(tb testing.TB, src string) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), filepath.Base(src))
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(src + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			tb.Fatalf("copy database: %v", err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			tb.Fatalf("copy database: %v", err)
		}
	}
	return dst
}

// startServer serves the API over the database at path on a loopback
// listener and returns its URL and a keep-alive client for it.
func startServer(tb testing.TB, path string) (string, *http.Client) {
	tb.Helper()
	st, reg := openRegistry(tb, path)
	tok := adminToken(tb, reg)
	h, err := httpapi.New(httpapi.Config{Registry: reg, Schemas: schema.Files(), Ready: st.Ping, RateLimit: httpapi.RateLimit{PerSecond: -1}})
	if err != nil {
		tb.Fatalf("httpapi.New: %v", err)
	}
	srv := httptest.NewServer(h)
	client := &http.Client{Transport: bearer{token: tok.Token,
		base: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, DisableCompression: true}}}
	tb.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return srv.URL, client
}

// bearer sends an API token with every request.
type bearer struct {
	token string
	base  *http.Transport
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func (b bearer) CloseIdleConnections() { b.base.CloseIdleConnections() }

// send sends a request and reads the whole answer, which must have status want.
func send(client *http.Client, method, url, contentType string, body []byte, want int) error {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	return nil
}

// latencies collects the time of every request of a benchmark run.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

// report reports the median and 99th percentile of the request times, the
// requests per second under unit, and the CPU time that the process (client
// and server) spent per request since cpuStart, which unlike wall time does
// not grow when other processes compete for the CPUs.
func (l *latencies) report(b *testing.B, unit string, cpuStart time.Duration) {
	if len(l.all) == 0 {
		return
	}
	if cpuStart > 0 {
		if cpu := processCPU(); cpu > 0 {
			b.ReportMetric(float64(cpu-cpuStart)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	}
	slices.Sort(l.all)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(l.all)))) - 1
		return float64(l.all[max(i, 0)]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// request makes the i-th request of a benchmark.
type request func(i int) error

// runSequential times requests made one after another.
func runSequential(b *testing.B, unit string, do request) {
	var l latencies
	times := make([]time.Duration, 0, 1024)
	i := 0
	cpu := processCPU()
	for b.Loop() {
		start := time.Now()
		if err := do(i); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		i++
	}
	l.add(times)
	l.report(b, unit, cpu)
}

// runParallel times requests made by parallelism×GOMAXPROCS clients at
// once; ns/op is then wall time divided by requests.
func runParallel(b *testing.B, unit string, do request) {
	var (
		l     latencies
		count atomic.Int64
	)
	b.SetParallelism(parallelism)
	cpu := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		times := make([]time.Duration, 0, 1024)
		defer func() { l.add(times) }()
		for pb.Next() {
			i := int(count.Add(1) - 1)
			start := time.Now()
			if err := do(i); err != nil {
				b.Error(err)
				return
			}
			times = append(times, time.Since(start))
		}
	})
	b.StopTimer()
	l.report(b, unit, cpu)
}

// parallelism is the number of parallel clients per CPU in the -parallel cases.
const parallelism = 4

// A listCase is a GET /v1/models query and what it must find.
type listCase struct {
	name  string
	query func(n int) url.Values
	// matches is the number of models the filter selects in a registry of
	// n models, for the cases that select fewer than a page.
	matches int
}

var listCases = []listCase{
	{name: "list-filtered", query: func(int) url.Values {
		return url.Values{"status": {"active"}, "provider": {"meta"}, "page_size": {"100"}}
	}},
	{name: "list-label-selector", query: func(int) url.Values {
		return url.Values{"labels": {"team=core,tier!=test"}, "page_size": {"100"}}
	}},
	{name: "list-capability", query: func(int) url.Values {
		return url.Values{"capability": {"code"}, "page_size": {"100"}}
	}},
	{name: "list-rare-filter", matches: familySize, query: func(n int) url.Values {
		_, family := benchFamily(n / 2)
		return url.Values{"family": {family}, "page_size": {"100"}}
	}},
	{name: "list-rare-label", matches: rareMembers, query: func(int) url.Values {
		return url.Values{"labels": {"team=" + rareTeam}, "page_size": {"100"}}
	}},
	{name: "list-rare-capability", matches: rareMembers, query: func(int) url.Values {
		return url.Values{"capability": {rareCap}, "page_size": {"100"}}
	}},
}

// checkList asks once for a list and checks the size of the page.
func checkList(b *testing.B, client *http.Client, base string, c listCase, n int) {
	b.Helper()
	resp, err := client.Get(base + "/v1/models?" + c.query(n).Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var list api.ModelList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: status %d, decode: %v", c.name, resp.StatusCode, err)
	}
	want := 100
	if c.matches > 0 {
		want = c.matches
	}
	if len(list.Items) != want {
		b.Fatalf("%s: %d models in the page, want %d", c.name, len(list.Items), want)
	}
}

// BenchmarkHTTP times create, get, list and patch requests through the
// real handler on a loopback server, over SQLite registries of 10k and 100k
// models. Each size is seeded once and shared by its sub-benchmarks: the
// reads use the seeded file, the writes a copy of it.
func BenchmarkHTTP(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"10k", 10_000}, {"100k", 100_000}} {
		b.Run("size="+size.name, func(b *testing.B) {
			if size.n > 10_000 && testing.Short() {
				b.Skip("seeding 100k models takes minutes; run without -short")
			}
			n := size.n
			b.Logf("load average before seeding: %s", loadAverage())
			seeded := filepath.Join(b.TempDir(), "modelgov.db")
			seed(b, seeded, n)
			b.Cleanup(func() { b.Logf("load average after the %s benchmarks: %s", size.name, loadAverage()) })

			// Every benchmark starts its own server: the reads over the
			// seeded file, the writes over a copy of it.
			type endpoint func(b *testing.B, base string, client *http.Client) request
			bench := func(name, unit string, writes, parallel bool, e endpoint) {
				b.Run(name, func(b *testing.B) {
					path := seeded
					if writes {
						path = copyDatabase(b, seeded)
					}
					base, client := startServer(b, path)
					if parallel {
						runParallel(b, unit, e(b, base, client))
					} else {
						runSequential(b, unit, e(b, base, client))
					}
				})
			}

			create := func(b *testing.B, base string, client *http.Client) request {
				return func(i int) error {
					doc, err := json.Marshal(benchModel(n+i, n))
					if err != nil {
						return err
					}
					return send(client, http.MethodPost, base+"/v1/models", "application/json", doc, http.StatusCreated)
				}
			}
			bench("create", "creates/s", true, false, create)
			bench("create-parallel", "creates/s", true, true, create)

			get := func(b *testing.B, base string, client *http.Client) request {
				return func(int) error {
					id := benchModelID(rand.IntN(n))
					return send(client, http.MethodGet, base+"/v1/models/"+id, "", nil, http.StatusOK)
				}
			}
			bench("get", "req/s", false, false, get)
			bench("get-parallel", "req/s", false, true, get)

			for _, c := range listCases {
				list := func(b *testing.B, base string, client *http.Client) request {
					checkList(b, client, base, c, n)
					url := base + "/v1/models?" + c.query(n).Encode()
					return func(int) error {
						return send(client, http.MethodGet, url, "", nil, http.StatusOK)
					}
				}
				bench(c.name, "req/s", false, false, list)
				if c.name == "list-filtered" {
					bench(c.name+"-parallel", "req/s", false, true, list)
				}
			}

			// Each patch changes the notes and a label of a random model, so
			// that every request is a real write.
			patch := func(b *testing.B, base string, client *http.Client) request {
				return func(i int) error {
					body := fmt.Sprintf(`{"notes":"patched by benchmark request %d","labels":{"cost":%q}}`,
						i, []string{"low", "medium", "high"}[i%3])
					id := benchModelID(rand.IntN(n))
					return send(client, http.MethodPatch, base+"/v1/models/"+id,
						"application/merge-patch+json", []byte(body), http.StatusOK)
				}
			}
			bench("patch", "req/s", true, false, patch)
			bench("patch-parallel", "req/s", true, true, patch)
		})
	}
}
