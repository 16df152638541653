package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/labels"
	"github.com/hivellm/modelgov/internal/store"
)

// TestListQueriesUseIndexes checks the plans SQLite makes for the list
// queries the store builds, on a registry where some labels are common and
// some rare: no list query scans the models table (text search aside), and
// no query whose matches are many sorts them all before the first page.
func TestListQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	const n = 3000
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeAll(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
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
			}
			if err := tx.PutModel(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	sel := func(s string) labels.Selector {
		l, err := labels.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	tests := []struct {
		name       string
		q          store.ModelQuery
		mayNotSort bool // the matches are many: sorting them all is not allowed
	}{
		{"all", store.ModelQuery{}, true},
		{"next page", store.ModelQuery{After: "p3/m-00100"}, true},
		{"provider and status", store.ModelQuery{Provider: "p7", Status: api.StatusActive}, true},
		{"status", store.ModelQuery{Status: api.StatusActive}, true},
		{"family", store.ModelQuery{Family: "f7"}, true},
		{"common label", store.ModelQuery{Labels: sel("team=core,tier!=test")}, true},
		{"common capability", store.ModelQuery{Capability: "chat"}, true},
		{"label exists", store.ModelQuery{Labels: sel("tier")}, true},
		{"rare label", store.ModelQuery{Labels: sel("team=audit")}, false},
		{"rare capability", store.ModelQuery{Capability: "audio"}, false},
		{"rare label within a provider", store.ModelQuery{Provider: "p0", Labels: sel("team=audit")}, false},
		{"non-compliant", store.ModelQuery{NonCompliant: true}, true},
		{"review queue", store.ModelQuery{ReviewPending: true}, false},
		{"near-duplicate lookup", store.ModelQuery{Provider: "p3", Family: "f13", ParameterCount: 71e9, ContextWindow: 16384}, false},
		// The sorts walk their own index, coarse filters or not.
		{"by display name", store.ModelQuery{Sort: store.SortDisplayName}, true},
		{"by display name, next page", store.ModelQuery{Sort: store.SortDisplayName, After: "p0/m-00100", AfterKey: "M 100"}, true},
		{"by display name, compliant", store.ModelQuery{Sort: store.SortDisplayName, Compliant: true}, true},
		{"by display name, status and role", store.ModelQuery{Sort: store.SortDisplayName, Status: api.StatusActive, Role: api.RoleNone}, true},
		{"by update", store.ModelQuery{Sort: store.SortUpdated}, true},
		{"by update, next page", store.ModelQuery{Sort: store.SortUpdated, After: "p3/m-00100", AfterKey: "2026-01-01T01:30:00.000000000Z"}, true},
		{"by update, status", store.ModelQuery{Sort: store.SortUpdated, Status: api.StatusActive}, true},
		{"by update, common label", store.ModelQuery{Sort: store.SortUpdated, Labels: sel("team=core")}, true},
		// A fine filter's matches are few: the planner may sort them.
		{"by update, rare label", store.ModelQuery{Sort: store.SortUpdated, Labels: sel("team=audit")}, false},
		{"by display name, provider", store.ModelQuery{Sort: store.SortDisplayName, Provider: "p3"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 101
			plan, err := s.planMemberships(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			query, args := modelsSQL(tt.q, false, plan)
			steps := queryPlan(t, s, query, args)
			text := strings.Join(steps, "\n")
			t.Logf("%s\n%s", query, text)
			for _, step := range steps {
				if strings.HasPrefix(step, "SCAN m") && !strings.Contains(step, "USING") {
					t.Errorf("%s scans the models table:\n%s\n%s", tt.name, query, text)
				}
			}
			if tt.mayNotSort && strings.Contains(text, "TEMP B-TREE FOR ORDER BY") {
				t.Errorf("%s sorts every match before the first page:\n%s\n%s", tt.name, query, text)
			}
			for name, index := range map[string]string{"review queue": "models_review", "near-duplicate lookup": "models_figures"} {
				if tt.name == name && !strings.Contains(text, index) {
					t.Errorf("%s does not use %s:\n%s\n%s", tt.name, index, query, text)
				}
			}
			for order, index := range map[store.ModelSort]string{store.SortDisplayName: "models_display_name", store.SortUpdated: "models_updated_at"} {
				if tt.q.Sort == order && tt.mayNotSort && !strings.Contains(text, index) {
					t.Errorf("%s does not use %s:\n%s\n%s", tt.name, index, query, text)
				}
			}
		})
	}
}

// TestLeaderboardUsesIndex checks the plans SQLite makes for the
// leaderboard query at a few thousand scores: a walk of a (…, rank,
// model_id) index that stops after the page, never a sort of every score
// of the metric.
func TestLeaderboardUsesIndex(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	const n = 3000
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	roles := []api.Role{api.RoleGeneral, api.RoleSpecialist, api.RoleNone, api.RoleExperimental}
	statuses := []api.Status{api.StatusActive, api.StatusProposed, api.StatusDeprecated}
	writeAll(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, b := range []*api.Benchmark{
			{Name: "hellaswag", Version: "1", Metrics: []api.BenchmarkMetric{{Name: "acc", Direction: api.HigherIsBetter}, {Name: "loss", Direction: api.LowerIsBetter}}},
			{Name: "arc", Version: "1", Metrics: []api.BenchmarkMetric{{Name: "acc", Direction: api.HigherIsBetter}}},
		} {
			if err := tx.PutBenchmark(ctx, b); err != nil {
				return err
			}
		}
		for i := range n {
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
	for _, tt := range []struct {
		name  string
		q     store.LeaderboardQuery
		index string
	}{
		{"all", store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc"}, "scores_rank"},
		{"next page", store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "loss", Offset: 200}, "scores_rank"},
		{"role", store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc", Role: api.RoleGeneral}, "scores_role_rank"},
		{"status", store.LeaderboardQuery{Benchmark: "arc", Version: "1", Metric: "acc", Status: api.StatusActive}, "scores_status_rank"},
		{"role and status", store.LeaderboardQuery{Benchmark: "hellaswag", Version: "1", Metric: "acc", Role: api.RoleGeneral,
			Status: api.StatusActive}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 50
			query, args := leaderboardSQL(tt.q)
			rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var (
				steps    []string
				subquery = -1
				sorted   []int // the parents of the sorts
			)
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				steps = append(steps, detail)
				if strings.HasPrefix(detail, "LIST SUBQUERY") {
					subquery = id
				}
				if strings.Contains(detail, "TEMP B-TREE") {
					sorted = append(sorted, parent)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(steps, "\n")
			t.Logf("%s\n%s", query, text)
			// The page's keys come from the index, in order, with no sort;
			// the outer query may sort the page's own rows (at most Limit).
			if subquery < 0 {
				t.Errorf("%s takes its page's keys from no subquery:\n%s", tt.name, text)
			}
			for _, parent := range sorted {
				if parent != 0 {
					t.Errorf("%s sorts every score of the metric:\n%s\n%s", tt.name, query, text)
				}
			}
			if !strings.Contains(text, "USING INDEX scores_") && !strings.Contains(text, "USING COVERING INDEX scores_") {
				t.Errorf("%s walks no index of the scores:\n%s\n%s", tt.name, query, text)
			}
			if tt.index != "" && !strings.Contains(text, tt.index+" ") {
				t.Errorf("%s does not walk %s:\n%s\n%s", tt.name, tt.index, query, text)
			}
		})
	}
}
