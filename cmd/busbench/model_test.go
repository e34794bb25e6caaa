package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"busd/bench/load"
)

func writeLines(t *testing.T, name string, vs ...any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The model is fitted to the grid only and its error on the replays is
// printed beside its held-out error: replays whose CPU is off by known
// factors give known errors; trials of the search and lossy runs are not
// checked.
func TestModelCheck(t *testing.T) {
	truth := load.CostModel{PerPublished: 100e-9, PerDelivered: 20e-9, PerDeliveredByte: 0.2e-9,
		PerReadBatch: 20e-6, PerBatchWrite: 2e-6, Idle: 0.02}
	rng := rand.New(rand.NewPCG(3, 4))
	var grid []any
	for _, rate := range []float64{2e3, 1e4, 5e4} {
		for _, subs := range []int{1, 4, 8} {
			for _, size := range []int{64, 220, 1024, 4096} {
				r := load.Result{System: "busd", Mode: "rate", Subscribers: subs, Size: size, Seconds: 2,
					PublishedPerSec: rate, ServerMeasured: true}
				r.Published = uint64(2 * rate)
				r.Delivered = r.Published * uint64(subs)
				r.ServerBytesOut = r.Delivered * uint64(size+30)
				r.ServerReadBatches = uint64(float64(r.Published) / (1 + 50*rng.Float64()))
				r.ServerWrites = r.ServerReadBatches * uint64(subs)
				r.ServerCPUSeconds = truth.Predict(r)
				grid = append(grid, r)
			}
		}
	}
	replayAt := func(speed, off float64, pass *bool, lossFree bool) ReplayRun {
		r := load.Result{System: "busd", Mode: "replay", Subscribers: 9, Size: 500, Seconds: 10,
			PublishedPerSec: 3000 * speed, ServerMeasured: true,
			Published: uint64(30000 * speed), Delivered: uint64(150000 * speed), ServerBytesOut: uint64(75e6 * speed),
			ServerReadBatches: uint64(8000 * speed), ServerWrites: uint64(30000 * speed)}
		r.ServerCPUSeconds = truth.Predict(r) * off
		return ReplayRun{Kind: "run", Result: r, Speed: speed, Pass: pass, LossFree: lossFree}
	}
	yes, no := true, false
	gridPath := writeLines(t, "grid.jsonl", grid...)
	replays := writeLines(t, "replay.jsonl",
		replayAt(1, 3, &yes, true), replayAt(64, 3, &no, false), // trials: not checked
		ReplayHeadroom{Kind: "headroom", Capture: "platform.buscap", Shape: "90 s of traffic", Factor: 37,
			Sentence: "this traffic fits 37× over on this machine"},
		replayAt(1, 1, nil, true), replayAt(2, 1.6, nil, true), replayAt(2, 1.1, nil, true), replayAt(2, 0.5, nil, true),
		replayAt(4, 0.8, nil, true),
		replayAt(8, 3, nil, false)) // lossy: not checked

	var stdout, stderr bytes.Buffer
	if code := runModel([]string{gridPath, "--check", replays}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// Errors 0, 1 - 1/1.1 and 1/0.8 - 1: 11 % on average, 25 % at worst.
	for _, want := range []string{
		"checked on the rest, its error is 0 % on average, 0 % at worst.",
		"On 3 replays of a capture, which it was not fitted to (\"Capacity from a capture\"), its error is 11 % on average, 25 % at worst.",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("capacity section without %q:\n%s", want, stdout.String())
		}
	}

	stdout.Reset()
	if code := runModel([]string{"--check", replays, "--replay-section", gridPath}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"**This traffic fits 37× over on this machine.**",
		"| 1× | pass |", "| 64× | fail |",
		"| +0 % |", "| -9 % |", "| +25 % |", "not checked: lossy",
		"| 1.09, 0.75, 0.34 | 0.75 |", // each round's CPU (in file order), the median checked
		"Its error on these 3 speeds' median replays is 11 % on average and 25 % at worst (the bound: 10 % and 20 %); on the synthetic runs held out of its fit, 0 % and 0 %.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("replay section without %q:\n%s", want, out)
		}
	}

	for _, args := range [][]string{{}, {"--replay-section", gridPath}, {gridPath, gridPath}} {
		if code := runModel(args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
