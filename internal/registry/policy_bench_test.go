package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/sqlite"
)

// BenchmarkActivate100k measures activating a stricter bundle over a
// registry of 100,000 models: every model is re-checked inside the
// activation's transaction, and the generals that no longer qualify (one
// in ten) are marked non-compliant with a revision and an audit entry each.
//
//	go test -run '^$' -bench BenchmarkActivate100k -benchtime 1x -timeout 30m ./internal/registry/
func BenchmarkActivate100k(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 100,000 models")
	}
	ctx := context.Background()
	const n = 100_000
	for range b.N {
		b.StopTimer()
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "modelgov.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		v, err := schema.New()
		if err != nil {
			b.Fatal(err)
		}
		s, err := New(Config{Store: st, Schema: v, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Bootstrap(ctx); err != nil {
			b.Fatal(err)
		}
		seed100k(b, st, n)
		p, err := s.UploadPolicy(ctx, stricterBundle(b), WriteOptions{Caller: Caller{Principal: "bench", Roles: []string{"admin"}}})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		a, err := s.ActivatePolicy(ctx, p.Version, false, WriteOptions{Caller: Caller{Principal: "bench", Roles: []string{"admin"}}})
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if a.Report.Checked != n || len(a.Report.NonCompliant) != n/10 {
			b.Fatalf("checked %d, non-compliant %d; want %d and %d", a.Report.Checked, len(a.Report.NonCompliant), n, n/10)
		}
		b.ReportMetric(elapsed.Seconds(), "s/activation")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "models/s")
		st.Close()
	}
}

// benchIdentity is the verified identity of general i of n, endorsed by
// generals i+5 and i+10 (every fifth model is a general), whose owners
// differ from its own and from each other's.
func benchIdentity(i, n int) *api.Identity {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keyID := func(j int) string { return fmt.Sprintf("%032x", j) }
	id := &api.Identity{KeyType: api.KeyEd25519, PublicKey: "AAAA", KeyID: keyID(i), Status: api.IdentityVerified,
		Owner: fmt.Sprintf("owner-%d", i%1000), RegisteredAt: now, RegisteredBy: "seed", VerifiedAt: &now,
		ExpiresAt: now.Add(100 * 365 * 24 * time.Hour)}
	for _, j := range []int{(i + 5) % n, (i + 10) % n} {
		id.Endorsements = append(id.Endorsements, api.Endorsement{By: fmt.Sprintf("p%d/model-%06d", j%50, j), KeyID: keyID(j),
			Signature: "AAAA", EndorsedKeyID: keyID(i), At: now, SubmittedBy: "seed"})
	}
	return id
}

// seed100k stores n models straight into the store (the benchmark measures
// the activation, not the seeding): one in five a general, half of those
// with 70B parameters (large), which the stricter bundle no longer accepts.
func seed100k(b *testing.B, st store.Store, n int) {
	b.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 1000 {
		err := st.ReadWrite(context.Background(), func(ctx context.Context, tx store.Tx) error {
			for i := start; i < start+1000 && i < n; i++ {
				m := &api.Model{SchemaVersion: api.SchemaVersion, ModelID: fmt.Sprintf("p%d/model-%06d", i%50, i),
					Provider: fmt.Sprintf("p%d", i%50), DisplayName: fmt.Sprintf("Model %d", i), Family: fmt.Sprintf("f%d", i%300),
					Governance: &api.Governance{Role: api.RoleNone}, Lifecycle: &api.Lifecycle{Status: api.StatusActive, Since: now},
					Labels: map[string]string{"team": fmt.Sprintf("t%d", i%7)}, Capabilities: []string{"code"},
					ResourceVersion: "1", CreatedAt: &now, UpdatedAt: &now}
				switch {
				case i%10 == 0:
					m.SizeClass, m.Parameters = api.SizeLarge, &api.Parameters{Count: 70e9, Source: api.ParametersDeclared}
					m.Governance.Role = api.RoleGeneral
				case i%10 == 5:
					m.SizeClass, m.Parameters = api.SizeXL, &api.Parameters{Count: 405e9, Source: api.ParametersDeclared}
					m.Governance.Role = api.RoleGeneral
				default:
					m.SizeClass, m.Parameters = api.SizeSmall, &api.Parameters{Count: 8e9, Source: api.ParametersDeclared}
					m.Governance.Role = api.RoleSpecialist
				}
				if m.Role() == api.RoleGeneral {
					// As proposal 036 asks of a general: a verified identity,
					// endorsed by the next two generals, of other owners.
					m.Identity = benchIdentity(i, n)
				}
				if err := tx.PutModel(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func stricterBundle(b *testing.B) []byte {
	var m map[string]any
	if err := yaml.Unmarshal(policy.Default(), &m); err != nil {
		b.Fatal(err)
	}
	params := m["params"].(map[string]any)
	params["general_min_parameters"] = 300e9
	params["general_size_classes"] = []string{"xl", "xxl"}
	out, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
