package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

// sseEvent is one event read from a watch stream.
type sseEvent struct {
	id, name string
	event    api.Event
}

// openWatch opens GET /v1/watch with query and header and returns a channel
// of what the stream sends: events, and comments as name "comment".
func openWatch(t *testing.T, ts *testServer, query string, header ...string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/v1/watch"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ts.token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("GET /v1/watch%s: %d %s", query, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 4096)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.id != "" || cur.name != "" {
					out <- cur
				}
				cur = sseEvent{}
			case strings.HasPrefix(line, ":"):
				out <- sseEvent{name: "comment", id: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &cur.event); err != nil && cur.name != "resync" {
					t.Errorf("event data %q: %v", line[6:], err)
				}
			}
		}
	})
	return out, func() { cancel(); wg.Wait() }
}

// next returns the next event (not a comment) of a stream, failing the
// test after timeout.
func next(t *testing.T, ch <-chan sseEvent, timeout time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.name != "comment" {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event within %v", timeout)
		}
	}
}

// TestWatchSeesEveryEventOnceInOrder: under concurrent writes from many
// goroutines, a watcher receives every event exactly once, in sequence
// order, with no gap; and each event is the change it reports.
func TestWatchSeesEveryEventOnceInOrder(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	start, err := ts.reg.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events, stop := openWatch(t, ts, fmt.Sprintf("?after=%d", start))
	defer stop()

	const writers, each = 8, 15
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("p%d/m-%d", w, i)
				code, _, body := ts.call(t, "POST", "/v1/models", "application/json",
					[]byte(fmt.Sprintf(`{"schema_version":"1.1","model_id":%q,"provider":"p%d","display_name":"M %d %d"}`, id, w, w, i)))
				if code != 201 {
					t.Errorf("create %s: %d %s", id, code, body)
				}
			}
		})
	}
	wg.Wait()
	created := map[string]bool{}
	for want := start + 1; want <= start+writers*each; want++ {
		ev := next(t, events, 10*time.Second)
		if ev.id != strconv.FormatInt(want, 10) || ev.event.Seq != want || ev.event.ID != ev.id {
			t.Fatalf("event id %s (seq %d), want %d: a gap or a duplicate", ev.id, ev.event.Seq, want)
		}
		if ev.name != "io.modelgov.model.created" || ev.event.Type != ev.name || ev.event.SpecVersion != "1.0" {
			t.Fatalf("event %s is %s/%s, want io.modelgov.model.created", ev.id, ev.name, ev.event.Type)
		}
		var data api.EventData
		if err := json.Unmarshal(ev.event.Data, &data); err != nil || data.Model == nil || data.Model.ModelID != ev.event.Subject {
			t.Fatalf("event %s data %s: %v", ev.id, ev.event.Data, err)
		}
		if created[ev.event.Subject] {
			t.Fatalf("%s reported twice", ev.event.Subject)
		}
		created[ev.event.Subject] = true
	}
	if len(created) != writers*each {
		t.Errorf("%d models reported, want %d", len(created), writers*each)
	}
}

// TestWatchResumesWithLastEventID: a watcher that disconnects and comes
// back with Last-Event-ID misses nothing, and receives nothing twice.
func TestWatchResumesWithLastEventID(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	create := func(i int) {
		code, _, body := ts.call(t, "POST", "/v1/models", "application/json",
			[]byte(fmt.Sprintf(`{"schema_version":"1.1","model_id":"p/m-%d","provider":"p","display_name":"M %d"}`, i, i)))
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
	}
	create(0)
	events, stop := openWatch(t, ts, "?type=io.modelgov.model.created")
	first := next(t, events, 5*time.Second)
	if first.event.Subject != "p/m-0" {
		t.Fatalf("first event is about %s, want p/m-0", first.event.Subject)
	}
	stop()
	for i := 1; i <= 5; i++ {
		create(i) // while the watcher is away
	}
	events, stop = openWatch(t, ts, "?type=io.modelgov.model.created", "Last-Event-ID", first.id)
	defer stop()
	for i := 1; i <= 5; i++ {
		ev := next(t, events, 5*time.Second)
		if ev.event.Subject != fmt.Sprintf("p/m-%d", i) {
			t.Fatalf("after resuming, event %d is about %s, want p/m-%d", i, ev.event.Subject, i)
		}
	}
	create(6) // live, after the catch-up
	if ev := next(t, events, 5*time.Second); ev.event.Subject != "p/m-6" {
		t.Fatalf("the live event is about %s, want p/m-6", ev.event.Subject)
	}
}

// TestWatchFiltersHeartbeatsAndResync: filters by type and subject hold;
// an idle stream sends heartbeats; a stream too far behind is told to
// resync and closed; a bad filter is a problem answer.
func TestWatchFiltersHeartbeatsAndResync(t *testing.T) {
	ts := newTestServer(t, serverConfig{heartbeat: 50 * time.Millisecond, maxLag: 3})
	for i := range 12 {
		code, _, body := ts.call(t, "POST", "/v1/models", "application/json",
			[]byte(fmt.Sprintf(`{"schema_version":"1.1","model_id":"p/m-%d","provider":"p","display_name":"M %d"}`, i, i)))
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
	}
	// Subject filter, from the newest: only heartbeats until p/m-3 changes.
	last, _ := ts.reg.LastEventSeq(context.Background())
	events, stop := openWatch(t, ts, fmt.Sprintf("?after=%d&subject=p/m-3", last))
	heartbeats := 0
	deadline := time.After(2 * time.Second)
	for heartbeats < 2 {
		select {
		case ev := <-events:
			if ev.name != "comment" {
				t.Fatalf("an idle filtered stream sent %+v", ev)
			}
			if ev.id == "heartbeat" {
				heartbeats++
			}
		case <-deadline:
			t.Fatalf("%d heartbeats in 2 s, want 2 at 50 ms", heartbeats)
		}
	}
	code, _, _ := ts.call(t, "PATCH", "/v1/models/p/m-3", "application/merge-patch+json", []byte(`{"notes":"x"}`))
	if code != 200 {
		t.Fatalf("patch: %d", code)
	}
	if ev := next(t, events, 5*time.Second); ev.name != "io.modelgov.model.updated" || ev.event.Subject != "p/m-3" {
		t.Fatalf("filtered event %+v, want the update of p/m-3", ev)
	}
	stop()

	// From the start, with 500 events a read and a lag of 3 allowed: the
	// first read leaves it far behind, so it is told to resync.
	ts2 := newTestServer(t, serverConfig{maxLag: 3})
	for i := range 600 {
		code, _, _ := ts2.call(t, "POST", "/v1/models", "application/json",
			[]byte(fmt.Sprintf(`{"schema_version":"1.1","model_id":"q/m-%d","provider":"q","display_name":"M %d"}`, i, i)))
		if code != 201 {
			t.Fatalf("create: %d", code)
		}
	}
	events, stop = openWatch(t, ts2, "?after=0")
	defer stop()
	sawResync := false
	for ev := range events {
		if ev.name == "resync" {
			sawResync = true
		}
	}
	if !sawResync {
		t.Error("a stream far behind was not told to resync before it was closed")
	}

	for _, q := range []string{"?after=x", "?type=model.created", "?colour=red"} {
		if code, _, body := ts.call(t, "GET", "/v1/watch"+q, "", nil); code != 400 {
			t.Errorf("GET /v1/watch%s: %d %s, want 400", q, code, body)
		}
	}
}

// TestEventsList: GET /v1/events pages through the outbox in order.
func TestEventsList(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	for i := range 5 {
		ts.call(t, "POST", "/v1/models", "application/json",
			[]byte(fmt.Sprintf(`{"schema_version":"1.1","model_id":"p/m-%d","provider":"p","display_name":"M %d"}`, i, i)))
	}
	var all []*api.Event
	after := int64(0)
	for {
		code, _, body := ts.call(t, "GET", fmt.Sprintf("/v1/events?after=%d&page_size=2&type=io.modelgov.model.created", after), "", nil)
		if code != 200 {
			t.Fatalf("list events: %d %s", code, body)
		}
		var page api.EventList
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if page.NextAfter == 0 {
			break
		}
		after = page.NextAfter
	}
	if len(all) != 5 {
		t.Fatalf("%d model.created events, want 5", len(all))
	}
	for i, ev := range all {
		if ev.Subject != fmt.Sprintf("p/m-%d", i) || (i > 0 && ev.Seq <= all[i-1].Seq) {
			t.Errorf("event %d: %s seq %d", i, ev.Subject, ev.Seq)
		}
	}
}

// TestWatchOutlivesReadTimeout: a server with a ReadTimeout (the real one
// has 60 s) keeps a watch stream open past it.
func TestWatchOutlivesReadTimeout(t *testing.T) {
	ts := newTestServer(t, serverConfig{heartbeat: 50 * time.Millisecond})
	srv := httptest.NewUnstartedServer(ts.api)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+"/v1/watch", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	start := time.Now()
	for time.Since(start) < time.Second {
		if !sc.Scan() {
			t.Fatalf("the stream ended after %v, with a read timeout of 200 ms: %v", time.Since(start).Round(time.Millisecond), sc.Err())
		}
	}
}

// TestStalledWatcherNeverHoldsWriters: a watcher that stops reading (its
// TCP buffers fill) does not hold the writers back, and what it does read
// later is still the events in order.
func TestStalledWatcherNeverHoldsWriters(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v1/watch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", ts.token)
	// Large documents fill the socket buffers quickly: the stream's
	// writes then block, and the registry's must not.
	notes := strings.Repeat("n", 60000)
	done := make(chan error, 1)
	go func() {
		for i := range 300 {
			code, _, body := ts.call(t, "POST", "/v1/models", "application/json",
				[]byte(fmt.Sprintf(`{"schema_version":"1.1","model_id":"p/m-%d","provider":"p","display_name":"M %d","notes":%q}`, i, i, notes)))
			if code != 201 {
				done <- fmt.Errorf("create %d: %d %s", i, code, body)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("writes are held back by a watcher that does not read")
	}
	// The stalled stream, read now, still starts with the events in order.
	r := bufio.NewReaderSize(conn, 1<<20)
	var ids []string
	for len(ids) < 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stalled stream: %v", err)
		}
		if strings.HasPrefix(line, "id: ") {
			ids = append(ids, strings.TrimSpace(line[4:]))
		}
	}
	for i := 1; i < len(ids); i++ {
		a, _ := strconv.Atoi(ids[i-1])
		b, _ := strconv.Atoi(ids[i])
		if b != a+1 {
			t.Fatalf("ids %v: a gap", ids)
		}
	}
}

// TestWatchEndsWhenTokenRevoked: a watch stream lasts only as long as its
// credentials: revoking its token ends it.
func TestWatchEndsWhenTokenRevoked(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	code, _, body := ts.call(t, "POST", "/v1/tokens", "application/json", []byte(`{"name":"dashboard","roles":["viewer"]}`))
	if code != 201 {
		t.Fatalf("create a token: %d %s", code, body)
	}
	var tok api.Token
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}
	events, stop := openWatch(t, ts, "?type=io.modelgov.model.created", "Authorization", "Bearer "+tok.Token)
	defer stop()
	if code, _, body := ts.call(t, "POST", "/v1/models", "application/json",
		[]byte(`{"schema_version":"1.1","model_id":"p/m-1","provider":"p","display_name":"M 1"}`)); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	if ev := next(t, events, 5*time.Second); ev.event.Subject != "p/m-1" {
		t.Fatalf("the watch saw %s, want p/m-1", ev.event.Subject)
	}
	if code, _, body := ts.call(t, "DELETE", "/v1/tokens/"+tok.ID, "", nil); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return // the stream ended
			}
			if ev.name != "comment" {
				t.Fatalf("after its token was revoked, the stream sent %s about %s", ev.name, ev.event.Subject)
			}
		case <-deadline:
			t.Fatal("the watch of a revoked token goes on")
		}
	}
}
