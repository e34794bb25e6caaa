package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"busd/capture/inspect"
	"busd/codec"
)

// The operator's round: busd capture record against a running daemon
// while clients talk through it, then status, inspect and a replay into a
// second daemon, all through the command line.
func TestE2ECaptureRecordInspectReplay(t *testing.T) {
	dir, sock := startReplayDaemon(t)
	env := map[string]string{socketEnv: sock}
	file := filepath.Join(dir, "host.buscap")

	if code, _, stderr := runCmd(t, env, "capture", "record", "--duration", "1s"); code != exitUsage || !strings.Contains(stderr, "--out is required") {
		t.Errorf("record without --out: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, env, "capture", "status"); code != exitFailure || !strings.Contains(stderr, "no capture has run") {
		t.Errorf("status before any capture: exit %d, %q", code, stderr)
	}

	sub := dialRaw(t, sock, "dashboard", ">")
	var wg sync.WaitGroup
	var code int
	var stdout, stderr string
	wg.Add(1)
	go func() {
		defer wg.Done()
		code, stdout, stderr = runCmd(t, env, "capture", "record", "--out", file, "--duration", "2s", "--payload", "shape")
	}()
	// Publish once the capture runs (its status says so).
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, out, _ := runCmd(t, env, "capture", "status")
		if c == 0 && strings.Contains(out, "running") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the capture never showed as running: %q", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	pub := dialRaw(t, sock, "collector")
	for i := range 50 {
		if _, err := pub.c.Write(codec.AppendFrame(nil, codec.VerbPUB, fmt.Sprintf("decky.d%d.traffic", i%5), fmt.Appendf(nil, `{"n": %d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	for range 50 {
		sub.next(t, 5*time.Second)
	}
	wg.Wait()
	if code != 0 || stderr != "" {
		t.Fatalf("record: exit %d, stderr %q", code, stderr)
	}
	summary := regexp.MustCompile(`^capture 1 ended \(duration\): \d+ records \(50 publishes\) in 2\.\d+s into ` + regexp.QuoteMeta(file) + ` \(.+\); recorder drops 0, daemon drops 0\n$`)
	if !summary.MatchString(stdout) {
		t.Errorf("record's summary %q", stdout)
	}

	code, stdout, stderr = runCmd(t, nil, "capture", "inspect", file, "--json")
	var s inspect.Summary
	if code != 0 || json.Unmarshal([]byte(stdout), &s) != nil {
		t.Fatalf("inspect: exit %d, %q, %q", code, stdout, stderr)
	}
	if !s.Complete || s.Publishes != 50 || s.Topics["decky.d3.traffic"] != 10 || s.Payload != "shape" || s.Deliveries != 50 {
		t.Errorf("inspect: complete %v, %d PUBs, topics %v, payload %s, %d deliveries", s.Complete, s.Publishes, s.Topics, s.Payload, s.Deliveries)
	}

	_, sock2 := startReplayDaemon(t)
	code, stdout, stderr = runCmd(t, nil, "capture", "replay", file, "--socket", sock2, "--speed", "max")
	if code != 0 || !strings.Contains(stdout, "deliveries 50 of 50 expected") || !strings.Contains(stdout, "lossless true") {
		t.Errorf("replay: exit %d, %q, %q", code, stdout, stderr)
	}

	// A second record over the same file is refused by the daemon, which
	// never overwrites.
	code, _, stderr = runCmd(t, env, "capture", "record", "--out", file, "--duration", "1s")
	if code != exitFailure || !strings.Contains(stderr, "file exists") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("record over an existing file: exit %d, %q", code, stderr)
	}
}
