package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

func newWebhook(id string, created time.Time) *store.Webhook {
	return &store.Webhook{Webhook: api.Webhook{ID: id, URL: "https://hooks.example.com/" + id + "?key=1",
		Types:  []string{api.EventTypePrefix + "model.created", api.EventTypePrefix + "model.classified"},
		Status: api.WebhookActive, CreatedAt: created, CreatedBy: "alice", Cursor: 7},
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
}

func testWebhookRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	if list, err := s.ListWebhooks(ctx); err != nil || list == nil || len(list) != 0 {
		t.Errorf("ListWebhooks of a new store = %#v, %v; want an empty, non-nil list", list, err)
	}
	if _, err := s.GetWebhook(ctx, "wh_missing"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetWebhook(missing) = %v, want NotFound", err)
	}
	a, b := newWebhook("wh_a", t0.Add(time.Minute)), newWebhook("wh_b", t0)
	b.Types = nil
	b.Description = "the voting service"
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, w := range []*store.Webhook{a, b} {
			if err := tx.PutWebhook(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.GetWebhook(ctx, "wh_a")
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("GetWebhook = %+v, want %+v", got, a)
	}
	list, err := s.ListWebhooks(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "wh_b" || list[1].ID != "wh_a" {
		t.Fatalf("ListWebhooks = %v, %v; want wh_b then wh_a (oldest first)", list, err)
	}
	if list[0].Types == nil || len(list[0].Types) != 0 {
		t.Errorf("a webhook stored with no types reads back %#v, want an empty list", list[0].Types)
	}

	// Replacing keeps one row and every field.
	next, ok := t0.Add(time.Hour), t0.Add(30*time.Minute)
	a.Status, a.DisabledReason, a.Cursor, a.ConsecutiveFailures = api.WebhookDisabled, "10 failures", 42, 10
	a.NextAttemptAt, a.LastSuccessAt, a.LastFailureAt = &next, &ok, &next
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutWebhook(ctx, a) })
	if got, err := s.GetWebhook(ctx, "wh_a"); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("GetWebhook after replace = %+v, %v; want %+v", got, err, a)
	}
	if list, _ := s.ListWebhooks(ctx); len(list) != 2 {
		t.Errorf("ListWebhooks after replace has %d, want 2", len(list))
	}

	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteWebhook(ctx, "wh_a") })
	if _, err := s.GetWebhook(ctx, "wh_a"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetWebhook after delete = %v, want NotFound", err)
	}
	err = s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error { return tx.DeleteWebhook(ctx, "wh_a") })
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("DeleteWebhook of a deleted webhook = %v, want NotFound", err)
	}
}

func newDelivery(webhookID string, seq int64, ok bool) *api.Delivery {
	d := &api.Delivery{WebhookID: webhookID, EventSeq: seq, EventType: api.EventTypePrefix + "model.created",
		MessageID: webhookID + "_1", Attempt: 1, Time: t0, OK: ok, DurationMS: 1.5}
	if ok {
		d.Status, d.Response = 204, ""
	} else {
		d.Status, d.Error, d.Response = 503, "webhook: endpoint answered 503 Service Unavailable", "busy, try later"
	}
	return d
}

func appendDeliveries(t *testing.T, s store.Store, ds ...*api.Delivery) {
	t.Helper()
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, d := range ds {
			if err := tx.AppendDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
}

func deliveryIDs(ds []*api.Delivery) []int64 {
	out := []int64{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func testDeliveries(t *testing.T, s store.Store) {
	ctx := context.Background()
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutWebhook(ctx, newWebhook("wh_a", t0)); err != nil {
			return err
		}
		return tx.PutWebhook(ctx, newWebhook("wh_b", t0))
	})
	var mine []*api.Delivery
	for i := range 5 {
		d := newDelivery("wh_a", int64(i+1), i%2 == 0)
		other := newDelivery("wh_b", int64(i+1), true)
		appendDeliveries(t, s, d, other)
		if d.ID <= 0 || other.ID <= d.ID || (len(mine) > 0 && d.ID <= mine[len(mine)-1].ID) {
			t.Fatalf("delivery ids %d, %d after %v: want increasing", d.ID, other.ID, deliveryIDs(mine))
		}
		mine = append(mine, d)
	}
	last := newDelivery("wh_a", 1, true)
	last.RedeliveryOf, last.By = mine[0].ID, "alice"
	appendDeliveries(t, s, last)
	mine = append(mine, last)

	got, err := s.ListDeliveries(ctx, "wh_a", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("ListDeliveries = %v, want 6", deliveryIDs(got))
	}
	for i, d := range got {
		if want := mine[len(mine)-1-i]; !reflect.DeepEqual(d, want) {
			t.Errorf("delivery %d = %+v, want %+v", i, d, want)
		}
	}
	page, err := s.ListDeliveries(ctx, "wh_a", got[1].ID, 2)
	if err != nil || !reflect.DeepEqual(deliveryIDs(page), deliveryIDs(got[2:4])) {
		t.Errorf("ListDeliveries(before %d, 2) = %v, %v; want %v", got[1].ID, deliveryIDs(page), err, deliveryIDs(got[2:4]))
	}
	if d, err := s.GetDelivery(ctx, "wh_a", mine[1].ID); err != nil || !reflect.DeepEqual(d, mine[1]) {
		t.Errorf("GetDelivery = %+v, %v; want %+v", d, err, mine[1])
	}
	if _, err := s.GetDelivery(ctx, "wh_b", mine[1].ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetDelivery of another webhook's delivery = %v, want NotFound", err)
	}

	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PruneDeliveries(ctx, "wh_a", 2) })
	if got, _ := s.ListDeliveries(ctx, "wh_a", 0, 100); !reflect.DeepEqual(deliveryIDs(got), []int64{mine[5].ID, mine[4].ID}) {
		t.Errorf("after pruning to 2: %v, want %v", deliveryIDs(got), []int64{mine[5].ID, mine[4].ID})
	}
	if got, _ := s.ListDeliveries(ctx, "wh_b", 0, 100); len(got) != 5 {
		t.Errorf("pruning wh_a left wh_b %d deliveries, want 5", len(got))
	}
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PruneDeliveries(ctx, "wh_a", 10) })
	if got, _ := s.ListDeliveries(ctx, "wh_a", 0, 100); len(got) != 2 {
		t.Errorf("pruning to more than there are removed some: %d left", len(got))
	}

	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteWebhook(ctx, "wh_b") })
	if got, err := s.ListDeliveries(ctx, "wh_b", 0, 100); err != nil || len(got) != 0 {
		t.Errorf("deliveries of a deleted webhook = %v, %v; want none", deliveryIDs(got), err)
	}

	// A delivery appended in an aborted transaction is not kept.
	boom := errors.New("boom")
	err = s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AppendDelivery(ctx, newDelivery("wh_a", 9, true)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReadWrite = %v, want boom", err)
	}
	if got, _ := s.ListDeliveries(ctx, "wh_a", 0, 100); len(got) != 2 {
		t.Errorf("an aborted delivery was kept: %v", deliveryIDs(got))
	}
}

func testLeases(t *testing.T, s store.Store) {
	ctx := context.Background()
	acquire := func(name, holder string, now time.Time) bool {
		t.Helper()
		var ok bool
		write(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			ok, err = tx.AcquireLease(ctx, name, holder, now, 30*time.Second)
			return err
		})
		return ok
	}
	if !acquire("webhooks", "a", t0) {
		t.Fatal("a free lease was refused")
	}
	if acquire("webhooks", "b", t0.Add(10*time.Second)) {
		t.Error("a held lease was given to another holder")
	}
	if !acquire("other", "b", t0.Add(10*time.Second)) {
		t.Error("a lease of another name was refused")
	}
	if !acquire("webhooks", "a", t0.Add(20*time.Second)) {
		t.Error("the holder could not renew its lease")
	}
	// Renewed at 20 s, it runs to 50 s.
	if acquire("webhooks", "b", t0.Add(49*time.Second)) {
		t.Error("a renewed lease was taken before it expired")
	}
	if !acquire("webhooks", "b", t0.Add(50*time.Second)) {
		t.Error("an expired lease was not given to another holder")
	}
	if acquire("webhooks", "a", t0.Add(60*time.Second)) {
		t.Error("the old holder took back a lease held by another")
	}
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.AcquireLease(ctx, "webhooks", "a", t0, 0)
		return err
	})
	if err == nil {
		t.Error("a lease with no duration: want an error")
	}
}
