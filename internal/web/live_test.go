package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/registry"
)

// liveDOM names the elements of the live page a browser test waits for.
// A browser test signs in, opens /live, waits for Table (the rows the
// server rendered are Rows), makes a change through the registry and waits
// for Row(seq) of its event: static/live.js prepends it, with the class
// "new", when the stream sends it, and says so in Status (a polite live
// region: "Live: 1 new event since the page loaded ..."). Empty is the
// placeholder row of an empty table, which live.js removes; Refresh is the
// link that reloads the page without JavaScript; Type and Subject are the
// filter's fields and Filter its button.
var liveDOM = struct {
	Table, Rows, Status, Refresh, Empty, Type, Subject, Filter string
	// Row returns the selector of event seq's row.
	Row func(seq int64) string
}{
	Table: "#events", Rows: "#events tbody tr[data-seq]", Status: "#live-status", Refresh: "#refresh", Empty: "#no-events",
	Type: "#type", Subject: "#subject", Filter: "#filter-events",
	Row: func(seq int64) string { return fmt.Sprintf(`#events tbody tr[data-seq="%d"]`, seq) },
}

// hasLiveElement reports whether the page has the element of an id selector.
func hasLiveElement(body, selector string) bool {
	return strings.Contains(body, `id="`+strings.TrimPrefix(selector, "#")+`"`)
}

// hasLiveRow reports whether the page has the row liveDOM.Row(seq) selects.
func hasLiveRow(body string, seq int64) bool {
	attr := strings.TrimSuffix(strings.TrimPrefix(liveDOM.Row(seq), "#events tbody tr["), "]")
	return strings.Contains(body, "<tr "+attr+">")
}

var liveGovernor = registry.WriteOptions{Caller: registry.Caller{Principal: "governor", Roles: []string{api.RoleGovernor}}}

// approveLive makes the registry write an event: id becomes active.
func (s *site) approveLive(t *testing.T, id string) {
	t.Helper()
	if _, err := s.reg.ChangeLifecycle(context.Background(), id, api.LifecycleChange{Status: api.StatusActive, Reason: "approved <b>live</b>"}, liveGovernor); err != nil {
		t.Fatal(err)
	}
}

// newestEvent is the sequence number of the newest event.
func (s *site) newestEvent(t *testing.T) int64 {
	t.Helper()
	n, err := s.reg.LastEventSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLivePage(t *testing.T) {
	s := newSite(t, siteConfig{models: 60})
	b := s.signIn(t, "viewer")
	head := s.newestEvent(t)
	res := b.get("/live")
	if res.status != http.StatusOK {
		t.Fatalf("live page: %d\n%s", res.status, res.body)
	}
	for _, sel := range []string{liveDOM.Table, liveDOM.Status, liveDOM.Refresh, liveDOM.Type, liveDOM.Subject, liveDOM.Filter} {
		if !hasLiveElement(res.body, sel) {
			t.Errorf("the live page has no %s", sel)
		}
	}
	if n := strings.Count(res.body, "<tr data-seq="); n != 50 {
		t.Errorf("the live page lists %d events, want the latest 50", n)
	}
	if !hasLiveRow(res.body, head) || !hasLiveRow(res.body, head-49) || hasLiveRow(res.body, head-50) {
		t.Errorf("the live page does not list events %d to %d", head-49, head)
	}
	if strings.Index(res.body, fmt.Sprintf(`data-seq="%d"`, head)) > strings.Index(res.body, fmt.Sprintf(`data-seq="%d"`, head-1)) {
		t.Errorf("the newest event is not first")
	}
	if !strings.Contains(res.body, fmt.Sprintf(`data-stream="/live/stream?after=%d"`, head)) {
		t.Errorf("the stream does not start after the newest event listed:\n%s", res.body)
	}
	// The page's only script is the static one: the CSP allows no other.
	if scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(res.body, -1); len(scripts) != 1 || scripts[0] != `<script src="/static/live.js" defer>` {
		t.Errorf("scripts on the live page: %q", scripts)
	}
	js := b.get("/static/live.js")
	if js.status != http.StatusOK || !strings.Contains(js.header.Get("Content-Type"), "javascript") || strings.Contains(js.body, "innerHTML") ||
		!strings.Contains(js.body, "textContent") {
		t.Errorf("live.js: %d %s", js.status, js.header.Get("Content-Type"))
	}

	// Filters: a type (with or without its prefix) and a subject; the
	// newest matching events, even when older than the latest 50.
	s.approveLive(t, "openai/gpt-5")
	for _, q := range []string{"type=io.modelgov.model.created&subject=openai%2Fgpt-5", "type=model.created&subject=openai/gpt-5"} {
		res = b.get("/live?" + q)
		if n := strings.Count(res.body, "<tr data-seq="); n != 1 || !strings.Contains(res.body, `<td>model.created</td><td><a href="/models/openai/gpt-5">openai/gpt-5</a></td>`) {
			t.Errorf("GET /live?%s: %d rows\n%s", q, n, res.body)
		}
		if !strings.Contains(res.body, `<option value="io.modelgov.model.created" selected>`) || !strings.Contains(res.body, `href="/live?subject=openai%2Fgpt-5&amp;type=io.modelgov.model.created"`) {
			t.Errorf("GET /live?%s: the filter is not kept", q)
		}
	}
	res = b.get("/live?type=model.lifecycle_changed")
	if !strings.Contains(res.body, "<td>governor</td><td>approved &lt;b&gt;live&lt;/b&gt;</td>") {
		t.Errorf("the lifecycle change, escaped:\n%s", res.body)
	}
	if res = b.get("/live?subject=nothing%2Fhere"); !hasLiveElement(res.body, liveDOM.Empty) || !strings.Contains(res.body, "No event matches the filter yet") {
		t.Errorf("a filter nothing matches:\n%s", res.body)
	}
	for _, q := range []string{"type=model.nothing", "type=%3Cscript%3E", "subject=" + strings.Repeat("x", 600), "subject=%ff%fe"} {
		res := b.get("/live?" + q)
		if res.status != http.StatusBadRequest || strings.Contains(res.body, "<script>") || !strings.Contains(res.body, `role="alert"`) {
			t.Errorf("GET /live?%.30s: %d, want a 400 page", q, res.status)
		}
	}
}

func TestLiveNeedsSession(t *testing.T) {
	s := newSite(t, siteConfig{})
	anon := s.browser(t)
	if res := anon.get("/live"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/signin?next=%2Flive") {
		t.Errorf("GET /live without a session: %d %q, want a redirect to sign in", res.status, res.header.Get("Location"))
	}
	res := anon.get("/live/stream")
	if res.status != http.StatusUnauthorized || strings.HasPrefix(res.header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("GET /live/stream without a session: %d %s, want 401", res.status, res.header.Get("Content-Type"))
	}
	// A forged cookie is no session.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/live/stream", nil)
	req.AddCookie(&http.Cookie{Name: "modelgov_session", Value: strings.Repeat("A", 43)})
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /live/stream with a forged session: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	// Open reads: an anonymous visitor reads the events as a viewer, as
	// GET /v1/watch allows.
	open := newSite(t, siteConfig{anonymousRead: true})
	if res := open.browser(t).get("/live"); res.status != http.StatusOK || !strings.Contains(res.body, "Reading anonymously") {
		t.Errorf("anonymous live page: %d", res.status)
	}
}

// liveSSE is an event of a stream as a test reads it.
type liveSSE struct{ id, event, data string }

// stream is an open /live/stream.
type liveStream struct {
	t      *testing.T
	res    *http.Response
	events chan liveSSE
	cancel context.CancelFunc
}

// openStream opens path with b's session and, when lastID is not "", the
// Last-Event-ID a reconnecting EventSource sends.
func (b *browser) openStream(path, lastID string) *liveStream {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.site.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		b.t.Fatalf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	st := &liveStream{t: b.t, res: res, events: make(chan liveSSE, 100), cancel: cancel}
	go st.read()
	b.t.Cleanup(st.close)
	return st
}

// read parses the stream into events; comments come as events named ":".
func (st *liveStream) read() {
	defer close(st.events)
	sc := bufio.NewScanner(st.res.Body)
	var ev liveSSE
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev != (liveSSE{}) {
				st.events <- ev
			}
			ev = liveSSE{}
		case strings.HasPrefix(line, ":"):
			st.events <- liveSSE{event: ":", data: strings.TrimSpace(line[1:])}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// next returns the next event that is not a comment, or fails.
func (st *liveStream) next() liveSSE {
	st.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-st.events:
			if !ok {
				st.t.Fatal("the stream ended")
			}
			if ev.event != ":" {
				return ev
			}
		case <-timeout:
			st.t.Fatal("no event within 10s")
		}
	}
}

// ends reports whether the stream ends, events aside, within d.
func (st *liveStream) ends(d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-st.events:
			if !ok {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// streamStatus opens path with b's session and returns its status,
// closing it at once.
func (b *browser) streamStatus(path string) int {
	b.t.Helper()
	res, err := b.c.Get(b.site.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// close leaves the stream, as a browser closing its tab does.
func (st *liveStream) close() {
	st.cancel()
	st.res.Body.Close()
}

func TestLiveStream(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	head := s.newestEvent(t)
	st := b.openStream(fmt.Sprintf("/live/stream?after=%d", head), "")
	if first := <-st.events; first.event != ":" || first.data != fmt.Sprintf("modelgov live events after %d", head) {
		t.Errorf("the stream begins with %+v", first)
	}

	// An event made after connecting arrives, as text fields only.
	s.approveLive(t, "openai/gpt-5")
	ev := st.next()
	if ev.id != fmt.Sprint(head+1) || ev.event != "" {
		t.Errorf("event id %q name %q, want id %d", ev.id, ev.event, head+1)
	}
	for _, w := range []string{`"type":"model.lifecycle_changed"`, `"subject":"openai/gpt-5"`, `"href":"/models/openai/gpt-5"`,
		`"principal":"governor"`, `"reason":"approved \u003cb\u003elive\u003c/b\u003e"`} {
		if !strings.Contains(ev.data, w) {
			t.Errorf("event data %s lacks %s", ev.data, w)
		}
	}
	if strings.Contains(ev.data, "specversion") || strings.Contains(ev.data, "owners") {
		t.Errorf("the stream sends the whole event: %s", ev.data)
	}
	st.close()

	// A reconnecting browser resumes after its Last-Event-ID: the event it
	// missed first, nothing it had.
	s.approveLive(t, "meta/llama-3-1-405b")
	resumed := b.openStream("/live/stream?after=0", fmt.Sprint(head+1))
	if ev := resumed.next(); ev.id != fmt.Sprint(head+2) || !strings.Contains(ev.data, `"subject":"meta/llama-3-1-405b"`) {
		t.Errorf("resumed with %+v, want event %d", ev, head+2)
	}
	resumed.close()

	// A filter applies to the stream.
	filtered := b.openStream(fmt.Sprintf("/live/stream?type=model.created&after=%d", head), "")
	s.approveLive(t, "evil/script")
	s.create(t, "acme/new", "New", "acme", "m")
	if ev := filtered.next(); !strings.Contains(ev.data, `"type":"model.created"`) || !strings.Contains(ev.data, `"subject":"acme/new"`) {
		t.Errorf("filtered stream sent %+v", ev)
	}
	filtered.close()

	for name, tc := range map[string]struct{ path, lastID string }{
		"bad Last-Event-ID": {"/live/stream", "abc"},
		"negative after":    {"/live/stream?after=-5", ""},
		"bad type":          {"/live/stream?type=nothing", ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+tc.path, nil)
		if tc.lastID != "" {
			req.Header.Set("Last-Event-ID", tc.lastID)
		}
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, res.StatusCode)
		}
	}

	// Last-Event-ID 0: the whole (short) log, from event 1.
	all := b.openStream("/live/stream", "0")
	if first := all.next(); first.id != "1" {
		t.Errorf("Last-Event-ID 0 replays from %q, want event 1", first.id)
	}
	all.close()
}

// TestLiveStreamEnds: a stream ends when the session's token is revoked,
// when the browser goes and when the server shuts down.
func TestLiveStreamEnds(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	st := b.openStream("/live/stream", "")
	s.revoke(t, "viewer")
	if !st.ends(10 * time.Second) {
		t.Errorf("the stream of a revoked token goes on")
	}

	// A session may hold six streams; one that goes frees its place.
	g := s.signIn(t, "governor")
	var open []*liveStream
	for range 6 {
		open = append(open, g.openStream("/live/stream", ""))
	}
	if status := g.streamStatus("/live/stream"); status != http.StatusTooManyRequests {
		t.Errorf("a seventh stream: %d, want 429", status)
	}
	open[0].close()
	freed := false
	for deadline := time.Now().Add(10 * time.Second); !freed && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		freed = g.streamStatus("/live/stream") == http.StatusOK
	}
	if !freed {
		t.Errorf("a stream whose browser went still holds its place")
	}

	// Shutdown does not cancel requests: the streams end by themselves.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Config.Shutdown(ctx); err != nil {
		t.Errorf("shutdown with an open stream: %v", err)
	}
	for _, st := range open[1:] {
		if !st.ends(5 * time.Second) {
			t.Errorf("a stream outlives the server's shutdown")
		}
	}
}
