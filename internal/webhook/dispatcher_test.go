package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
	"github.com/hivellm/modelgov/internal/webhook"
)

var admin = registry.WriteOptions{Caller: registry.Caller{Principal: "alice", Roles: []string{api.RoleAdmin}}}

// registryEnv is a real registry on a real SQLite file.
type registryEnv struct {
	path string
	st   *sqlite.Store
	svc  *registry.Service
}

func openRegistry(t *testing.T, path string, maxFailures int) *registryEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := registry.New(registry.Config{Store: st, Schema: v, Logger: slog.New(slog.DiscardHandler),
		WebhookAllowPrivate: true, WebhookMaxFailures: maxFailures})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	return &registryEnv{path: path, st: st, svc: svc}
}

func newRegistry(t *testing.T, maxFailures int) *registryEnv {
	t.Helper()
	e := openRegistry(t, filepath.Join(t.TempDir(), "modelgov.db"), maxFailures)
	t.Cleanup(func() { e.st.Close() })
	return e
}

// run starts a dispatcher with short retries and returns its stop.
func (e *registryEnv) run(t *testing.T, holder string) (stop func()) {
	t.Helper()
	d := webhook.NewDispatcher(e.svc, webhook.DispatcherConfig{AllowPrivate: true, Timeout: 5 * time.Second,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond }, Poll: 50 * time.Millisecond,
		LeaseTTL: 600 * time.Millisecond, Holder: holder, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func (e *registryEnv) createModels(t *testing.T, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		doc := fmt.Sprintf(`{"schema_version":"1.1","model_id":"acme/model-%03d","provider":"acme","display_name":"Model %d","size_class":"small"}`, i, i)
		if _, err := e.svc.CreateModel(context.Background(), []byte(doc), admin); err != nil {
			t.Fatalf("create model %d: %v", i, err)
		}
	}
}

// wantEvents returns the outbox's events of types after after.
func (e *registryEnv) wantEvents(t *testing.T, after int64, types ...string) []int64 {
	t.Helper()
	evs, err := e.st.ListEvents(context.Background(), store.EventQuery{After: after, Types: types, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	out := []int64{}
	for _, ev := range evs {
		out = append(out, ev.Seq)
	}
	return out
}

// receiver is a webhook endpoint that verifies every delivery with the
// Standard Webhooks library, can fail its first requests and hold one
// event, and keeps the events it accepted in the order it accepted them.
type receiver struct {
	t  *testing.T
	wh *standardwebhooks.Webhook

	mu        sync.Mutex
	failFirst int
	failAll   bool
	requests  int
	holdSeq   int64
	hold      chan struct{}
	held      chan struct{}
	accepted  []int64  // event seqs, in the order first accepted
	ids       []string // webhook-id of every accepted request, repeats included
	seen      map[string]bool
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	r := &receiver{t: t, seen: map[string]bool{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (rc *receiver) setSecret(secret string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		rc.t.Fatal(err)
	}
	rc.mu.Lock()
	rc.wh = wh
	rc.mu.Unlock()
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	wh := rc.wh
	rc.mu.Unlock()
	if err := wh.Verify(body, r.Header); err != nil {
		rc.t.Errorf("delivery does not verify with the Standard Webhooks library: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev api.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.SpecVersion != "1.0" || ev.Seq == 0 {
		rc.t.Errorf("delivery is not a CloudEvents event: %v: %s", err, body)
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.requests++
	if rc.failAll || rc.requests <= rc.failFirst {
		rc.mu.Unlock()
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	if rc.hold != nil && ev.Seq == rc.holdSeq {
		hold, held := rc.hold, rc.held
		rc.mu.Unlock()
		select {
		case held <- struct{}{}:
		default:
		}
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
		rc.mu.Lock()
	}
	defer rc.mu.Unlock()
	id := r.Header.Get("webhook-id")
	rc.ids = append(rc.ids, id)
	if !rc.seen[id] {
		rc.seen[id] = true
		rc.accepted = append(rc.accepted, ev.Seq)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) got() []int64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.accepted)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func subscribe(t *testing.T, e *registryEnv, rc *receiver, url string, types ...string) *api.Webhook {
	t.Helper()
	w, err := e.svc.CreateWebhook(context.Background(), api.WebhookRequest{URL: url, Types: types}, admin)
	if err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	rc.setSecret(w.Secret)
	return w
}

// A receiver that fails its first three requests still gets every event,
// each once, in sequence order; the log shows the three failures.
func TestDeliversInOrderThroughFailures(t *testing.T) {
	e := newRegistry(t, 0)
	rc, srv := newReceiver(t)
	rc.failFirst = 3
	hook := subscribe(t, e, rc, srv.URL+"/hook", registry.EventModelCreated)
	e.run(t, "a")

	// Writers in parallel: the sequence is decided by the store.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() { e.createModels(t, g*10, 10) })
	}
	wg.Wait()
	want := e.wantEvents(t, hook.Cursor, registry.EventModelCreated)
	if len(want) != 40 {
		t.Fatalf("outbox has %d model.created events, want 40", len(want))
	}
	waitFor(t, "every event", func() bool { return len(rc.got()) >= len(want) })
	if got := rc.got(); !slices.Equal(got, want) {
		t.Fatalf("receiver got %v\nwant %v", got, want)
	}
	waitFor(t, "the last delivery recorded", func() bool {
		w, err := e.svc.GetWebhook(context.Background(), admin.Caller, hook.ID)
		return err == nil && w.Cursor == want[len(want)-1]
	})

	list, err := e.svc.ListDeliveries(context.Background(), admin.Caller, hook.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var failed []*api.Delivery
	for _, d := range list.Items {
		if !d.OK {
			failed = append(failed, d)
		}
	}
	if len(failed) != 3 || len(list.Items) != 43 {
		t.Fatalf("delivery log has %d entries with %d failures, want 43 with 3", len(list.Items), len(failed))
	}
	for i, d := range failed { // newest first
		if d.EventSeq != want[0] || d.Attempt != 3-i || d.Status != 503 || d.Error == "" || d.Response != "not now\n" {
			t.Errorf("failure %d = %+v; want attempt %d of event %d answered 503", i, d, 3-i, want[0])
		}
	}
	w, err := e.svc.GetWebhook(context.Background(), admin.Caller, hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if w.Cursor != want[len(want)-1] || w.ConsecutiveFailures != 0 || w.LastSuccessAt == nil || w.LastFailureAt == nil {
		t.Errorf("subscription after delivery = %+v; want cursor %d and no failures", w, want[len(want)-1])
	}
}

// A registry stopped while a delivery is in flight delivers it and the
// rest after it starts again on the same store.
func TestResumesAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modelgov.db")
	e := openRegistry(t, path, 0)
	rc, srv := newReceiver(t)
	hook := subscribe(t, e, rc, srv.URL, registry.EventModelCreated)
	e.createModels(t, 0, 10)
	want := e.wantEvents(t, hook.Cursor, registry.EventModelCreated)
	rc.mu.Lock()
	rc.holdSeq, rc.hold, rc.held = want[4], make(chan struct{}), make(chan struct{}, 1)
	rc.mu.Unlock()

	stop := e.run(t, "first")
	<-rc.held // the fifth event is in flight
	stop()
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rc.got(); !slices.Equal(got, want[:4]) {
		t.Fatalf("before the restart the receiver got %v, want %v", got, want[:4])
	}

	e = openRegistry(t, path, 0)
	t.Cleanup(func() { e.st.Close() })
	e.createModels(t, 10, 5) // and some written after the restart
	want = e.wantEvents(t, hook.Cursor, registry.EventModelCreated)
	close(rc.hold)
	e.run(t, "second")
	waitFor(t, "every event after the restart", func() bool { return len(rc.got()) >= len(want) })
	if got := rc.got(); !slices.Equal(got, want) {
		t.Fatalf("receiver got %v\nwant %v", got, want)
	}
}

// Consecutive failures disable a subscription, with an event and an audit
// entry; enabling it delivers what it missed, in order; a logged delivery
// can be sent again by hand.
func TestDisableEnableRedeliver(t *testing.T) {
	ctx := context.Background()
	e := newRegistry(t, 3)
	rc, srv := newReceiver(t)
	rc.failAll = true
	hook := subscribe(t, e, rc, srv.URL)
	e.run(t, "a")
	e.createModels(t, 0, 3)

	waitFor(t, "the subscription to be disabled", func() bool {
		w, err := e.svc.GetWebhook(ctx, admin.Caller, hook.ID)
		return err == nil && w.Status == api.WebhookDisabled
	})
	w, _ := e.svc.GetWebhook(ctx, admin.Caller, hook.ID)
	if w.ConsecutiveFailures != 3 || w.DisabledReason == "" || w.Cursor != hook.Cursor {
		t.Errorf("disabled subscription = %+v", w)
	}
	disabled, err := e.svc.ListEvents(ctx, registry.EventQuery{Types: []string{registry.EventWebhookDisabled}})
	if err != nil || len(disabled.Items) != 1 || disabled.Items[0].Subject != "webhook/"+hook.ID {
		t.Fatalf("webhook.disabled events = %+v, %v; want one about webhook/%s", disabled, err, hook.ID)
	}
	var data api.EventData
	if err := json.Unmarshal(disabled.Items[0].Data, &data); err != nil || data.Webhook == nil || data.Webhook.Secret != "" ||
		data.Principal != registry.SystemPrincipal || data.Webhook.Status != api.WebhookDisabled {
		t.Errorf("webhook.disabled data = %+v, %v; want the subscription without its secret, by the registry", data, err)
	}
	entries, err := e.svc.AuditEntries(ctx, registry.AuditQuery{Action: "webhook.disable"})
	if err != nil || len(entries.Items) != 1 || entries.Items[0].Outcome != audit.Allowed {
		t.Fatalf("webhook.disable audit entries = %+v, %v", entries, err)
	}

	// Events written while disabled are delivered once it is enabled.
	e.createModels(t, 3, 2)
	rc.mu.Lock()
	rc.failAll = false
	rc.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	if got := rc.got(); len(got) != 0 {
		t.Fatalf("a disabled subscription received %v", got)
	}
	if _, err := e.svc.EnableWebhook(ctx, hook.ID, admin); err != nil {
		t.Fatal(err)
	}
	want := e.wantEvents(t, hook.Cursor)
	waitFor(t, "the missed events", func() bool { return len(rc.got()) >= len(want) })
	if got := rc.got(); !slices.Equal(got, want) {
		t.Fatalf("after enabling, receiver got %v\nwant %v", got, want)
	}

	// Manual redelivery of the first successful delivery.
	list, err := e.svc.ListDeliveries(ctx, admin.Caller, hook.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	first := list.Items[len(list.Items)-1]
	for _, d := range list.Items {
		if d.OK && d.EventSeq == want[0] {
			first = d
		}
	}
	red, err := e.svc.PrepareRedelivery(ctx, admin.Caller, hook.ID, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	d := webhook.NewDispatcher(e.svc, webhook.DispatcherConfig{AllowPrivate: true})
	again, err := d.Redeliver(ctx, red.Webhook, red.Event, red.Original, red.By)
	if err != nil || !again.OK || again.RedeliveryOf != first.ID || again.By != "alice" || again.MessageID != first.MessageID {
		t.Fatalf("Redeliver = %+v, %v", again, err)
	}
	rc.mu.Lock()
	lastID := rc.ids[len(rc.ids)-1]
	rc.mu.Unlock()
	if lastID != first.MessageID {
		t.Errorf("the redelivery came with webhook-id %s, want the original's %s", lastID, first.MessageID)
	}
	if _, err := e.svc.PrepareRedelivery(ctx, registry.Caller{Principal: "bob", Roles: []string{api.RoleGovernor}}, hook.ID, first.ID); err == nil {
		t.Error("a governor may redeliver: want a refusal")
	}
}

// Two dispatchers on one store (two registry processes): only the lease
// holder delivers, so no event goes out twice; when it stops, the other
// takes over after the lease expires.
func TestOneDispatcherAtATime(t *testing.T) {
	e := newRegistry(t, 0)
	rc, srv := newReceiver(t)
	hook := subscribe(t, e, rc, srv.URL, registry.EventModelCreated)
	stopA := e.run(t, "a")
	time.Sleep(50 * time.Millisecond) // a takes the lease first
	e.run(t, "b")
	e.createModels(t, 0, 10)
	want := e.wantEvents(t, hook.Cursor, registry.EventModelCreated)
	// Every delivery recorded, so that none is in flight when a stops (one
	// cut short would be sent again: at least once).
	waitFor(t, "every event recorded", func() bool {
		w, err := e.svc.GetWebhook(context.Background(), admin.Caller, hook.ID)
		return err == nil && w.Cursor == want[len(want)-1]
	})
	stopA()
	e.createModels(t, 10, 5)
	want = e.wantEvents(t, hook.Cursor, registry.EventModelCreated)
	waitFor(t, "the events after the hand-over", func() bool { return len(rc.got()) >= len(want) })
	if got := rc.got(); !slices.Equal(got, want) {
		t.Fatalf("receiver got %v\nwant %v", got, want)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.ids) != len(want) {
		t.Errorf("%d deliveries for %d events: two dispatchers delivered", len(rc.ids), len(want))
	}
}
