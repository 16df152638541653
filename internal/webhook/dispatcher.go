package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// LeaseName is the lease under which one registry process dispatches.
const LeaseName = "webhooks"

// Registry is what the dispatcher needs of the registry: the
// subscriptions, the outbox, and a write path for what deliveries do to
// the subscriptions (registry.Service implements it).
type Registry interface {
	// DispatchWebhooks returns the active subscriptions, with secrets.
	DispatchWebhooks(ctx context.Context) ([]*store.Webhook, error)
	// DispatchWebhook returns one subscription, or errs.NotFound.
	DispatchWebhook(ctx context.Context, id string) (*store.Webhook, error)
	// PendingEvents returns up to limit events of types after after.
	PendingEvents(ctx context.Context, after int64, types []string, limit int) ([]*api.Event, error)
	// RecordDelivery logs an attempt and moves the subscription on when
	// its cursor is still cursor; it returns the subscription as it now
	// stands, nil when it was deleted.
	RecordDelivery(ctx context.Context, d *api.Delivery, cursor int64, retryAt time.Time) (*store.Webhook, error)
	// AcquireLease takes or renews a lease, and says whether it is held.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// EventsChanged returns a channel closed at the next commit.
	EventsChanged() <-chan struct{}
}

// DispatcherConfig tunes a Dispatcher. The zero value is a good default,
// but for AllowPrivate.
type DispatcherConfig struct {
	// AllowPrivate lets deliveries connect to loopback and private
	// addresses (serve --webhook-allow-private).
	AllowPrivate bool
	// Timeout bounds one attempt, from connecting to reading the answer;
	// 0 means 10 s.
	Timeout time.Duration
	// Backoff returns the wait before retry number attempt; nil means
	// Backoff(attempt, nil): 5 s doubling to 1 h, with jitter.
	Backoff func(attempt int) time.Duration
	// Poll is how often a worker looks for events without being woken,
	// which finds events committed by other registry processes; 0 means 1 s.
	Poll time.Duration
	// LeaseTTL is how long the dispatch lease lasts unless renewed (it is
	// renewed every third of it); 0 means 30 s.
	LeaseTTL time.Duration
	// Holder names this process in the lease; "" means a random name.
	Holder string
	// Client sends the deliveries; nil means NewClient(AllowPrivate, Timeout).
	Client *http.Client
	// Logger receives the dispatcher's logs; nil means slog.Default().
	Logger *slog.Logger
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Dispatcher delivers the registry's events to the webhook subscriptions:
// one worker per active subscription posts its matching events one at a
// time, in sequence order, and goes to the next only when the endpoint has
// answered 2xx (at-least-once, in order). A failed attempt is retried after
// a backoff; the registry counts the failures and disables the
// subscription at its limit. Where a subscription stands is in the store,
// so a restarted registry resumes where it stopped. Among registry
// processes sharing a store, only the holder of the lease dispatches.
type Dispatcher struct {
	reg    Registry
	cfg    DispatcherConfig
	client *http.Client
	log    *slog.Logger
	// waiting is set while another process holds the lease (Run's
	// goroutine only), so that standing by is logged once.
	waiting bool
}

// NewDispatcher returns a Dispatcher over reg.
func NewDispatcher(reg Registry, cfg DispatcherConfig) *Dispatcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(attempt int) time.Duration { return Backoff(attempt, nil) }
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.Holder == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.Holder = "dispatcher-" + hex.EncodeToString(b[:])
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Dispatcher{reg: reg, cfg: cfg, client: cfg.Client, log: cfg.Logger}
	if d.client == nil {
		d.client = NewClient(cfg.AllowPrivate, cfg.Timeout)
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	return d
}

// worker is one subscription's delivery loop.
type worker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Run dispatches until ctx ends, then stops its workers and returns. A
// delivery cut short by the end is not recorded: it is sent again on the
// next start (at least once).
func (d *Dispatcher) Run(ctx context.Context) error {
	workers := map[string]*worker{}
	var wg sync.WaitGroup
	stopAll := func() {
		for id, w := range workers {
			w.cancel()
			delete(workers, id)
		}
		wg.Wait()
	}
	defer stopAll()

	renew := time.NewTicker(d.cfg.LeaseTTL / 3)
	defer renew.Stop()
	poll := time.NewTicker(d.cfg.Poll)
	defer poll.Stop()
	// expiry fires a little before the lease runs out unless a renewal
	// succeeded since: a holder that cannot renew (a slow or unreachable
	// database) stops before another process may take over.
	expiry := time.NewTimer(d.cfg.LeaseTTL)
	defer expiry.Stop()
	take := func(held bool) bool {
		asked := time.Now()
		ok := d.lease(ctx, held)
		if ok {
			expiry.Reset(time.Until(asked.Add(d.cfg.LeaseTTL * 5 / 6)))
		}
		return ok
	}
	held := take(false)
	for {
		changed := d.reg.EventsChanged()
		if held {
			d.reconcile(ctx, workers, &wg)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-renew.C:
			if held = take(held); !held {
				stopAll()
			}
		case <-expiry.C:
			if held {
				d.log.Warn("webhook dispatcher: could not renew its lease in time; not dispatching", "holder", d.cfg.Holder)
				held = false
				stopAll()
			}
		case <-changed:
		case <-poll.C:
		}
	}
}

// lease takes or renews the dispatch lease and says whether it is held.
func (d *Dispatcher) lease(ctx context.Context, held bool) bool {
	ok, err := d.reg.AcquireLease(ctx, LeaseName, d.cfg.Holder, d.cfg.LeaseTTL)
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Warn("webhook dispatcher: cannot take its lease; not dispatching", "err", err)
	case ok && !held:
		d.log.Info("webhook dispatcher: dispatching", "holder", d.cfg.Holder)
	case !ok && !held && !d.waiting:
		d.log.Info("webhook dispatcher: another process holds the dispatch lease; standing by", "holder", d.cfg.Holder,
			"ttl", d.cfg.LeaseTTL)
	case !ok && held:
		d.log.Warn("webhook dispatcher: lost its lease to another process; not dispatching", "holder", d.cfg.Holder)
	}
	d.waiting = !ok
	return ok && err == nil
}

// reconcile runs one worker per active subscription.
func (d *Dispatcher) reconcile(ctx context.Context, workers map[string]*worker, wg *sync.WaitGroup) {
	hooks, err := d.reg.DispatchWebhooks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("webhook dispatcher: cannot list subscriptions", "err", err)
		}
		return
	}
	active := make(map[string]bool, len(hooks))
	for _, h := range hooks {
		active[h.ID] = true
	}
	for id, w := range workers {
		select {
		case <-w.done:
			delete(workers, id)
			continue
		default:
		}
		if !active[id] {
			w.cancel()
			delete(workers, id)
		}
	}
	for id := range active {
		if workers[id] != nil {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &worker{cancel: cancel, done: make(chan struct{})}
		workers[id] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(w.done)
			d.work(wctx, id)
		}()
	}
}

// work delivers one subscription's events until it is deleted or
// disabled, or ctx ends.
func (d *Dispatcher) work(ctx context.Context, id string) {
	for ctx.Err() == nil {
		changed := d.reg.EventsChanged()
		w, err := d.reg.DispatchWebhook(ctx, id)
		if errs.Is(err, errs.NotFound) {
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("webhook dispatcher: cannot read subscription", "webhook", id, "err", err)
			}
			d.sleep(ctx, d.cfg.Poll, nil)
			continue
		}
		if w.Status != api.WebhookActive {
			return
		}
		if w.NextAttemptAt != nil {
			if wait := w.NextAttemptAt.Sub(d.cfg.Now()); wait > 0 {
				// An enable or a delete meanwhile is a commit: look again.
				d.sleep(ctx, wait, changed)
				continue
			}
		}
		evs, err := d.reg.PendingEvents(ctx, w.Cursor, w.Types, 1)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("webhook dispatcher: cannot read events", "webhook", id, "err", err)
			}
			d.sleep(ctx, d.cfg.Poll, nil)
			continue
		}
		if len(evs) == 0 {
			d.sleep(ctx, d.cfg.Poll, changed)
			continue
		}
		d.attempt(ctx, w, evs[0])
	}
}

// sleep waits for d, the end of ctx, or wake.
func (d *Dispatcher) sleep(ctx context.Context, dur time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}

// MessageID is the webhook-id of an event's delivery to a subscription:
// the same for every attempt, so that a receiver can drop repeats.
func MessageID(webhookID string, seq int64) string { return fmt.Sprintf("%s_%d", webhookID, seq) }

// send makes one attempt to deliver ev to w, and describes it.
func (d *Dispatcher) send(ctx context.Context, w *store.Webhook, ev *api.Event, attempt int) (*api.Delivery, error) {
	body, err := api.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("webhook: encoding event %d: %w", ev.Seq, err)
	}
	now := d.cfg.Now()
	msgID := MessageID(w.ID, ev.Seq)
	res := Deliver(ctx, d.client, w.URL, w.Secret, msgID, body, now)
	del := &api.Delivery{WebhookID: w.ID, EventSeq: ev.Seq, EventType: ev.Type, MessageID: msgID, Attempt: attempt,
		Time: now.UTC(), OK: res.OK(), Status: res.Status, DurationMS: float64(res.Duration.Microseconds()) / 1000,
		Response: res.ResponseSnippet}
	if res.Err != nil {
		del.Error = res.Err.Error()
	}
	return del, nil
}

// attempt delivers ev to w once and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, w *store.Webhook, ev *api.Event) {
	attempt := w.ConsecutiveFailures + 1
	del, err := d.send(ctx, w, ev, attempt)
	if err != nil {
		// An event that cannot be encoded is a bug; retrying will not
		// mend it, but the failure count will disable the subscription.
		del = &api.Delivery{WebhookID: w.ID, EventSeq: ev.Seq, EventType: ev.Type, MessageID: MessageID(w.ID, ev.Seq),
			Attempt: attempt, Time: d.cfg.Now().UTC(), Error: err.Error()}
	}
	if ctx.Err() != nil {
		return // stopping: the event is sent again on the next start
	}
	retryAt := d.cfg.Now().Add(d.cfg.Backoff(attempt))
	after, err := d.reg.RecordDelivery(ctx, del, w.Cursor, retryAt)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			d.log.Warn("webhook dispatcher: cannot record a delivery; it will be sent again", "webhook", w.ID, "event", ev.Seq, "err", err)
			d.sleep(ctx, d.cfg.Poll, nil)
		}
	case !del.OK:
		d.log.Info("webhook delivery failed", "webhook", w.ID, "event", ev.Seq, "attempt", attempt, "err", del.Error)
		if after != nil && after.Status == api.WebhookDisabled {
			d.log.Warn("webhook disabled", "webhook", w.ID, "reason", after.DisabledReason)
		}
	}
}

// Redeliver sends the event of an earlier delivery to its subscription
// again, now and once, whatever the subscription's state, and records the
// attempt in its delivery log as a redelivery by by. It does not move the
// subscription's cursor.
func (d *Dispatcher) Redeliver(ctx context.Context, w *store.Webhook, ev *api.Event, original *api.Delivery, by string) (*api.Delivery, error) {
	if original.EventSeq != ev.Seq {
		return nil, errors.New("webhook: redelivery of another event than the original's")
	}
	del, err := d.send(ctx, w, ev, 1)
	if err != nil {
		return nil, err
	}
	del.RedeliveryOf, del.By = original.ID, by
	if _, err := d.reg.RecordDelivery(ctx, del, -1, time.Time{}); err != nil {
		return nil, err
	}
	return del, nil
}
