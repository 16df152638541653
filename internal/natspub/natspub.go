// Package natspub publishes the registry's events to NATS JetStream.
//
// It follows the outbox as the watch stream does, and publishes every event,
// in sequence order, to the subject modelgov.events.<type> (the type without
// its io.modelgov. prefix), with the message id <source>:<id> so that
// JetStream drops a message published twice within the stream's duplicate
// window. Each message carries the event's seq in the Modelgov-Seq header:
// on start, the publisher resumes after the seq of the stream's last
// message. Delivery is at least once; the message id makes it effectively
// once.
package natspub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/registry"
)

const (
	// DefaultStream is the name of the JetStream stream of the events.
	DefaultStream = "MODELGOV_EVENTS"
	// SubjectPrefix begins the subject of every event.
	SubjectPrefix = "modelgov.events."
	// Subjects are the subjects of the stream.
	Subjects = SubjectPrefix + ">"
	// SeqHeader holds the event's sequence number.
	SeqHeader = "Modelgov-Seq"
	// ContentType is the Content-Type header of every message.
	ContentType = "application/cloudevents+json"
	// DuplicateWindow is how long JetStream remembers message ids.
	DuplicateWindow = 2 * time.Minute
)

var (
	pollInterval = time.Second
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
	pageSize     = 100
)

// Source is where the events come from: the registry service.
type Source interface {
	ListEvents(ctx context.Context, q registry.EventQuery) (*api.EventList, error)
	EventsChanged() <-chan struct{}
}

// Config is the configuration of a publisher.
type Config struct {
	// URL is the NATS server URL (or comma-separated URLs).
	URL string
	// Stream is the JetStream stream; "" means DefaultStream.
	Stream string
	Logger *slog.Logger
}

// Publisher publishes the registry's events to a JetStream stream.
type Publisher struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	log    *slog.Logger
}

// New connects to NATS, and creates the stream or updates its
// configuration. Close releases the connection.
func New(ctx context.Context, cfg Config) (*Publisher, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	name := cfg.Stream
	if name == "" {
		name = DefaultStream
	}
	if cfg.URL == "" {
		return nil, errors.New("natspub: a NATS URL is required")
	}
	nc, err := nats.Connect(cfg.URL,
		nats.Name("modelgov"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS", slog.Any("error", err))
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("reconnected to NATS", slog.String("url", c.ConnectedUrlRedacted()))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("natspub: connect to %s: %w", redact(cfg.URL), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natspub: %w", err)
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        name,
		Description: "modelgov registry events (CloudEvents)",
		Subjects:    []string{Subjects},
		Storage:     jetstream.FileStorage,
		Duplicates:  DuplicateWindow,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natspub: create or update stream %s: %w", name, err)
	}
	return &Publisher{nc: nc, js: js, stream: st, log: log}, nil
}

// redact hides the password of a URL in messages.
func redact(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
			return u[:scheme+3] + "***" + u[at:]
		}
		return "***" + u[at:]
	}
	return u
}

// Close closes the connection to NATS.
func (p *Publisher) Close() {
	p.nc.Close()
}

// Subject returns the subject of an event type: modelgov.events.model.created
// for io.modelgov.model.created.
func Subject(eventType string) string {
	return SubjectPrefix + strings.TrimPrefix(eventType, api.EventTypePrefix)
}

// MsgID returns the JetStream message id of an event: source:id.
func MsgID(e *api.Event) string { return e.Source + ":" + e.ID }

// LastPublished returns the seq of the last event in the stream, from the
// Modelgov-Seq header of its last message; 0 when the stream is empty.
func (p *Publisher) LastPublished(ctx context.Context) (int64, error) {
	m, err := p.stream.GetLastMsgForSubject(ctx, Subjects)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("natspub: last message of the stream: %w", err)
	}
	v := m.Header.Get(SeqHeader)
	seq, err := strconv.ParseInt(v, 10, 64)
	if err != nil || seq < 0 {
		return 0, fmt.Errorf("natspub: last message of the stream (%d) has no valid %s header: %q", m.Sequence, SeqHeader, v)
	}
	return seq, nil
}

// Publish publishes one event and waits for JetStream's acknowledgement.
// A duplicate (the same message id within the window) is no error.
func (p *Publisher) Publish(ctx context.Context, e *api.Event) error {
	data, err := api.Marshal(e)
	if err != nil {
		return err
	}
	msg := nats.NewMsg(Subject(e.Type))
	msg.Data = data
	msg.Header.Set(SeqHeader, strconv.FormatInt(e.Seq, 10))
	msg.Header.Set("Content-Type", ContentType)
	if _, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(MsgID(e))); err != nil {
		return fmt.Errorf("natspub: publish event %d: %w", e.Seq, err)
	}
	return nil
}

// Run publishes the events of src after the last one in the stream, then
// follows src, until ctx ends; it returns nil then. Errors of NATS are
// logged and retried with a backoff: an event is published at least once,
// and the order of the outbox is kept.
func (p *Publisher) Run(ctx context.Context, src Source) error {
	b := backoff{}
	var last int64
	for {
		seq, err := p.LastPublished(ctx)
		if err == nil {
			last = seq
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		p.log.Error("NATS: cannot find where to resume", slog.Any("error", err))
		if !b.wait(ctx) {
			return nil
		}
	}
	p.log.Info("publishing events to NATS", slog.String("stream", p.stream.CachedInfo().Config.Name),
		slog.Int64("after", last))
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		// Take the wake-up channel before reading, so that a commit between
		// the read and the wait is not missed.
		wake := src.EventsChanged()
		for {
			page, err := src.ListEvents(ctx, registry.EventQuery{After: last, PageSize: pageSize})
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				p.log.Error("NATS: reading events failed", slog.Any("error", err))
				break
			}
			for _, e := range page.Items {
				for {
					err := p.Publish(ctx, e)
					if err == nil {
						b.reset()
						break
					}
					if ctx.Err() != nil {
						return nil
					}
					p.log.Warn("NATS: publishing failed; retrying", slog.Int64("seq", e.Seq),
						slog.Duration("backoff", b.next()), slog.Any("error", err))
					if !b.wait(ctx) {
						return nil
					}
				}
				last = e.Seq
			}
			if page.NextAfter == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-ticker.C:
		}
	}
}

// backoff doubles from minBackoff to maxBackoff.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		return minBackoff
	}
	return b.d
}

func (b *backoff) reset() { b.d = 0 }

// wait sleeps for the next delay, and reports false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	d := b.next()
	b.d = min(2*d, maxBackoff)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
