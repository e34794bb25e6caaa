package replay

import (
	"testing"
	"time"
)

// Quantiles are never below the true value and within a bucket's error
// above it.
func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	h.record(-5) // ahead of schedule counts as on time
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.quantile(c.q)
		if got < c.want-time.Microsecond || float64(got) > float64(c.want)*1.07 {
			t.Errorf("q%v = %v, want about %v", c.q, got, c.want)
		}
	}
	if h.quantile(0) != 0 {
		t.Errorf("q0 = %v, want 0 (the negative lag)", h.quantile(0))
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Error("empty histogram has a quantile")
	}
}
