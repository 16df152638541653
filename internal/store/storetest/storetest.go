// Package storetest is the conformance suite of store.Store: every
// implementation must pass Run, so that the registry behaves the same on
// any database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/labels"
	"github.com/hivellm/modelgov/internal/store"
)

// Open returns a new, empty store for one test. The suite closes it.
type Open func(t *testing.T) store.Store

// Run runs the whole suite against the stores that open returns.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"ModelRoundTrip", testModelRoundTrip},
		{"ModelNotFound", testModelNotFound},
		{"PutModelReplaces", testPutModelReplaces},
		{"ListFilters", testListFilters},
		{"ListLabelSelectors", testListLabelSelectors},
		{"ListPagination", testListPagination},
		{"ListSorts", testListSorts},
		{"Revisions", testRevisions},
		{"DeleteKeepsRevisions", testDeleteKeepsRevisions},
		{"AbortedTransactionLeavesNothing", testAbort},
		{"Aliases", testAliases},
		{"Idempotency", testIdempotency},
		{"ConcurrentWritersSerialize", testConcurrentWriters},
		{"CountModels", testCountModels},
		{"Compliance", testCompliance},
		{"ReviewPending", testReviewPending},
		{"ExactFigures", testExactFigures},
		{"Policies", testPolicies},
		{"Audit", testAudit},
		{"TokenRoundTrip", testTokenRoundTrip},
		{"TokenDuplicates", testTokenDuplicates},
		{"RevokeToken", testRevokeToken},
		{"ListTokens", testListTokens},
		{"IdentityClaims", testIdentityClaims},
		{"IdentityOwners", testIdentityOwners},
		{"Challenges", testChallenges},
		{"ExpireChallenges", testExpireChallenges},
		{"AbortedIdentityWritesLeaveNothing", testAbortIdentity},
		{"ConcurrentTakeChallenge", testConcurrentTakeChallenge},
		{"EventRoundTrip", testEventRoundTrip},
		{"EventSequence", testEventSequence},
		{"EventFilters", testEventFilters},
		{"ConcurrentEvents", testConcurrentEvents},
		{"WebhookRoundTrip", testWebhookRoundTrip},
		{"Deliveries", testDeliveries},
		{"Leases", testLeases},
		{"Imports", testImports},
		{"Benchmarks", testBenchmarks},
		{"EvaluationRoundTrip", testEvaluationRoundTrip},
		{"ListEvaluations", testListEvaluations},
		{"LatestScores", testLatestScores},
		{"SupersedeEvaluation", testSupersedeEvaluation},
		{"Leaderboard", testLeaderboard},
		{"AbortedEvaluationWritesLeaveNothing", testAbortEvaluations},
		{"Snapshot", testSnapshot(open)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)

// NewModel returns a valid stored model document for tests.
func NewModel(id, status string, role api.Role, rev int) *api.Model {
	provider, _, _ := cut(id)
	created := t0
	return &api.Model{
		SchemaVersion:   api.SchemaVersion,
		ModelID:         id,
		Provider:        provider,
		DisplayName:     "Model " + id,
		SizeClass:       api.SizeLarge,
		Parameters:      &api.Parameters{Count: 70_000_000_000, Source: api.ParametersDeclared},
		Governance:      &api.Governance{Role: role},
		Lifecycle:       &api.Lifecycle{Status: api.Status(status), Since: t0, Reason: "registered"},
		ResourceVersion: fmt.Sprint(rev),
		CreatedAt:       &created,
		UpdatedAt:       &created,
	}
}

func cut(id string) (string, string, bool) {
	for i := range len(id) {
		if id[i] == '/' {
			return id[:i], id[i+1:], true
		}
	}
	return id, "", false
}

func write(t *testing.T, s store.Store, f func(context.Context, store.Tx) error) {
	t.Helper()
	if err := s.ReadWrite(context.Background(), f); err != nil {
		t.Fatalf("ReadWrite: %v", err)
	}
}

func put(t *testing.T, s store.Store, ms ...*api.Model) {
	t.Helper()
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, m := range ms {
			if err := tx.PutModel(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

func ids(ms []*api.Model) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ModelID)
	}
	return out
}

func testModelRoundTrip(t *testing.T, s store.Store) {
	m := NewModel("openai/gpt-5", "active", api.RoleGeneral, 1)
	m.Labels = map[string]string{"team": "core", "example.com/tier": "gold"}
	m.Capabilities = []string{"code", "reasoning"}
	m.Modalities = &api.Modalities{Input: []string{"text", "image"}, Output: []string{"text"}}
	m.Annotations = map[string]string{"note": "héllo ✓"}
	put(t, s, m)
	got, err := s.GetModel(context.Background(), "openai/gpt-5")
	if err != nil {
		t.Fatalf("GetModel: %v", err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("GetModel = %+v, want %+v", got, m)
	}
	// Inside a transaction, the transaction's own write is visible.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		m2 := NewModel("openai/gpt-5-mini", "proposed", api.RoleNone, 1)
		if err := tx.PutModel(ctx, m2); err != nil {
			return err
		}
		if _, err := tx.GetModel(ctx, m2.ModelID); err != nil {
			return fmt.Errorf("own write not visible: %w", err)
		}
		return nil
	})
}

func testModelNotFound(t *testing.T, s store.Store) {
	_, err := s.GetModel(context.Background(), "nobody/none")
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("GetModel of a missing model: err = %v, want kind NotFound", err)
	}
	err = s.ReadWrite(context.Background(), func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteModel(ctx, "nobody/none")
	})
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("DeleteModel of a missing model: err = %v, want kind NotFound", err)
	}
}

func testPutModelReplaces(t *testing.T, s store.Store) {
	m := NewModel("meta/llama-3-70b", "proposed", api.RoleNone, 1)
	m.Labels = map[string]string{"team": "core"}
	m.Capabilities = []string{"code"}
	put(t, s, m)
	m2 := NewModel("meta/llama-3-70b", "active", api.RoleSpecialist, 2)
	m2.Labels = map[string]string{"tier": "gold"}
	put(t, s, m2)
	ctx := context.Background()
	got, err := s.GetModel(ctx, m.ModelID)
	if err != nil || got.ResourceVersion != "2" || got.Status() != api.StatusActive {
		t.Fatalf("GetModel after replace = %+v, %v", got, err)
	}
	// The old labels, capabilities and indexed fields are gone.
	for _, q := range []store.ModelQuery{
		{Labels: mustParse(t, "team=core")},
		{Capability: "code"},
		{Status: api.StatusProposed},
		{Role: api.RoleNone},
	} {
		q.Limit = 10
		list, err := s.ListModels(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 {
			t.Errorf("ListModels(%+v) after replace = %v, want none", q, ids(list))
		}
	}
	list, _ := s.ListModels(ctx, store.ModelQuery{Labels: mustParse(t, "tier=gold"), Limit: 10})
	if len(list) != 1 {
		t.Errorf("ListModels(tier=gold) = %v, want the replaced model", ids(list))
	}
}

func mustParse(t *testing.T, sel string) labels.Selector {
	t.Helper()
	s, err := labels.Parse(sel)
	if err != nil {
		t.Fatalf("labels.Parse(%q): %v", sel, err)
	}
	return s
}

func seed(t *testing.T, s store.Store) {
	t.Helper()
	a := NewModel("anthropic/claude-4-sonnet", "active", api.RoleGeneral, 1)
	a.Family = "claude"
	a.Capabilities = []string{"code", "reasoning"}
	a.Labels = map[string]string{"team": "core", "tier": "gold"}
	b := NewModel("anthropic/claude-3-5-haiku", "active", api.RoleSpecialist, 1)
	b.Family = "claude"
	b.DisplayName = "Claude 3.5 Haiku"
	b.SizeClass = api.SizeSmall
	b.Capabilities = []string{"code"}
	b.Labels = map[string]string{"team": "docs"}
	c := NewModel("openai/gpt-5", "active", api.RoleGeneral, 1)
	c.Family = "gpt"
	c.SizeClass = api.SizeXL
	c.Labels = map[string]string{"team": "core", "tier": "silver"}
	d := NewModel("openai/gpt-5-mini", "proposed", api.RoleNone, 1)
	d.Family = "gpt"
	d.SizeClass = api.SizeMini
	d.DisplayName = "GPT-5 Mini (100%_off)"
	e := NewModel("xai/grok-3", "deprecated", api.RoleExperimental, 1)
	put(t, s, a, b, c, d, e)
}

func testListFilters(t *testing.T, s store.Store) {
	seed(t, s)
	tests := []struct {
		name string
		q    store.ModelQuery
		want []string
	}{
		{"all", store.ModelQuery{}, []string{"anthropic/claude-3-5-haiku", "anthropic/claude-4-sonnet", "openai/gpt-5", "openai/gpt-5-mini", "xai/grok-3"}},
		{"provider", store.ModelQuery{Provider: "openai"}, []string{"openai/gpt-5", "openai/gpt-5-mini"}},
		{"family", store.ModelQuery{Family: "claude"}, []string{"anthropic/claude-3-5-haiku", "anthropic/claude-4-sonnet"}},
		{"status", store.ModelQuery{Status: api.StatusDeprecated}, []string{"xai/grok-3"}},
		{"role", store.ModelQuery{Role: api.RoleGeneral}, []string{"anthropic/claude-4-sonnet", "openai/gpt-5"}},
		{"size class", store.ModelQuery{SizeClass: api.SizeMini}, []string{"openai/gpt-5-mini"}},
		{"capability", store.ModelQuery{Capability: "reasoning"}, []string{"anthropic/claude-4-sonnet"}},
		{"combined", store.ModelQuery{Provider: "anthropic", Capability: "code", Role: api.RoleSpecialist}, []string{"anthropic/claude-3-5-haiku"}},
		{"text in id", store.ModelQuery{Text: "GPT-5"}, []string{"openai/gpt-5", "openai/gpt-5-mini"}},
		{"text in display name", store.ModelQuery{Text: "haiku"}, []string{"anthropic/claude-3-5-haiku"}},
		{"text with like wildcards is literal", store.ModelQuery{Text: "100%_"}, []string{"openai/gpt-5-mini"}},
		{"text wildcard matches nothing else", store.ModelQuery{Text: "%"}, []string{"openai/gpt-5-mini"}},
		{"no match", store.ModelQuery{Provider: "nobody"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 100
			got, err := s.ListModels(context.Background(), tt.q)
			if err != nil {
				t.Fatalf("ListModels: %v", err)
			}
			if g := ids(got); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("ListModels(%+v) = %v, want %v", tt.q, g, tt.want)
			}
			if g := pageAll(t, s, tt.q, 1); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("paging %+v one by one = %v, want %v", tt.q, g, tt.want)
			}
			if n, err := s.CountModels(context.Background(), tt.q); err != nil || n != int64(len(tt.want)) {
				t.Errorf("CountModels(%+v) = %d, %v; want %d", tt.q, n, err, len(tt.want))
			}
		})
	}
}

func testListLabelSelectors(t *testing.T, s store.Store) {
	seed(t, s)
	tests := []struct {
		sel  string
		want []string
	}{
		{"team=core", []string{"anthropic/claude-4-sonnet", "openai/gpt-5"}},
		{"team==docs", []string{"anthropic/claude-3-5-haiku"}},
		{"team!=core", []string{"anthropic/claude-3-5-haiku", "openai/gpt-5-mini", "xai/grok-3"}},
		{"team=core,tier!=silver", []string{"anthropic/claude-4-sonnet"}},
		{"tier in (gold, silver)", []string{"anthropic/claude-4-sonnet", "openai/gpt-5"}},
		{"tier notin (gold)", []string{"anthropic/claude-3-5-haiku", "openai/gpt-5", "openai/gpt-5-mini", "xai/grok-3"}},
		{"tier", []string{"anthropic/claude-4-sonnet", "openai/gpt-5"}},
		{"!team", []string{"openai/gpt-5-mini", "xai/grok-3"}},
		{"team,!tier", []string{"anthropic/claude-3-5-haiku"}},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			sel := mustParse(t, tt.sel)
			got, err := s.ListModels(context.Background(), store.ModelQuery{Labels: sel, Limit: 100})
			if err != nil {
				t.Fatalf("ListModels: %v", err)
			}
			if g := ids(got); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("ListModels(labels=%s) = %v, want %v", tt.sel, g, tt.want)
			}
			// The store agrees with the selector's own semantics.
			all, _ := s.ListModels(context.Background(), store.ModelQuery{Limit: 100})
			var want []string
			for _, m := range all {
				if sel.Matches(m.Labels) {
					want = append(want, m.ModelID)
				}
			}
			if g := ids(got); !reflect.DeepEqual(g, append([]string{}, want...)) {
				t.Errorf("store and Selector.Matches disagree on %s: store %v, Matches %v", tt.sel, g, want)
			}
			// Small pages make common labels take the other plan (walking
			// models and probing); the answer must be the same.
			if g := pageAll(t, s, store.ModelQuery{Labels: sel, Capability: ""}, 1); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("paging labels=%s one by one = %v, want %v", tt.sel, g, tt.want)
			}
		})
	}
}

// pageAll lists every model q selects, size models a page.
func pageAll(t *testing.T, s store.Store, q store.ModelQuery, size int) []string {
	t.Helper()
	out := []string{}
	q.Limit = size
	for range 1000 {
		page, err := s.ListModels(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ids(page)...)
		if len(page) < size {
			return out
		}
		q.After = page[len(page)-1].ModelID
	}
	t.Fatal("pagination does not end")
	return nil
}

func testListPagination(t *testing.T, s store.Store) {
	var ms []*api.Model
	for i := range 25 {
		ms = append(ms, NewModel(fmt.Sprintf("p/m-%02d", i), "active", api.RoleNone, 1))
	}
	put(t, s, ms...)
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		page, err := s.ListModels(context.Background(), store.ModelQuery{After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(page)...)
		if len(page) < 10 {
			break
		}
		after = page[len(page)-1].ModelID
	}
	if len(got) != 25 || got[0] != "p/m-00" || got[24] != "p/m-24" {
		t.Errorf("paged through %v, want p/m-00 ... p/m-24 in order", got)
	}
	if _, err := s.ListModels(context.Background(), store.ModelQuery{}); err == nil {
		t.Error("ListModels with no limit: want an error")
	}
}

func testRevisions(t *testing.T, s store.Store) {
	ctx := context.Background()
	id := "openai/gpt-5"
	for i := 1; i <= 3; i++ {
		m := NewModel(id, "active", api.RoleNone, i)
		write(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.AppendRevision(ctx, &api.Revision{ModelID: id, Revision: int64(i), Action: api.ActionUpdate,
				Actor: "alice", Reason: fmt.Sprint("r", i), Time: t0.Add(time.Duration(i) * time.Second), RequestID: "req", Model: m})
		})
	}
	// A gap is refused.
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.AppendRevision(ctx, &api.Revision{ModelID: id, Revision: 5, Action: api.ActionUpdate, Actor: "a", Time: t0})
	})
	if !errs.Is(err, errs.Conflict) {
		t.Errorf("AppendRevision with a gap: err = %v, want kind Conflict", err)
	}
	if n, err := s.LastRevision(ctx, id); err != nil || n != 3 {
		t.Errorf("LastRevision = %d, %v; want 3", n, err)
	}
	if n, err := s.LastRevision(ctx, "nobody/none"); err != nil || n != 0 {
		t.Errorf("LastRevision of unknown = %d, %v; want 0", n, err)
	}
	list, err := s.ListRevisions(ctx, id, 0, 10)
	if err != nil || len(list) != 3 || list[0].Revision != 3 || list[2].Revision != 1 {
		t.Fatalf("ListRevisions = %v, %v; want 3, 2, 1", list, err)
	}
	if list[0].Reason != "r3" || list[0].Actor != "alice" || !list[0].Time.Equal(t0.Add(3*time.Second)) || list[0].Model.ResourceVersion != "3" {
		t.Errorf("revision 3 = %+v", list[0])
	}
	older, _ := s.ListRevisions(ctx, id, 3, 1)
	if len(older) != 1 || older[0].Revision != 2 {
		t.Errorf("ListRevisions(before 3, limit 1) = %v, want revision 2", older)
	}
	r, err := s.GetRevision(ctx, id, 2)
	if err != nil || r.Revision != 2 || r.Model == nil {
		t.Errorf("GetRevision(2) = %+v, %v", r, err)
	}
	if _, err := s.GetRevision(ctx, id, 9); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetRevision(9): err = %v, want kind NotFound", err)
	}
}

func testDeleteKeepsRevisions(t *testing.T, s store.Store) {
	ctx := context.Background()
	m := NewModel("openai/gpt-5", "proposed", api.RoleNone, 1)
	m.Labels = map[string]string{"team": "core"}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutModel(ctx, m); err != nil {
			return err
		}
		return tx.AppendRevision(ctx, &api.Revision{ModelID: m.ModelID, Revision: 1, Action: api.ActionCreate, Actor: "a", Time: t0, Model: m})
	})
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteModel(ctx, m.ModelID); err != nil {
			return err
		}
		return tx.AppendRevision(ctx, &api.Revision{ModelID: m.ModelID, Revision: 2, Action: api.ActionDelete, Actor: "a", Time: t0})
	})
	if _, err := s.GetModel(ctx, m.ModelID); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetModel after delete: err = %v, want NotFound", err)
	}
	list, _ := s.ListModels(ctx, store.ModelQuery{Labels: mustParse(t, "team"), Limit: 10})
	if len(list) != 0 {
		t.Errorf("deleted model still listed by label: %v", ids(list))
	}
	revs, err := s.ListRevisions(ctx, m.ModelID, 0, 10)
	if err != nil || len(revs) != 2 || revs[0].Model != nil || revs[1].Model == nil {
		t.Errorf("revisions after delete = %v, %v; want the deletion (no document) then the creation", revs, err)
	}
	if n, _ := s.LastRevision(ctx, m.ModelID); n != 2 {
		t.Errorf("LastRevision after delete = %d, want 2", n)
	}
}

func testAbort(t *testing.T, s store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		m := NewModel("openai/gpt-5", "proposed", api.RoleNone, 1)
		if err := tx.PutModel(ctx, m); err != nil {
			return err
		}
		if err := tx.AppendRevision(ctx, &api.Revision{ModelID: m.ModelID, Revision: 1, Action: api.ActionCreate, Actor: "a", Time: t0, Model: m}); err != nil {
			return err
		}
		if err := tx.PutAlias(ctx, &api.Alias{Name: "hivellm/chair", Target: m.ModelID, ResourceVersion: "1", UpdatedAt: t0, UpdatedBy: "a"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReadWrite = %v, want the function's error", err)
	}
	if _, err := s.GetModel(ctx, "openai/gpt-5"); !errs.Is(err, errs.NotFound) {
		t.Errorf("model of an aborted transaction is stored: %v", err)
	}
	if n, _ := s.LastRevision(ctx, "openai/gpt-5"); n != 0 {
		t.Errorf("revision of an aborted transaction is stored: %d", n)
	}
	if _, err := s.GetAlias(ctx, "hivellm/chair"); !errs.Is(err, errs.NotFound) {
		t.Errorf("alias of an aborted transaction is stored: %v", err)
	}
}

func testAliases(t *testing.T, s store.Store) {
	ctx := context.Background()
	mv := func(name, target, rv string) *api.Alias {
		return &api.Alias{Name: name, Target: target, ResourceVersion: rv, UpdatedAt: t0, UpdatedBy: "alice", Reason: "vote"}
	}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutAlias(ctx, mv("hivellm/chair", "openai/gpt-5", "1")); err != nil {
			return err
		}
		return tx.PutAlias(ctx, mv("openai/gpt-4o", "openai/gpt-4o-2024-08-06", "1"))
	})
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutAlias(ctx, mv("hivellm/chair", "anthropic/claude-4-sonnet", "2"))
	})
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.PutAlias(ctx, mv("hivellm/chair", "openai/gpt-5", "2"))
	})
	if !errs.Is(err, errs.Conflict) {
		t.Errorf("PutAlias with a stale version: err = %v, want Conflict", err)
	}
	a, err := s.GetAlias(ctx, "hivellm/chair")
	if err != nil || a.Target != "anthropic/claude-4-sonnet" || a.ResourceVersion != "2" || a.UpdatedBy != "alice" || !a.UpdatedAt.Equal(t0) {
		t.Errorf("GetAlias = %+v, %v", a, err)
	}
	list, err := s.ListAliases(ctx, "", "", 10)
	if err != nil || len(list) != 2 || list[0].Name != "hivellm/chair" {
		t.Errorf("ListAliases = %v, %v", list, err)
	}
	list, _ = s.ListAliases(ctx, "openai/gpt-4o-2024-08-06", "", 10)
	if len(list) != 1 || list[0].Name != "openai/gpt-4o" {
		t.Errorf("ListAliases(target) = %v", list)
	}
	list, _ = s.ListAliases(ctx, "", "hivellm/chair", 10)
	if len(list) != 1 || list[0].Name != "openai/gpt-4o" {
		t.Errorf("ListAliases(after chair) = %v", list)
	}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteAlias(ctx, mv("hivellm/chair", "", ""))
	})
	if _, err := s.GetAlias(ctx, "hivellm/chair"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetAlias after delete: %v", err)
	}
	hist, err := s.AliasHistory(ctx, "hivellm/chair")
	if err != nil || len(hist) != 3 {
		t.Fatalf("AliasHistory = %v, %v; want 3 moves", hist, err)
	}
	if hist[0].Target != "" || hist[0].ResourceVersion != "3" || hist[1].Target != "anthropic/claude-4-sonnet" || hist[2].Target != "openai/gpt-5" {
		t.Errorf("AliasHistory = %+v %+v %+v", hist[0], hist[1], hist[2])
	}
	// Re-creating a removed alias continues its history.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutAlias(ctx, mv("hivellm/chair", "openai/gpt-5", "4"))
	})
}

func testIdempotency(t *testing.T, s store.Store) {
	rec := &store.Idempotent{Scope: "POST /v1/models anonymous", Key: "k1", RequestHash: "h", Status: 201,
		Body: []byte(`{"a":1}`), ResourceVersion: "1", Created: t0}
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutIdempotent(ctx, rec) })
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetIdempotent(ctx, rec.Scope, "k1")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, rec) {
			return fmt.Errorf("GetIdempotent = %+v, want %+v", got, rec)
		}
		if _, err := tx.GetIdempotent(ctx, "other scope", "k1"); !errs.Is(err, errs.NotFound) {
			return fmt.Errorf("key leaked across scopes: %v", err)
		}
		if err := tx.ExpireIdempotent(ctx, t0); err != nil {
			return err
		}
		if _, err := tx.GetIdempotent(ctx, rec.Scope, "k1"); err != nil {
			return fmt.Errorf("expired a key created at the cut-off: %v", err)
		}
		if err := tx.ExpireIdempotent(ctx, t0.Add(time.Nanosecond)); err != nil {
			return err
		}
		if _, err := tx.GetIdempotent(ctx, rec.Scope, "k1"); !errs.Is(err, errs.NotFound) {
			return fmt.Errorf("key not expired: %v", err)
		}
		return nil
	})
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, each = 8, 25
	id := "openai/gpt-5"
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				// Read-modify-write: only serializable transactions keep
				// the revision numbers gap-free and unique.
				err := s.ReadWrite(context.Background(), func(ctx context.Context, tx store.Tx) error {
					last, err := tx.LastRevision(ctx, id)
					if err != nil {
						return err
					}
					m := NewModel(id, "active", api.RoleNone, int(last+1))
					if err := tx.PutModel(ctx, m); err != nil {
						return err
					}
					return tx.AppendRevision(ctx, &api.Revision{ModelID: id, Revision: last + 1,
						Action: api.ActionUpdate, Actor: fmt.Sprint("writer-", w), Time: t0, Model: m})
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("concurrent write: %v", err)
	}
	ctx := context.Background()
	if n, _ := s.LastRevision(ctx, id); n != writers*each {
		t.Errorf("LastRevision = %d, want %d", n, writers*each)
	}
	m, err := s.GetModel(ctx, id)
	if err != nil || m.ResourceVersion != fmt.Sprint(writers*each) {
		t.Errorf("GetModel = %v, %v; want resource_version %d", m, err, writers*each)
	}
}

func testCountModels(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := context.Background()
	for _, tt := range []struct {
		q    store.ModelQuery
		want int64
	}{
		{store.ModelQuery{}, 5},
		{store.ModelQuery{Role: api.RoleGeneral, Status: api.StatusActive}, 2},
		{store.ModelQuery{Labels: mustParse(t, "team=core"), After: "zzz", Limit: 1}, 2},
		{store.ModelQuery{Provider: "nobody"}, 0},
	} {
		if n, err := s.CountModels(ctx, tt.q); err != nil || n != tt.want {
			t.Errorf("CountModels(%+v) = %d, %v; want %d", tt.q, n, err, tt.want)
		}
	}
}

func testCompliance(t *testing.T, s store.Store) {
	ctx := context.Background()
	mark := func(m *api.Model, deadline time.Time) *api.Model {
		m.Governance.Compliance = &api.Compliance{Status: api.NonCompliant, Since: t0, Deadline: &deadline, PolicyVersion: 2,
			Failing: []api.RuleResult{{ID: "general-size-class", Section: "classification.general", Outcome: api.RuleFailed}}}
		return m
	}
	a := mark(NewModel("a/early", "active", api.RoleGeneral, 1), t0.Add(time.Hour))
	b := mark(NewModel("a/late", "active", api.RoleGeneral, 1), t0.Add(48*time.Hour))
	c := NewModel("a/fine", "active", api.RoleGeneral, 1)
	put(t, s, a, b, c)
	got, err := s.ListModels(ctx, store.ModelQuery{NonCompliant: true, Limit: 10})
	if err != nil || !reflect.DeepEqual(ids(got), []string{"a/early", "a/late"}) {
		t.Errorf("ListModels(NonCompliant) = %v, %v", ids(got), err)
	}
	got, _ = s.ListModels(ctx, store.ModelQuery{DeadlineBefore: t0.Add(2 * time.Hour), Limit: 10})
	if !reflect.DeepEqual(ids(got), []string{"a/early"}) {
		t.Errorf("ListModels(DeadlineBefore) = %v, want a/early", ids(got))
	}
	// Complying again clears the mark.
	a.Governance.Compliance = nil
	put(t, s, a)
	got, _ = s.ListModels(ctx, store.ModelQuery{NonCompliant: true, Limit: 10})
	if !reflect.DeepEqual(ids(got), []string{"a/late"}) {
		t.Errorf("after clearing: %v, want a/late", ids(got))
	}
}

func testReviewPending(t *testing.T, s store.Store) {
	ctx := context.Background()
	hold := func(m *api.Model, status string) *api.Model {
		m.Governance.Review = &api.Review{Status: status, Reason: "near-duplicate", FlaggedAt: t0}
		return m
	}
	a := hold(NewModel("a/held", "proposed", api.RoleNone, 1), api.ReviewPending)
	b := hold(NewModel("a/cleared", "proposed", api.RoleNone, 1), api.ReviewCleared)
	c := NewModel("a/never", "proposed", api.RoleNone, 1)
	d := hold(NewModel("b/held", "active", api.RoleNone, 1), api.ReviewPending)
	put(t, s, a, b, c, d)
	got, err := s.ListModels(ctx, store.ModelQuery{ReviewPending: true, Limit: 10})
	if err != nil || !reflect.DeepEqual(ids(got), []string{"a/held", "b/held"}) {
		t.Errorf("ListModels(ReviewPending) = %v, %v; want a/held, b/held", ids(got), err)
	}
	if n, err := s.CountModels(ctx, store.ModelQuery{ReviewPending: true, Status: api.StatusActive}); err != nil || n != 1 {
		t.Errorf("CountModels(ReviewPending, active) = %d, %v; want 1", n, err)
	}
	// Clearing the review takes the model off the queue.
	a.Governance.Review.Status = api.ReviewCleared
	put(t, s, a)
	if got, _ := s.ListModels(ctx, store.ModelQuery{ReviewPending: true, Limit: 10}); !reflect.DeepEqual(ids(got), []string{"b/held"}) {
		t.Errorf("after clearing: %v, want b/held", ids(got))
	}
}

func testExactFigures(t *testing.T, s store.Store) {
	ctx := context.Background()
	fig := func(id string, params, context api.Count) *api.Model {
		m := NewModel(id, "proposed", api.RoleNone, 1)
		m.ContextWindow = context
		if params != 0 {
			m.Parameters = &api.Parameters{Count: params, Source: api.ParametersDeclared}
		}
		return m
	}
	put(t, s, fig("a/x", 405e9, 128000), fig("a/y", 405e9, 200000), fig("a/z", 70e9, 128000), fig("b/x", 405e9, 128000), fig("a/none", 0, 0))
	for _, tt := range []struct {
		q    store.ModelQuery
		want []string
	}{
		{store.ModelQuery{ParameterCount: 405e9}, []string{"a/x", "a/y", "b/x"}},
		{store.ModelQuery{ContextWindow: 128000}, []string{"a/x", "a/z", "b/x"}},
		{store.ModelQuery{Provider: "a", ParameterCount: 405e9, ContextWindow: 128000}, []string{"a/x"}},
		{store.ModelQuery{ParameterCount: 1}, []string{}},
	} {
		tt.q.Limit = 10
		got, err := s.ListModels(ctx, tt.q)
		if err != nil || !reflect.DeepEqual(ids(got), tt.want) {
			t.Errorf("ListModels(%+v) = %v, %v; want %v", tt.q, ids(got), err, tt.want)
		}
	}
}

func testPolicies(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.ActivePolicy(ctx); !errs.Is(err, errs.NotFound) {
		t.Errorf("ActivePolicy of a new store: %v, want NotFound", err)
	}
	pol := func(v int64) *api.Policy {
		return &api.Policy{Version: v, Name: fmt.Sprint("bundle-", v), Hash: fmt.Sprint("sha256:", v), CreatedAt: t0, CreatedBy: "gov",
			Bundle: []byte(fmt.Sprintf(`{"name":"bundle-%d"}`, v))}
	}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutPolicy(ctx, pol(1)); err != nil {
			return err
		}
		return tx.PutPolicy(ctx, pol(2))
	})
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error { return tx.PutPolicy(ctx, pol(4)) })
	if !errs.Is(err, errs.Conflict) {
		t.Errorf("PutPolicy with a gap: %v, want Conflict", err)
	}
	report := &api.ComplianceReport{PolicyVersion: 1, PolicyHash: "sha256:1", Time: t0, Checked: 3,
		NonCompliant: []api.ModelCompliance{{ModelID: "a/b", Role: api.RoleGeneral}}}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ActivatePolicy(ctx, 1, t0, "gov", report)
	})
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ActivatePolicy(ctx, 2, t0.Add(time.Minute), "gov2", &api.ComplianceReport{PolicyVersion: 2})
	})
	err = s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.ActivatePolicy(ctx, 9, t0, "gov", report)
	})
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("activate an unknown version: %v, want NotFound", err)
	}
	active, err := s.ActivePolicy(ctx)
	if err != nil || active.Version != 2 || !active.Active || active.ActivatedBy != "gov2" {
		t.Fatalf("ActivePolicy = %+v, %v", active, err)
	}
	// Activating an older version again makes it the active one.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ActivatePolicy(ctx, 1, t0.Add(2*time.Minute), "gov3", report)
	})
	list, err := s.ListPolicies(ctx)
	if err != nil || len(list) != 2 || list[0].Version != 2 || list[0].Active || !list[1].Active {
		t.Fatalf("ListPolicies = %+v, %v", list, err)
	}
	p1 := list[1]
	if p1.Name != "bundle-1" || p1.Hash != "sha256:1" || string(p1.Bundle) != `{"name":"bundle-1"}` || p1.ActivatedBy != "gov3" || !p1.CreatedAt.Equal(t0) {
		t.Errorf("policy 1 = %+v", p1)
	}
	got, err := s.ActivationReport(ctx, 1)
	if err != nil || !reflect.DeepEqual(got, report) {
		t.Errorf("ActivationReport(1) = %+v, %v; want %+v", got, err, report)
	}
	if _, err := s.GetPolicy(ctx, 3); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetPolicy(3): %v, want NotFound", err)
	}
}
