package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// FillSnapshot writes into s at least one item of every kind a snapshot
// holds, with the corner cases a copy could lose: a deleted model's
// revisions, a removed alias's history, a re-activated older policy, a
// revoked token, an event without data, a webhook without types.
func FillSnapshot(t *testing.T, s store.Store) {
	t.Helper()
	pol := func(v int64, bundle string) *api.Policy {
		return &api.Policy{Version: v, Name: fmt.Sprint("bundle-", v), Description: "d", Hash: fmt.Sprint("sha256:", v),
			CreatedAt: t0.Add(time.Duration(v) * time.Second), CreatedBy: "gov", Bundle: []byte(bundle)}
	}
	deadline := t0.Add(72 * time.Hour)
	report := &api.ComplianceReport{PolicyVersion: 1, PolicyHash: "sha256:1", Time: t0, Checked: 3,
		NonCompliant: []api.ModelCompliance{{ModelID: "openai/gpt-5", Role: api.RoleGeneral, Deadline: &deadline}}}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		// A bundle as uploaded, spaces and all: it must come back byte for byte.
		if err := tx.PutPolicy(ctx, pol(1, "{\n  \"name\": \"bundle-1\" }")); err != nil {
			return err
		}
		if err := tx.PutPolicy(ctx, pol(2, `{"name":"bundle-2"}`)); err != nil {
			return err
		}
		if err := tx.ActivatePolicy(ctx, 1, t0, "gov", report); err != nil {
			return err
		}
		if err := tx.ActivatePolicy(ctx, 2, t0.Add(time.Minute), "gov2", &api.ComplianceReport{PolicyVersion: 2}); err != nil {
			return err
		}
		return tx.ActivatePolicy(ctx, 1, t0.Add(2*time.Minute), "gov3", report)
	})

	gpt := NewModel("openai/gpt-5", "active", api.RoleGeneral, 2)
	gpt.Labels = map[string]string{"team": "core", "example.com/tier": "gold"}
	gpt.Capabilities = []string{"reasoning", "code", "code"}
	gpt.Annotations = map[string]string{"note": "héllo ✓ <b>&</b>"}
	gpt.ContextWindow = 128000
	gpt.Governance.Compliance = &api.Compliance{Status: api.NonCompliant, Since: t0, Deadline: &deadline, PolicyVersion: 1}
	verified := t0.Add(time.Hour)
	gpt.Identity = &api.Identity{KeyType: "ed25519", PublicKey: "AAAA", KeyID: "k1", ArtifactDigest: "sha256:ab",
		Status: api.IdentityVerified, Owner: "alice", RegisteredAt: t0, RegisteredBy: "alice", VerifiedAt: &verified,
		ExpiresAt: t0.Add(365 * 24 * time.Hour)}
	claude := NewModel("anthropic/claude-4", "proposed", api.RoleSpecialist, 2)
	claude.Governance.Review = &api.Review{Status: api.ReviewPending, Reason: "near duplicate", FlaggedAt: t0}
	claude.Labels = map[string]string{"team": "research"}
	gone := NewModel("meta/llama-2", "retired", api.RoleNone, 1)
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, m := range []*api.Model{gpt, claude, gone} {
			for rev := int64(1); rev <= 2; rev++ {
				doc := *m
				doc.ResourceVersion = fmt.Sprint(rev)
				r := &api.Revision{ModelID: m.ModelID, Revision: rev, Action: api.Action("update"), Actor: "alice",
					Reason: fmt.Sprint("change ", rev), Time: t0.Add(time.Duration(rev) * time.Minute), RequestID: "req", Model: &doc}
				if rev == 2 && m == gone {
					r.Action, r.Model = api.Action("delete"), nil
				}
				if err := tx.AppendRevision(ctx, r); err != nil {
					return err
				}
			}
			if err := tx.PutModel(ctx, m); err != nil {
				return err
			}
		}
		return tx.DeleteModel(ctx, gone.ModelID)
	})

	mv := func(name, target, rv string, at time.Time) *api.Alias {
		return &api.Alias{Name: name, Target: target, ResourceVersion: rv, UpdatedAt: at, UpdatedBy: "alice", Reason: "vote"}
	}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, a := range []*api.Alias{
			mv("hivellm/chair", "openai/gpt-5", "1", t0),
			mv("hivellm/chair", "anthropic/claude-4", "2", t0.Add(time.Minute)),
			mv("hivellm/old", "meta/llama-2", "1", t0),
		} {
			if err := tx.PutAlias(ctx, a); err != nil {
				return err
			}
		}
		return tx.DeleteAlias(ctx, mv("hivellm/old", "", "", t0.Add(time.Hour)))
	})

	expires := t0.Add(24 * time.Hour)
	live, revoked := newToken("tok1", t0), newToken("tok2", t0.Add(time.Second))
	live.ExpiresAt = &expires
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, tok := range []*store.Token{live, revoked} {
			if err := tx.PutToken(ctx, tok); err != nil {
				return err
			}
		}
		if err := tx.RevokeToken(ctx, "tok2", t0.Add(time.Minute), "admin"); err != nil {
			return err
		}
		if err := tx.ClaimIdentity(ctx, store.ClaimKey, "k1", gpt.ModelID, t0); err != nil {
			return err
		}
		return tx.ClaimIdentity(ctx, store.ClaimArtifact, "sha256:ab", gpt.ModelID, t0)
	})

	// The benchmarks and results: a superseded result, a back-filled older
	// one, a result of a deleted model (which has no scores), and a
	// benchmark version without results.
	hs := NewBenchmark("hellaswag", "1", "acc", "loss")
	hs.Metrics[0].Description = "accuracy ✓ <b>&</b>"
	stderr := 0.0042
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	evs := []*api.Evaluation{
		NewEvaluation("ev_00000000000000a1", gpt.ModelID, "hellaswag", "1", at(1), "acc", 0.5, "loss", 2.0),
		NewEvaluation("ev_00000000000000a2", gpt.ModelID, "hellaswag", "1", at(2), "acc", 0.9, "loss", 1.0),
		NewEvaluation("ev_00000000000000a3", gpt.ModelID, "hellaswag", "1", at(0), "acc", 0.7),
		NewEvaluation("ev_00000000000000a4", claude.ModelID, "hellaswag", "1", at(1), "acc", 0.7, "loss", 1.5),
		NewEvaluation("ev_00000000000000a5", gpt.ModelID, "mmlu_pro", "2", at(3), "acc", 0.1+0.2),
		NewEvaluation("ev_00000000000000a6", gone.ModelID, "hellaswag", "1", at(4), "acc", 0.99, "loss", 0.1),
		// A correction of a2, of a run at the same time.
		NewEvaluation("ev_00000000000000a7", gpt.ModelID, "hellaswag", "1", at(2), "acc", 0.6, "loss", 1.75),
	}
	evs[0].Values[0].Stderr = &stderr
	evs[1].Settings = map[string]any{"batch_size": 8.0, "split": "validation"}
	nshot := 5
	evs[1].NShot = &nshot
	evs[3].Regression = &api.Regression{Metric: "acc", Previous: "ev_0", Before: 0.8, After: 0.7, Threshold: 0.05}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, b := range []*api.Benchmark{hs, NewBenchmark("mmlu_pro", "2", "acc"), NewBenchmark("mmlu_pro", "1", "acc")} {
			if err := tx.PutBenchmark(ctx, b); err != nil {
				return err
			}
		}
		for _, e := range evs {
			if err := tx.AddEvaluation(ctx, e); err != nil {
				return err
			}
		}
		return tx.SupersedeEvaluation(ctx, "ev_00000000000000a2", "ev_00000000000000a7")
	})

	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range int64(5) {
			rec := auditRecord(t, i, t0.Add(time.Duration(i)*time.Second), "alice", "model.update", gpt.ModelID, "allowed")
			if _, err := appendAudit(ctx, tx, rec); err != nil {
				return err
			}
		}
		return nil
	})

	bare := newEvent("token.revoked", "token/tok2")
	bare.Data = nil
	appendEvents(t, s, newEvent("model.created", gpt.ModelID), bare, newEvent("model.updated", gpt.ModelID))

	a, b := newWebhook("wh_a", t0.Add(time.Minute)), newWebhook("wh_b", t0)
	b.Types = nil
	next, ok := t0.Add(time.Hour), t0.Add(30*time.Minute)
	a.Status, a.DisabledReason, a.ConsecutiveFailures = api.WebhookDisabled, "10 failures", 10
	a.NextAttemptAt, a.LastSuccessAt, a.LastFailureAt = &next, &ok, &next
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, w := range []*store.Webhook{a, b} {
			if err := tx.PutWebhook(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
	// Import batches, one rolled back.
	back := t0.Add(2 * time.Hour)
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, b := range []*api.ImportBatch{
			{ID: "imp_0000000000000001", Source: "generals.yml", Format: "hivellm", CreatedAt: t0, CreatedBy: "admin",
				Totals: api.ImportTotals{Create: 1, Flagged: 1}, Models: []api.ImportTouch{{ModelID: "openai/gpt-5", Before: 0, After: 2}}},
			{ID: "imp_0000000000000002", Format: "litellm", CreatedAt: t0.Add(time.Hour), CreatedBy: "admin",
				Totals: api.ImportTotals{Update: 1}, Models: []api.ImportTouch{{ModelID: "meta/llama", Before: 1, After: 3}},
				RolledBackAt: &back, RolledBackBy: "gov"},
		} {
			if err := tx.PutImport(ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
	redelivery := newDelivery("wh_b", 3, true)
	redelivery.RedeliveryOf, redelivery.By = 2, "admin"
	appendDeliveries(t, s, newDelivery("wh_a", 1, false), newDelivery("wh_b", 1, true), newDelivery("wh_a", 2, true), redelivery)
	// The delivery log has a gap: the import must keep the ids as they are.
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PruneDeliveries(ctx, "wh_a", 1) })
}

// Export returns every record of s.
func Export(t *testing.T, s store.Store) []*store.Record {
	t.Helper()
	var out []*store.Record
	if err := s.Export(context.Background(), func(r *store.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return out
}

// Records returns a next function for Import that gives recs, then io.EOF.
func Records(recs []*store.Record) func() (*store.Record, error) {
	i := 0
	return func() (*store.Record, error) {
		if i == len(recs) {
			return nil, io.EOF
		}
		i++
		return recs[i-1], nil
	}
}

// SameRecords reports the first difference between two exports.
func SameRecords(t *testing.T, got, want []*store.Record) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("record %d differs:\n got %s\nwant %s", i, describe(got[i]), describe(want[i]))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("export has %d records, want %d", len(got), len(want))
	}
}

func describe(r *store.Record) string {
	var b bytes.Buffer
	w := store.NewSnapshotWriter(&b)
	if err := w.Write(r); err != nil {
		return fmt.Sprintf("%+v (%v)", r, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Sprintf("%+v (%v)", r, err)
	}
	_, line, _ := bytes.Cut(b.Bytes(), []byte("\n"))
	return string(line)
}

// testSnapshot returns the snapshot test: it fills the store it is given,
// and opens others to import into.
func testSnapshot(open Open) func(*testing.T, store.Store) {
	return func(t *testing.T, src store.Store) {
		ctx := context.Background()
		openClosed := func(t *testing.T) store.Store {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			return s
		}
		FillSnapshot(t, src)
		recs := Export(t, src)
		kinds := map[string]bool{}
		for _, r := range recs {
			kinds[r.Kind] = true
		}
		for _, k := range store.Kinds() {
			if !kinds[k] {
				t.Errorf("export has no %s record", k)
			}
		}

		// Through the file format, into a new store.
		var file bytes.Buffer
		w := store.NewSnapshotWriter(&file)
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				t.Fatalf("SnapshotWriter.Write: %v", err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatalf("SnapshotWriter.Close: %v", err)
		}
		dst := openClosed(t)
		if err := dst.Import(ctx, store.NewSnapshotReader(&file).Next); err != nil {
			t.Fatalf("Import: %v", err)
		}
		SameRecords(t, Export(t, dst), recs)
		sameReads(t, src, dst)
		// The scores, rebuilt from the valid results of the stored models.
		checkBoard(t, dst, store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc"},
			"anthropic/claude-4", "openai/gpt-5")
		checkBoard(t, dst, store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "loss", Role: api.RoleGeneral},
			"openai/gpt-5")
		if got := latestScores(t, dst, "openai/gpt-5"); len(got) != 3 || got[0].EvaluationID != "ev_00000000000000a7" ||
			got[1].EvaluationID != "ev_00000000000000a7" || got[2].EvaluationID != "ev_00000000000000a5" {
			t.Errorf("LatestScores after import = %+v", got)
		}

		// New writes continue after the imported ones.
		lastEvent, _ := src.LastEventSeq(ctx)
		var maxDelivery int64
		for _, r := range recs {
			if r.Kind == store.KindDelivery {
				maxDelivery = max(maxDelivery, r.Delivery.ID)
			}
		}
		for _, s := range []store.Store{src, dst} {
			e := newEvent("model.deleted", "x/y")
			d := newDelivery("wh_b", 9, true)
			write(t, s, func(ctx context.Context, tx store.Tx) error {
				if err := tx.AppendEvent(ctx, e); err != nil {
					return err
				}
				if err := tx.AppendDelivery(ctx, d); err != nil {
					return err
				}
				m := NewModel("openai/gpt-5", "active", api.RoleGeneral, 3)
				if err := tx.AppendRevision(ctx, &api.Revision{ModelID: m.ModelID, Revision: 3, Action: "update",
					Actor: "bob", Time: t0, Model: m}); err != nil {
					return err
				}
				if err := tx.PutAlias(ctx, &api.Alias{Name: "hivellm/old", Target: "openai/gpt-5", ResourceVersion: "3",
					UpdatedAt: t0, UpdatedBy: "bob"}); err != nil {
					return err
				}
				if err := tx.PutPolicy(ctx, &api.Policy{Version: 3, Name: "b3", Hash: "sha256:3", CreatedAt: t0,
					CreatedBy: "gov", Bundle: []byte(`{}`)}); err != nil {
					return err
				}
				_, err := appendAudit(ctx, tx, auditRecord(t, 5, t0, "bob", "model.update", "openai/gpt-5", "allowed"))
				return err
			})
			if e.Seq != lastEvent+1 {
				t.Errorf("AppendEvent after import: seq %d, want %d", e.Seq, lastEvent+1)
			}
			if d.ID <= maxDelivery {
				t.Errorf("AppendDelivery after import: id %d, want above %d", d.ID, maxDelivery)
			}
		}
		// Both trees grew the same way from the same stored hashes.
		n := tlog.StoredHashCount(6)
		indexes := make([]int64, n)
		for i := range indexes {
			indexes[i] = int64(i)
		}
		h1, err1 := src.ReadHashes(ctx, indexes)
		h2, err2 := dst.ReadHashes(ctx, indexes)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(h1, h2) {
			t.Errorf("audit tree hashes after an append differ: %v, %v", err1, err2)
		}

		t.Run("IntoNonEmptyStore", func(t *testing.T) {
			before := Export(t, dst)
			err := dst.Import(ctx, Records(recs))
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("Import into a non-empty store: %v, want kind Invalid", err)
			}
			SameRecords(t, Export(t, dst), before)
			// A store holding only a token is not empty either.
			tokenOnly := openClosed(t)
			write(t, tokenOnly, func(ctx context.Context, tx store.Tx) error { return tx.PutToken(ctx, newToken("only", t0)) })
			if err := tokenOnly.Import(ctx, Records(recs)); !errs.Is(err, errs.Invalid) {
				t.Errorf("Import into a store holding a token: %v, want kind Invalid", err)
			}
			// Nor is one holding only a benchmark.
			benchmarkOnly := openClosed(t)
			putBenchmarks(t, benchmarkOnly, NewBenchmark("arc", "1", "acc"))
			if err := benchmarkOnly.Import(ctx, Records(recs)); !errs.Is(err, errs.Invalid) {
				t.Errorf("Import into a store holding a benchmark: %v, want kind Invalid", err)
			}
		})

		t.Run("FailingSourceLeavesNothing", func(t *testing.T) {
			boom := errors.New("disk read error")
			for _, at := range []int{0, len(recs) / 2, len(recs)} {
				s := openClosed(t)
				i := 0
				err := s.Import(ctx, func() (*store.Record, error) {
					if i == at {
						return nil, boom
					}
					i++
					return recs[i-1], nil
				})
				if !errors.Is(err, boom) {
					t.Errorf("Import failing after %d records: %v, want %v", at, err, boom)
				}
				if got := Export(t, s); len(got) != 0 {
					t.Errorf("Import failing after %d records left %d records, want none", at, len(got))
				}
			}
			// A result of a benchmark not in the snapshot is refused.
			s := openClosed(t)
			var orphan []*store.Record
			for _, r := range recs {
				if r.Kind != store.KindBenchmark || r.Benchmark.Name != "mmlu_pro" || r.Benchmark.Version != "2" {
					orphan = append(orphan, r)
				}
			}
			if err := s.Import(ctx, Records(orphan)); !errs.Is(err, errs.Invalid) {
				t.Errorf("Import of a result without its benchmark: %v, want kind Invalid", err)
			}
			if got := Export(t, s); len(got) != 0 {
				t.Errorf("Import of a result without its benchmark left %d records, want none", len(got))
			}
			// A malformed record is refused the same way.
			s = openClosed(t)
			bad := append(recs[:len(recs):len(recs)], &store.Record{Kind: "model"})
			if err := s.Import(ctx, Records(bad)); !errs.Is(err, errs.Invalid) {
				t.Errorf("Import of a malformed record: %v, want kind Invalid", err)
			}
			if got := Export(t, s); len(got) != 0 {
				t.Errorf("Import of a malformed record left %d records, want none", len(got))
			}
		})
	}
}

// sameReads checks that two stores answer every read the same.
func sameReads(t *testing.T, a, b store.Store) {
	t.Helper()
	ctx := context.Background()
	same := func(what string, read func(r store.Reader) (any, error)) {
		t.Helper()
		x, errA := read(a)
		y, errB := read(b)
		if (errA == nil) != (errB == nil) || (errA != nil && errs.KindOf(errA) != errs.KindOf(errB)) {
			t.Errorf("%s: errors differ: %v, %v", what, errA, errB)
			return
		}
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s differs:\n got %+v\nwant %+v", what, y, x)
		}
	}
	now := t0.Add(time.Minute)
	for _, id := range []string{"openai/gpt-5", "anthropic/claude-4", "meta/llama-2"} {
		same("GetModel "+id, func(r store.Reader) (any, error) { return r.GetModel(ctx, id) })
		same("GetModelDoc "+id, func(r store.Reader) (any, error) { return r.GetModelDoc(ctx, id) })
		same("ListRevisions "+id, func(r store.Reader) (any, error) { return r.ListRevisions(ctx, id, 0, 100) })
		same("LastRevision "+id, func(r store.Reader) (any, error) { return r.LastRevision(ctx, id) })
	}
	for _, q := range []store.ModelQuery{
		{}, {Labels: mustParse(t, "team=core")}, {Labels: mustParse(t, "!example.com/tier")}, {Capability: "code"},
		{NonCompliant: true}, {ReviewPending: true}, {DeadlineBefore: t0.Add(100 * time.Hour)}, {Role: api.RoleGeneral},
		{Status: api.StatusProposed}, {Provider: "openai", ParameterCount: 70_000_000_000, ContextWindow: 128000},
		{Text: "CLAUDE"}, {SizeClass: api.SizeLarge},
	} {
		q.Limit = 100
		same(fmt.Sprintf("ListModelDocs(%+v)", q), func(r store.Reader) (any, error) { return r.ListModelDocs(ctx, q) })
		same(fmt.Sprintf("CountModels(%+v)", q), func(r store.Reader) (any, error) { return r.CountModels(ctx, q) })
	}
	same("IdentityOwners", func(r store.Reader) (any, error) { return r.IdentityOwners(ctx, api.RoleGeneral, now) })
	same("VerifiedIdentities", func(r store.Reader) (any, error) { return r.VerifiedIdentities(ctx, now) })
	for _, name := range []string{"hivellm/chair", "hivellm/old"} {
		same("GetAlias "+name, func(r store.Reader) (any, error) { return r.GetAlias(ctx, name) })
		same("AliasHistory "+name, func(r store.Reader) (any, error) { return r.AliasHistory(ctx, name) })
	}
	same("ListAliases", func(r store.Reader) (any, error) { return r.ListAliases(ctx, "", "", 100) })
	same("ListPolicies", func(r store.Reader) (any, error) { return r.ListPolicies(ctx) })
	same("ActivePolicy", func(r store.Reader) (any, error) { return r.ActivePolicy(ctx) })
	for v := int64(1); v <= 3; v++ {
		same(fmt.Sprint("GetPolicy ", v), func(r store.Reader) (any, error) { return r.GetPolicy(ctx, v) })
		same(fmt.Sprint("ActivationReport ", v), func(r store.Reader) (any, error) { return r.ActivationReport(ctx, v) })
	}
	same("AuditSize", func(r store.Reader) (any, error) { return r.AuditSize(ctx) })
	same("AuditEntries", func(r store.Reader) (any, error) { return r.AuditEntries(ctx, store.AuditQuery{Limit: 100}) })
	same("AuditEntries by time", func(r store.Reader) (any, error) {
		return r.AuditEntries(ctx, store.AuditQuery{Since: t0.Add(time.Second), Until: t0.Add(3 * time.Second), Limit: 100})
	})
	n := tlog.StoredHashCount(5)
	indexes := make([]int64, n)
	for i := range indexes {
		indexes[i] = int64(i)
	}
	same("ReadHashes", func(r store.Reader) (any, error) { return r.ReadHashes(ctx, indexes) })
	same("LastEventSeq", func(r store.Reader) (any, error) { return r.LastEventSeq(ctx) })
	same("ListEvents", func(r store.Reader) (any, error) { return r.ListEvents(ctx, store.EventQuery{Limit: 100}) })
	same("ListTokens", func(r store.Reader) (any, error) { return r.ListTokens(ctx) })
	same("TokenByHash", func(r store.Reader) (any, error) { return r.TokenByHash(ctx, newToken("tok2", t0).Hash) })
	for _, c := range []struct {
		kind  store.ClaimKind
		value string
	}{{store.ClaimKey, "k1"}, {store.ClaimArtifact, "sha256:ab"}, {store.ClaimKey, "k2"}} {
		same("IdentityClaim "+c.value, func(r store.Reader) (any, error) { return r.IdentityClaim(ctx, c.kind, c.value) })
	}
	same("ListBenchmarks", func(r store.Reader) (any, error) { return r.ListBenchmarks(ctx) })
	same("GetBenchmark", func(r store.Reader) (any, error) { return r.GetBenchmark(ctx, "hellaswag", "1") })
	same("ListEvaluations", func(r store.Reader) (any, error) {
		return r.ListEvaluations(ctx, store.EvaluationQuery{Limit: 100})
	})
	same("ListEvaluations valid", func(r store.Reader) (any, error) {
		return r.ListEvaluations(ctx, store.EvaluationQuery{Valid: true, Limit: 100})
	})
	for _, id := range []string{"ev_00000000000000a2", "ev_00000000000000a7", "ev_00000000000000a6", "ev_none"} {
		same("GetEvaluation "+id, func(r store.Reader) (any, error) { return r.GetEvaluation(ctx, id) })
	}
	for _, id := range []string{"openai/gpt-5", "anthropic/claude-4", "meta/llama-2"} {
		same("LatestScores "+id, func(r store.Reader) (any, error) { return r.LatestScores(ctx, id) })
	}
	for _, q := range []store.LeaderboardQuery{
		{Benchmark: "hellaswag", Version: "1", Metric: "acc"},
		{Benchmark: "hellaswag", Version: "1", Metric: "loss"},
		{Benchmark: "hellaswag", Version: "1", Metric: "acc", Role: api.RoleSpecialist},
		{Benchmark: "hellaswag", Version: "1", Metric: "loss", Status: api.StatusActive},
		{Benchmark: "hellaswag", Version: "1", Metric: "acc", Offset: 1},
		{Benchmark: "mmlu_pro", Version: "2", Metric: "acc"},
	} {
		q.Limit = 100
		same(fmt.Sprintf("Leaderboard(%+v)", q), func(r store.Reader) (any, error) { return r.Leaderboard(ctx, q) })
	}
	same("ListWebhooks", func(r store.Reader) (any, error) { return r.ListWebhooks(ctx) })
	same("ListImports", func(r store.Reader) (any, error) { return r.ListImports(ctx) })
	same("GetImport", func(r store.Reader) (any, error) { return r.GetImport(ctx, "imp_0000000000000002") })
	for _, id := range []string{"wh_a", "wh_b"} {
		same("GetWebhook "+id, func(r store.Reader) (any, error) { return r.GetWebhook(ctx, id) })
		same("ListDeliveries "+id, func(r store.Reader) (any, error) { return r.ListDeliveries(ctx, id, 0, 100) })
	}
}
