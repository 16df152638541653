package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/registry"
)

// BenchmarkImport10k imports 10,000 new models in one batch, each through
// the write path (schema, policy, revision, audit entry, event), into a
// fresh SQLite registry, and reports records per second.
//
//	go test -run '^$' -bench BenchmarkImport10k -benchtime 3x ./internal/registry/
func BenchmarkImport10k(b *testing.B) {
	const n = 10_000
	recs := make([]api.ImportRecord, n)
	for i := range recs {
		size, params := "small", 7e9
		if i%10 == 0 {
			size, params = "large", 70e9
		}
		id := fmt.Sprintf("bench%d/model-%05d", i%50, i)
		recs[i] = api.ImportRecord{Source: fmt.Sprintf("bench.json#/%d", i), Key: id,
			Document: importDoc(id, fmt.Sprintf("Bench Model %d", i), size, params)}
	}
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		s, _ := newService(b)
		b.StartTimer()
		start := time.Now()
		rep, err := s.Import(context.Background(), recs, registry.ImportOptions{Format: "documents"}, admin)
		elapsed += time.Since(start)
		if err != nil || rep.Totals.Create != n {
			b.Fatalf("import: %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/import")
}
