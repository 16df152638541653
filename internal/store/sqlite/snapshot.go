package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// snapshotTables are the tables a snapshot fills: Import refuses a store in
// which any holds a row.
var snapshotTables = []string{"models", "revisions", "aliases", "alias_revisions", "policies", "policy_activations",
	"tokens", "identity_claims", "benchmarks", "evaluations", "audit_entries", "audit_hashes", "events", "webhooks", "webhook_deliveries", "imports"}

type scanner = interface{ Scan(...any) error }

// exportStep reads one kind of record.
type exportStep struct {
	what  string
	query string
	scan  func(scanner) (*store.Record, error)
}

var exportSteps = []exportStep{
	{"policies", `SELECT version, name, description, hash, bundle, created_at, created_by FROM policies ORDER BY version`,
		func(sc scanner) (*store.Record, error) {
			var (
				p       api.Policy
				bundle  []byte
				created string
			)
			if err := sc.Scan(&p.Version, &p.Name, &p.Description, &p.Hash, &bundle, &created, &p.CreatedBy); err != nil {
				return nil, err
			}
			p.Bundle = json.RawMessage(bundle)
			var err error
			p.CreatedAt, err = parseTime(created)
			return &store.Record{Kind: store.KindPolicy, Policy: &p}, err
		}},
	{"policy activations", `SELECT version, activated_at, activated_by, report FROM policy_activations ORDER BY seq`,
		func(sc scanner) (*store.Record, error) {
			var (
				a      store.Activation
				at     string
				report []byte
			)
			if err := sc.Scan(&a.Version, &at, &a.By, &report); err != nil {
				return nil, err
			}
			if err := json.Unmarshal(report, &a.Report); err != nil {
				return nil, fmt.Errorf("report of activation of %d: %w", a.Version, err)
			}
			var err error
			a.At, err = parseTime(at)
			return &store.Record{Kind: store.KindActivation, Activation: &a}, err
		}},
	{"models", `SELECT doc FROM models ORDER BY model_id`,
		func(sc scanner) (*store.Record, error) {
			var doc []byte
			if err := sc.Scan(&doc); err != nil {
				return nil, err
			}
			m, err := decodeModel(doc)
			return &store.Record{Kind: store.KindModel, Model: m}, err
		}},
	{"revisions", `SELECT ` + revisionColumns + ` FROM revisions ORDER BY model_id, revision`,
		func(sc scanner) (*store.Record, error) {
			r, err := scanRevision(sc)
			return &store.Record{Kind: store.KindRevision, Revision: r}, err
		}},
	{"aliases", `SELECT ` + aliasColumns + ` FROM aliases ORDER BY name`,
		func(sc scanner) (*store.Record, error) {
			a, err := scanAlias(sc)
			return &store.Record{Kind: store.KindAlias, Alias: a}, err
		}},
	{"alias history", `SELECT ` + aliasColumns + ` FROM alias_revisions ORDER BY name, revision`,
		func(sc scanner) (*store.Record, error) {
			a, err := scanAlias(sc)
			return &store.Record{Kind: store.KindAliasMove, AliasMove: a}, err
		}},
	{"tokens", `SELECT ` + tokenColumns + ` FROM tokens ORDER BY id`,
		func(sc scanner) (*store.Record, error) {
			t, err := scanToken(sc)
			return &store.Record{Kind: store.KindToken, Token: t}, err
		}},
	{"identity claims", `SELECT kind, value, model_id, claimed_at FROM identity_claims ORDER BY kind, value`,
		func(sc scanner) (*store.Record, error) {
			var (
				c  store.Claim
				at string
			)
			if err := sc.Scan(&c.Kind, &c.Value, &c.ModelID, &at); err != nil {
				return nil, err
			}
			var err error
			c.At, err = parseTime(at)
			return &store.Record{Kind: store.KindClaim, Claim: &c}, err
		}},
	{"benchmarks", `SELECT doc FROM benchmarks ORDER BY name, version`,
		func(sc scanner) (*store.Record, error) {
			var (
				b   api.Benchmark
				doc []byte
			)
			if err := sc.Scan(&doc); err != nil {
				return nil, err
			}
			if err := json.Unmarshal(doc, &b); err != nil {
				return nil, fmt.Errorf("stored benchmark: %w", err)
			}
			return &store.Record{Kind: store.KindBenchmark, Benchmark: &b}, nil
		}},
	{"evaluations", `SELECT doc, superseded_by FROM evaluations ORDER BY id`,
		func(sc scanner) (*store.Record, error) {
			e, err := scanEvaluation(sc)
			return &store.Record{Kind: store.KindEvaluation, Evaluation: e}, err
		}},
	{"audit entries", `SELECT seq, time, principal, action, target, outcome, leaf FROM audit_entries ORDER BY seq`,
		func(sc scanner) (*store.Record, error) {
			var (
				r  store.AuditRecord
				at string
			)
			if err := sc.Scan(&r.Seq, &at, &r.Principal, &r.Action, &r.Target, &r.Outcome, &r.Leaf); err != nil {
				return nil, err
			}
			var err error
			r.Time, err = parseTime(at)
			return &store.Record{Kind: store.KindAudit, Audit: &r}, err
		}},
	{"audit hashes", `SELECT idx, hash FROM audit_hashes ORDER BY idx`,
		func(sc scanner) (*store.Record, error) {
			var (
				h    store.AuditHash
				hash []byte
			)
			if err := sc.Scan(&h.Index, &hash); err != nil {
				return nil, err
			}
			if len(hash) != 32 {
				return nil, fmt.Errorf("audit hash %d has %d bytes", h.Index, len(hash))
			}
			copy(h.Hash[:], hash)
			return &store.Record{Kind: store.KindAuditHash, AuditHash: &h}, nil
		}},
	{"events", `SELECT seq, id, source, type, subject, time, content_type, data FROM events ORDER BY seq`,
		func(sc scanner) (*store.Record, error) {
			var (
				e    api.Event
				at   string
				data []byte
			)
			if err := sc.Scan(&e.Seq, &e.ID, &e.Source, &e.Type, &e.Subject, &at, &e.DataContentType, &data); err != nil {
				return nil, err
			}
			if len(data) > 0 {
				e.Data = data
			}
			e.SpecVersion = api.CloudEventsVersion
			var err error
			e.Time, err = parseTime(at)
			return &store.Record{Kind: store.KindEvent, Event: &e}, err
		}},
	{"webhooks", `SELECT ` + webhookColumns + ` FROM webhooks ORDER BY id`,
		func(sc scanner) (*store.Record, error) {
			w, err := scanWebhook(sc)
			return &store.Record{Kind: store.KindWebhook, Webhook: w}, err
		}},
	{"webhook deliveries", `SELECT ` + deliveryColumns + ` FROM webhook_deliveries ORDER BY id`,
		func(sc scanner) (*store.Record, error) {
			d, err := scanDelivery(sc)
			return &store.Record{Kind: store.KindDelivery, Delivery: d}, err
		}},
	{"imports", `SELECT doc FROM imports ORDER BY id`,
		func(sc scanner) (*store.Record, error) {
			b, err := scanImport(sc)
			return &store.Record{Kind: store.KindImport, Import: b}, err
		}},
}

// Export implements store.Store. It reads in one read transaction on a
// connection of the read pool: in WAL mode, the snapshot its first read
// takes holds until it ends, whatever is written meanwhile.
func (s *Store) Export(ctx context.Context, emit func(*store.Record) error) error {
	conn, err := s.read.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: export: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("sqlite: export: begin: %w", err)
	}
	// A read transaction has nothing to lose: its end cannot fail usefully.
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") }()
	for _, step := range exportSteps {
		if err := exportRows(ctx, conn, step, emit); err != nil {
			return err
		}
	}
	return nil
}

func exportRows(ctx context.Context, conn *sql.Conn, step exportStep, emit func(*store.Record) error) error {
	rows, err := conn.QueryContext(ctx, step.query)
	if err != nil {
		return fmt.Errorf("sqlite: export %s: %w", step.what, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := step.scan(rows)
		if err != nil {
			return fmt.Errorf("sqlite: export %s: %w", step.what, err)
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: export %s: %w", step.what, err)
	}
	return nil
}

// Import implements store.Store: one write transaction, through the
// writer's prepared statements. Models go through PutModel, which derives
// their indexed columns, labels and capabilities; every other record is
// one row, inserted as it is. The scores, which a snapshot does not hold,
// are rebuilt at the end from the imported results (rebuildScores).
func (s *Store) Import(ctx context.Context, next func() (*store.Record, error)) error {
	return s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		t := tx.(*txn)
		if err := t.checkEmpty(ctx); err != nil {
			return err
		}
		for n := 1; ; n++ {
			r, err := next()
			if errors.Is(err, io.EOF) {
				return t.rebuildScores(ctx)
			}
			if err != nil {
				return fmt.Errorf("sqlite: import: record %d: %w", n, err)
			}
			if err := r.Check(); err != nil {
				return fmt.Errorf("sqlite: import: record %d: %w", n, err)
			}
			if err := t.importRecord(ctx, r); err != nil {
				return fmt.Errorf("sqlite: import: record %d (%s): %w", n, r.Kind, err)
			}
		}
	})
}

func (t *txn) checkEmpty(ctx context.Context) error {
	for _, table := range snapshotTables {
		var one int
		err := t.queryRow(ctx, `SELECT 1 FROM `+table+` LIMIT 1`).Scan(&one)
		if err == nil {
			return store.NotEmpty(table)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: import: check that %s is empty: %w", table, err)
		}
	}
	return nil
}

func (t *txn) importRecord(ctx context.Context, r *store.Record) error {
	var err error
	switch r.Kind {
	case store.KindPolicy:
		p := r.Policy
		_, err = t.exec(ctx, `INSERT INTO policies (version, name, description, hash, bundle, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, p.Version, p.Name, p.Description, p.Hash, []byte(p.Bundle), formatTime(p.CreatedAt), p.CreatedBy)
	case store.KindActivation:
		a := r.Activation
		var report []byte
		if report, err = json.Marshal(a.Report); err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO policy_activations (version, activated_at, activated_by, report) VALUES (?, ?, ?, ?)`,
			a.Version, formatTime(a.At), a.By, report)
	case store.KindModel:
		err = t.PutModel(ctx, r.Model)
	case store.KindRevision:
		rev := r.Revision
		var doc []byte
		if rev.Model != nil {
			if doc, err = api.Marshal(rev.Model); err != nil {
				return err
			}
		}
		_, err = t.exec(ctx, `INSERT INTO revisions (`+revisionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			rev.ModelID, rev.Revision, string(rev.Action), rev.Actor, rev.Reason, formatTime(rev.Time), rev.RequestID, doc)
	case store.KindAlias, store.KindAliasMove:
		a, table := r.Alias, "aliases"
		if r.Kind == store.KindAliasMove {
			a, table = r.AliasMove, "alias_revisions"
		}
		rev, perr := strconv.ParseInt(a.ResourceVersion, 10, 64)
		if perr != nil {
			return fmt.Errorf("alias %s: resource_version %q: %w", a.Name, a.ResourceVersion, perr)
		}
		_, err = t.exec(ctx, `INSERT INTO `+table+` (`+aliasColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			a.Name, a.Target, rev, formatTime(a.UpdatedAt), a.UpdatedBy, a.Reason)
	case store.KindToken:
		tok := r.Token
		var roles []byte
		if roles, err = json.Marshal(tok.Roles); err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tok.ID, tok.Name, string(roles), tok.Prefix, tok.Hash, formatTime(tok.CreatedAt), tok.CreatedBy,
			formatNullTime(tok.ExpiresAt), formatNullTime(tok.RevokedAt), tok.RevokedBy)
	case store.KindClaim:
		c := r.Claim
		_, err = t.exec(ctx, `INSERT INTO identity_claims (kind, value, model_id, claimed_at) VALUES (?, ?, ?, ?)`,
			string(c.Kind), c.Value, c.ModelID, formatTime(c.At))
	case store.KindBenchmark:
		b := r.Benchmark
		var doc []byte
		if doc, err = api.Marshal(b); err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO benchmarks (name, version, doc) VALUES (?, ?, ?)`, b.Name, b.Version, doc)
	case store.KindEvaluation:
		// As AddEvaluation stores it, superseded_by in its column, but
		// without the scores: rebuildScores makes them once every result,
		// benchmark and model is in.
		e := r.Evaluation
		stored := *e
		stored.SupersededBy = ""
		var doc []byte
		if doc, err = api.Marshal(&stored); err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO evaluations (id, model_id, benchmark, version, evaluated_at, superseded_by, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, e.ID, e.ModelID, e.Benchmark, e.BenchmarkVersion, formatTime(e.EvaluatedAt), e.SupersededBy, doc)
	case store.KindAudit:
		a := r.Audit
		_, err = t.exec(ctx, `INSERT INTO audit_entries (seq, time, principal, action, target, outcome, leaf)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.Seq, formatTime(a.Time), a.Principal, a.Action, a.Target, a.Outcome, a.Leaf)
	case store.KindAuditHash:
		h := r.AuditHash
		_, err = t.exec(ctx, `INSERT INTO audit_hashes (idx, hash) VALUES (?, ?)`, h.Index, h.Hash[:])
	case store.KindEvent:
		e := r.Event
		_, err = t.exec(ctx, `INSERT INTO events (seq, id, source, type, subject, time, content_type, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, e.ID, e.Source, e.Type, e.Subject, formatTime(e.Time), e.DataContentType, []byte(e.Data))
	case store.KindImport:
		err = t.PutImport(ctx, r.Import)
	case store.KindWebhook:
		w := r.Webhook
		types := w.Types
		if types == nil {
			types = []string{}
		}
		var raw []byte
		if raw, err = json.Marshal(types); err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.URL, string(raw), w.Description, w.Secret, w.Status, w.DisabledReason, formatTime(w.CreatedAt), w.CreatedBy,
			w.Cursor, w.ConsecutiveFailures, formatNullTime(w.NextAttemptAt), formatNullTime(w.LastSuccessAt),
			formatNullTime(w.LastFailureAt))
	case store.KindDelivery:
		// An explicit id above the table's sequence moves the sequence
		// (AUTOINCREMENT), so that new entries number after it.
		d := r.Delivery
		_, err = t.exec(ctx, `INSERT INTO webhook_deliveries (`+deliveryColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.WebhookID, d.EventSeq, d.EventType, d.MessageID, d.Attempt, formatTime(d.Time), d.OK, d.Status, d.Error,
			d.DurationMS, d.Response, d.RedeliveryOf, d.By)
	}
	return err
}

// rebuildScores fills the scores table, empty, from the valid results of
// the stored models, as AddEvaluation leaves it (offerScores, in the order
// of the results: the upsert keeps the latest). Import calls it: the
// scores are derived, never exported. A result whose benchmark is not in
// the catalogue is refused.
func (t *txn) rebuildScores(ctx context.Context) error {
	var id, name, version string
	err := t.queryRow(ctx, `SELECT e.id, e.benchmark, e.version FROM evaluations e
		WHERE NOT EXISTS (SELECT 1 FROM benchmarks b WHERE b.name = e.benchmark AND b.version = e.version)
		ORDER BY e.id LIMIT 1`).Scan(&id, &name, &version)
	if err == nil {
		return errs.E(errs.Invalid, "evaluation %s is of benchmark %s version %s, which is not in the catalogue", id, name, version)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: check the benchmarks of the evaluations: %w", err)
	}
	benchmarks := map[[2]string]*api.Benchmark{}
	q := store.EvaluationQuery{Valid: true, Limit: 1000}
	for {
		page, err := t.ListEvaluations(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range page {
			key := [2]string{e.Benchmark, e.BenchmarkVersion}
			b := benchmarks[key]
			if b == nil {
				if b, err = t.GetBenchmark(ctx, e.Benchmark, e.BenchmarkVersion); err != nil {
					return err
				}
				benchmarks[key] = b
			}
			if err := t.offerScores(ctx, e, b); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return nil
		}
		q.AfterTime, q.AfterID = page[len(page)-1].EvaluatedAt, page[len(page)-1].ID
	}
}
