package evalingest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hivellm/modelgov/api"
)

func readTestdata(t testing.TB, parts ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func resultAt(t *testing.T, b *Batch, where string) Result {
	t.Helper()
	for _, r := range b.Results {
		if r.Where == where {
			return r
		}
	}
	t.Fatalf("no result at %q", where)
	return Result{}
}

func valueOf(t *testing.T, r Result, metric string) api.MetricValue {
	t.Helper()
	for _, v := range r.Request.Values {
		if v.Metric == metric {
			return v
		}
	}
	t.Fatalf("%s: no value of %q in %+v", r.Where, metric, r.Request.Values)
	return api.MetricValue{}
}

func benchmarkOf(t *testing.T, b *Batch, name, version string) *api.Benchmark {
	t.Helper()
	for _, bm := range b.Benchmarks {
		if bm.Name == name && bm.Version == version {
			return bm
		}
	}
	t.Fatalf("no benchmark %s %s", name, version)
	return nil
}

func metricOf(t *testing.T, bm *api.Benchmark, name string) api.BenchmarkMetric {
	t.Helper()
	i := slices.IndexFunc(bm.Metrics, func(m api.BenchmarkMetric) bool { return m.Name == name })
	if i < 0 {
		t.Fatalf("benchmark %s has no metric %q", bm.Name, name)
	}
	return bm.Metrics[i]
}

// problemStrings lists the problems, those of severity sev only when sev
// is not empty.
func problemStrings(b *Batch, sev string) []string {
	var out []string
	for _, p := range b.Problems {
		if sev == "" || p.Severity == sev {
			out = append(out, p.String())
		}
	}
	return out
}

func checkFloat(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s = %v, want %v", what, deref(got), want)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func equalLists(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %d:\n%s\nwant %d:\n%s", what, len(got), joinLines(got), len(want), joinLines(want))
	}
}

func joinLines(s []string) string {
	out := ""
	for _, x := range s {
		out += "  " + x + "\n"
	}
	return out
}
