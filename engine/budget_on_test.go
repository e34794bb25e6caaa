//go:build busd_budget

package engine

import (
	"testing"
	"time"
)

// TestCalibrateBudget checks the conversion from nanoseconds to chain steps:
// nothing for no amount, and an amount's steps taking about that long (the
// fastest of several timings, so that an interruption cannot fail it; a
// factor of four either way is what it is held to).
func TestCalibrateBudget(t *testing.T) {
	for _, s := range []string{"", "0", "-5", "x"} {
		if n := calibrateBudget(s); n != 0 {
			t.Errorf("calibrateBudget(%q) = %d, want 0", s, n)
		}
	}
	steps := calibrateBudget("1000000") // 1 ms
	best := time.Duration(1<<63 - 1)
	for range 5 {
		start := time.Now()
		budgetChain(steps, 1)
		best = min(best, time.Since(start))
	}
	if best < 250*time.Microsecond || best > 4*time.Millisecond {
		t.Errorf("%d steps calibrated for 1ms took %v", steps, best)
	}
}
