package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
)

// snapshotTables are the tables a snapshot fills: Import refuses a store in
// which any holds a row.
var snapshotTables = []string{"models", "revisions", "aliases", "alias_revisions", "policies", "policy_activations",
	"tokens", "identity_claims", "benchmarks", "evaluations", "audit_entries", "audit_hashes", "events", "webhooks", "webhook_deliveries", "imports"}

// exportStep reads one kind of record. Text keys are ordered COLLATE "C",
// byte order, as in the SQLite store, so that both export a registry in
// the same order.
type exportStep struct {
	what  string
	query string
	scan  func(pgx.Row) (*store.Record, error)
}

var exportSteps = []exportStep{
	{"policies", `SELECT version, name, description, hash, bundle, created_at, created_by FROM policies ORDER BY version`,
		func(row pgx.Row) (*store.Record, error) {
			var (
				p      api.Policy
				bundle []byte
			)
			err := row.Scan(&p.Version, &p.Name, &p.Description, &p.Hash, &bundle, (*stamp)(&p.CreatedAt), &p.CreatedBy)
			p.Bundle = json.RawMessage(bundle)
			return &store.Record{Kind: store.KindPolicy, Policy: &p}, err
		}},
	{"policy activations", `SELECT version, activated_at, activated_by, report FROM policy_activations ORDER BY seq`,
		func(row pgx.Row) (*store.Record, error) {
			var (
				a      store.Activation
				report []byte
			)
			if err := row.Scan(&a.Version, (*stamp)(&a.At), &a.By, &report); err != nil {
				return nil, err
			}
			if err := json.Unmarshal(report, &a.Report); err != nil {
				return nil, fmt.Errorf("report of activation of %d: %w", a.Version, err)
			}
			return &store.Record{Kind: store.KindActivation, Activation: &a}, nil
		}},
	{"models", `SELECT doc FROM models ORDER BY model_id`,
		func(row pgx.Row) (*store.Record, error) {
			var doc []byte
			if err := row.Scan(&doc); err != nil {
				return nil, err
			}
			m, err := decodeModel(doc)
			return &store.Record{Kind: store.KindModel, Model: m}, err
		}},
	{"revisions", `SELECT ` + revisionColumns + ` FROM revisions ORDER BY model_id COLLATE "C", revision`,
		func(row pgx.Row) (*store.Record, error) {
			r, err := scanRevision(row)
			return &store.Record{Kind: store.KindRevision, Revision: r}, err
		}},
	{"aliases", `SELECT ` + aliasColumns + ` FROM aliases ORDER BY name`,
		func(row pgx.Row) (*store.Record, error) {
			a, err := scanAlias(row)
			return &store.Record{Kind: store.KindAlias, Alias: a}, err
		}},
	{"alias history", `SELECT ` + aliasColumns + ` FROM alias_revisions ORDER BY name COLLATE "C", revision`,
		func(row pgx.Row) (*store.Record, error) {
			a, err := scanAlias(row)
			return &store.Record{Kind: store.KindAliasMove, AliasMove: a}, err
		}},
	{"tokens", `SELECT ` + tokenColumns + ` FROM tokens ORDER BY id`,
		func(row pgx.Row) (*store.Record, error) {
			t, err := scanToken(row)
			return &store.Record{Kind: store.KindToken, Token: t}, err
		}},
	{"identity claims", `SELECT kind, value, model_id, claimed_at FROM identity_claims
		ORDER BY kind COLLATE "C", value COLLATE "C"`,
		func(row pgx.Row) (*store.Record, error) {
			var c store.Claim
			err := row.Scan(&c.Kind, &c.Value, &c.ModelID, (*stamp)(&c.At))
			return &store.Record{Kind: store.KindClaim, Claim: &c}, err
		}},
	{"benchmarks", `SELECT doc FROM benchmarks ORDER BY name, version`,
		func(row pgx.Row) (*store.Record, error) {
			b, err := scanBenchmark(row)
			return &store.Record{Kind: store.KindBenchmark, Benchmark: b}, err
		}},
	{"evaluations", `SELECT ` + evaluationColumns + ` FROM evaluations ORDER BY id`,
		func(row pgx.Row) (*store.Record, error) {
			e, err := scanEvaluation(row)
			return &store.Record{Kind: store.KindEvaluation, Evaluation: e}, err
		}},
	{"audit entries", `SELECT seq, time, principal, action, target, outcome, leaf FROM audit_entries ORDER BY seq`,
		func(row pgx.Row) (*store.Record, error) {
			var r store.AuditRecord
			err := row.Scan(&r.Seq, (*stamp)(&r.Time), &r.Principal, &r.Action, &r.Target, &r.Outcome, &r.Leaf)
			return &store.Record{Kind: store.KindAudit, Audit: &r}, err
		}},
	{"audit hashes", `SELECT idx, hash FROM audit_hashes ORDER BY idx`,
		func(row pgx.Row) (*store.Record, error) {
			var (
				h    store.AuditHash
				hash []byte
			)
			if err := row.Scan(&h.Index, &hash); err != nil {
				return nil, err
			}
			if len(hash) != 32 {
				return nil, fmt.Errorf("audit hash %d has %d bytes", h.Index, len(hash))
			}
			copy(h.Hash[:], hash)
			return &store.Record{Kind: store.KindAuditHash, AuditHash: &h}, nil
		}},
	{"events", `SELECT seq, id, source, type, subject, time, content_type, data FROM events ORDER BY seq`,
		func(row pgx.Row) (*store.Record, error) {
			var (
				e    api.Event
				data []byte
			)
			if err := row.Scan(&e.Seq, &e.ID, &e.Source, &e.Type, &e.Subject, (*stamp)(&e.Time), &e.DataContentType, &data); err != nil {
				return nil, err
			}
			if len(data) > 0 {
				e.Data = data
			}
			e.SpecVersion = api.CloudEventsVersion
			return &store.Record{Kind: store.KindEvent, Event: &e}, nil
		}},
	{"webhooks", `SELECT ` + webhookColumns + ` FROM webhooks ORDER BY id`,
		func(row pgx.Row) (*store.Record, error) {
			w, err := scanWebhook(row)
			return &store.Record{Kind: store.KindWebhook, Webhook: w}, err
		}},
	{"webhook deliveries", `SELECT ` + deliveryColumns + ` FROM webhook_deliveries ORDER BY id`,
		func(row pgx.Row) (*store.Record, error) {
			d, err := scanDelivery(row)
			return &store.Record{Kind: store.KindDelivery, Delivery: d}, err
		}},
	{"imports", `SELECT doc FROM imports ORDER BY id`,
		func(row pgx.Row) (*store.Record, error) {
			b, err := scanImport(row)
			return &store.Record{Kind: store.KindImport, Import: b}, err
		}},
}

// Export implements store.Store. It reads in one REPEATABLE READ, READ ONLY
// transaction, whose snapshot every query shares; pgx reads each result as
// it arrives, so memory does not grow with the tables.
func (s *Store) Export(ctx context.Context, emit func(*store.Record) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: export: begin: %w", err)
	}
	// A read-only transaction has nothing to lose: its end cannot fail usefully.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, step := range exportSteps {
		if err := exportRows(ctx, tx, step, emit); err != nil {
			return err
		}
	}
	return nil
}

func exportRows(ctx context.Context, tx pgx.Tx, step exportStep, emit func(*store.Record) error) error {
	rows, err := tx.Query(ctx, step.query)
	if err != nil {
		return fmt.Errorf("postgres: export %s: %w", step.what, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := step.scan(rows)
		if err != nil {
			return fmt.Errorf("postgres: export %s: %w", step.what, err)
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: export %s: %w", step.what, err)
	}
	return nil
}

// copyTarget is where COPY puts the records of one kind, and how a record
// becomes a row.
type copyTarget struct {
	table   string
	columns []string
	row     func(*store.Record) ([]any, error)
}

var copyTargets = map[string]copyTarget{
	store.KindPolicy: {"policies", []string{"version", "name", "description", "hash", "bundle", "created_at", "created_by"},
		func(r *store.Record) ([]any, error) {
			p := r.Policy
			return []any{p.Version, p.Name, p.Description, p.Hash, []byte(p.Bundle), stamp(p.CreatedAt), p.CreatedBy}, nil
		}},
	// seq is left to its identity column: rows are numbered in the order
	// they come, which is the order of the activations.
	store.KindActivation: {"policy_activations", []string{"version", "activated_at", "activated_by", "report"},
		func(r *store.Record) ([]any, error) {
			a := r.Activation
			report, err := json.Marshal(a.Report)
			return []any{a.Version, stamp(a.At), a.By, report}, err
		}},
	// pk is left to its identity column; labels and capabilities are
	// filled from the documents once the models are in (fillModelIndexes).
	store.KindModel: {"models", []string{"model_id", "provider", "family", "display_name", "size_class", "status", "role",
		"revision", "doc", "non_compliant", "deadline", "review_pending", "parameter_count", "context_window",
		"identity_owner", "identity_key_id", "identity_verified_until"}, modelRow},
	store.KindRevision: {"revisions", []string{"model_id", "revision", "action", "actor", "reason", "time", "request_id", "doc"},
		func(r *store.Record) ([]any, error) {
			rev := r.Revision
			var doc []byte
			if rev.Model != nil {
				var err error
				if doc, err = api.Marshal(rev.Model); err != nil {
					return nil, err
				}
			}
			return []any{rev.ModelID, rev.Revision, string(rev.Action), rev.Actor, rev.Reason, stamp(rev.Time), rev.RequestID, doc}, nil
		}},
	store.KindAlias: {"aliases", []string{"name", "target", "revision", "updated_at", "updated_by", "reason"},
		func(r *store.Record) ([]any, error) { return aliasRow(r.Alias) }},
	store.KindAliasMove: {"alias_revisions", []string{"name", "target", "revision", "updated_at", "updated_by", "reason"},
		func(r *store.Record) ([]any, error) { return aliasRow(r.AliasMove) }},
	store.KindToken: {"tokens", []string{"id", "name", "roles", "prefix", "hash", "created_at", "created_by", "expires_at",
		"revoked_at", "revoked_by"},
		func(r *store.Record) ([]any, error) {
			t := r.Token
			return []any{t.ID, t.Name, t.Roles, t.Prefix, t.Hash, stamp(t.CreatedAt), t.CreatedBy,
				optStamp(t.ExpiresAt), optStamp(t.RevokedAt), t.RevokedBy}, nil
		}},
	store.KindClaim: {"identity_claims", []string{"kind", "value", "model_id", "claimed_at"},
		func(r *store.Record) ([]any, error) {
			c := r.Claim
			return []any{string(c.Kind), c.Value, c.ModelID, stamp(c.At)}, nil
		}},
	store.KindBenchmark: {"benchmarks", []string{"name", "version", "doc"},
		func(r *store.Record) ([]any, error) {
			b := r.Benchmark
			doc, err := api.Marshal(b)
			return []any{b.Name, b.Version, doc}, err
		}},
	// As AddEvaluation stores a result, superseded_by in its column; the
	// scores are rebuilt once every result, benchmark and model is in
	// (rebuildScores).
	store.KindEvaluation: {"evaluations", []string{"id", "model_id", "benchmark", "version", "evaluated_at", "superseded_by", "doc"},
		func(r *store.Record) ([]any, error) {
			e := r.Evaluation
			doc, err := evaluationDoc(e)
			return []any{e.ID, e.ModelID, e.Benchmark, e.BenchmarkVersion, stamp(e.EvaluatedAt), e.SupersededBy, doc}, err
		}},
	store.KindAudit: {"audit_entries", []string{"seq", "time", "principal", "action", "target", "outcome", "leaf"},
		func(r *store.Record) ([]any, error) {
			a := r.Audit
			return []any{a.Seq, stamp(a.Time), a.Principal, a.Action, a.Target, a.Outcome, a.Leaf}, nil
		}},
	store.KindAuditHash: {"audit_hashes", []string{"idx", "hash"},
		func(r *store.Record) ([]any, error) {
			return []any{r.AuditHash.Index, r.AuditHash.Hash[:]}, nil
		}},
	store.KindEvent: {"events", []string{"seq", "id", "source", "type", "subject", "time", "content_type", "data"},
		func(r *store.Record) ([]any, error) {
			e := r.Event
			var data []byte
			if len(e.Data) > 0 {
				data = e.Data
			}
			return []any{e.Seq, e.ID, e.Source, e.Type, e.Subject, stamp(e.Time), e.DataContentType, data}, nil
		}},
	store.KindWebhook: {"webhooks", []string{"id", "url", "types", "description", "secret", "status", "disabled_reason",
		"created_at", "created_by", "cursor", "failures", "next_attempt_at", "last_success_at", "last_failure_at"},
		func(r *store.Record) ([]any, error) {
			w := r.Webhook
			types := w.Types
			if types == nil {
				types = []string{}
			}
			return []any{w.ID, w.URL, types, w.Description, w.Secret, w.Status, w.DisabledReason, stamp(w.CreatedAt),
				w.CreatedBy, w.Cursor, w.ConsecutiveFailures, optStamp(w.NextAttemptAt), optStamp(w.LastSuccessAt),
				optStamp(w.LastFailureAt)}, nil
		}},
	// id is given: COPY writes an identity column's values as given (like
	// OVERRIDING SYSTEM VALUE); Import then moves its sequence past them.
	store.KindImport: {"imports", []string{"id", "created_at", "doc"},
		func(r *store.Record) ([]any, error) {
			doc, err := api.Marshal(r.Import)
			return []any{r.Import.ID, r.Import.CreatedAt.UnixNano(), doc}, err
		}},
	store.KindDelivery: {"webhook_deliveries", []string{"id", "webhook_id", "event_seq", "event_type", "message_id", "attempt",
		"time", "ok", "status", "error", "duration_ms", "response", "redelivery_of", "by"},
		func(r *store.Record) ([]any, error) {
			d := r.Delivery
			return []any{d.ID, d.WebhookID, d.EventSeq, d.EventType, d.MessageID, d.Attempt, stamp(d.Time), d.OK, d.Status,
				d.Error, d.DurationMS, d.Response, d.RedeliveryOf, d.By}, nil
		}},
}

func aliasRow(a *api.Alias) ([]any, error) {
	rev, err := strconv.ParseInt(a.ResourceVersion, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("alias %s: resource_version %q: %w", a.Name, a.ResourceVersion, err)
	}
	return []any{a.Name, a.Target, rev, stamp(a.UpdatedAt), a.UpdatedBy, a.Reason}, nil
}

// modelRow is the models row of a document, as PutModel writes it.
func modelRow(r *store.Record) ([]any, error) { return modelValues(r.Model) }

// importer feeds the records of next to COPY, one kind at a time: each run
// of records of one kind is one COPY.
type importer struct {
	next func() (*store.Record, error)
	// pending is the record read but not yet stored: the first of the next run.
	pending *store.Record
	// n counts the records read, for errors.
	n int
	// err is the error of next or of a record, which ends the import.
	err error
}

// peek returns the next record without taking it; io.EOF at the end.
func (im *importer) peek() (*store.Record, error) {
	if im.err != nil {
		return nil, im.err
	}
	if im.pending != nil {
		return im.pending, nil
	}
	r, err := im.next()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = fmt.Errorf("postgres: import: record %d: %w", im.n+1, err)
		}
		im.err = err
		return nil, err
	}
	im.n++
	if err := r.Check(); err != nil {
		im.err = fmt.Errorf("postgres: import: record %d: %w", im.n, err)
		return nil, im.err
	}
	im.pending = r
	return r, nil
}

// copyRun is a pgx.CopyFromSource of the run of records of one kind.
type copyRun struct {
	im     *importer
	target copyTarget
	kind   string
	cur    *store.Record
	err    error
}

func (c *copyRun) Next() bool {
	r, err := c.im.peek()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			c.err = err
		}
		return false
	}
	if r.Kind != c.kind {
		return false
	}
	c.cur, c.im.pending = r, nil
	return true
}

func (c *copyRun) Values() ([]any, error) {
	v, err := c.target.row(c.cur)
	if err != nil {
		c.err = fmt.Errorf("postgres: import: record %d (%s): %w", c.im.n, c.kind, err)
		return nil, c.err
	}
	return v, nil
}

func (c *copyRun) Err() error { return c.err }

// Import implements store.Store: one transaction, holding the write lock,
// that COPYs each run of records of one kind into its table. Models are
// copied with the columns PutModel derives from them, then their labels
// and capabilities are filled from their documents in two statements.
// The delivery log's sequence is moved past the imported ids. The scores,
// which a snapshot does not hold, are rebuilt from the imported results
// (rebuildScores).
func (s *Store) Import(ctx context.Context, next func() (*store.Record, error)) (err error) {
	select {
	case s.writer <- struct{}{}:
		defer func() { <-s.writer }()
	case <-ctx.Done():
		return fmt.Errorf("postgres: import: wait for the writer: %w", ctx.Err())
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: import: begin: %w", err)
	}
	end := context.WithoutCancel(ctx)
	defer func() {
		if err == nil {
			return
		}
		if rerr := tx.Rollback(end); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			err = errors.Join(err, fmt.Errorf("postgres: import: rollback: %w", rerr))
		}
	}()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock); err != nil {
		return fmt.Errorf("postgres: import: take the write lock: %w", err)
	}
	for _, table := range snapshotTables {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM `+table+` LIMIT 1`).Scan(&one)
		if err == nil {
			return store.NotEmpty(table)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: import: check that %s is empty: %w", table, err)
		}
	}
	im := &importer{next: next}
	var models, deliveries, events, evaluations bool
	for {
		r, err := im.peek()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		target := copyTargets[r.Kind]
		run := &copyRun{im: im, target: target, kind: r.Kind}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{target.table}, target.columns, run)
		if run.err != nil {
			return run.err
		}
		if err != nil {
			return fmt.Errorf("postgres: import: copy %s records (up to record %d): %w", r.Kind, im.n, err)
		}
		models = models || r.Kind == store.KindModel
		deliveries = deliveries || r.Kind == store.KindDelivery
		events = events || r.Kind == store.KindEvent
		evaluations = evaluations || r.Kind == store.KindEvaluation
	}
	if models {
		if err := fillModelIndexes(ctx, tx); err != nil {
			return err
		}
	}
	if evaluations {
		if err := rebuildScores(ctx, tx); err != nil {
			return err
		}
	}
	if deliveries {
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('webhook_deliveries', 'id'), max(id))
			FROM webhook_deliveries`); err != nil {
			return fmt.Errorf("postgres: import: move the delivery log's sequence: %w", err)
		}
	}
	if events {
		// As a write transaction does: watchers on other replicas learn of
		// the events on commit.
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, max(seq)::text) FROM events`, EventChannel); err != nil {
			return fmt.Errorf("postgres: import: notify events: %w", err)
		}
	}
	if err := tx.Commit(end); err != nil {
		return fmt.Errorf("postgres: import: commit: %w", err)
	}
	return nil
}

// fillModelIndexes fills model_labels and model_capabilities from the
// documents of the models, as PutModel does from each model's Labels and
// (distinct) Capabilities.
func fillModelIndexes(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `INSERT INTO model_labels (model_pk, key, value)
		SELECT m.pk, l.key, l.value FROM models m, json_each_text(m.doc -> 'labels') AS l`); err != nil {
		return fmt.Errorf("postgres: import: model labels: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO model_capabilities (model_pk, capability)
		SELECT DISTINCT m.pk, c FROM models m, json_array_elements_text(m.doc -> 'capabilities') AS c`); err != nil {
		return fmt.Errorf("postgres: import: model capabilities: %w", err)
	}
	return nil
}
