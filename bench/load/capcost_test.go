package load

import (
	"strings"
	"testing"
)

// capRun is a W1w result for the capture-cost tests: mode off, full or
// shape.
func capRun(mode string, rate, cpu float64, drops uint64, bytesPerRecord float64) Result {
	r := Result{System: "busd", Workload: "W1w", DeliveredPerSec: rate, ServerCPUPerMDelivered: cpu}
	if mode != "off" {
		r.Capture = &CaptureResult{Payload: mode, Records: 1000, RecorderDrops: drops, Bytes: int64(1000 * bytesPerRecord), BytesPerRecord: bytesPerRecord}
	}
	return r
}

func TestWriteCaptureCost(t *testing.T) {
	// Three rounds in the rotating order scripts/benchmarks runs them in.
	runs := []Result{
		capRun("off", 1e6, 0.50, 0, 0), capRun("full", 0.8e6, 0.70, 0, 40), capRun("shape", 0.9e6, 0.60, 0, 20),
		capRun("full", 0.9e6, 0.90, 0, 42), capRun("shape", 1.0e6, 0.75, 0, 21), capRun("off", 1.2e6, 0.60, 0, 0),
		capRun("shape", 0.85e6, 0.55, 0, 19), capRun("off", 0.9e6, 0.45, 0, 0), capRun("full", 0.63e6, 0.72, 0, 44),
	}
	var sb strings.Builder
	if err := WriteCaptureCost(&sb, runs); err != nil {
		t.Fatal(err)
	}
	got := sb.String()
	for _, want := range []string{
		"W1w, 3 interleaved round(s);",
		"| none | 1.00M | | | 0.500 | | | |",
		// rates ÷ off: 0.8, 0.75, 0.7; CPU ÷ off: 1.4, 1.5, 1.6.
		"| full | 800.0k | 0.80, 0.75, 0.70 | 0.750 | 0.720 | 1.500 | 0 | 42.0 |",
		// rates ÷ off: 0.9, 0.833, 0.944; CPU ÷ off: 1.2, 1.25, 1.222.
		"| shape | 900.0k | 0.90, 0.83, 0.94 | 0.900 | 0.600 | 1.222 | 0 | 20.0 |",
		"No capture dropped a record.",
		// Extra CPU: full 0.2, 0.3, 0.27; shape 0.1, 0.15, 0.1.
		"A full capture adds 0.270 CPU-s per million delivered events to the daemon, a shape capture 0.100",
		"37% of a full capture's cost is there without the bodies, so the bodies",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}

	if strings.Contains(got, "understate") {
		t.Errorf("nothing was dropped, yet:\n%s", got)
	}

	// Drops are said, per mode.
	runs[4].Capture.RecorderDrops = 7
	sb.Reset()
	if err := WriteCaptureCost(&sb, runs); err != nil {
		t.Fatal(err)
	}
	if got := sb.String(); !strings.Contains(got, "**The recorder dropped records** (shape in 1 of 3 runs)") ||
		!strings.Contains(got, "| 1.222 | 7 (0.2%) | 20.0 |") {
		t.Errorf("drops not reported:\n%s", got)
	}
	runs[1].Capture.RecorderDrops = 5
	sb.Reset()
	if err := WriteCaptureCost(&sb, runs); err != nil {
		t.Fatal(err)
	}
	if got := sb.String(); !strings.Contains(got, "The full captures dropped records, so their figures understate") {
		t.Errorf("a full capture's drops do not qualify what it costs:\n%s", got)
	}

	for name, bad := range map[string][]Result{
		"no runs":                 nil,
		"no capture":              {capRun("off", 1, 1, 0, 0), capRun("off", 1, 1, 0, 0)},
		"nothing to compare with": {capRun("full", 1, 1, 0, 1)},
		"two workloads":           {capRun("off", 1, 1, 0, 0), {Workload: "W2w", Capture: &CaptureResult{Payload: "full"}}},
	} {
		if err := WriteCaptureCost(&sb, bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCaptureRounds(t *testing.T) {
	modes := func(rounds [][]*Result) string {
		var s []string
		for _, r := range rounds {
			var m []string
			for _, x := range r {
				m = append(m, captureMode(x))
			}
			s = append(s, strings.Join(m, " "))
		}
		return strings.Join(s, " | ")
	}
	runs := []Result{
		capRun("off", 1, 1, 0, 0), capRun("full", 1, 1, 0, 1), capRun("shape", 1, 1, 0, 1),
		capRun("full", 1, 1, 0, 1), capRun("shape", 1, 1, 0, 1), capRun("off", 1, 1, 0, 0),
		// A round that lost its off run ends where full comes again.
		capRun("shape", 1, 1, 0, 1), capRun("full", 1, 1, 0, 1),
		capRun("full", 1, 1, 0, 1),
	}
	if got, want := modes(captureRounds(runs)), "off full shape | full shape off | shape full | full"; got != want {
		t.Errorf("rounds %q, want %q", got, want)
	}
}

func TestDominates(t *testing.T) {
	for _, tc := range []struct {
		full, shape float64
		want        string
	}{
		{0.3, 0.2, "67% of a full capture's cost is there without the bodies, so the per-record work"},
		{0.3, 0.1, "33% of a full capture's cost is there without the bodies, so the bodies"},
		{0.3, 0.5, "100% of a full capture's cost"},
		{0.3, -0.1, "0% of a full capture's cost"},
		{-0.01, 0.02, "within these runs' noise (median -0.010"},
	} {
		if got := dominates(tc.full, tc.shape); !strings.Contains(got, tc.want) {
			t.Errorf("dominates(%v, %v) = %q, want it to hold %q", tc.full, tc.shape, got, tc.want)
		}
	}
}

func TestResultStringCapture(t *testing.T) {
	r := capRun("full", 1e6, 0.5, 0, 40)
	if s := r.String(); !strings.Contains(s, "capture full 1.0k records 0.0 MB 40.0 B/record") || strings.Contains(s, "DROPPED") {
		t.Errorf("summary: %s", s)
	}
	r.Capture.RecorderDrops = 12
	if s := r.String(); !strings.Contains(s, "CAPTURE DROPPED 12 records") {
		t.Errorf("drops not in the summary: %s", s)
	}
	if s := capRun("off", 1, 1, 0, 0).String(); strings.Contains(s, "capture") {
		t.Errorf("a run without a capture mentions one: %s", s)
	}
}
