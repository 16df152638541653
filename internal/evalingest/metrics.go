package evalingest

import (
	"regexp"
	"strings"

	"github.com/hivellm/modelgov/api"
)

var (
	passAtK = regexp.MustCompile(`^pass@\d+$`)
	// higherIsBetter and lowerIsBetter are the metrics whose direction is
	// known by name alone, for sources that do not state it.
	higherIsBetter = map[string]bool{
		"acc": true, "acc_norm": true, "accuracy": true, "exact_match": true, "em": true,
		"f1": true, "mcc": true, "bleu": true, "precision": true, "recall": true,
		"mc1": true, "mc2": true, "chrf": true,
	}
	lowerIsBetter = map[string]bool{
		"perplexity": true, "word_perplexity": true, "byte_perplexity": true,
		"bits_per_byte": true, "ter": true, "ppl": true, "wer": true, "cer": true, "loss": true,
	}
	// accuracies are the metrics that are proportions, bounded by [0, 1]
	// when the source writes them as fractions.
	accuracies = map[string]bool{"acc": true, "acc_norm": true, "accuracy": true, "exact_match": true}
)

// knownDirection returns the direction of a metric known by its name, or ""
// when the name does not say.
func knownDirection(metric string) string {
	m := strings.ToLower(metric)
	switch {
	case higherIsBetter[m], strings.HasPrefix(m, "rouge"), passAtK.MatchString(m):
		return api.HigherIsBetter
	case lowerIsBetter[m]:
		return api.LowerIsBetter
	}
	return ""
}

// boundAccuracies gives every accuracy metric of the catalogue the range
// [0, 1] when all its values in the batch are within it (a source that
// writes accuracies as percentages gets no range: the range is not
// invented). base maps a result's metric name to the metric it measures
// ("exact_match,strict-match" to "exact_match").
func (b *Batch) boundAccuracies(base func(string) string) {
	outside := map[string]bool{}
	for _, r := range b.Results {
		for _, v := range r.Request.Values {
			if accuracies[base(v.Metric)] && (v.Value < 0 || v.Value > 1) {
				outside[base(v.Metric)] = true
			}
		}
	}
	for _, bm := range b.Benchmarks {
		for i := range bm.Metrics {
			m := &bm.Metrics[i]
			if name := base(m.Name); accuracies[name] && !outside[name] {
				m.Min, m.Max = ptr(0.0), ptr(1.0)
			}
		}
	}
}
