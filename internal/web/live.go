package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

// Live page and stream settings. A stream reads the events after the last
// it sent from the registry, as the API's watch stream does, so a slow
// browser holds nothing but its own connection.
const (
	// LiveRows is how many events the live page lists.
	LiveRows = 50
	// liveScan bounds how many of the newest events the page reads to find
	// LiveRows that match a filter.
	liveScan = 10_000
	// liveHeartbeat is how often an idle stream sends a comment, so that
	// proxies keep it open and a gone browser is noticed.
	liveHeartbeat = 15 * time.Second
	// livePoll is how often a stream looks for events without being woken
	// (events committed by another process over the same database).
	livePoll = time.Second
	// liveBatch is how many events a stream reads at a time.
	liveBatch = 500
	// liveBacklog is how many events a (re)connecting stream replays at
	// most; a browser further behind is told to reload.
	liveBacklog = 1000
	// liveStreams bounds the streams of the process, and
	// liveStreamsPerSession those of one session (browsers open at most six
	// connections to a site over HTTP/1.1).
	liveStreams           = 200
	liveStreamsPerSession = 6
	// maxSubject bounds the subject filter.
	maxSubject = 512
)

// liveData is the live page's.
type liveData struct {
	Type, Subject string
	Types         []liveType
	// Events are the newest first.
	Events []liveEvent
	// Stream is the URL of the page's event stream; Refresh the page's own,
	// filters kept.
	Stream, Refresh string
	Rows            int
}

// liveType is an event type as the filter offers it.
type liveType struct{ Value, Label string }

// liveEvent is an event as the live page and its stream show it.
type liveEvent struct {
	Seq  int64  `json:"seq"`
	Time string `json:"time"`
	// Type is the event type without api.EventTypePrefix.
	Type    string `json:"type"`
	Subject string `json:"subject"`
	// Href is the page of the subject, for a model's event.
	Href      string `json:"href,omitempty"`
	Principal string `json:"principal"`
	Action    string `json:"action"`
	Reason    string `json:"reason,omitempty"`
}

// liveEventOf reads what the page shows of ev.
func liveEventOf(ev *api.Event) liveEvent {
	var data struct{ Action, Principal, Reason string }
	_ = json.Unmarshal(ev.Data, &data) // an event without data shows its envelope only
	le := liveEvent{Seq: ev.Seq, Time: ev.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Type: strings.TrimPrefix(ev.Type, api.EventTypePrefix),
		Subject: ev.Subject, Principal: data.Principal, Action: data.Action, Reason: data.Reason}
	if ev.Subject != "" && ev.Type != registry.EventModelDeleted && modelEvent(le.Type) {
		le.Href = modelPath(ev.Subject)
	}
	return le
}

// modelEvent reports whether events of type t (without the prefix) have a
// model id as their subject.
func modelEvent(t string) bool {
	for _, p := range []string{"model.", "identity.", "evaluation."} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// liveFilter is the live page's filter: one event type, one subject.
type liveFilter struct{ Type, Subject string }

// liveFilterOf reads the filter of a query: a known event type (the
// filter's own list, with or without its prefix) and a subject.
func liveFilterOf(qs url.Values) (liveFilter, error) {
	f := liveFilter{Type: strings.TrimSpace(qs.Get("type")), Subject: strings.TrimSpace(qs.Get("subject"))}
	if f.Type != "" {
		if !strings.HasPrefix(f.Type, api.EventTypePrefix) {
			f.Type = api.EventTypePrefix + f.Type
		}
		if !slices.Contains(registry.EventTypes(), f.Type) {
			return f, errs.E(errs.Malformed, "type %q is not an event type of this registry; choose one from the list", truncated(qs.Get("type"), 80))
		}
	}
	if len(f.Subject) > maxSubject || !utf8.ValidString(f.Subject) {
		return f, errs.E(errs.Malformed, "the subject filter is not a subject: at most %d bytes of UTF-8 text", maxSubject)
	}
	return f, nil
}

// query returns the registry's query for the filter.
func (f liveFilter) query() registry.EventQuery {
	q := registry.EventQuery{Subject: f.Subject, PageSize: liveBatch}
	if f.Type != "" {
		q.Types = []string{f.Type}
	}
	return q
}

// values returns the filter as a query.
func (f liveFilter) values() url.Values {
	q := url.Values{}
	if f.Type != "" {
		q.Set("type", f.Type)
	}
	if f.Subject != "" {
		q.Set("subject", f.Subject)
	}
	return q
}

// live serves the live page and its event stream.
type live struct {
	s         *server
	heartbeat time.Duration

	mu         sync.Mutex
	streams    int
	perSession map[*session]int
	// stops holds, per HTTP server, a channel its shutdown closes.
	stops map[*http.Server]chan struct{}
}

// routeLive registers the live page and its stream.
func (s *server) routeLive() {
	l := &live{s: s, heartbeat: liveHeartbeat, perSession: map[*session]int{}, stops: map[*http.Server]chan struct{}{}}
	s.mux.HandleFunc("GET /live", s.reader(l.page))
	s.mux.HandleFunc("GET /live/stream", l.stream)
}

// page lists the latest events; its script (static/live.js) adds the new
// ones as the stream sends them, and without it the page has a refresh
// link.
func (l *live) page(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f, err := liveFilterOf(r.URL.Query())
	if err != nil {
		return err
	}
	events, last, err := l.latest(r.Context(), f)
	if err != nil {
		return err
	}
	d := liveData{Type: f.Type, Subject: f.Subject, Rows: LiveRows, Refresh: "/live"}
	for _, t := range registry.EventTypes() {
		d.Types = append(d.Types, liveType{Value: t, Label: strings.TrimPrefix(t, api.EventTypePrefix)})
	}
	for i := len(events) - 1; i >= 0; i-- {
		d.Events = append(d.Events, liveEventOf(events[i]))
	}
	q := f.values()
	if len(q) > 0 {
		d.Refresh += "?" + q.Encode()
	}
	q.Set("after", strconv.FormatInt(last, 10))
	d.Stream = "/live/stream?" + q.Encode()
	l.s.render(w, r, http.StatusOK, "live.html", page{Title: "Live events", Viewer: v, Data: d})
	return nil
}

// latest returns the newest LiveRows events that f selects, oldest first,
// and the sequence number the stream starts after. Without a filter it
// reads LiveRows events; with one, a window of the newest events that
// grows until it holds LiveRows matches, up to liveScan events.
func (l *live) latest(ctx context.Context, f liveFilter) ([]*api.Event, int64, error) {
	reg := l.s.reg
	head, err := reg.LastEventSeq(ctx)
	if err != nil {
		return nil, 0, err
	}
	var kept []*api.Event
	for window := int64(LiveRows); ; window = min(window*8, liveScan) {
		kept = kept[:0]
		q := f.query()
		q.After = max(0, head-window)
		for {
			list, err := reg.ListEvents(ctx, q)
			if err != nil {
				return nil, 0, err
			}
			kept = append(kept, list.Items...)
			if len(kept) > LiveRows {
				kept = slices.Delete(kept, 0, len(kept)-LiveRows)
			}
			if list.NextAfter == 0 {
				break
			}
			q.After = list.NextAfter
		}
		if len(kept) >= LiveRows || head-window <= 0 || window >= liveScan {
			break
		}
	}
	last := head
	if n := len(kept); n > 0 {
		last = max(last, kept[n-1].Seq)
	}
	return kept, last, nil
}

// mayRead returns who sends r when they may read events (every role may, as
// GET /v1/watch allows), or why not.
func (l *live) mayRead(r *http.Request) (*viewer, error) {
	v, err := l.s.viewerOf(r)
	switch {
	case err != nil:
		return nil, err
	case v == nil:
		return nil, errs.E(errs.Unauthenticated, "sign in first: the live stream needs a session")
	}
	return v, mayRead(v)
}

// stream serves the events as Server-Sent Events: each event's SSE id is
// its sequence number, its data the JSON of a liveEvent. It starts after
// Last-Event-ID (a reconnecting EventSource sends it) or ?after=, sends
// what the registry holds from there (at most liveBacklog events), then
// each event as it commits, with a heartbeat comment when idle. It ends
// when the browser goes, when the session's token is revoked or loses its
// roles, and when the HTTP server shuts down.
func (l *live) stream(w http.ResponseWriter, r *http.Request) {
	s := l.s
	v, err := l.mayRead(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	f, err := liveFilterOf(r.URL.Query())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	after, err := streamStart(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	release, err := l.admit(v.session)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	defer release()
	ctx := r.Context()
	head, err := s.reg.LastEventSeq(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if after < 0 {
		after = head
	}
	skipped := head-after > liveBacklog
	if skipped {
		after = head - liveBacklog
	}

	rc := http.NewResponseController(w)
	// A server's read and write timeouts would end the stream however
	// lively it is.
	for _, clear := range []func(time.Time) error{rc.SetReadDeadline, rc.SetWriteDeadline} {
		if err := clear(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
			s.fail(w, r, v, fmt.Errorf("web: live stream: clear a deadline: %w", err))
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // proxies must not hold the stream back
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return // the headers say all a HEAD may know
	}
	fmt.Fprintf(w, ": modelgov live events after %d\nretry: 3000\n\n", after)
	if skipped {
		fmt.Fprintf(w, "event: gap\ndata: {\"after\":%d}\n\n", after)
	}
	if err := rc.Flush(); err != nil {
		return
	}

	stop := l.stopOf(r)
	heartbeat := time.NewTicker(l.heartbeat)
	defer heartbeat.Stop()
	poll := time.NewTicker(livePoll)
	defer poll.Stop()
	q := f.query()
	q.After = after
	var buf bytes.Buffer
	for {
		// Take the wake-up channel before reading, so that a commit between
		// the read and the wait is not missed.
		wake := s.reg.EventsChanged()
		list, err := s.reg.ListEvents(ctx, q)
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "web: live stream: reading events failed", "error", err)
			}
			return
		}
		if n := len(list.Items); n > 0 {
			if _, err := l.mayRead(r); err != nil {
				return // the token was revoked: the session ended with it
			}
			buf.Reset()
			for _, ev := range list.Items {
				b, _ := json.Marshal(liveEventOf(ev)) // strings and numbers only: it cannot fail
				fmt.Fprintf(&buf, "id: %d\ndata: %s\n\n", ev.Seq, b)
			}
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			q.After = list.Items[n-1].Seq
			if list.NextAfter != 0 {
				continue // more is waiting
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-wake:
		case <-poll.C:
			// Also when no event comes: a revoked token ends the stream
			// within a poll and the token cache's second, whichever way
			// its revocation and the wake-up raced.
			if _, err := l.mayRead(r); err != nil {
				return
			}
		case <-heartbeat.C:
			if _, err := l.mayRead(r); err != nil {
				return
			}
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

// streamStart reads where a stream starts: after Last-Event-ID, or else
// after ?after=; -1 means after the newest event.
func streamStart(r *http.Request) (int64, error) {
	if id := strings.TrimSpace(r.Header.Get("Last-Event-ID")); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 0 {
			return 0, errs.E(errs.Malformed, "Last-Event-ID %q is not an event's sequence number", truncated(id, 40))
		}
		return n, nil
	}
	a := r.URL.Query().Get("after")
	if a == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(a, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.E(errs.Malformed, "after=%q is not an event's sequence number (a whole number, 0 or more)", truncated(a, 40))
	}
	return n, nil
}

// admit counts a stream of sess against the bounds, or says why it may not
// start; release uncounts it.
func (l *live) admit(sess *session) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.streams >= liveStreams {
		return nil, errs.E(errs.Unavailable, "this server already serves %d live streams; try again later", liveStreams)
	}
	if sess != nil && l.perSession[sess] >= liveStreamsPerSession {
		return nil, errs.E(errs.RateLimited, "this session already has %d live streams open; close a tab of the live page", liveStreamsPerSession)
	}
	l.streams++
	if sess != nil {
		l.perSession[sess]++
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.streams--
		if sess != nil {
			if l.perSession[sess]--; l.perSession[sess] <= 0 {
				delete(l.perSession, sess)
			}
		}
	}, nil
}

// stopOf returns a channel closed when the HTTP server serving r shuts
// down: http.Server.Shutdown waits for active requests and does not
// cancel them, so a stream must end by itself. It is nil (never ready)
// for a request without a server.
func (l *live) stopOf(r *http.Request) <-chan struct{} {
	hs, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if hs == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ch, ok := l.stops[hs]
	if !ok {
		ch = make(chan struct{})
		l.stops[hs] = ch
		hs.RegisterOnShutdown(func() { close(ch) })
	}
	return ch
}
