package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"busd/bench/load"
)

// TestCaptureFlag: --capture takes off, full or shape, and only for a busd
// that busbench starts; a refusal exits 2 before anything runs.
func TestCaptureFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--capture", "on", "--workload", "W1w"}, "none of off, full, shape"},
		{[]string{"--capture", "full", "--system", "raw", "--workload", "W1w"}, "--capture needs a busd that busbench starts"},
		{[]string{"--capture", "shape", "--socket", "/nonexistent/s", "--workload", "W1w"}, "--capture needs a busd that busbench starts"},
	} {
		var stdout, stderr strings.Builder
		if code := run(tc.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: printed %q", tc.args, stdout.String())
		}
	}
	// Off is accepted: --list runs after the flags are read.
	var stdout, stderr strings.Builder
	if code := run([]string{"--capture", "off", "--list"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "W1w") {
		t.Errorf("--capture off --list: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// TestCapCost runs the subcommand on a small results file.
func TestCapCost(t *testing.T) {
	var lines []string
	for _, r := range []load.Result{
		{Workload: "W1w", DeliveredPerSec: 2e6, ServerCPUPerMDelivered: 0.4},
		{Workload: "W1w", DeliveredPerSec: 1.5e6, ServerCPUPerMDelivered: 0.6,
			Capture: &load.CaptureResult{Payload: "full", Records: 100, Bytes: 3000, BytesPerRecord: 30}},
		{Workload: "W1w", DeliveredPerSec: 1.8e6, ServerCPUPerMDelivered: 0.5,
			Capture: &load.CaptureResult{Payload: "shape", Records: 100, Bytes: 1000, BytesPerRecord: 10}},
	} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	path := filepath.Join(t.TempDir(), "capcost.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if code := run([]string{"capcost", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{
		"| full | 1.50M | 0.75 | 0.750 | 0.600 | 1.500 | 0 | 30.0 |",
		"| shape | 1.80M | 0.90 | 0.900 | 0.500 | 1.250 | 0 | 10.0 |",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("missing %q in:\n%s", want, stdout.String())
		}
	}
	if code := run([]string{"capcost"}, &stdout, &stderr); code != 2 {
		t.Errorf("capcost without a file: exit %d, want 2", code)
	}
	if code := run([]string{"capcost", filepath.Join(t.TempDir(), "missing.jsonl")}, &stdout, &stderr); code != 1 {
		t.Errorf("capcost of a missing file: exit %d, want 1", code)
	}
}
