package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/webhook"
)

// endpoint is a webhook receiver that answers 204 to every delivery and
// keeps their event sequence numbers.
type endpoint struct {
	*httptest.Server
	mu   sync.Mutex
	seqs []int64
	ids  []string
	body [][]byte
	hdr  []http.Header
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev api.Event
		_ = json.Unmarshal(b, &ev)
		e.mu.Lock()
		e.seqs = append(e.seqs, ev.Seq)
		e.ids = append(e.ids, r.Header.Get(webhook.HeaderID))
		e.body = append(e.body, b)
		e.hdr = append(e.hdr, r.Header.Clone())
		e.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) received() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.seqs)
}

// webhook subscribes a new endpoint of the cell to every event, as the
// admin, and returns the subscription's id.
func (c *cell) webhook() string {
	w, err := c.s.client.CreateWebhook(context.Background(), api.WebhookRequest{URL: newEndpoint(c.t).URL + "/hook"})
	if err != nil {
		c.t.Fatalf("create webhook: %v", err)
	}
	return w.ID
}

// delivery logs a delivery of the newest event to a new subscription of
// the cell, as the dispatcher would, and returns the subscription and the
// delivery.
func (c *cell) delivery() (string, int64) {
	ctx := context.Background()
	id := c.webhook()
	c.model("delivered")
	evs, err := c.s.client.ListEvents(ctx, client.ListEventsOptions{After: 0, PageSize: 1000})
	if err != nil {
		c.t.Fatal(err)
	}
	ev := evs.Items[len(evs.Items)-1]
	d := &api.Delivery{WebhookID: id, EventSeq: ev.Seq, EventType: ev.Type, MessageID: webhook.MessageID(id, ev.Seq),
		Attempt: 1, Time: time.Now().UTC(), OK: true, Status: 204}
	if _, err := c.s.reg.RecordDelivery(ctx, d, 0, time.Time{}); err != nil {
		c.t.Fatal(err)
	}
	return id, d.ID
}

// Over HTTP: an admin subscribes, the dispatcher delivers every event in
// order, signed so that the Standard Webhooks library verifies it; the
// delivery log lists the attempts; a redelivery repeats one; a deletion
// stops them.
func TestWebhooksOverHTTP(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, serverConfig{dispatch: true})
	ep := newEndpoint(t)
	hook, err := s.client.CreateWebhook(ctx, api.WebhookRequest{URL: ep.URL + "/in?k=1", Types: []string{registry.EventModelCreated,
		registry.EventModelLifecycleChanged}, Description: "voting service"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hook.Secret, webhook.SecretPrefix) || hook.Status != api.WebhookActive || hook.CreatedBy == "" {
		t.Fatalf("created subscription = %+v", hook)
	}
	for _, id := range []string{"a/one", "a/two", "a/three"} {
		if _, err := s.client.CreateModel(ctx, mustJSON(t, fullDocument(id)), client.JSON, client.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.client.ChangeLifecycle(ctx, "a/one", api.LifecycleChange{Status: api.StatusActive, Reason: "vote 7"}, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.client.ListEvents(ctx, client.ListEventsOptions{After: hook.Cursor, Types: hook.Types, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, ev := range evs.Items {
		want = append(want, ev.Seq)
	}
	if len(want) != 4 {
		t.Fatalf("the outbox has %d matching events, want 4", len(want))
	}
	waitUntil(t, "every delivery, recorded", func() bool {
		w, err := s.client.GetWebhook(ctx, hook.ID)
		return len(ep.received()) >= len(want) && err == nil && w.Cursor == want[len(want)-1]
	})
	if got := ep.received(); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	wh, err := standardwebhooks.NewWebhook(hook.Secret)
	if err != nil {
		t.Fatal(err)
	}
	ep.mu.Lock()
	for i, b := range ep.body {
		if err := wh.Verify(b, ep.hdr[i]); err != nil {
			t.Errorf("delivery %d does not verify: %v", i, err)
		}
		var ev api.Event
		if err := json.Unmarshal(b, &ev); err != nil || ev.ID != evs.Items[i].ID || ev.Type != evs.Items[i].Type ||
			!jsonEqual(ev.Data, evs.Items[i].Data) {
			t.Errorf("delivery %d = %s, want the event as GET /v1/events lists it", i, b)
		}
	}
	ep.mu.Unlock()

	// The listing never shows the secret; the subscription's cursor moved.
	list, err := s.client.ListWebhooks(ctx)
	if err != nil || len(list.Items) != 1 || list.Items[0].Secret != "" {
		t.Fatalf("ListWebhooks = %+v, %v", list, err)
	}
	got, err := s.client.GetWebhook(ctx, hook.ID)
	if err != nil || got.Secret != "" || got.Cursor != want[len(want)-1] {
		t.Fatalf("GetWebhook = %+v, %v; want cursor %d and no secret", got, err, want[len(want)-1])
	}

	// The delivery log, newest first, paged.
	page, err := s.client.ListDeliveries(ctx, hook.ID, 0, 3)
	if err != nil || len(page.Items) != 3 || page.NextBefore == 0 || page.Items[0].EventSeq != want[3] {
		t.Fatalf("first page of deliveries = %+v, %v", page, err)
	}
	rest, err := s.client.ListDeliveries(ctx, hook.ID, page.NextBefore, 3)
	if err != nil || len(rest.Items) != 1 || rest.NextBefore != 0 || rest.Items[0].EventSeq != want[0] || !rest.Items[0].OK {
		t.Fatalf("second page of deliveries = %+v, %v", rest, err)
	}

	// A redelivery sends the same message again and is logged as one.
	d, err := s.client.Redeliver(ctx, hook.ID, rest.Items[0].ID)
	if err != nil || !d.OK || d.RedeliveryOf != rest.Items[0].ID || d.MessageID != rest.Items[0].MessageID {
		t.Fatalf("Redeliver = %+v, %v", d, err)
	}
	waitUntil(t, "the redelivery", func() bool { return len(ep.received()) == len(want)+1 })
	if got := ep.received(); got[len(got)-1] != want[0] {
		t.Errorf("redelivered event %d, want %d", got[len(got)-1], want[0])
	}
	if _, err := s.client.Redeliver(ctx, hook.ID, 999999); !client.IsNotFound(err) {
		t.Errorf("redelivering an unknown delivery: %v, want 404", err)
	}

	// Disabled, nothing is delivered; enabled, what was missed is.
	if _, err := s.client.DisableWebhook(ctx, hook.ID, "maintenance window"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.CreateModel(ctx, mustJSON(t, fullDocument("a/four")), client.JSON, client.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if n := len(ep.received()); n != len(want)+1 {
		t.Fatalf("a disabled subscription received %d deliveries, want %d", n, len(want)+1)
	}
	if w, err := s.client.EnableWebhook(ctx, hook.ID); err != nil || w.Status != api.WebhookActive {
		t.Fatalf("EnableWebhook = %+v, %v", w, err)
	}
	waitUntil(t, "the missed event", func() bool { return len(ep.received()) == len(want)+2 })

	// Deleted, it is gone, and so is its log.
	if _, err := s.client.DeleteWebhook(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.GetWebhook(ctx, hook.ID); !client.IsNotFound(err) {
		t.Errorf("GetWebhook after delete: %v, want 404", err)
	}
	if _, err := s.client.ListDeliveries(ctx, hook.ID, 0, 0); !client.IsNotFound(err) {
		t.Errorf("deliveries after delete: %v, want 404", err)
	}
}

// Bad subscriptions are refused with the field at fault, and nothing is
// stored; private destinations need --webhook-allow-private.
func TestWebhookValidation(t *testing.T) {
	ctx := context.Background()
	s := newTestServer(t, serverConfig{publicWebhooksOnly: true})
	after := int64(1 << 40)
	neg := int64(-1)
	for _, tt := range []struct {
		req     api.WebhookRequest
		pointer string
		msg     string
	}{
		{api.WebhookRequest{URL: ""}, "/url", "empty"},
		{api.WebhookRequest{URL: "ftp://example.com/x"}, "/url", "scheme"},
		{api.WebhookRequest{URL: "https://user:pw@example.com/x"}, "/url", "user information"},
		{api.WebhookRequest{URL: "http://127.0.0.1:9/x"}, "/url", "--webhook-allow-private"},
		{api.WebhookRequest{URL: "http://169.254.169.254/latest/meta-data"}, "/url", "private destinations"},
		{api.WebhookRequest{URL: "http://[::1]/x"}, "/url", "private destinations"},
		{api.WebhookRequest{URL: "https://example.com/" + strings.Repeat("a", 3000)}, "/url", "longer than"},
		{api.WebhookRequest{URL: "https://example.com/x", Types: []string{"io.modelgov.model.exploded"}}, "/types/0", "not an event type"},
		{api.WebhookRequest{URL: "https://example.com/x", Description: strings.Repeat("é", 300)}, "/description", "at most 256"},
		{api.WebhookRequest{URL: "https://example.com/x", After: &after}, "/after", "newest event"},
		{api.WebhookRequest{URL: "https://example.com/x", After: &neg}, "/after", "negative"},
	} {
		_, err := s.client.CreateWebhook(ctx, tt.req)
		var pe *api.Problem
		if !errors.As(err, &pe) || pe.Status != http.StatusUnprocessableEntity {
			t.Errorf("%+v: %v, want 422", tt.req, err)
			continue
		}
		found := false
		for _, f := range pe.Errors {
			if f.Pointer == tt.pointer && strings.Contains(f.Message, tt.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("%+v: errors %+v, want %s saying %q", tt.req, pe.Errors, tt.pointer, tt.msg)
		}
	}
	if list, err := s.client.ListWebhooks(ctx); err != nil || len(list.Items) != 0 {
		t.Errorf("refused subscriptions were stored: %+v, %v", list, err)
	}
	// A public name is accepted at subscription: the dialer checks what it
	// resolves to when it connects.
	if _, err := s.client.CreateWebhook(ctx, api.WebhookRequest{URL: "https://hooks.example.com/modelgov"}); err != nil {
		t.Errorf("a public URL: %v", err)
	}
	if _, err := s.client.GetWebhook(ctx, "wh_0000000000000000"); !client.IsNotFound(err) {
		t.Errorf("GetWebhook(unknown) = %v, want 404", err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
