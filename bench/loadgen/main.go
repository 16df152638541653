// Command loadgen is modelgov's load generator: it seeds running servers
// with models through the real write path and measures a mix of reads and
// writes against them, beside the ceiling of a bare net/http server on
// loopback that answers with the same bytes.
//
//	loadgen seed --server http://127.0.0.1:18080 --token-file DIR/admin.token --models 100000 --clients 8
//	loadgen run  --server http://127.0.0.1:18080 --token-file DIR/admin.token --models 100000 --clients 8 \
//	    --duration 20s --mix get=70,list=20,write=10 [--json result.json]
//
// --server may be given several times (replicas): requests go round-robin
// across them. docs/BENCHMARKS.md records the commands and the figures.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "seed" && os.Args[1] != "run") {
		fmt.Fprintln(os.Stderr, "usage: loadgen seed|run [flags]; loadgen seed -h lists the flags")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seedCommand(os.Args[2:])
	case "run":
		err = runCommand(os.Args[2:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// common holds the flags of both commands.
type common struct {
	servers   []string
	tokenFile string
	models    int
	clients   int
	jsonOut   string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.Func("server", "base URL of a modelgov server; repeat for replicas (requests round-robin)", func(s string) error {
		c.servers = append(c.servers, strings.TrimSuffix(s, "/"))
		return nil
	})
	fs.StringVar(&c.tokenFile, "token-file", "", "file holding the API token (a server's <data-dir>/admin.token)")
	fs.IntVar(&c.models, "models", 10_000, "number of models: seed creates models 0..N-1, run reads them")
	fs.IntVar(&c.clients, "clients", 8, "concurrent clients")
	fs.StringVar(&c.jsonOut, "json", "", "also write the result as JSON to this file (- for standard output, instead of the table)")
}

// target returns the servers to send requests to, with the token.
func (c *common) target() (*target, error) {
	if len(c.servers) == 0 {
		c.servers = []string{"http://127.0.0.1:8080"}
	}
	if c.tokenFile == "" {
		return nil, errors.New("--token-file is required")
	}
	b, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	return newTarget(c.servers, strings.TrimSpace(string(b)), c.clients), nil
}

// A target is a set of servers that requests go to in turn.
type target struct {
	bases []string
	token string
	http  *http.Client
	next  atomic.Uint64
}

func newTarget(bases []string, token string, clients int) *target {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * (clients + 4),
		MaxIdleConnsPerHost: 2 * (clients + 4),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &target{bases: bases, token: token, http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// base returns the next server's base URL, round-robin.
func (t *target) base() string {
	return t.bases[int(t.next.Add(1)-1)%len(t.bases)]
}

// do sends one request and reads the whole answer, which must have status
// want; it returns the answer's body and Content-Type.
func (t *target) do(ctx context.Context, method, url, contentType string, body []byte, want int) ([]byte, string, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	if resp.StatusCode != want {
		return b, "", fmt.Errorf("%s %s: status %d, want %d: %.300s", method, url, resp.StatusCode, want, b)
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// ---- seed ----

func seedCommand(args []string) error {
	var (
		c         common
		start     int
		noLife    bool
		maxErrors int
		batch     int
	)
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	c.register(fs)
	fs.IntVar(&start, "start", 0, "first model index to create (earlier ones are taken as existing)")
	fs.BoolVar(&noLife, "no-lifecycle", false, "leave every model proposed (by default 80% move through the lifecycle, as in the in-process benchmark)")
	fs.IntVar(&maxErrors, "max-errors", 100, "stop after this many failed requests")
	fs.IntVar(&batch, "import-batch", 0, "send the models in imports of this many records (POST /v1/imports, still the write path, one transaction per import) instead of one create each; implies --no-lifecycle")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if batch < 0 || batch > 10_000 {
		return fmt.Errorf("--import-batch %d: give 1 to 10000 records", batch)
	}
	t, err := c.target()
	if err != nil {
		return err
	}
	clients := make([]*client.Client, len(t.bases))
	for i, b := range t.bases {
		if clients[i], err = client.New(b, client.WithToken(t.token), client.WithHTTPClient(t.http)); err != nil {
			return err
		}
	}
	ctx := context.Background()
	var (
		next                      atomic.Int64
		created, existed, changes atomic.Int64
		failures                  atomic.Int64
		done                      atomic.Int64
		rr                        atomic.Uint64
		wg                        sync.WaitGroup
	)
	next.Store(int64(start))
	done.Store(int64(start))
	pick := func() *client.Client { return clients[int(rr.Add(1)-1)%len(clients)] }
	fail := func(err error) {
		if n := failures.Add(1); n <= 10 {
			fmt.Fprintln(os.Stderr, "seed:", err)
		}
		if failures.Load() >= int64(maxErrors) {
			next.Store(int64(c.models))
		}
	}
	began := time.Now()
	stop := make(chan struct{})
	progress := make(chan struct{})
	go func() {
		defer close(progress)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		lastC, lastW, lastT := int64(0), int64(0), began
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				cr, w := created.Load(), created.Load()+changes.Load()
				dt := now.Sub(lastT).Seconds()
				fmt.Printf("seed: %d/%d models (created %d, existed %d, errors %d): %.0f creates/s, %.0f writes/s in the last %.0fs; %s elapsed; load %s\n",
					done.Load(), c.models, cr, existed.Load(), failures.Load(), float64(cr-lastC)/dt, float64(w-lastW)/dt, dt,
					now.Sub(began).Round(time.Second), loadAverage())
				lastC, lastW, lastT = cr, w, now
			}
		}
	}()
	for range c.clients {
		wg.Go(func() {
			for {
				if batch > 0 {
					i := int(next.Add(int64(batch)) - int64(batch))
					if i >= c.models {
						return
					}
					n := min(batch, c.models-i)
					if err := seedBatch(ctx, pick(), i, n, &created, &existed); err != nil {
						fail(err)
					}
					done.Add(int64(n))
					continue
				}
				i := int(next.Add(1) - 1)
				if i >= c.models {
					return
				}
				err := seedOne(ctx, pick, t, i, !noLife, &created, &existed, &changes)
				if err != nil {
					fail(err)
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-progress
	elapsed := time.Since(began)
	res := seedResult{
		Servers: t.bases, Models: c.models, Clients: c.clients, Created: created.Load(), Existed: existed.Load(),
		LifecycleChanges: changes.Load(), Errors: failures.Load(), Seconds: elapsed.Seconds(),
		CreatesPerSecond: float64(created.Load()) / elapsed.Seconds(),
		WritesPerSecond:  float64(created.Load()+changes.Load()) / elapsed.Seconds(),
		LoadAverage:      loadAverage(),
	}
	if c.jsonOut != "-" {
		fmt.Printf("seed: done in %v: %d models created, %d existed, %d lifecycle changes, %d errors; %.0f creates/s, %.0f writes/s with %d clients; load %s\n",
			elapsed.Round(time.Millisecond), res.Created, res.Existed, res.LifecycleChanges, res.Errors,
			res.CreatesPerSecond, res.WritesPerSecond, c.clients, res.LoadAverage)
	}
	if err := writeJSON(c.jsonOut, res); err != nil {
		return err
	}
	if res.Errors > 0 {
		return fmt.Errorf("%d requests failed", res.Errors)
	}
	return nil
}

// seedResult is what seed reports with --json.
type seedResult struct {
	Servers          []string `json:"servers"`
	Models           int      `json:"models"`
	Clients          int      `json:"clients"`
	Created          int64    `json:"created"`
	Existed          int64    `json:"existed"`
	LifecycleChanges int64    `json:"lifecycle_changes"`
	Errors           int64    `json:"errors"`
	Seconds          float64  `json:"seconds"`
	CreatesPerSecond float64  `json:"creates_per_second"`
	WritesPerSecond  float64  `json:"writes_per_second"`
	LoadAverage      string   `json:"load_average"`
}

// seedOne creates model i unless it exists, then moves it to its status.
func seedOne(ctx context.Context, pick func() *client.Client, t *target, i int, withLifecycle bool, created, existed, changes *atomic.Int64) error {
	id := modelID(i)
	c := pick()
	if _, err := c.GetModel(ctx, id); err == nil {
		existed.Add(1)
		return nil
	} else if !client.IsNotFound(err) {
		return fmt.Errorf("look up %s: %w", id, err)
	}
	doc, err := json.Marshal(modelDoc(i))
	if err != nil {
		return err
	}
	if _, err := c.CreateModel(ctx, doc, "application/json", client.WriteOptions{}); err != nil {
		if client.StatusOf(err) == http.StatusConflict {
			existed.Add(1)
			return nil
		}
		return fmt.Errorf("create %s: %w", id, err)
	}
	created.Add(1)
	if !withLifecycle {
		return nil
	}
	for _, ch := range lifecycle(i) {
		if _, err := pick().ChangeLifecycle(ctx, id, ch, client.WriteOptions{}); err != nil {
			return fmt.Errorf("move %s to %s: %w", id, ch.Status, err)
		}
		changes.Add(1)
	}
	return nil
}

// seedBatch imports models first .. first+n-1 in one import; models that
// exist already come back unchanged.
func seedBatch(ctx context.Context, c *client.Client, first, n int, created, existed *atomic.Int64) error {
	req := api.ImportRequest{Source: "loadgen", Records: make([]api.ImportRecord, n)}
	for k := range n {
		doc, err := json.Marshal(modelDoc(first + k))
		if err != nil {
			return err
		}
		req.Records[k] = api.ImportRecord{Key: modelID(first + k), Document: doc}
	}
	rep, err := c.Import(ctx, req, nil)
	if err != nil {
		return fmt.Errorf("import models %d-%d: %w", first, first+n-1, err)
	}
	created.Add(int64(rep.Totals.Create))
	existed.Add(int64(rep.Totals.Update + rep.Totals.Unchanged))
	return nil
}

// ---- run ----

// The operations of a run.
const (
	opGet    = "get"    // GET /v1/models/{id} of a random seeded model
	opList   = "list"   // a page of 100 with a selective filter
	opList20 = "list20" // GET /v1/models?page_size=20, as Kubeflow's benchmark lists
	opPatch  = "patch"  // merge-patch of a random model's notes
	opCreate = "create" // a new model
)

var allOps = []string{opGet, opList, opList20, opPatch, opCreate}

// listQueries are the filters of the list operation, one picked at random
// per request: a provider and a status (about 5.5% of the models), a label
// selector (about 13%) and a capability (about 25%).
var listQueries = []string{
	url.Values{"provider": {"meta"}, "status": {"active"}, "page_size": {"100"}}.Encode(),
	url.Values{"labels": {"team=core,tier!=test"}, "page_size": {"100"}}.Encode(),
	url.Values{"capability": {"code"}, "page_size": {"100"}}.Encode(),
}

const list20Query = "page_size=20"

// parseMix reads get=70,list=20,write=10; write is half patch, half create.
func parseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("--mix: %q is not op=weight", part)
		}
		switch {
		case name == "write":
			mix[opPatch] += n - n/2
			mix[opCreate] += n / 2
		case slices.Contains(allOps, name):
			mix[name] += n
		default:
			return nil, fmt.Errorf("--mix: unknown operation %q (get, list, list20, patch, create, write)", name)
		}
	}
	return mix, nil
}

func runCommand(args []string) error {
	var (
		c               common
		duration        time.Duration
		compareDuration time.Duration
		warmup          time.Duration
		mixFlag         string
		compareFlag     string
		listFilter      string
	)
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	c.register(fs)
	fs.DurationVar(&duration, "duration", 20*time.Second, "how long the mixed run lasts")
	fs.DurationVar(&compareDuration, "compare-duration", 0, "how long each registry-vs-ceiling phase lasts (default: --duration)")
	fs.DurationVar(&warmup, "warmup", 2*time.Second, "unmeasured requests before each phase")
	fs.StringVar(&mixFlag, "mix", "get=70,list=20,write=10", "operations and their weights: get, list, list20, patch, create, write (half patch, half create)")
	fs.StringVar(&compareFlag, "compare", "get,list", "read operations measured alone against the registry and the ceiling server, or none")
	fs.StringVar(&listFilter, "list-filter", "all", "filters of the list operation: all (one at random per request), provider, labels or capability")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch listFilter {
	case "all":
	case "provider", "labels", "capability":
		listQueries = listQueries[slices.Index([]string{"provider", "labels", "capability"}, listFilter):][:1]
	default:
		return fmt.Errorf("--list-filter: %q is not all, provider, labels or capability", listFilter)
	}
	if compareDuration == 0 {
		compareDuration = duration
	}
	mix, err := parseMix(mixFlag)
	if err != nil {
		return err
	}
	var compare []string
	if compareFlag != "none" && compareFlag != "" {
		for op := range strings.SplitSeq(compareFlag, ",") {
			if op != opGet && op != opList && op != opList20 {
				return fmt.Errorf("--compare: %q is not a read operation (get, list, list20)", op)
			}
			compare = append(compare, op)
		}
	}
	t, err := c.target()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, _, err := t.do(ctx, "GET", t.bases[0]+"/v1/models/"+modelID(c.models-1), "", nil, http.StatusOK); err != nil {
		return fmt.Errorf("model %d (the last of --models) is not there: seed first: %w", c.models-1, err)
	}
	res := runResult{Servers: t.bases, Models: c.models, Clients: c.clients, Duration: duration.String(),
		CompareDuration: compareDuration.String(), Mix: mix, LoadBefore: loadAverage()}

	// The ceiling server answers with bytes fetched from the registry now.
	var ceil *ceiling
	if len(compare) > 0 {
		if ceil, err = startCeiling(ctx, t, c.models, c.clients); err != nil {
			return err
		}
		defer ceil.close()
	}

	// Creates use indexes far above the seed, distinct from run to run.
	w := &workload{t: t, models: c.models, createBase: 1_000_000_000 + int(time.Now().Unix()%100_000)*100_000}
	fmt.Fprintf(os.Stderr, "run: mixed %v with %d clients against %s\n", duration, c.clients, strings.Join(t.bases, ", "))
	res.Mixed = runPhase(ctx, w, mix, c.clients, warmup, duration)
	for _, op := range compare {
		fmt.Fprintf(os.Stderr, "run: %s alone, %v on the registry then %v on the ceiling\n", op, compareDuration, compareDuration)
		reg := runPhase(ctx, w, map[string]int{op: 1}, c.clients, warmup, compareDuration)[0]
		cw := &workload{t: ceil.t, models: c.models}
		top := runPhase(ctx, cw, map[string]int{op: 1}, c.clients, warmup, compareDuration)[0]
		res.Compare = append(res.Compare, comparison{Op: op, Registry: reg, Ceiling: top,
			P50Ratio:        ratio(reg.P50, top.P50),
			P99Ratio:        ratio(reg.P99, top.P99),
			ThroughputRatio: ratio(reg.PerSecond, top.PerSecond)})
	}
	res.LoadAfter = loadAverage()
	if c.jsonOut != "-" {
		printRun(os.Stdout, res)
	}
	return writeJSON(c.jsonOut, res)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*100) / 100
}

// runResult is what run reports with --json.
type runResult struct {
	Servers         []string       `json:"servers"`
	Models          int            `json:"models"`
	Clients         int            `json:"clients"`
	Duration        string         `json:"duration"`
	CompareDuration string         `json:"compare_duration"`
	Mix             map[string]int `json:"mix"`
	Mixed           []opStats      `json:"mixed"`
	Compare         []comparison   `json:"compare,omitempty"`
	LoadBefore      string         `json:"load_before"`
	LoadAfter       string         `json:"load_after"`
}

// opStats are the figures of one operation in one phase; latencies in ms.
type opStats struct {
	Op        string  `json:"op"`
	Count     int     `json:"count"`
	PerSecond float64 `json:"per_second"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	Errors    int     `json:"errors"`
}

// comparison sets an operation alone on the registry beside the ceiling;
// the ratios are registry/ceiling.
type comparison struct {
	Op              string  `json:"op"`
	Registry        opStats `json:"registry"`
	Ceiling         opStats `json:"ceiling"`
	P50Ratio        float64 `json:"p50_ratio"`
	P99Ratio        float64 `json:"p99_ratio"`
	ThroughputRatio float64 `json:"throughput_ratio"`
}

// A workload makes the requests of the operations against a target.
type workload struct {
	t          *target
	models     int
	createBase int
	creates    atomic.Int64
	patches    atomic.Int64
}

func (w *workload) request(ctx context.Context, op string, r *rand.Rand) error {
	base := w.t.base()
	var err error
	switch op {
	case opGet:
		_, _, err = w.t.do(ctx, "GET", base+"/v1/models/"+modelID(r.IntN(w.models)), "", nil, http.StatusOK)
	case opList:
		_, _, err = w.t.do(ctx, "GET", base+"/v1/models?"+listQueries[r.IntN(len(listQueries))], "", nil, http.StatusOK)
	case opList20:
		_, _, err = w.t.do(ctx, "GET", base+"/v1/models?"+list20Query, "", nil, http.StatusOK)
	case opPatch:
		body := fmt.Sprintf(`{"notes":"patched by loadgen request %d"}`, w.patches.Add(1))
		_, _, err = w.t.do(ctx, "PATCH", base+"/v1/models/"+modelID(r.IntN(w.models)), "application/merge-patch+json",
			[]byte(body), http.StatusOK)
	case opCreate:
		doc, merr := json.Marshal(modelDoc(w.createBase + int(w.creates.Add(1))))
		if merr != nil {
			return merr
		}
		_, _, err = w.t.do(ctx, "POST", base+"/v1/models", "application/json", doc, http.StatusCreated)
	}
	return err
}

// runPhase runs clients that pick operations by weight for d after an
// unmeasured warmup, and returns the figures of each operation.
func runPhase(ctx context.Context, w *workload, mix map[string]int, clients int, warmup, d time.Duration) []opStats {
	var ops []string
	var weights []int
	total := 0
	for _, op := range allOps {
		if mix[op] > 0 {
			ops = append(ops, op)
			total += mix[op]
			weights = append(weights, total)
		}
	}
	type record struct {
		times  [][]time.Duration
		errors []int
	}
	run := func(d time.Duration) ([]record, time.Duration) {
		records := make([]record, clients)
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(d)
		for c := range clients {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano())))
				rec := record{times: make([][]time.Duration, len(ops)), errors: make([]int, len(ops))}
				for {
					now := time.Now()
					if now.After(deadline) {
						break
					}
					n := r.IntN(total)
					k, _ := slices.BinarySearch(weights, n+1)
					err := w.request(ctx, ops[k], r)
					if err != nil {
						if rec.errors[k]++; rec.errors[k] <= 3 {
							fmt.Fprintln(os.Stderr, "run:", err)
						}
						continue
					}
					rec.times[k] = append(rec.times[k], time.Since(now))
				}
				records[c] = rec
			})
		}
		wg.Wait()
		return records, time.Since(start)
	}
	if warmup > 0 {
		run(warmup)
	}
	records, elapsed := run(d)
	var out []opStats
	for k, op := range ops {
		var all []time.Duration
		errs := 0
		for _, rec := range records {
			all = append(all, rec.times[k]...)
			errs += rec.errors[k]
		}
		slices.Sort(all)
		at := func(p float64) float64 {
			if len(all) == 0 {
				return 0
			}
			i := int(math.Ceil(p*float64(len(all)))) - 1
			return math.Round(float64(all[max(i, 0)])/float64(time.Microsecond)) / 1000
		}
		out = append(out, opStats{Op: op, Count: len(all), PerSecond: math.Round(float64(len(all)) / elapsed.Seconds()),
			P50: at(0.50), P99: at(0.99), Max: at(1), Errors: errs})
	}
	return out
}

// ---- the ceiling ----

// ceiling is a bare net/http server on loopback that answers a get and the
// lists with bytes the registry answered, with the same Content-Type: what
// the same clients measure against it bounds what any server could do on
// this machine.
type ceiling struct {
	srv *http.Server
	t   *target
}

type answer struct {
	body        []byte
	contentType string
}

func startCeiling(ctx context.Context, t *target, models, clients int) (*ceiling, error) {
	base := t.bases[0]
	body, ct, err := t.do(ctx, "GET", base+"/v1/models/"+modelID(models/2), "", nil, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("ceiling: fetch a model: %w", err)
	}
	get := answer{body, ct}
	lists := map[string]answer{}
	for _, q := range append(slices.Clone(listQueries), list20Query) {
		body, ct, err := t.do(ctx, "GET", base+"/v1/models?"+q, "", nil, http.StatusOK)
		if err != nil {
			return nil, fmt.Errorf("ceiling: fetch a list: %w", err)
		}
		lists[q] = answer{body, ct}
	}
	serve := func(w http.ResponseWriter, a answer) {
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
		w.Write(a.body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models/{id...}", func(w http.ResponseWriter, r *http.Request) { serve(w, get) })
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		a, ok := lists[r.URL.RawQuery]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, a)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	sizes := fmt.Sprintf("get %d bytes", len(get.body))
	for _, q := range listQueries {
		sizes += fmt.Sprintf(", list %s %d bytes", q, len(lists[q].body))
	}
	fmt.Fprintf(os.Stderr, "run: ceiling server on %s (%s, list20 %d bytes)\n", ln.Addr(), sizes, len(lists[list20Query].body))
	return &ceiling{srv: srv, t: newTarget([]string{"http://" + ln.Addr().String()}, t.token, clients)}, nil
}

func (c *ceiling) close() { c.srv.Close() }

// ---- output ----

func printRun(out io.Writer, res runResult) {
	fmt.Fprintf(out, "%d models, %d clients, servers %s; load average before %s, after %s\n\n",
		res.Models, res.Clients, strings.Join(res.Servers, " "), res.LoadBefore, res.LoadAfter)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "mixed run (%s)\tcount\tper s\tp50 ms\tp99 ms\tmax ms\terrors\t\n", res.Duration)
	for _, s := range res.Mixed {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.3f\t%.3f\t%.1f\t%d\t\n", s.Op, s.Count, s.PerSecond, s.P50, s.P99, s.Max, s.Errors)
	}
	tw.Flush()
	if len(res.Compare) == 0 {
		return
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "alone (%s each)\tregistry per s\tp50 ms\tp99 ms\terrors\tceiling per s\tp50 ms\tp99 ms\tratio per s\tratio p50\tratio p99\t\n", res.CompareDuration)
	for _, c := range res.Compare {
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.3f\t%d\t%.0f\t%.3f\t%.3f\t%.2f\t%.2f\t%.2f\t\n", c.Op,
			c.Registry.PerSecond, c.Registry.P50, c.Registry.P99, c.Registry.Errors,
			c.Ceiling.PerSecond, c.Ceiling.P50, c.Ceiling.P99, c.ThroughputRatio, c.P50Ratio, c.P99Ratio)
	}
	tw.Flush()
	fmt.Fprintln(out, "(ratios are registry/ceiling)")
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// loadAverage returns the machine's load averages over 1, 5 and 15
// minutes, to tell whether other work shared the CPUs with a run.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
