package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/labels"
	"github.com/hivellm/modelgov/internal/store"
)

func TestPlanCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newPlanCache(func() time.Time { return now })
	if _, ok := c.get("a"); ok {
		t.Error("an empty cache has a choice")
	}
	c.put("a", true)
	if d, ok := c.get("a"); !ok || !d {
		t.Errorf("get(a) = %v, %v; want true, true", d, ok)
	}
	now = now.Add(planTTL)
	if _, ok := c.get("a"); ok {
		t.Error("a choice outlived planTTL")
	}
	for i := range maxPlans + 10 {
		c.put(fmt.Sprint(i), false)
	}
	if n := len(c.m); n > maxPlans {
		t.Errorf("the cache holds %d choices, over its bound of %d", n, maxPlans)
	}
	var none *planCache
	none.put("a", true)
	if _, ok := none.get("a"); ok {
		t.Error("a nil cache keeps a choice")
	}
	if planKey("q", 100, []any{"team", "core"}) == planKey("q", 100, []any{"team\x00core"}) ||
		planKey("q", 100, nil) == planKey("q", 101, nil) {
		t.Error("planKey confuses two conditions")
	}
}

// TestPlanChoiceKept checks that a list keeps a label condition's plan for
// planTTL, then counts again, and that the rows are right either way.
func TestPlanChoiceKept(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.plans = newPlanCache(func() time.Time { return now })
	const n = 400
	put := func(team string) {
		t.Helper()
		writeAll(t, s, func(ctx context.Context, tx store.Tx) error {
			for i := range n {
				m := &api.Model{SchemaVersion: api.SchemaVersion, ModelID: fmt.Sprintf("p/m-%04d", i), Provider: "p", DisplayName: "M",
					SizeClass: api.SizeLarge, Governance: &api.Governance{Role: api.RoleNone}, Lifecycle: &api.Lifecycle{Status: api.StatusActive, Since: now},
					ResourceVersion: "1", CreatedAt: &now, UpdatedAt: &now, Labels: map[string]string{"team": team}}
				if i%2 == 0 {
					m.Labels["team"] = "other"
				}
				if err := tx.PutModel(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
	}
	sel, err := labels.Parse("team=core")
	if err != nil {
		t.Fatal(err)
	}
	q := store.ModelQuery{Labels: sel, Limit: 20}
	list := func() int {
		t.Helper()
		ms, err := s.ListModels(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Labels["team"] != "core" {
				t.Fatalf("%s has team=%s, listed under team=core", m.ModelID, m.Labels["team"])
			}
		}
		return len(ms)
	}
	dense := func() bool {
		t.Helper()
		d, err := s.planMemberships(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return d[1]
	}

	put("none") // no model is team=core: collecting its matches is cheapest
	if list() != 0 || dense() {
		t.Fatal("team=core matches no model: want an empty list, planned sparse")
	}
	put("core") // half the models are: walking finds a page first
	if got := list(); got != 20 {
		t.Errorf("under the kept (sparse) plan the list has %d models, want 20", got)
	}
	if dense() {
		t.Error("the choice was counted again within planTTL")
	}
	now = now.Add(planTTL)
	if !dense() {
		t.Error("after planTTL the choice was not counted again (half the models match: dense)")
	}
	if got := list(); got != 20 {
		t.Errorf("under the new (dense) plan the list has %d models, want 20", got)
	}
}
