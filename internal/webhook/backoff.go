package webhook

import (
	"math/rand/v2"
	"time"
)

// Backoff bounds.
const (
	BackoffBase = 5 * time.Second
	BackoffMax  = time.Hour
)

// Backoff returns the wait before retry number attempt (1 for the first
// retry): d = 5 s × 2^(attempt-1), capped at 1 h, with jitter so the result
// lies in [d/2, d]. rnd returns a number in [0, 1); nil means math/rand/v2.
// An attempt below 1 counts as 1.
func Backoff(attempt int, rnd func() float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := BackoffMax
	// 5 s × 2^10 already exceeds the cap; stop before shifting overflows.
	if attempt <= 10 {
		d = min(BackoffBase<<(attempt-1), BackoffMax)
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	f := rnd()
	if !(f >= 0) { // also NaN
		f = 0
	}
	if f > 1 {
		f = 1
	}
	half := d / 2
	return half + time.Duration(f*float64(d-half))
}
