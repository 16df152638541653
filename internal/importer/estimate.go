package importer

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	"github.com/hivellm/modelgov/api"
)

// sizeEstimate is a size read from a model's name.
type sizeEstimate struct {
	class  api.SizeClass
	count  int64 // total parameters; 0 when only a marker was found
	active int64 // for a mixture of experts
	reason string
}

var (
	// "235b-a22b": total and active parameters of a mixture of experts.
	moeActive = regexp.MustCompile(`(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)b-a(\d+(?:\.\d+)?)b(?:[^a-z0-9]|$)`)
	// "8x7b": experts times their size.
	moeExperts = regexp.MustCompile(`(?:^|[^a-z0-9.])(\d+)x(\d+(?:\.\d+)?)b(?:[^a-z0-9]|$)`)
	// "70b", "1.5b", "350m": a parameter count as a whole name part.
	paramCount = regexp.MustCompile(`(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)([bmt])(?:[^a-z0-9]|$)`)
	// The small-variant markers of the default policy's small_variant_pattern
	// that speak of size ("low" speaks of reasoning effort).
	sizeMarker = regexp.MustCompile(`(?:^|[^a-z0-9])(nano|tiny|micro|mini|lite)(?:[^a-z0-9]|$)`)
)

var markerClass = map[string]api.SizeClass{
	"nano": api.SizeNano, "tiny": api.SizeNano, "micro": api.SizeNano,
	"mini": api.SizeMini, "lite": api.SizeMini,
}

// estimateSize reads a parameter count or a small-variant marker from a
// lowercase name. A count wins over a marker ("phi-3-mini-3.8b" is 3.8B).
// It returns false when the name says nothing about size.
func estimateSize(name string) (sizeEstimate, bool) {
	if m := moeActive.FindStringSubmatch(name); m != nil {
		total, active := billions(m[1]), billions(m[2])
		if total > 0 && active > 0 && active <= total {
			return sizeEstimate{class: classOf(total), count: total, active: active,
				reason: fmt.Sprintf("%q in the name: %sB total, %sB active parameters", m[1]+"b-a"+m[2]+"b", m[1], m[2])}, true
		}
	}
	if m := moeExperts.FindStringSubmatch(name); m != nil {
		experts, _ := strconv.Atoi(m[1])
		each := billions(m[2])
		if experts > 1 && experts <= 1024 && each > 0 {
			total := int64(experts) * each
			return sizeEstimate{class: classOf(total), count: total,
				reason: fmt.Sprintf("%q in the name: %d experts of %sB, about %s total parameters (shared layers make the true count lower)", m[1]+"x"+m[2]+"b", experts, m[2], human(total))}, true
		}
	}
	if m := paramCount.FindStringSubmatch(name); m != nil {
		f, err := strconv.ParseFloat(m[1], 64)
		scale := map[string]float64{"m": 1e6, "b": 1e9, "t": 1e12}[m[2]]
		if err == nil && f > 0 {
			total := int64(math.Round(f * scale))
			if total >= 1e6 && total < 1e15 {
				return sizeEstimate{class: classOf(total), count: total,
					reason: fmt.Sprintf("%q in the name: %s parameters", m[1]+m[2], human(total))}, true
			}
		}
	}
	if m := sizeMarker.FindStringSubmatch(name); m != nil {
		return sizeEstimate{class: markerClass[m[1]],
			reason: fmt.Sprintf("the small-variant marker %q in the name, no parameter count", m[1])}, true
	}
	return sizeEstimate{}, false
}

func billions(s string) int64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f >= 1e6 {
		return 0
	}
	return int64(math.Round(f * 1e9))
}

// classOf is the size class of a total parameter count, by the default
// policy's size_ranges (docs/POLICY.md).
func classOf(total int64) api.SizeClass {
	switch {
	case total < 1e9:
		return api.SizeNano
	case total < 4e9:
		return api.SizeMini
	case total < 15e9:
		return api.SizeSmall
	case total < 70e9:
		return api.SizeMedium
	case total < 300e9:
		return api.SizeLarge
	case total < 1e12:
		return api.SizeXL
	}
	return api.SizeXXL
}

// human writes a parameter count as 7B, 1.5B or 350M.
func human(n int64) string {
	if n >= 1e9 {
		return strconv.FormatFloat(float64(n)/1e9, 'f', -1, 64) + "B"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
}
