package webhook

import (
	"math"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	zero := func() float64 { return 0 }
	one := func() float64 { return math.Nextafter(1, 0) }
	for _, c := range []struct {
		attempt int
		d       time.Duration
	}{
		{-3, 5 * time.Second},
		{0, 5 * time.Second},
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{4, 40 * time.Second},
		{10, 2560 * time.Second},
		{11, time.Hour},
		{12, time.Hour},
		{64, time.Hour},
		{1 << 30, time.Hour},
		{math.MaxInt, time.Hour},
	} {
		if got := Backoff(c.attempt, zero); got != c.d/2 {
			t.Errorf("Backoff(%d, 0) = %v, want %v", c.attempt, got, c.d/2)
		}
		if got := Backoff(c.attempt, one); got > c.d || got < c.d-time.Microsecond {
			t.Errorf("Backoff(%d, ~1) = %v, want ~%v", c.attempt, got, c.d)
		}
		if got := Backoff(c.attempt, func() float64 { return 0.5 }); got != c.d/2+c.d/4 {
			t.Errorf("Backoff(%d, 0.5) = %v, want %v", c.attempt, got, c.d/2+c.d/4)
		}
		for range 200 {
			if got := Backoff(c.attempt, nil); got < c.d/2 || got > c.d {
				t.Fatalf("Backoff(%d, nil) = %v, outside [%v, %v]", c.attempt, got, c.d/2, c.d)
			}
		}
	}
	// Misbehaving random sources stay within bounds.
	for _, f := range []float64{-1, 2, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := Backoff(3, func() float64 { return f }); got < 10*time.Second || got > 20*time.Second {
			t.Errorf("Backoff(3, %v) = %v, outside [10s, 20s]", f, got)
		}
	}
}
