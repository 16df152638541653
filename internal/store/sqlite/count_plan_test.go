package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
)

// TestActiveGeneralsCountUsesIndex checks the plan of the count every
// lifecycle decision makes, on a registry shaped like a real one after
// ANALYZE: most models active, few generals. Counting through the status
// index reads every active model; the count must come from an index over
// both columns alone.
func TestActiveGeneralsCountUsesIndex(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeAll(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 2000 {
			role, status := api.RoleNone, []api.Status{api.StatusActive, api.StatusActive, api.StatusProposed, api.StatusDeprecated}[i%4]
			if i%100 == 0 {
				role = api.RoleGeneral
			} else if i%3 == 0 {
				role = api.RoleSpecialist
			}
			m := &api.Model{SchemaVersion: api.SchemaVersion, ModelID: fmt.Sprintf("p%d/m-%05d", i%10, i), Provider: fmt.Sprintf("p%d", i%10),
				DisplayName: fmt.Sprint("M ", i), SizeClass: api.SizeLarge, Governance: &api.Governance{Role: role},
				Lifecycle: &api.Lifecycle{Status: status, Since: now}, ResourceVersion: "1", CreatedAt: &now, UpdatedAt: &now}
			if err := tx.PutModel(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if _, err := s.writer.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	query, args := modelsSQL(store.ModelQuery{Role: api.RoleGeneral, Status: api.StatusActive}, true, nil)
	plan := queryPlan(t, s, query, args)
	got := strings.Join(plan, "; ")
	if !strings.Contains(got, "COVERING INDEX models_role_status") {
		t.Errorf("counting the active generals: plan %q, want a search of the covering index models_role_status", got)
	}
	n, err := s.CountModels(ctx, store.ModelQuery{Role: api.RoleGeneral, Status: api.StatusActive})
	if err != nil || n != 20 {
		t.Errorf("CountModels(active generals) = %d, %v; want 20", n, err)
	}
}
