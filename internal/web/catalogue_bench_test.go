package web_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"
)

// BenchmarkCatalogue100k renders catalogue pages of a registry of 100,000
// models (catalogueModel: realistic documents, 2% out of compliance)
// through the real web handler, filtered and sorted as a user would ask,
// and reports each page's p50 and p99 besides ns/op. Every sort walks its
// index from the previous page's last row, so that the first page and a
// later one cost the same; the rarest filter under a sort (out of
// compliance, by last update) is the slowest case, and shows its cost.
//
//	go test -run '^$' -bench BenchmarkCatalogue100k -benchtime 200x ./internal/web
func BenchmarkCatalogue100k(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 100k models: not under -short")
	}
	const n = 100_000
	start := time.Now()
	h, _ := openCatalogue(b, n)
	b.Logf("seeded %d models in %v", n, time.Since(start).Round(time.Millisecond))
	// A later page: the Next link of the first one.
	nextOf := func(path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		m := catalogueNext.FindStringSubmatch(rec.Body.String())
		if rec.Code != http.StatusOK || m == nil {
			b.Fatalf("GET %s: %d, no next page", path, rec.Code)
		}
		return html.UnescapeString(m[1])
	}
	pages := []struct{ name, path string }{
		{"id", "/"},
		{"name", "/?sort=display_name"},
		{"updated", "/?sort=updated_at"},
		{"updated/active+compliant", "/?sort=updated_at&status=active&compliance=compliant"},
		{"name/active+compliant/page2", nextOf("/?sort=display_name&status=active&compliance=compliant")},
		{"name/provider", "/?sort=display_name&provider=openai"},
		{"updated/label", "/?sort=updated_at&label=" + url.QueryEscape("team=core,tier!=test")},
		{"updated/non-compliant", "/?sort=updated_at&compliance=non_compliant"},
		{"provider/non-compliant", "/?sort=provider&compliance=non_compliant"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				began := time.Now()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.path, nil))
				took = append(took, time.Since(began))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d\n%s", p.path, rec.Code, rec.Body)
				}
			}
			slices.Sort(took)
			at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
			b.ReportMetric(at(0.50), "p50-ms")
			b.ReportMetric(at(0.99), "p99-ms")
		})
	}
}
