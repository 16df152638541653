package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

// Watch stream settings. A stream reads the events after the last it sent
// from the store, so a slow consumer holds nothing but its own connection:
// writers never wait for it. One that falls more than MaxLag events behind
// the newest is told to resync and disconnected, and resumes from its last
// id without loss.
const (
	// DefaultHeartbeat is how often an idle stream sends a comment.
	DefaultHeartbeat = 15 * time.Second
	// watchPoll is how often a stream looks for events without being woken
	// (events committed by another server over the same database).
	watchPoll = time.Second
	// watchBatch is how many events a stream reads at a time.
	watchBatch = 500
	// DefaultMaxLag is how far behind the newest event a stream may fall.
	DefaultMaxLag = 100_000
)

// eventFilter reads the filters of GET /v1/events and /v1/watch.
func eventFilter(r *http.Request, known ...string) (registry.EventQuery, error) {
	q := r.URL.Query()
	if err := onlyParams(q, append(known, "after", "type", "subject")...); err != nil {
		return registry.EventQuery{}, err
	}
	var eq registry.EventQuery
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return eq, errs.E(errs.Malformed, "after %q is not a sequence number (a whole number, 0 or more)", v)
		}
		eq.After = n
	}
	for _, t := range q["type"] {
		for _, one := range strings.Split(t, ",") {
			if one = strings.TrimSpace(one); one != "" {
				eq.Types = append(eq.Types, one)
			}
		}
	}
	eq.Subject = q.Get("subject")
	return eq, nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	eq, err := eventFilter(r, "page_size")
	if err != nil {
		return err
	}
	if eq.PageSize, err = intParam(r.URL.Query(), "page_size"); err != nil {
		return err
	}
	list, err := s.reg.ListEvents(r.Context(), eq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// watch streams events as Server-Sent Events: each event's SSE id is its
// sequence number and its SSE event name its type. It starts after
// Last-Event-ID (a reconnecting EventSource sends it) or ?after=, sends
// what the store holds from there, then each event as it commits.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) error {
	eq, err := eventFilter(r)
	if err != nil {
		return err
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
		if err != nil || n < 0 {
			return errs.E(errs.Malformed, "Last-Event-ID %q is not a sequence number", id)
		}
		eq.After = n
	}
	// Check the filters before the stream starts, so that a bad one is a
	// problem answer, not a broken stream.
	eq.PageSize = watchBatch
	if err := eq.Validate(); err != nil {
		return err
	}

	rc := http.NewResponseController(w)
	// The server's ReadTimeout bounds reading a request; left in place, it
	// would end the stream (the connection's background read times out and
	// cancels the request) however lively the stream.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("httpapi: watch: clear the read deadline: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // proxies must not hold the stream back
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, ": modelgov events after %d\nretry: 2000\n\n", eq.After); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	s.metrics.watchers.Inc()
	defer s.metrics.watchers.Dec()
	// The credentials are checked again while the stream lasts: a revoked
	// API token or an expired OIDC token ends it.
	still := func() error { _, err := s.authenticate(r); return err }
	s.stream(r.Context(), w, rc, eq, still)
	return nil
}

// stream sends events until the client goes, falls too far behind, or its
// credentials no longer hold (still, checked before each batch and each
// poll: the token cache makes that a map lookup).
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, eq registry.EventQuery, still func() error) {
	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	poll := time.NewTicker(watchPoll)
	defer poll.Stop()
	var buf bytes.Buffer
	for {
		// Take the wake-up channel before reading, so that a commit between
		// the read and the wait is not missed.
		wake := s.reg.EventsChanged()
		page, err := s.reg.ListEvents(ctx, eq)
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "watch stream: reading events failed", "error", err)
			}
			return
		}
		if n := len(page.Items); n > 0 {
			if still() != nil {
				return
			}
			buf.Reset()
			for _, ev := range page.Items {
				writeSSE(&buf, ev)
			}
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			eq.After = page.Items[n-1].Seq
			if page.NextAfter != 0 {
				if s.tooFarBehind(ctx, w, rc, eq.After) {
					return
				}
				continue // more is waiting
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		case <-wake:
		case <-poll.C:
			if still() != nil {
				return
			}
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

// tooFarBehind tells a stream more than maxLag events behind the newest to
// resync, and says whether it did.
func (s *Server) tooFarBehind(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, last int64) bool {
	head, err := s.reg.LastEventSeq(ctx)
	if err != nil || head-last <= s.maxLag {
		return false
	}
	fmt.Fprintf(w, "event: resync\ndata: {\"last_id\":%d,\"newest\":%d,\"reason\":\"the stream fell too far behind; reconnect with Last-Event-ID %d\"}\n\n",
		last, head, last)
	_ = rc.Flush()
	return true
}

// writeSSE writes one event: its id, its type as the SSE event name, and
// its CloudEvents JSON on one data line.
func writeSSE(buf *bytes.Buffer, ev *api.Event) {
	b, err := api.Marshal(ev)
	if err != nil {
		b = []byte(`{"error":"unencodable event"}`)
	}
	fmt.Fprintf(buf, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Type, bytes.TrimSpace(b))
}
