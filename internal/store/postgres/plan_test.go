package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/labels"
	"github.com/hivellm/modelgov/internal/store"
)

// planRows is how many models, audit entries and events the plan test
// stores: enough that, with fresh statistics, a scan of a whole table costs
// the planner more than an index walk that stops after a page.
const planRows = 5000

// explain returns PostgreSQL's plan for query, planned as the store plans
// it (with the values at hand).
func explain(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), "EXPLAIN "+query, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	return strings.Join(lines, "\n")
}

// checkPlan fails the test when plan reads a table of tables whole, or
// uses no index at all, or lacks one of the indexes it must use.
func checkPlan(t *testing.T, name, query, plan string, tables []string, indexes ...string) {
	t.Helper()
	t.Logf("%s\n%s", query, plan)
	for _, table := range tables {
		if strings.Contains(plan, "Seq Scan on "+table) {
			t.Errorf("%s scans the %s table:\n%s\n%s", name, table, query, plan)
		}
	}
	if !strings.Contains(plan, "Index Scan") && !strings.Contains(plan, "Index Only Scan") && !strings.Contains(plan, "Bitmap Index Scan") {
		t.Errorf("%s uses no index:\n%s\n%s", name, query, plan)
	}
	for _, index := range indexes {
		if !strings.Contains(plan, index) {
			t.Errorf("%s does not use %s:\n%s\n%s", name, index, query, plan)
		}
	}
}

// TestListQueriesUseIndexes checks the plans PostgreSQL makes for the list
// queries the store builds, on a registry of planRows models where some
// labels are common and some rare, with statistics fresh from ANALYZE (the
// planner is left free: no enable_seqscan = off): no list query reads the
// models table whole (text search aside), and the audit and event filters
// walk their indexes.
func TestListQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newSchema(t))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range planRows {
			provider := fmt.Sprintf("p%d", i%10)
			updated := now.Add(time.Duration(i%97) * time.Minute)
			m := &api.Model{SchemaVersion: api.SchemaVersion, ModelID: fmt.Sprintf("%s/m-%05d", provider, i), Provider: provider,
				DisplayName: fmt.Sprint("M ", i), Family: fmt.Sprintf("f%d", i%60), SizeClass: api.SizeLarge,
				Governance: &api.Governance{Role: api.RoleNone}, Lifecycle: &api.Lifecycle{Status: []api.Status{api.StatusActive, api.StatusProposed, api.StatusDeprecated}[i%3], Since: now},
				Labels: map[string]string{"team": "core", "tier": []string{"gold", "test"}[i%2]}, Capabilities: []string{"chat"},
				ResourceVersion: "1", CreatedAt: &now, UpdatedAt: &updated,
				Parameters: &api.Parameters{Count: api.Count(70e9 + i%7*1e9), Source: api.ParametersDeclared}, ContextWindow: api.Count(8192 << (i % 4))}
			if i%300 == 0 {
				m.Labels["team"] = "audit"
				m.Capabilities = append(m.Capabilities, "audio")
				m.Governance.Review = &api.Review{Status: api.ReviewPending, Reason: "near-duplicate", FlaggedAt: now}
				deadline := now.Add(time.Duration(i) * time.Hour)
				m.Governance.Compliance = &api.Compliance{Status: api.NonCompliant, Since: now, Deadline: &deadline, PolicyVersion: 1}
			}
			if err := tx.PutModel(ctx, m); err != nil {
				return err
			}
			rec := &store.AuditRecord{Seq: int64(i), Time: now.Add(time.Duration(i) * time.Second), Principal: fmt.Sprintf("user-%d", i%50),
				Action: []string{"model.create", "model.update", "model.classify"}[i%3], Target: m.ModelID,
				Outcome: []string{"allowed", "denied"}[i%2], Leaf: []byte(m.ModelID)}
			if err := tx.AppendAudit(ctx, rec, int64(i), [][32]byte{{1}}); err != nil {
				return err
			}
			e := &api.Event{Source: "/modelgov/test", Type: api.EventTypePrefix + []string{"model.created", "model.updated", "alias.moved"}[i%3],
				Subject: m.ModelID, Time: now, DataContentType: "application/json", Data: []byte(`{}`)}
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	sel := func(s string) labels.Selector {
		l, err := labels.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}

	modelTables := []string{"models", "model_labels", "model_capabilities"}
	for _, tt := range []struct {
		name       string
		q          store.ModelQuery
		mayNotSort bool // the matches are many: the page must come from an ordered walk, not a sort of them all
		indexes    []string
	}{
		{"all", store.ModelQuery{}, true, nil},
		{"next page", store.ModelQuery{After: "p3/m-00100"}, true, nil},
		{"provider", store.ModelQuery{Provider: "p7"}, true, nil},
		{"provider and status", store.ModelQuery{Provider: "p7", Status: api.StatusActive}, false, []string{"models_provider_status"}},
		{"status", store.ModelQuery{Status: api.StatusActive}, true, nil},
		{"family", store.ModelQuery{Family: "f7"}, false, []string{"models_family"}},
		{"role", store.ModelQuery{Role: api.RoleNone}, true, nil},
		{"size class", store.ModelQuery{SizeClass: api.SizeLarge}, true, nil},
		{"common label", store.ModelQuery{Labels: sel("team=core,tier!=test")}, true, nil},
		{"common capability", store.ModelQuery{Capability: "chat"}, true, nil},
		{"label exists", store.ModelQuery{Labels: sel("tier")}, true, nil},
		{"label in", store.ModelQuery{Labels: sel("tier in (gold, silver)")}, true, nil},
		{"rare label", store.ModelQuery{Labels: sel("team=audit")}, false, []string{"model_labels_key_value"}},
		{"rare capability", store.ModelQuery{Capability: "audio"}, false, []string{"model_capabilities_capability"}},
		{"rare label within a provider", store.ModelQuery{Provider: "p0", Labels: sel("team=audit")}, false, nil},
		{"non-compliant", store.ModelQuery{NonCompliant: true}, false, []string{"models_non_compliant"}},
		{"deadline", store.ModelQuery{DeadlineBefore: now.Add(1000 * time.Hour)}, false, []string{"models_deadline"}},
		{"review queue", store.ModelQuery{ReviewPending: true}, false, []string{"models_review"}},
		{"near-duplicate lookup", store.ModelQuery{Provider: "p3", Family: "f13", ParameterCount: 71e9, ContextWindow: 16384}, false, nil},
		// The sorts walk their own index when the matches are many.
		{"by display name", store.ModelQuery{Sort: store.SortDisplayName}, true, []string{"models_display_name"}},
		{"by display name, next page", store.ModelQuery{Sort: store.SortDisplayName, After: "p0/m-00100", AfterKey: "M 100"}, true,
			[]string{"models_display_name"}},
		{"by display name, compliant", store.ModelQuery{Sort: store.SortDisplayName, Compliant: true}, true, []string{"models_display_name"}},
		{"by display name, status and role", store.ModelQuery{Sort: store.SortDisplayName, Status: api.StatusActive, Role: api.RoleNone}, true,
			[]string{"models_display_name"}},
		{"by update", store.ModelQuery{Sort: store.SortUpdated}, true, []string{"models_updated_at"}},
		{"by update, next page", store.ModelQuery{Sort: store.SortUpdated, After: "p3/m-00100", AfterKey: "2026-01-01T01:30:00.000000000Z"}, true,
			[]string{"models_updated_at"}},
		{"by update, status", store.ModelQuery{Sort: store.SortUpdated, Status: api.StatusActive}, true, []string{"models_updated_at"}},
		{"by update, common label", store.ModelQuery{Sort: store.SortUpdated, Labels: sel("team=core")}, true, []string{"models_updated_at"}},
		// A fine filter's matches are few: the planner may sort them.
		{"by update, rare label", store.ModelQuery{Sort: store.SortUpdated, Labels: sel("team=audit")}, false, nil},
		{"by update, non-compliant", store.ModelQuery{Sort: store.SortUpdated, NonCompliant: true}, false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 101
			query, args := modelsSQL(tt.q, false)
			plan := explain(t, s, query, args)
			checkPlan(t, tt.name, query, plan, modelTables, tt.indexes...)
			if tt.mayNotSort && strings.Contains(plan, "Sort") {
				t.Errorf("%s sorts every match before the first page:\n%s\n%s", tt.name, query, plan)
			}
		})
	}
	// Text search (a substring, with ILIKE, since pg_trgm may not be
	// installed) is the exception: it tests every model's id and name,
	// whichever way it walks them.
	t.Run("text", func(t *testing.T) {
		query, args := modelsSQL(store.ModelQuery{Text: "m-0004", Limit: 101}, false)
		t.Logf("%s\n%s", query, explain(t, s, query, args))
	})

	for _, tt := range []struct {
		name string
		q    store.AuditQuery
	}{
		{"all", store.AuditQuery{}},
		{"from", store.AuditQuery{From: 4000}},
		{"target", store.AuditQuery{Target: "p3/m-00013"}},
		{"principal", store.AuditQuery{Principal: "user-7"}},
		{"action", store.AuditQuery{Action: "model.classify"}},
		{"outcome", store.AuditQuery{Outcome: "denied"}},
		{"since and until", store.AuditQuery{Since: now.Add(time.Hour), Until: now.Add(time.Hour + time.Minute)}},
	} {
		t.Run("audit "+tt.name, func(t *testing.T) {
			tt.q.Limit = 100
			query, args := auditSQL(tt.q)
			checkPlan(t, tt.name, query, explain(t, s, query, args), []string{"audit_entries"})
		})
	}

	for _, tt := range []struct {
		name string
		q    store.EventQuery
	}{
		{"all", store.EventQuery{}},
		{"after", store.EventQuery{After: 4900}},
		{"subject", store.EventQuery{Subject: "p3/m-00013"}},
		{"type", store.EventQuery{Types: []string{api.EventTypePrefix + "alias.moved"}}},
		{"types and subject", store.EventQuery{Types: []string{api.EventTypePrefix + "model.created", api.EventTypePrefix + "alias.moved"}, Subject: "p3/m-00013"}},
	} {
		t.Run("events "+tt.name, func(t *testing.T) {
			tt.q.Limit = 100
			query, args := eventsSQL(tt.q)
			checkPlan(t, tt.name, query, explain(t, s, query, args), []string{"events"})
		})
	}
}

// TestLeaderboardUsesIndex checks the plans PostgreSQL makes for the
// leaderboard query at planRows scores of a metric, with fresh statistics:
// a walk of a (…, rank, model_id) index that stops after the page, never a
// scan and sort of every score of the metric.
func TestLeaderboardUsesIndex(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newSchema(t))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	roles := []api.Role{api.RoleGeneral, api.RoleSpecialist, api.RoleNone, api.RoleExperimental}
	statuses := []api.Status{api.StatusActive, api.StatusProposed, api.StatusDeprecated}
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, b := range []*api.Benchmark{
			{Name: "hellaswag", Version: "1", Metrics: []api.BenchmarkMetric{{Name: "acc", Direction: api.HigherIsBetter}, {Name: "loss", Direction: api.LowerIsBetter}}},
			{Name: "arc", Version: "1", Metrics: []api.BenchmarkMetric{{Name: "acc", Direction: api.HigherIsBetter}}},
		} {
			if err := tx.PutBenchmark(ctx, b); err != nil {
				return err
			}
		}
		for i := range planRows {
			m := &api.Model{SchemaVersion: api.SchemaVersion, ModelID: fmt.Sprintf("p%d/m-%05d", i%10, i), Provider: fmt.Sprintf("p%d", i%10),
				DisplayName: fmt.Sprint("M ", i), Governance: &api.Governance{Role: roles[i%4]},
				Lifecycle: &api.Lifecycle{Status: statuses[i%3], Since: now}, ResourceVersion: "1", CreatedAt: &now, UpdatedAt: &now}
			if err := tx.PutModel(ctx, m); err != nil {
				return err
			}
			for j, bench := range []string{"hellaswag", "arc"} {
				e := &api.Evaluation{ID: fmt.Sprintf("ev_%d_%05d", j, i), ModelID: m.ModelID, ResultRequest: api.ResultRequest{
					Benchmark: bench, BenchmarkVersion: "1", EvaluatedAt: now,
					Values: []api.MetricValue{{Metric: "acc", Value: float64(i%997) / 997}, {Metric: "loss", Value: float64(i%101) / 10}}},
					Evaluator: "ci", RecordedAt: now}
				if err := tx.AddEvaluation(ctx, e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		q       store.LeaderboardQuery
		indexes []string
	}{
		{"all", store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc"}, []string{"scores_rank"}},
		{"next page", store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "loss", Offset: 200}, []string{"scores_rank"}},
		{"role", store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc", Role: api.RoleGeneral}, []string{"scores_role_rank"}},
		{"status", store.LeaderboardQuery{Benchmark: "arc", Version: "1", Metric: "acc", Status: api.StatusActive}, []string{"scores_status_rank"}},
		{"role and status", store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc", Role: api.RoleGeneral,
			Status: api.StatusActive}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 50
			query, args := leaderboardSQL(tt.q)
			plan := explain(t, s, query, args)
			checkPlan(t, tt.name, query, plan, []string{"scores"}, tt.indexes...)
			if strings.Contains(plan, "Sort") {
				t.Errorf("%s sorts every score of the metric:\n%s\n%s", tt.name, query, plan)
			}
		})
	}
}
