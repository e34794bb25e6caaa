package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"busd/codec"
)

// shortTempDir is a temp dir with a short path: UNIX socket paths are
// limited to 107 bytes and test names make t.TempDir() long.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "busd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// fakeDaemon listens on a socket in a temp dir and hands each accepted
// connection to serve.
func fakeDaemon(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	path := filepath.Join(shortTempDir(t), "bus.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				serve(c)
			}()
		}
	}()
	return path
}

// readFrame reads one frame from r, failing the test on a bad stream.
func readFrame(t *testing.T, r *bufio.Reader) (codec.Frame, bool) {
	t.Helper()
	var buf []byte
	var f codec.Frame
	for {
		n, need, err := f.Decode(buf)
		if err != nil {
			t.Errorf("bad frame: %v", err)
			return codec.Frame{}, false
		}
		if n > 0 {
			return f, true
		}
		want := 1
		if need > len(buf) {
			want = need - len(buf)
		}
		chunk := make([]byte, want)
		if _, err := io.ReadFull(r, chunk); err != nil {
			if len(buf) > 0 || err != io.EOF {
				t.Errorf("read: %v after %q", err, buf)
			}
			return codec.Frame{}, false
		}
		buf = append(buf, chunk...)
	}
}

type frameRec struct {
	verb codec.Verb
	args string
	body string
}

// envelopeOf decodes a PUB body built by "busd pub".
func envelopeOf(t *testing.T, body string) (typ string, payload string) {
	t.Helper()
	var env struct {
		V       int             `json:"v"`
		ID      string          `json:"id"`
		Topic   string          `json:"topic"`
		Type    string          `json:"type"`
		TS      float64         `json:"ts"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if env.V != 1 || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(env.ID) || env.TS < float64(time.Now().Unix()-60) {
		t.Errorf("not an envelope: %s", body)
	}
	return env.Type, string(env.Payload)
}

// recordingDaemon is a fake daemon that reports the frames of each
// connection, up to and including BYE.
func recordingDaemon(t *testing.T) (string, <-chan []frameRec) {
	got := make(chan []frameRec, 4)
	path := fakeDaemon(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		var recs []frameRec
		for {
			f, ok := readFrame(t, r)
			if !ok {
				break
			}
			recs = append(recs, frameRec{f.Verb, string(f.Args), string(f.Body)})
			if f.Verb == codec.VerbBYE {
				break // close, as the daemon does
			}
		}
		got <- recs
	})
	return path, got
}

func receive(t *testing.T, got <-chan []frameRec) []frameRec {
	t.Helper()
	select {
	case recs := <-got:
		return recs
	case <-time.After(5 * time.Second):
		t.Fatal("fake daemon got nothing")
		return nil
	}
}

func TestPubAgainstFakeDaemon(t *testing.T) {
	path, got := recordingDaemon(t)
	code, stdout, stderr := runCmd(t, nil, "pub", "--socket", path, "decky.d1.state", `{"state":"running"}`, "--type", "state")
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("pub: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	recs := receive(t, got)
	if len(recs) != 3 || recs[0] != (frameRec{codec.VerbHELLO, "busd-pub", ""}) || recs[1].verb != codec.VerbPUB ||
		recs[1].args != "decky.d1.state" || recs[2] != (frameRec{codec.VerbBYE, "", ""}) {
		t.Fatalf("frames %+v", recs)
	}
	if typ, payload := envelopeOf(t, recs[1].body); typ != "state" || payload != `{"state":"running"}` {
		t.Errorf("type %q payload %s", typ, payload)
	}

	// No JSON: payload {}; --count; --name.
	code, _, stderr = runCmd(t, nil, "pub", "--socket", path, "--count", "3", "--name", "probe", "system.log")
	if code != 0 {
		t.Fatalf("pub --count: exit %d, stderr %q", code, stderr)
	}
	recs = receive(t, got)
	if len(recs) != 5 || recs[0].args != "probe" {
		t.Fatalf("frames %+v", recs)
	}
	ids := map[string]bool{}
	for _, r := range recs[1:4] {
		typ, payload := envelopeOf(t, r.body)
		if r.verb != codec.VerbPUB || r.args != "system.log" || typ != "" || payload != "{}" {
			t.Errorf("frame %+v", r)
		}
		ids[r.body] = true
	}
	if len(ids) != 3 {
		t.Error("the repeated events are not distinct (fresh id and ts each)")
	}

	// --raw sends the body verbatim.
	body := `{"v": 1, "payload": {"state": "running"}}`
	if code, _, stderr := runCmd(t, nil, "pub", "--raw", "--socket", path, "a.b", body); code != 0 {
		t.Fatalf("pub --raw: exit %d, stderr %q", code, stderr)
	}
	if recs := receive(t, got); len(recs) != 3 || recs[1] != (frameRec{codec.VerbPUB, "a.b", body}) {
		t.Errorf("raw frames %+v", recs)
	}
}

func TestPubStdin(t *testing.T) {
	path, got := recordingDaemon(t)
	defer func(r io.Reader) { stdin = r }(stdin)
	stdin = strings.NewReader("{\"n\": 1}\n\n  {\"n\": 2}  \r\n{\"n\": 3}")
	code, _, stderr := runCmd(t, nil, "pub", "--stdin", "--socket", path, "x.y", "--type", "tick")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	recs := receive(t, got)
	if len(recs) != 5 {
		t.Fatalf("frames %+v", recs)
	}
	for i, r := range recs[1:4] {
		typ, payload := envelopeOf(t, r.body)
		if want := `{"n": ` + string(rune('1'+i)) + `}`; typ != "tick" || payload != want {
			t.Errorf("event %d: type %q payload %s, want %s", i, typ, payload, want)
		}
	}

	// A bad line stops it with exit 1, after the good ones.
	stdin = strings.NewReader("{\"n\": 1}\n[2]\n{\"n\": 3}\n")
	code, _, stderr = runCmd(t, nil, "pub", "--stdin", "--socket", path, "x.y")
	if code != 1 || !strings.Contains(stderr, "line 2") || !strings.Contains(stderr, "JSON object") {
		t.Errorf("bad line: exit %d, stderr %q", code, stderr)
	}
	if recs := receive(t, got); len(recs) != 3 || recs[1].verb != codec.VerbPUB {
		t.Errorf("frames %+v", recs)
	}
}

// serveEvents is a fake daemon that reads HELLO and want SUBs, reports
// them, then writes out.
func serveEvents(t *testing.T, want int, out []byte) (string, <-chan []string) {
	subs := make(chan []string, 1)
	path := fakeDaemon(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		var got []string
		for len(got) < 1+want {
			f, ok := readFrame(t, r)
			if !ok {
				return
			}
			got = append(got, f.Verb.String()+" "+string(f.Args))
		}
		subs <- got
		// Dribble the stream out in odd pieces to exercise partial frames.
		for len(out) > 0 {
			n := min(len(out), 7777)
			if _, err := c.Write(out[:n]); err != nil {
				return
			}
			out = out[n:]
			time.Sleep(time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
	})
	return path, subs
}

func TestSubAgainstFakeDaemon(t *testing.T) {
	big := `{"blob":"` + strings.Repeat("x", 200<<10) + `"}` // larger than the read buffer
	var out []byte
	out = codec.AppendFrame(out, codec.VerbEVT, "topology.t1.status", []byte(`{"v":1}`))
	out = codec.AppendFrame(out, codec.VerbEVT, "system.bus.health", []byte(big))
	out = codec.AppendFrame(out, codec.VerbEVT, "other.topic", []byte(`{"unasked":1}`)) // matches nothing: not printed
	out = codec.AppendFrame(out, codec.VerbEVT, "topology.t2", nil)
	out = codec.AppendFrame(out, codec.VerbEVT, "topology.t3", []byte("{\n  \"multi\": \"line\"\n}"))
	path, subs := serveEvents(t, 2, out)
	// The path comes from DECNET_BUS_SOCKET this time.
	code, stdout, stderr := runCmd(t, map[string]string{"DECNET_BUS_SOCKET": path}, "sub", "topology.>", "system.*.health", "--no-reconnect")
	if code != 1 || !strings.Contains(stderr, "lost the connection to "+path) {
		t.Fatalf("sub: exit %d, stderr %q", code, stderr)
	}
	if got := <-subs; strings.Join(got, "|") != "HELLO busd-sub|SUB topology.>|SUB system.*.health" {
		t.Errorf("fake daemon received %q", got)
	}
	want := "[#1] topology.t1.status {\"v\":1}\n[#2] system.bus.health " + big + "\n[#3] topology.t2\n[#4] topology.t3 {\"multi\":\"line\"}\n"
	if stdout != want {
		t.Errorf("stdout (%d bytes) differs from the %d expected; starts %.80q", len(stdout), len(want), stdout)
	}
}

func TestSubFormatsAndCount(t *testing.T) {
	var out []byte
	out = codec.AppendFrame(out, codec.VerbEVT, "a.1", []byte(`{"n": 1}`))
	out = codec.AppendFrame(out, codec.VerbEVT, "a.2", []byte(`{"n": 2}`))
	out = codec.AppendFrame(out, codec.VerbEVT, "a.3", []byte(`{"n": 3}`))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--count", "2"}, "[#1] a.1 {\"n\": 1}\n[#2] a.2 {\"n\": 2}\n"},
		{[]string{"--count", "1", "--raw"}, "{\"n\": 1}\n"},
		{[]string{"--json", "--count", "2"}, `{"topic":"a.1","event":{"n": 1}}` + "\n" + `{"topic":"a.2","event":{"n": 2}}` + "\n"},
	} {
		path, _ := serveEvents(t, 1, out)
		code, stdout, stderr := runCmd(t, nil, append([]string{"sub", "--socket", path, "a.*"}, tc.args...)...)
		if code != 0 || stdout != tc.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tc.args, code, stdout, stderr, tc.want)
		}
		if tc.args[0] == "--json" {
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("--json line %q is not JSON", line)
				}
			}
		}
	}
}

func TestSubTimeout(t *testing.T) {
	out := codec.AppendFrame(nil, codec.VerbEVT, "a.1", []byte(`{}`))
	path, _ := serveEvents(t, 1, out)
	start := time.Now()
	code, stdout, stderr := runCmd(t, nil, "sub", "--socket", path, "--count", "5", "--timeout", "300ms", "a.*")
	if code != 3 || stdout != "[#1] a.1 {}\n" || !strings.Contains(stderr, "timeout") || !strings.Contains(stderr, "1 of 5") {
		t.Errorf("timeout before --count: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if el := time.Since(start); el < 300*time.Millisecond || el > 5*time.Second {
		t.Errorf("took %v", el)
	}
	// Without --count the timeout just ends the run.
	path, _ = serveEvents(t, 1, out)
	if code, _, stderr := runCmd(t, nil, "sub", "--socket", path, "--timeout", "0.2", "a.*"); code != 0 {
		t.Errorf("timeout without --count: exit %d, stderr %q", code, stderr)
	}
}

func TestSubStopsOnBadFrameAndBye(t *testing.T) {
	// Each fake reads HELLO and SUB before answering, as the daemon would.
	readHello := func(c net.Conn) {
		r := bufio.NewReader(c)
		readFrame(t, r)
		readFrame(t, r)
	}
	path := fakeDaemon(t, func(c net.Conn) {
		readHello(c)
		c.Write([]byte("NOPE\n\x00\x00\x00\x00"))
	})
	if code, _, stderr := runCmd(t, nil, "sub", "--no-reconnect", "--socket", path, ">"); code != 1 || !strings.Contains(stderr, "bad frame") {
		t.Errorf("bad frame: exit %d, stderr %q", code, stderr)
	}

	path = fakeDaemon(t, func(c net.Conn) {
		readHello(c)
		out := codec.AppendFrame(nil, codec.VerbEVT, "a.b", []byte(`{}`))
		out = codec.AppendFrame(out, codec.VerbBYE, "", nil)
		c.Write(out)
		time.Sleep(200 * time.Millisecond)
	})
	if code, stdout, stderr := runCmd(t, nil, "sub", "--no-reconnect", "--socket", path, ">"); code != 1 || stdout != "[#1] a.b {}\n" || !strings.Contains(stderr, "BYE") {
		t.Errorf("bye: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	path = fakeDaemon(t, func(c net.Conn) {
		readHello(c)
		c.Write([]byte("EVT a.b\n\x00\x00\x00\x10{"))
	})
	if code, _, stderr := runCmd(t, nil, "sub", "--no-reconnect", "--socket", path, ">"); code != 1 || !strings.Contains(stderr, "middle of a frame") {
		t.Errorf("truncated: exit %d, stderr %q", code, stderr)
	}
}

func TestClientsWithoutDaemon(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "bus.sock")
	for _, args := range [][]string{
		{"pub", "--socket", path, "a.b", "{}"},
		{"sub", "--socket", path, "a.>"},
	} {
		code, stdout, stderr := runCmd(t, nil, args...)
		if code != 1 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, stdout)
		}
		if !strings.Contains(stderr, "cannot connect to "+path) || !strings.Contains(stderr, "is busd running") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: stderr %q, want one clear line", args, stderr)
		}
	}
	// A socket file nobody listens on.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if code, _, stderr := runCmd(t, nil, "pub", "--socket", path, "a.b"); code != 1 || !strings.Contains(stderr, "connection refused") {
		t.Errorf("stale socket: exit %d, stderr %q", code, stderr)
	}
}

func TestClientPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file modes")
	}
	path := fakeDaemon(t, func(c net.Conn) {})
	if err := os.Chmod(path, 0o600&^0o200); err != nil { // no write permission: connect fails
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, nil, "sub", "--socket", path, ">")
	if code != 1 || stderr != "busd: permission denied on "+path+" (is this user in the socket's group?)\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestClientUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"pub"}, "TOPIC"},
		{[]string{"pub", "a", "{}", "extra"}, "TOPIC"},
		{[]string{"pub", "", "{}"}, "empty topic"},
		{[]string{"pub", "a b", "{}"}, "topic"},
		{[]string{"pub", "a\nPUB b", "{}"}, "topic"},
		{[]string{"pub", "caf\u00e9", "{}"}, "topic"},
		{[]string{"pub", "a", "[1]"}, "JSON object"},
		{[]string{"pub", "a", `{"a":1} {"b":2}`}, "JSON object"},
		{[]string{"pub", "a", `{"a":NaN}`}, "JSON object"},
		{[]string{"pub", "a", "   "}, "JSON object"},
		{[]string{"pub", "a", "{\"a\":\"\xff\"}"}, "UTF-8"},
		{[]string{"pub", "a", "{\"a\":\"\xed\xa0\x80\"}"}, "UTF-8"}, // an encoded surrogate
		{[]string{"pub", "a", "{\"a\":" + strings.Repeat("[", codec.MaxJSONDepth) + strings.Repeat("]", codec.MaxJSONDepth) + "}"}, "JSON object"}, // too deep
		{[]string{"pub", "a", "{" + strings.Repeat(" ", codec.MaxBody) + "}"}, "at most"},
		{[]string{"pub", "a", strings.Repeat("x", 5000)}, "JSON object"},
		{[]string{"pub", strings.Repeat("x", 5000)}, "longer than"},
		{[]string{"pub", "--bogus", "a"}, "bogus"},
		{[]string{"pub", "a", "--count", "0"}, "--count"},
		{[]string{"pub", "a", "--stdin", "{}"}, "standard input"},
		{[]string{"pub", "a", "--stdin", "--count", "2"}, "--stdin"},
		{[]string{"pub", "a", "{}", "--raw", "--type", "t"}, "--type"},
		{[]string{"sub"}, "PATTERN"},
		{[]string{"sub", "a.>", ""}, "empty pattern"},
		{[]string{"sub", "a .>"}, "pattern"},
		{[]string{"sub", "a", "--raw", "--json"}, "--raw"},
		{[]string{"sub", "a", "--timeout", "soon"}, "--timeout"},
		{[]string{"sub", "a", "--count", "-1"}, "--count"},
		{[]string{"stats", "--admin-socket", "off"}, "BUSD_ADMIN_SOCKET"},
		{[]string{"stats", "--admin-socket="}, "no admin socket"},
		{[]string{"stats", "extra", "--admin-socket", "/x"}, "extra"},
	}
	for _, tc := range tests {
		// DECNET_BUS_SOCKET points nowhere: usage errors come first.
		code, _, stderr := runCmd(t, map[string]string{"DECNET_BUS_SOCKET": "/nonexistent/bus.sock"}, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%.60q: exit %d, stderr %.200q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestInterspersedFlags(t *testing.T) {
	for _, tc := range []struct {
		args, want []string
	}{
		{[]string{"a", "--type", "t", "b"}, []string{"a", "b"}},
		{[]string{"--type", "t", "a"}, []string{"a"}},
		{[]string{"a", "--", "--type", "b"}, []string{"a", "--type", "b"}},
		{[]string{"--", "-x"}, []string{"-x"}},
		{nil, nil},
	} {
		fs := flagSetWithType()
		got, err := parseArgs(fs, tc.args)
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
}

func TestFormatHelpers(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 45 * time.Second: "45s", 12*time.Minute + 3*time.Second: "12m3s",
		5*time.Hour + 2*time.Minute: "5h2m", 76 * time.Hour: "3d4h",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 5 << 20: "5.0 MiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func flagSetWithType() *pflag.FlagSet {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("type", "", "")
	return fs
}

func TestConnectErrorLines(t *testing.T) {
	perm := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}
	if got := connectError("/p", perm, "hint").Error(); got != "permission denied on /p (hint)" {
		t.Errorf("EACCES: %q", got)
	}
	refused := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	if got := connectError("/p", refused, "hint").Error(); got != "cannot connect to /p: connection refused (is busd running?)" {
		t.Errorf("ECONNREFUSED: %q", got)
	}
}
