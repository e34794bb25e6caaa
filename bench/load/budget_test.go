package load

import (
	"strings"
	"testing"
)

func TestWriteBudget(t *testing.T) {
	res := func(system string, rate, cpu float64) Result {
		return Result{System: system, DeliveredPerSec: rate, ServerCPUPerMDelivered: cpu}
	}
	runs := []Result{
		res("raw", 4e6, 0.1), res("busd", 3e6, 0.25), res("budget=0ns", 4.4e6, 0.15), res("budget=30ns", 2.6e6, 0.2),
		res("raw", 5e6, 0.1), res("busd", 3.6e6, 0.27), res("budget=0ns", 5e6, 0.16), res("budget=30ns", 3.4e6, 0.22),
		res("raw", 4e6, 0.1), res("busd", 2.4e6, 0.3), res("budget=0ns", 4.8e6, 0.17), res("budget=30ns", 2.6e6, 0.24),
	}
	var sb strings.Builder
	if err := WriteBudget(&sb, runs); err != nil {
		t.Fatal(err)
	}
	got := sb.String()
	for _, want := range []string{
		"W1w, 3 round(s);",
		"| as shipped | JSON validation | 0.75, 0.72, 0.60 | 0.720 | 0.27 |",
		"| validation off | no work | 1.10, 1.00, 1.20 | 1.100 | 0.16 |",
		"| validation off | 30 ns of arithmetic | 0.65, 0.68, 0.65 | 0.650 | 0.22 |",
		"Rows whose median is at or above 0.70: JSON validation; no work.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}

	if err := WriteBudget(&sb, []Result{res("busd", 1, 1)}); err == nil {
		t.Error("a run before any raw run: no error")
	}
	if err := WriteBudget(&sb, []Result{res("raw", 1, 1)}); err == nil {
		t.Error("only raw runs: no error")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), tc.in...)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median(%v) reordered its input", tc.in)
			}
		}
	}
}
