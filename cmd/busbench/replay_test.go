package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"busd/bench/load"
	"busd/capture"
)

func TestParseReplay(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--capture", "f", "--speeds", "1,4x,16"}, true},
		{[]string{"--capture", "f", "--find-max"}, true},
		{[]string{"--capture", "f"}, false},                       // neither speeds nor find-max
		{[]string{"--speeds", "1"}, false},                        // no capture
		{[]string{"--capture", "f", "--speeds", "1,0"}, false},    // speed 0
		{[]string{"--capture", "f", "--speeds", "fast"}, false},   // not a number
		{[]string{"--capture", "f", "--speeds", "1", "x"}, false}, // stray argument
		{[]string{"--capture", "f", "--find-max", "--trials", "0"}, false},
		{[]string{"--capture", "f", "--speeds", "1", "--wall", "-1s"}, false},
	} {
		cfg, err := parseReplay(c.args, &bytes.Buffer{})
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v", c.args, err)
		}
		if c.ok && len(c.args) > 3 && c.args[3] == "1,4x,16" && (len(cfg.speeds) != 3 || cfg.speeds[1] != 4) {
			t.Errorf("%q: speeds %v", c.args, cfg.speeds)
		}
	}
	if code := runReplay([]string{"--capture"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("a flag without its value: exit %d, want 2", code)
	}
	if code := runReplay([]string{"--capture", os.Args[0], "--speeds", "1"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 1 {
		t.Errorf("a file that is not a capture: exit %d, want 1", code)
	}
}

// tinyCapture writes a capture of one publisher sending pubs events over
// one second to a subscriber of every topic.
func tinyCapture(t *testing.T, pubs int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.buscap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewWriter(f, capture.Header{Host: "test", Start: time.Unix(1764190000, 0), Payload: capture.PayloadShape,
		Sequence: 1, Conns: []capture.Conn{{Conn: 1, Name: "sub", Patterns: []string{">"}}, {Conn: 2, Name: "pub"}}},
		capture.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pubs {
		r := capture.Record{Kind: capture.KindPub, Time: int64(i) * int64(time.Second) / int64(pubs), Conn: 2,
			Text: []byte("decky.d1.traffic"), Size: 300}
		if err := w.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(int64(time.Second), "stopped"); err != nil {
		t.Fatal(err)
	}
	return path
}

// A real replay at speed 1 into a busd of its own: the run's features come
// from the daemon's counters and the line reads as a load.Result.
func TestReplayRealDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts busd; skipped with -short")
	}
	const pubs = 200
	path := tinyCapture(t, pubs)
	var stdout, stderr bytes.Buffer
	if code := runReplay([]string{"--capture", path, "--speeds", "1", "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var run ReplayRun
	if err := json.Unmarshal(stdout.Bytes(), &run); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	// The replay's own barrier events are published too: a few more.
	if run.Kind != "run" || run.Speed != 1 || !run.LossFree || !run.Lossless ||
		run.Published < pubs || run.Published > pubs+10 || run.Delivered < pubs || run.Delivered > pubs+10 {
		t.Fatalf("run %+v", run)
	}
	if run.ServerBytesOut < pubs*300 || run.ServerReadBatches == 0 || run.ServerWrites == 0 || !run.ServerMeasured ||
		run.Seconds < 0.9 {
		t.Fatalf("server counters of run %+v", run)
	}
	var r load.Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || r.Mode != "replay" || r.Published != run.Published ||
		!strings.HasPrefix(r.Workload, "replay tiny ") {
		t.Fatalf("as a load.Result: %+v, %v", r, err)
	}
}
