package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hivellm/modelgov/api"
)

// hookReceiver is a webhook endpoint: it verifies each delivery with the
// Standard Webhooks library, keeps the events it accepted, each once, and
// can hold one event until released.
type hookReceiver struct {
	t  *testing.T
	mu sync.Mutex
	wh *standardwebhooks.Webhook
	// holdAt > 0 holds the delivery that arrives when holdAt-1 events
	// were accepted, until release is closed; held is signalled when it
	// arrives.
	holdAt   int
	release  chan struct{}
	held     chan struct{}
	seen     map[string]bool
	accepted []int64
}

func newHookReceiver(t *testing.T) (*hookReceiver, *httptest.Server) {
	rc := &hookReceiver{t: t, seen: map[string]bool{}, release: make(chan struct{}), held: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		wh := rc.wh
		rc.mu.Unlock()
		if wh == nil || wh.Verify(body, r.Header) != nil {
			t.Errorf("a delivery does not verify with the Standard Webhooks library")
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev api.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("delivery %s: %v", body, err)
			return
		}
		rc.mu.Lock()
		hold := rc.holdAt > 0 && len(rc.accepted) == rc.holdAt-1
		rc.mu.Unlock()
		if hold {
			select {
			case rc.held <- struct{}{}:
			default:
			}
			select {
			case <-rc.release:
			case <-r.Context().Done():
				return
			}
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if id := r.Header.Get("webhook-id"); !rc.seen[id] {
			rc.seen[id] = true
			rc.accepted = append(rc.accepted, ev.Seq)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *hookReceiver) got() []int64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.accepted)
}

func applyModels(t *testing.T, mg commandLine, from, n int) {
	t.Helper()
	var docs []string
	for i := from; i < from+n; i++ {
		docs = append(docs, fmt.Sprintf("schema_version: \"1.1\"\nmodel_id: acme/m-%03d\nprovider: acme\ndisplay_name: M %d\nsize_class: small\n", i, i))
	}
	mg.succeed(t, strings.Join(docs, "---\n"), "model", "apply", "-f", "-")
}

// TestWebhookSurvivesCrash: "modelgov webhook create" subscribes a local
// endpoint (the server runs with --webhook-allow-private); the server is
// killed while a delivery is in flight, started again on the same data
// directory, and delivers that event and every later one, in order. The
// delivery log and the other commands work from the command line.
func TestWebhookSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, "--webhook-allow-private")
	mg := srv.cli()
	rc, endpoint := newHookReceiver(t)

	// Without --webhook-allow-private a loopback endpoint is refused; here
	// it is allowed.
	secret := strings.TrimSpace(mg.succeed(t, "", "webhook", "create", endpoint.URL+"/modelgov", "--type", "io.modelgov.model.created",
		"--description", "test receiver"))
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("the secret %q: %v", secret, err)
	}
	rc.mu.Lock()
	rc.wh = wh
	rc.mu.Unlock()
	var hooks api.WebhookList
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "webhook", "list", "-o", "json")), &hooks); err != nil || len(hooks.Items) != 1 {
		t.Fatalf("webhook list: %+v, %v", hooks, err)
	}
	hook := hooks.Items[0]
	if hook.Secret != "" {
		t.Error("webhook list shows the secret")
	}

	rc.mu.Lock()
	rc.holdAt = 2
	rc.mu.Unlock()
	applyModels(t, mg, 0, 3)
	want := createdSeqs(t, mg, hook.Cursor)
	if len(want) != 3 {
		t.Fatalf("%d model.created events, want 3", len(want))
	}
	select {
	case <-rc.held:
	case <-time.After(15 * time.Second):
		t.Fatalf("the second event was not delivered; server log:\n%s", srv.log)
	}
	srv.kill(t) // a crash, with the delivery in flight
	if got := rc.got(); !slices.Equal(got, want[:1]) {
		t.Fatalf("before the crash the receiver accepted %v, want %v", got, want[:1])
	}
	close(rc.release)

	srv = startServer(t, dir, "--webhook-allow-private")
	mg = srv.cli()
	applyModels(t, mg, 3, 2)
	want = createdSeqs(t, mg, hook.Cursor)
	deadline := time.Now().Add(20 * time.Second)
	for len(rc.got()) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the receiver accepted %v, want %v; server log:\n%s", rc.got(), want, srv.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := rc.got(); !slices.Equal(got, want) {
		t.Fatalf("receiver accepted %v, want %v", got, want)
	}

	out := mg.succeed(t, "", "webhook", "deliveries", hook.ID)
	if !strings.Contains(out, "ok 204") || !strings.Contains(out, "io.modelgov.model.created") {
		t.Errorf("webhook deliveries printed:\n%s", out)
	}
	var log api.DeliveryList
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "webhook", "deliveries", hook.ID, "-o", "json")), &log); err != nil || len(log.Items) == 0 {
		t.Fatalf("webhook deliveries -o json: %+v, %v", log, err)
	}
	out = mg.succeed(t, "", "webhook", "redeliver", hook.ID, fmt.Sprint(log.Items[0].ID))
	if !strings.Contains(out, fmt.Sprintf("redelivered event %d", log.Items[0].EventSeq)) {
		t.Errorf("webhook redeliver printed %q", out)
	}
	out = mg.succeed(t, "", "webhook", "disable", hook.ID, "--reason", "maintenance")
	if !strings.Contains(out, "disabled") || !strings.Contains(out, "maintenance") {
		t.Errorf("webhook disable printed:\n%s", out)
	}
	if out := mg.succeed(t, "", "webhook", "enable", hook.ID); !strings.Contains(out, "active") {
		t.Errorf("webhook enable printed:\n%s", out)
	}
	mg.succeed(t, "", "webhook", "delete", hook.ID)
	res := mg.fail(t, "", "webhook", "show", hook.ID)
	if !strings.Contains(res.stderr, "not found") {
		t.Errorf("webhook show of a deleted subscription: %s", res.stderr)
	}
}

// TestWebhookRefusesPrivateByDefault: a server without
// --webhook-allow-private refuses a loopback endpoint, saying how to allow
// it.
func TestWebhookRefusesPrivateByDefault(t *testing.T) {
	srv := startServer(t, t.TempDir())
	res := srv.cli().fail(t, "", "webhook", "create", "http://127.0.0.1:9/hook")
	if !strings.Contains(res.stderr, "--webhook-allow-private") {
		t.Errorf("stderr %q does not say how to allow a private endpoint", res.stderr)
	}
}

func createdSeqs(t *testing.T, mg commandLine, after int64) []int64 {
	t.Helper()
	var evs []api.Event
	if err := json.Unmarshal([]byte(mg.succeed(t, "", "events", "--type", "io.modelgov.model.created", "--after", fmt.Sprint(after), "-o", "json")), &evs); err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}
