package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"busd/capture"
	"busd/capture/replay"
)

// writeReplayCapture writes a small capture: a subscriber to "r.>" open
// from the start, a publisher sending n events 5ms apart.
func writeReplayCapture(t *testing.T, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, "c.bcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := capture.Header{Version: capture.Version, Host: "test", Start: time.Now(), Payload: capture.PayloadFull, Sequence: 1,
		Conns: []capture.Conn{{Conn: 1, Name: "sub", Patterns: []string{"r.>"}}, {Conn: 2, Name: "pub"}}}
	w, err := capture.NewWriter(f, h, capture.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		rec := capture.Record{Kind: capture.KindPub, Time: int64(i) * int64(5*time.Millisecond), Conn: 2,
			Text: []byte("r.x"), Body: fmt.Appendf(nil, `{"n": %d}`, i)}
		rec.Size = uint32(len(rec.Body))
		if err := w.Append(&rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(int64(n)*int64(5*time.Millisecond), "stopped"); err != nil {
		t.Fatal(err)
	}
	return path
}

func startReplayDaemon(t *testing.T) (dir, sock string) {
	t.Helper()
	dir = shortTempDir(t)
	sock = filepath.Join(dir, "bus.sock")
	d := start(t, cleanEnv(t), "--socket", sock)
	waitSocket(t, d, sock)
	return dir, sock
}

func TestReplayCommand(t *testing.T) {
	dir, sock := startReplayDaemon(t)
	file := writeReplayCapture(t, dir, 40)

	code, stdout, stderr := runCmd(t, nil, "capture", "replay", file, "--socket", sock, "--speed", "max", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rep replay.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output %q: %v", stdout, err)
	}
	if !rep.Lossless || rep.PubsSent != 40 || rep.Received != 40 || rep.Expected != 40 || !rep.MaxSpeed {
		t.Fatalf("report: %+v", rep)
	}
	if rep.DaemonPID == os.Getpid() || rep.DaemonPID == 0 {
		t.Errorf("daemon pid %d (this process is %d)", rep.DaemonPID, os.Getpid())
	}

	// The socket from the environment, at speed 4, as text.
	code, stdout, stderr = runCmd(t, map[string]string{socketEnv: sock}, "capture", "replay", file, "--speed", "4")
	if code != 0 || !strings.Contains(stdout, "deliveries 40 of 40 expected") || !strings.Contains(stdout, "lossless true") ||
		!strings.Contains(stdout, "schedule lag") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestReplayCommandFindMax(t *testing.T) {
	dir, sock := startReplayDaemon(t)
	file := writeReplayCapture(t, dir, 40)
	code, stdout, stderr := runCmd(t, nil, "capture", "replay", file, "--socket", sock, "--find-max",
		"--trials", "3", "--trial", "200ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var h replay.Headroom
	if err := json.Unmarshal([]byte(stdout), &h); err != nil {
		t.Fatalf("--json output %q: %v", stdout, err)
	}
	if len(h.Trials) == 0 || len(h.Trials) > 3 || h.Trials[0].Speed != 1 {
		t.Fatalf("trials: %+v", h.Trials)
	}
}

func TestReplayCommandErrors(t *testing.T) {
	dir := shortTempDir(t)
	notCapture := filepath.Join(dir, "x.txt")
	os.WriteFile(notCapture, []byte("hello, not a capture\n"), 0o600)
	sock := filepath.Join(dir, "bus.sock")
	good := writeReplayCapture(t, dir, 3)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{notCapture, "--socket", sock}, 1, "busd: capture replay " + notCapture + ": "},
		{[]string{filepath.Join(dir, "missing"), "--socket", sock}, 1, "busd: capture replay " + filepath.Join(dir, "missing") + ": "},
		{[]string{notCapture, "--socket", sock, "--speed", "0"}, 2, "--speed"},
		{[]string{notCapture, "--socket", sock, "--scale", "0"}, 2, "scale"},
		{[]string{"--socket", sock}, 2, "FILE"},
		// A good file, but nobody serves the socket.
		{[]string{good, "--socket", sock}, 1, "busd: cannot connect to " + sock + ": no such file or directory (is busd running?)"},
	} {
		code, stdout, stderr := runCmd(t, nil, append([]string{"capture", "replay"}, c.args...)...)
		if code != c.code || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, stdout, stderr, c.code, c.want)
		}
		if c.code == 1 && strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: stderr %q, want one line", c.args, stderr)
		}
	}
}

// SIGINT ends a looping replay, which still prints its report.
func TestReplayCommandSIGINT(t *testing.T) {
	dir, sock := startReplayDaemon(t)
	file := writeReplayCapture(t, dir, 40)
	p := start(t, cleanEnv(t), "capture", "replay", file, "--socket", sock, "--loop")
	deadline := time.Now().Add(10 * time.Second)
	// Let it run a pass or two (a pass is 200ms of capture at speed 1).
	time.Sleep(600 * time.Millisecond)
	p.signal(t, syscall.SIGINT)
	code := p.wait(t, time.Until(deadline)+10*time.Second)
	out := p.stdout.String()
	if code != 0 || !strings.Contains(out, "interrupted") || !strings.Contains(out, "PUBs sent") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, p.stderr.String())
	}
}
