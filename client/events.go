package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
)

// ListEventsOptions select the events of ListEvents. Empty fields do not
// filter.
type ListEventsOptions struct {
	// After is the sequence number the events follow; 0 for the first.
	After int64
	// Types keeps the events of these types (io.modelgov.model.created, ...).
	Types []string
	// Subject keeps the events about this subject: a model id, an alias,
	// policy/<version>, token/<id>.
	Subject string
	// PageSize is the most events of the page; 0 for the server's default.
	PageSize int
}

// ListEvents returns one page of the registry's change events, in sequence
// order. When the page's NextAfter is not zero, more follow: ask again with
// After set to it.
func (c *Client) ListEvents(ctx context.Context, o ListEventsOptions) (*api.EventList, error) {
	v := eventQuery(o.After, o.Types, o.Subject)
	if o.PageSize > 0 {
		v.Set("page_size", strconv.Itoa(o.PageSize))
	}
	var l api.EventList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/events", query: v}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// eventQuery is the query of the filters of /v1/events and /v1/watch. The
// server takes each parameter once: the types are joined with commas.
func eventQuery(after int64, types []string, subject string) url.Values {
	v := url.Values{}
	if after > 0 {
		v.Set("after", strconv.FormatInt(after, 10))
	}
	var ts []string
	for _, t := range types {
		if t = strings.TrimSpace(t); t != "" {
			ts = append(ts, t)
		}
	}
	if len(ts) > 0 {
		v.Set("type", strings.Join(ts, ","))
	}
	if subject != "" {
		v.Set("subject", subject)
	}
	return v
}

// WatchOptions select the events of Watch. Empty fields do not filter.
type WatchOptions struct {
	// After is the sequence number the events follow; 0 for every event
	// the registry holds.
	After int64
	// Types keeps the events of these types.
	Types []string
	// Subject keeps the events about this subject.
	Subject string
}

// Watch streams settings.
const (
	// watchMinBackoff is the first wait before a reconnection; it doubles
	// up to watchMaxBackoff while reconnections fail.
	watchMinBackoff = 100 * time.Millisecond
	watchMaxBackoff = 5 * time.Second
	// watchIdleTimeout is how long a stream may stay silent (no event, no
	// heartbeat) before it is taken for dropped.
	watchIdleTimeout = 2 * time.Minute
	// watchMaxLine is the longest line of the stream (one event's JSON).
	watchMaxLine = 16 << 20
)

// Watch streams the registry's change events (GET /v1/watch, Server-Sent
// Events) and calls fn with each, in sequence order, as it commits: first
// the events after opts.After, then the new ones. It reconnects when the
// connection drops or the server asks for a resync, resuming after the last
// event it received (Last-Event-ID), so that no event is lost or repeated.
// It returns when ctx ends (ctx.Err()), when fn returns an error (that
// error), or when the server refuses the stream (an *api.Problem: bad
// filters, bad credentials, a forbidden caller).
func (c *Client) Watch(ctx context.Context, opts WatchOptions, fn func(*api.Event) error) error {
	// A stream lasts as long as it is wanted: no client timeout.
	hc := *c.http
	hc.Timeout = 0
	last := opts.After
	backoff := watchMinBackoff
	for {
		got, err := c.watchOnce(ctx, &hc, opts, &last, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var stop *watchStop
		if errors.As(err, &stop) {
			return stop.err
		}
		if got {
			backoff = watchMinBackoff
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, watchMaxBackoff)
	}
}

// watchStop wraps an error that ends Watch instead of a reconnection.
type watchStop struct{ err error }

func (w *watchStop) Error() string { return w.err.Error() }

// watchOnce reads one connection of the stream, and says whether it
// delivered any event. An error wrapped in watchStop ends Watch; any other
// end of the connection is a reason to reconnect.
func (c *Client) watchOnce(ctx context.Context, hc *http.Client, opts WatchOptions, last *int64, fn func(*api.Event) error) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + "/v1/watch"
	u.RawPath = ""
	u.RawQuery = eventQuery(opts.After, opts.Types, opts.Subject).Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return false, &watchStop{fmt.Errorf("client: GET /v1/watch: %w", err)}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", c.UserAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if *last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(*last, 10))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("client: GET %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		p := problemOf(resp, data)
		// The server or a proxy before it may be down for a moment; any
		// other refusal does not change by asking again.
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return false, p
		}
		return false, &watchStop{p}
	}

	// A stream silent for longer than any heartbeat is taken for dropped.
	idle := time.AfterFunc(watchIdleTimeout, cancel)
	defer idle.Stop()
	got := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), watchMaxLine)
	var (
		id, event string
		hasID     bool
		data      bytes.Buffer
		hasData   bool
	)
	for sc.Scan() {
		idle.Reset(watchIdleTimeout)
		line := sc.Text()
		if line != "" {
			if strings.HasPrefix(line, ":") {
				continue // a comment: a heartbeat
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				id, hasID = value, true
			case "event":
				event = value
			case "data":
				if hasData {
					data.WriteByte('\n')
				}
				data.WriteString(value)
				hasData = true
			}
			// retry, and unknown fields, are ignored: reconnections back
			// off on their own.
			continue
		}
		// An empty line dispatches the event.
		if hasID {
			if n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64); err == nil && n > *last && !hasData {
				*last = n
			}
		}
		ev, name, payload := id, event, data.Bytes()
		dispatch := hasData
		id, event, hasID, hasData = "", "", false, false
		if !dispatch {
			data.Reset()
			continue
		}
		if name == "resync" {
			// The server closes the stream: resume after the last event.
			return got, errors.New("client: the server asked for a resync")
		}
		var e api.Event
		if err := json.Unmarshal(payload, &e); err != nil {
			return got, &watchStop{fmt.Errorf("client: watch stream: event %s is not an event: %w", ev, err)}
		}
		data.Reset()
		if e.Seq == 0 {
			e.Seq, _ = strconv.ParseInt(strings.TrimSpace(ev), 10, 64)
		}
		if e.Seq != 0 && e.Seq <= *last {
			continue // already delivered before a reconnection
		}
		if err := fn(&e); err != nil {
			return got, &watchStop{err}
		}
		got = true
		if e.Seq > *last {
			*last = e.Seq
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return got, &watchStop{fmt.Errorf("client: watch stream: a line longer than %d bytes", watchMaxLine)}
		}
		return got, fmt.Errorf("client: watch stream: %w", err)
	}
	return got, io.ErrUnexpectedEOF
}
