package web

import (
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

var chartDay0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// chartResult is an evaluation of benchmark (version 1) with metric values,
// days after chartDay0.
func chartResult(id, benchmark string, days int, values map[string]float64) *api.Evaluation {
	ev := &api.Evaluation{ID: id, ModelID: "acme/m"}
	ev.Benchmark, ev.BenchmarkVersion, ev.EvaluatedAt = benchmark, "1", chartDay0.AddDate(0, 0, days)
	for m, v := range values {
		ev.Values = append(ev.Values, api.MetricValue{Metric: m, Value: v})
	}
	return ev
}

func chartBounded(name, metric string, lo, hi float64) *api.Benchmark {
	return &api.Benchmark{Name: name, Version: "1", Metrics: []api.BenchmarkMetric{{Name: metric, Direction: api.HigherIsBetter, Min: &lo, Max: &hi}}}
}

var chartPointsAttr = regexp.MustCompile(`<polyline [^>]*points="([^"]*)"`)

// chartLines returns each polyline's points attribute.
func chartLines(svg string) []string {
	var out []string
	for _, m := range chartPointsAttr.FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

// chartWellFormed checks that svg parses as XML.
func chartWellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("the SVG is not well-formed: %v\n%s", err, svg)
		}
	}
}

func TestEvaluationChart(t *testing.T) {
	cases := []struct {
		name       string
		evals      []*api.Evaluation
		benchmarks []*api.Benchmark
		// lines are the polylines' points, in the order of the series
		// (benchmark, version, metric).
		lines   []string
		names   []string
		shared  bool
		skipped int
		want    []string
	}{{
		name: "two benchmarks at different times, on the bounds they declare",
		evals: []*api.Evaluation{
			chartResult("ev_2", "mmlu", 2, map[string]float64{"acc": 0.5}),
			chartResult("ev_1", "hellaswag", 0, map[string]float64{"acc": 0}),
			chartResult("ev_3", "hellaswag", 4, map[string]float64{"acc": 1}),
		},
		benchmarks: []*api.Benchmark{chartBounded("hellaswag", "acc", 0, 1), chartBounded("mmlu", "acc", 0, 1)},
		// x runs from 72 to 620 over 4 days, y from 252 (0) to 16 (1).
		lines:  []string{"72.0,252.0 620.0,16.0", "346.0,134.0"},
		names:  []string{"hellaswag 1 · acc", "mmlu 1 · acc"},
		shared: true,
		want:   []string{">0.5</text>", ">1</text>", "2026-01-01", "2026-01-05", "3 values of 2 lines"},
	}, {
		name: "scales differ: each line on the range of its values, the axis in percent",
		evals: []*api.Evaluation{
			chartResult("ev_1", "battery", 0, map[string]float64{"score": 60}),
			chartResult("ev_2", "battery", 1, map[string]float64{"score": 90}),
			chartResult("ev_3", "hellaswag", 0, map[string]float64{"acc": 0.8}),
			chartResult("ev_4", "hellaswag", 1, map[string]float64{"acc": 0.7}),
		},
		lines: []string{"72.0,252.0 620.0,16.0", "72.0,16.0 620.0,252.0"},
		names: []string{"battery 1 · score", "hellaswag 1 · acc"},
		want:  []string{">100%</text>", ">0%</text>", "share of each line"},
	}, {
		name: "one point: in the middle, drawn as a marker",
		evals: []*api.Evaluation{
			chartResult("ev_1", "hellaswag", 0, map[string]float64{"acc": 0.8}),
		},
		lines:  []string{"346.0,134.0"},
		names:  []string{"hellaswag 1 · acc"},
		shared: true,
		want:   []string{`<circle cx="346.0" cy="134.0"`, ">0.8</text>", "1 value of 1 line"},
	}, {
		name: "equal values: a flat line in the middle",
		evals: []*api.Evaluation{
			chartResult("ev_1", "hellaswag", 0, map[string]float64{"acc": 0.8}),
			chartResult("ev_2", "hellaswag", 2, map[string]float64{"acc": 0.8}),
		},
		lines:  []string{"72.0,134.0 620.0,134.0"},
		names:  []string{"hellaswag 1 · acc"},
		shared: true,
	}, {
		name: "one result with two metrics: two lines, by metric name",
		evals: []*api.Evaluation{
			chartResult("ev_1", "hellaswag", 0, map[string]float64{"acc_norm": 0.9, "acc": 0.8}),
		},
		benchmarks: []*api.Benchmark{{Name: "hellaswag", Version: "1", Metrics: []api.BenchmarkMetric{
			{Name: "acc", Min: chartPtr(0.0), Max: chartPtr(1.0)}, {Name: "acc_norm", Min: chartPtr(0.0), Max: chartPtr(1.0)}}}},
		lines:  []string{"346.0,63.2", "346.0,39.6"},
		names:  []string{"hellaswag 1 · acc", "hellaswag 1 · acc_norm"},
		shared: true,
	}, {
		name: "NaN and infinities are left out; huge values stay on the chart",
		evals: []*api.Evaluation{
			chartResult("ev_1", "big", 0, map[string]float64{"x": -math.MaxFloat64}),
			chartResult("ev_2", "big", 1, map[string]float64{"x": math.NaN()}),
			chartResult("ev_3", "big", 2, map[string]float64{"x": math.MaxFloat64}),
			chartResult("ev_4", "big", 3, map[string]float64{"x": math.Inf(1)}),
		},
		lines:   []string{"72.0,252.0 620.0,16.0"},
		names:   []string{"big 1 · x"},
		shared:  true,
		skipped: 2,
		want:    []string{">-1.79769e+308</text>", ">0</text>", ">1.79769e+308</text>"},
	}, {
		name: "superseded results are not drawn; a bound outside the values clamps nothing",
		evals: []*api.Evaluation{
			func() *api.Evaluation {
				e := chartResult("ev_1", "hellaswag", 0, map[string]float64{"acc": 0.1})
				e.SupersededBy = "ev_2"
				return e
			}(),
			chartResult("ev_2", "hellaswag", 0, map[string]float64{"acc": 0.25}),
		},
		benchmarks: []*api.Benchmark{chartBounded("hellaswag", "acc", 0, 1)},
		lines:      []string{"346.0,193.0"},
		names:      []string{"hellaswag 1 · acc"},
		shared:     true,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := evaluationChart("acme/m", tc.evals, tc.benchmarks)
			if c == nil {
				t.Fatal("no chart")
			}
			svg := string(c.SVG)
			chartWellFormed(t, svg)
			if got := chartLines(svg); strings.Join(got, " | ") != strings.Join(tc.lines, " | ") {
				t.Errorf("lines = %q, want %q", got, tc.lines)
			}
			var names []string
			for _, s := range c.Series {
				names = append(names, s.Name())
			}
			if strings.Join(names, ", ") != strings.Join(tc.names, ", ") {
				t.Errorf("series = %q, want %q", names, tc.names)
			}
			if c.Shared != tc.shared || c.Skipped != tc.skipped {
				t.Errorf("shared %v, skipped %d; want %v, %d", c.Shared, c.Skipped, tc.shared, tc.skipped)
			}
			for _, w := range append(tc.want, `<title id="chart-title">Evaluation history of acme/m</title>`, `<desc id="chart-desc">`) {
				if !strings.Contains(svg, w) {
					t.Errorf("the SVG lacks %q:\n%s", w, svg)
				}
			}
			for _, bad := range []string{"NaN", "Inf"} {
				if strings.Contains(svg, bad) {
					t.Errorf("the SVG holds %s:\n%s", bad, svg)
				}
			}
			// The same results, in another order, draw the same bytes.
			reversed := make([]*api.Evaluation, len(tc.evals))
			for i, e := range tc.evals {
				reversed[len(tc.evals)-1-i] = e
			}
			if again := evaluationChart("acme/m", reversed, tc.benchmarks); again.SVG != c.SVG {
				t.Errorf("the chart depends on the order of the results:\n%s\n%s", c.SVG, again.SVG)
			}
		})
	}
}

func TestEvaluationChartEmpty(t *testing.T) {
	for name, evals := range map[string][]*api.Evaluation{
		"no results":       nil,
		"no values":        {chartResult("ev_1", "hellaswag", 0, nil)},
		"only NaN":         {chartResult("ev_1", "hellaswag", 0, map[string]float64{"acc": math.NaN()})},
		"only superseded":  {{ID: "ev_1", SupersededBy: "ev_2", ResultRequest: api.ResultRequest{Values: []api.MetricValue{{Metric: "a", Value: 1}}}}},
		"a nil evaluation": {nil},
	} {
		if c := evaluationChart("acme/m", evals, nil); c != nil {
			t.Errorf("%s: a chart of nothing: %s", name, c.SVG)
		}
	}
}

func TestEvaluationChartEscapes(t *testing.T) {
	c := evaluationChart(`<script>"x"</script>`, []*api.Evaluation{chartResult("ev_1", "a&b", 0, map[string]float64{`<m>`: 1})}, nil)
	svg := string(c.SVG)
	chartWellFormed(t, svg)
	if strings.Contains(svg, "<script") || strings.Contains(svg, "<m>") || !strings.Contains(svg, "a&amp;b 1 · &lt;m&gt;") {
		t.Errorf("names are not escaped:\n%s", svg)
	}
}

func TestScaleFraction(t *testing.T) {
	cases := []struct{ v, low, high, want float64 }{
		{0.5, 0, 1, 0.5},
		{2, 0, 1, 1},
		{-1, 0, 1, 0},
		{3, 3, 3, 0.5},
		{0, -math.MaxFloat64, math.MaxFloat64, 0.5},
		{math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64, 1},
		{math.NaN(), 0, 1, 0.5},
		{1, math.NaN(), 1, 0.5},
	}
	for _, tc := range cases {
		if got := scaleFraction(tc.v, tc.low, tc.high); got != tc.want {
			t.Errorf("scaleFraction(%v, %v, %v) = %v, want %v", tc.v, tc.low, tc.high, got, tc.want)
		}
	}
}

func chartPtr[T any](v T) *T { return &v }
