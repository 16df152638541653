package web

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
)

// The evaluation chart is drawn on the server as inline SVG: no script, no
// style attribute, the same bytes for the same results. Each line is one
// metric of one benchmark (name and version) over time. Metrics do not
// share units (an accuracy runs from 0 to 1, a test battery from 0 to 100),
// so each line is drawn against its own scale: the bounds the benchmark
// declares for the metric, or else the lowest and highest value the line
// holds. When every line has the same scale, the axis shows values; when
// not, it shows the share of each line's scale, and the legend and the
// data table give the values.

// Chart geometry, in SVG user units.
const (
	chartWidth  = 640
	chartHeight = 300
	chartLeft   = 72
	chartRight  = 20
	chartTop    = 16
	chartBottom = 48
	plotWidth   = chartWidth - chartLeft - chartRight
	plotHeight  = chartHeight - chartTop - chartBottom
)

// chartColors are the lines' colours, each with a contrast of at least 3:1
// on white; the dash patterns and marker shapes tell lines apart without
// colour.
var chartColors = []string{"#0072b2", "#b84a00", "#007a5a", "#a2397e", "#1a1a1a", "#6a3d9a", "#8c6d00"}

// chartDashes are the lines' dash patterns, "" for a solid line.
var chartDashes = []string{"", "6 3", "2 3", "8 3 2 3"}

// chartPoint is one value of a line.
type chartPoint struct {
	At    time.Time
	Value float64
	// Evaluation is the id of the result the value comes from.
	Evaluation string
}

// Shown is the point's value as the table shows it.
func (p chartPoint) Shown() string { return chartValue(p.Value) }

// chartSeries is one line of the chart: a benchmark's metric over time.
type chartSeries struct {
	Benchmark, Version, Metric string
	// Points are in time order (then by evaluation id).
	Points []chartPoint
	// Low and High bound the line's scale; Declared says the benchmark
	// declares them, rather than the values.
	Low, High float64
	Declared  bool
	// Color, Dash and Marker draw the line.
	Color, Dash, Marker string
}

// Name is the line's name in the legend and the table.
func (s *chartSeries) Name() string {
	name := s.Benchmark
	if s.Version != "" {
		name += " " + s.Version
	}
	return name + " · " + s.Metric
}

// Scale says the line's scale in words.
func (s *chartSeries) Scale() string {
	how := "the values' range"
	if s.Declared {
		how = "the benchmark's bounds"
	}
	return fmt.Sprintf("scale %s to %s (%s)", chartValue(s.Low), chartValue(s.High), how)
}

// chart is a model's evaluation history as a chart, a legend and a table.
type chart struct {
	// Title and Desc name and describe the chart for those who cannot see it.
	Title, Desc string
	Series      []*chartSeries
	// Shared says every line has one scale, which the axis shows.
	Shared bool
	// Skipped counts the values that are not finite numbers, left out.
	Skipped int
	// SVG is the drawing.
	SVG template.HTML
}

// Points counts the chart's points.
func (c *chart) Points() int {
	n := 0
	for _, s := range c.Series {
		n += len(s.Points)
	}
	return n
}

// evaluationChart draws the results evals of model id, with the metric
// bounds the benchmarks declare. Superseded results and values that are not
// finite numbers are left out. It returns nil when nothing is left to draw.
func evaluationChart(id string, evals []*api.Evaluation, benchmarks []*api.Benchmark) *chart {
	type key struct{ benchmark, version, metric string }
	bounds := map[key][2]float64{}
	for _, b := range benchmarks {
		if b == nil {
			continue
		}
		for _, m := range b.Metrics {
			if m.Min != nil && m.Max != nil && finiteValue(*m.Min) && finiteValue(*m.Max) && *m.Max > *m.Min {
				bounds[key{b.Name, b.Version, m.Name}] = [2]float64{*m.Min, *m.Max}
			}
		}
	}
	c := &chart{Title: "Evaluation history of " + id}
	byKey := map[key]*chartSeries{}
	for _, ev := range evals {
		if ev == nil || ev.SupersededBy != "" {
			continue
		}
		for _, v := range ev.Values {
			if !finiteValue(v.Value) {
				c.Skipped++
				continue
			}
			k := key{ev.Benchmark, ev.BenchmarkVersion, v.Metric}
			s := byKey[k]
			if s == nil {
				s = &chartSeries{Benchmark: k.benchmark, Version: k.version, Metric: k.metric}
				byKey[k] = s
				c.Series = append(c.Series, s)
			}
			s.Points = append(s.Points, chartPoint{At: ev.EvaluatedAt.UTC(), Value: v.Value, Evaluation: ev.ID})
		}
	}
	if len(c.Series) == 0 {
		return nil
	}
	slices.SortFunc(c.Series, func(a, b *chartSeries) int {
		return cmp.Or(strings.Compare(a.Benchmark, b.Benchmark), strings.Compare(a.Version, b.Version), strings.Compare(a.Metric, b.Metric))
	})
	first, last := c.Series[0].Points[0].At, c.Series[0].Points[0].At
	for i, s := range c.Series {
		slices.SortStableFunc(s.Points, func(a, b chartPoint) int {
			return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Evaluation, b.Evaluation))
		})
		if b, ok := bounds[key{s.Benchmark, s.Version, s.Metric}]; ok {
			s.Low, s.High, s.Declared = b[0], b[1], true
		} else {
			s.Low, s.High = s.Points[0].Value, s.Points[0].Value
			for _, p := range s.Points {
				s.Low, s.High = min(s.Low, p.Value), max(s.High, p.Value)
			}
		}
		s.Color = chartColors[i%len(chartColors)]
		s.Dash = chartDashes[(i/len(chartColors))%len(chartDashes)]
		s.Marker = chartMarkers[i%len(chartMarkers)]
		if s.Points[0].At.Before(first) {
			first = s.Points[0].At
		}
		if at := s.Points[len(s.Points)-1].At; at.After(last) {
			last = at
		}
	}
	c.Shared = !slices.ContainsFunc(c.Series, func(s *chartSeries) bool { return s.Low != c.Series[0].Low || s.High != c.Series[0].High })
	c.Desc = fmt.Sprintf("%d %s of %d %s, from %s to %s. %s The table after the chart lists every value.",
		c.Points(), pluralOf(c.Points(), "value", "values"), len(c.Series), pluralOf(len(c.Series), "line", "lines"),
		first.Format(time.DateOnly), last.Format(time.DateOnly), c.axisText())
	c.SVG = c.draw(first, last)
	return c
}

// axisText says what the vertical axis shows.
func (c *chart) axisText() string {
	if c.Shared {
		return "The vertical axis shows the values."
	}
	return "The lines' metrics differ in scale, so the vertical axis shows the share of each line's scale, from its lowest to its highest."
}

// draw renders the chart's SVG, time running from first to last.
func (c *chart) draw(first, last time.Time) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">`,
		chartWidth, chartHeight)
	fmt.Fprintf(&b, `<title id="chart-title">%s</title><desc id="chart-desc">%s</desc>`, html.EscapeString(c.Title), html.EscapeString(c.Desc))
	// The frame and the vertical axis's ticks.
	fmt.Fprintf(&b, `<g class="axis" fill="none" stroke="#767676" stroke-width="1"><path d="M%d %dV%dH%d"/></g>`,
		chartLeft, chartTop, chartTop+plotHeight, chartLeft+plotWidth)
	b.WriteString(`<g class="ticks" fill="#4a4a4a" font-size="12">`)
	for _, f := range c.ticks() {
		y := svgCoord(chartTop + (1-f)*plotHeight)
		fmt.Fprintf(&b, `<path d="M%d %sH%d" stroke="#e0e0e0"/><text x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`,
			chartLeft+1, y, chartLeft+plotWidth, chartLeft-6, y, html.EscapeString(c.tickLabel(f)))
	}
	layout := time.DateOnly
	if last.Sub(first) < 48*time.Hour {
		layout = "2006-01-02 15:04"
	}
	base := chartTop + plotHeight + 18
	if first.Equal(last) {
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, svgCoord(chartLeft+plotWidth/2.0), base, first.Format(layout))
	} else {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="start">%s</text><text x="%d" y="%d" text-anchor="end">%s</text>`,
			chartLeft, base, first.Format(layout), chartLeft+plotWidth, base, last.Format(layout))
	}
	axis := "value"
	if !c.Shared {
		axis = "share of each line's scale"
	}
	fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">evaluated at (UTC) · vertical: %s</text></g>`,
		svgCoord(chartLeft+plotWidth/2.0), base+20, axis)
	// The lines, then their markers above them.
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<g class="series"><polyline fill="none" stroke="%s" stroke-width="2"`, s.Color)
		if s.Dash != "" {
			fmt.Fprintf(&b, ` stroke-dasharray="%s"`, s.Dash)
		}
		b.WriteString(` points="`)
		for i, p := range s.Points {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(svgCoord(chartX(p.At, first, last)) + "," + svgCoord(chartY(p.Value, s.Low, s.High)))
		}
		b.WriteString(`"/>`)
		for _, p := range s.Points {
			label := fmt.Sprintf("%s: %s at %s", s.Name(), chartValue(p.Value), p.At.Format("2006-01-02 15:04:05 UTC"))
			b.WriteString(chartMarker(s.Marker, s.Color, chartX(p.At, first, last), chartY(p.Value, s.Low, s.High), label))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text in it is escaped above
}

// ticks are the fractions of the scale the vertical axis marks.
func (c *chart) ticks() []float64 {
	if c.Shared && c.Series[0].Low == c.Series[0].High {
		return []float64{0.5} // one value: one tick, at the middle
	}
	return []float64{0, 0.25, 0.5, 0.75, 1}
}

// tickLabel labels the tick at fraction f of the scale.
func (c *chart) tickLabel(f float64) string {
	if !c.Shared {
		return strconv.Itoa(int(math.Round(f*100))) + "%"
	}
	s := c.Series[0]
	return chartValue(s.Low*(1-f) + s.High*f) // two products, not a difference: no overflow
}

// chartX places time t between first and last, at the middle when they are
// the same.
func chartX(t, first, last time.Time) float64 {
	return chartLeft + scaleFraction(unixSeconds(t), unixSeconds(first), unixSeconds(last))*plotWidth
}

// chartY places v on the scale from low to high.
func chartY(v, low, high float64) float64 {
	return chartTop + (1-scaleFraction(v, low, high))*plotHeight
}

// scaleFraction is where v lies from low to high, clamped to [0, 1]; 0.5 when
// low and high are the same. Halving first keeps the difference of two
// huge values finite.
func scaleFraction(v, low, high float64) float64 {
	if !(high > low) {
		return 0.5
	}
	f := (v/2 - low/2) / (high/2 - low/2)
	switch {
	case math.IsNaN(f):
		return 0.5
	case f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

// unixSeconds is t in seconds since 1970, for any year time.Time holds.
func unixSeconds(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// svgCoord formats a coordinate with one decimal.
func svgCoord(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// chartValue formats a metric's value with up to six significant digits.
func chartValue(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

// finiteValue reports whether f is a number other than an infinity.
func finiteValue(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// pluralOf returns one for n == 1 and many otherwise.
func pluralOf(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Marker shapes.
const (
	markerCircle   = "circle"
	markerSquare   = "square"
	markerTriangle = "triangle"
	markerDiamond  = "diamond"
)

// chartMarkers are the points' shapes, one per line in turn.
var chartMarkers = []string{markerCircle, markerSquare, markerTriangle, markerDiamond}

// chartMarker draws a point of shape at (x, y), with a tooltip.
func chartMarker(shape, color string, x, y float64, label string) string {
	tip := "<title>" + html.EscapeString(label) + "</title>"
	switch shape {
	case markerSquare:
		return fmt.Sprintf(`<rect x="%s" y="%s" width="8" height="8" fill="%s">%s</rect>`, svgCoord(x-4), svgCoord(y-4), color, tip)
	case markerTriangle:
		return fmt.Sprintf(`<polygon points="%s,%s %s,%s %s,%s" fill="%s">%s</polygon>`,
			svgCoord(x), svgCoord(y-5), svgCoord(x+5), svgCoord(y+4), svgCoord(x-5), svgCoord(y+4), color, tip)
	case markerDiamond:
		return fmt.Sprintf(`<polygon points="%s,%s %s,%s %s,%s %s,%s" fill="%s">%s</polygon>`,
			svgCoord(x), svgCoord(y-5), svgCoord(x+5), svgCoord(y), svgCoord(x), svgCoord(y+5), svgCoord(x-5), svgCoord(y), color, tip)
	}
	return fmt.Sprintf(`<circle cx="%s" cy="%s" r="4" fill="%s">%s</circle>`, svgCoord(x), svgCoord(y), color, tip)
}
