package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
)

// newEvent returns an event of type io.modelgov.<kind> about subject.
func newEvent(kind, subject string) *api.Event {
	return &api.Event{SpecVersion: api.CloudEventsVersion, Source: "/modelgov/test", Type: api.EventTypePrefix + kind,
		Subject: subject, Time: t0, DataContentType: "application/json", Data: json.RawMessage(`{"action":"` + kind + `"}`)}
}

func appendEvents(t *testing.T, s store.Store, es ...*api.Event) {
	t.Helper()
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, e := range es {
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func listEvents(t *testing.T, s store.Store, q store.EventQuery) []*api.Event {
	t.Helper()
	list, err := s.ListEvents(context.Background(), q)
	if err != nil {
		t.Fatalf("ListEvents(%+v): %v", q, err)
	}
	return list
}

func eventSeqs(es []*api.Event) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

func testEventRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	if n, err := s.LastEventSeq(ctx); err != nil || n != 0 {
		t.Errorf("LastEventSeq of a new store = %d, %v; want 0", n, err)
	}
	if list := listEvents(t, s, store.EventQuery{Limit: 10}); list == nil || len(list) != 0 {
		t.Errorf("ListEvents of a new store = %#v, want an empty, non-nil list", list)
	}
	e := newEvent("model.created", "openai/gpt-5")
	// A time in another zone, with nanoseconds, comes back in UTC.
	e.Time = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3*3600))
	e.Data = json.RawMessage("{\"model\": {\"id\":\"openai/gpt-5\"},\n \"note\":\"h\u00e9llo \u2713\"}")
	appendEvents(t, s, e)
	if e.Seq != 1 || e.ID != "1" {
		t.Fatalf("AppendEvent set seq %d, id %q; want 1, \"1\"", e.Seq, e.ID)
	}
	list := listEvents(t, s, store.EventQuery{Limit: 10})
	if len(list) != 1 {
		t.Fatalf("ListEvents = %d events, want 1", len(list))
	}
	want := *e
	want.Time = e.Time.UTC()
	got := list[0]
	if got.Time.Location() != time.UTC || !got.Time.Equal(e.Time) || got.Time.Nanosecond() != 123456789 {
		t.Errorf("time = %v, want %v in UTC", got.Time, want.Time)
	}
	if string(got.Data) != string(e.Data) {
		t.Errorf("data = %q, want %q", got.Data, e.Data)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("ListEvents = %+v, want %+v", got, &want)
	}
	if n, err := s.LastEventSeq(ctx); err != nil || n != 1 {
		t.Errorf("LastEventSeq = %d, %v; want 1", n, err)
	}
	// A limit must be given.
	for _, limit := range []int{0, -1} {
		if _, err := s.ListEvents(ctx, store.EventQuery{Limit: limit}); err == nil {
			t.Errorf("ListEvents with limit %d: no error", limit)
		}
	}
}

func testEventSequence(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := newEvent("model.created", "a/x"), newEvent("model.updated", "a/x")
	appendEvents(t, s, a, b)
	c := newEvent("model.deleted", "a/x")
	appendEvents(t, s, c)
	for i, e := range []*api.Event{a, b, c} {
		if e.Seq != int64(i+1) || e.ID != fmt.Sprint(i+1) {
			t.Errorf("event %d: seq %d, id %q; want %d", i, e.Seq, e.ID, i+1)
		}
	}
	// Inside the transaction, its own events count.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if n, err := tx.LastEventSeq(ctx); err != nil || n != 3 {
			return fmt.Errorf("LastEventSeq in a transaction = %d, %v; want 3", n, err)
		}
		return nil
	})
	// An aborted transaction takes its events with it, and leaves no gap.
	boom := errors.New("boom")
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		for range 2 {
			if err := tx.AppendEvent(ctx, newEvent("model.updated", "a/y")); err != nil {
				return err
			}
		}
		if n, err := tx.LastEventSeq(ctx); err != nil || n != 5 {
			return fmt.Errorf("LastEventSeq after own appends = %d, %v; want 5", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("aborted ReadWrite: %v, want boom", err)
	}
	if n, err := s.LastEventSeq(ctx); err != nil || n != 3 {
		t.Errorf("LastEventSeq after an abort = %d, %v; want 3", n, err)
	}
	if list := listEvents(t, s, store.EventQuery{Subject: "a/y", Limit: 10}); len(list) != 0 {
		t.Errorf("aborted events are listed: %v", eventSeqs(list))
	}
	d := newEvent("model.updated", "a/z")
	appendEvents(t, s, d)
	if d.Seq != 4 || d.ID != "4" {
		t.Errorf("event after an abort: seq %d, id %q; want 4", d.Seq, d.ID)
	}
	if got := eventSeqs(listEvents(t, s, store.EventQuery{Limit: 10})); !reflect.DeepEqual(got, []int64{1, 2, 3, 4}) {
		t.Errorf("ListEvents = %v, want 1..4", got)
	}
}

func testEventFilters(t *testing.T, s store.Store) {
	appendEvents(t, s,
		newEvent("model.created", "a/x"),     // 1
		newEvent("model.created", "a/y"),     // 2
		newEvent("model.updated", "a/x"),     // 3
		newEvent("alias.moved", "hivellm/c"), // 4
		newEvent("model.deleted", "a/x"),     // 5
		newEvent("model.updated", "a/y"),     // 6
	)
	p := api.EventTypePrefix
	for _, tt := range []struct {
		name string
		q    store.EventQuery
		want []int64
	}{
		{"all", store.EventQuery{}, []int64{1, 2, 3, 4, 5, 6}},
		{"after", store.EventQuery{After: 4}, []int64{5, 6}},
		{"after the last", store.EventQuery{After: 6}, []int64{}},
		{"limit", store.EventQuery{Limit: 2}, []int64{1, 2}},
		{"after and limit", store.EventQuery{After: 2, Limit: 3}, []int64{3, 4, 5}},
		{"one type", store.EventQuery{Types: []string{p + "model.created"}}, []int64{1, 2}},
		{"types", store.EventQuery{Types: []string{p + "model.deleted", p + "alias.moved"}}, []int64{4, 5}},
		{"unknown type", store.EventQuery{Types: []string{p + "nothing"}}, []int64{}},
		{"subject", store.EventQuery{Subject: "a/x"}, []int64{1, 3, 5}},
		{"subject and type", store.EventQuery{Subject: "a/y", Types: []string{p + "model.updated"}}, []int64{6}},
		{"everything", store.EventQuery{After: 1, Subject: "a/x", Types: []string{p + "model.updated", p + "model.deleted"}, Limit: 1}, []int64{3}},
	} {
		if tt.q.Limit == 0 {
			tt.q.Limit = 100
		}
		if got := eventSeqs(listEvents(t, s, tt.q)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ListEvents(%+v) = %v, want %v", tt.name, tt.q, got, tt.want)
		}
	}
}

func testConcurrentEvents(t *testing.T, s store.Store) {
	const writers, each = 8, 50
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := s.ReadWrite(context.Background(), func(ctx context.Context, tx store.Tx) error {
					return tx.AppendEvent(ctx, newEvent("model.updated", fmt.Sprintf("w%d/%d", w, i)))
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("concurrent append: %v", err)
	}
	ctx := context.Background()
	if n, err := s.LastEventSeq(ctx); err != nil || n != writers*each {
		t.Errorf("LastEventSeq = %d, %v; want %d", n, err, writers*each)
	}
	list := listEvents(t, s, store.EventQuery{Limit: writers*each + 10})
	if len(list) != writers*each {
		t.Fatalf("ListEvents = %d events, want %d", len(list), writers*each)
	}
	subjects := map[string]bool{}
	for i, e := range list {
		if e.Seq != int64(i+1) || e.ID != fmt.Sprint(i+1) {
			t.Fatalf("event %d has seq %d, id %q: a gap or a duplicate", i+1, e.Seq, e.ID)
		}
		if subjects[e.Subject] {
			t.Errorf("event %s appended twice", e.Subject)
		}
		subjects[e.Subject] = true
	}
}
