package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	for {
		f, n, need, err := codec.Parse(buf)
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

func TestPubAgainstFakeDaemon(t *testing.T) {
	for _, tc := range []struct {
		args []string
		body string
	}{
		{[]string{"decky.d1.state", `{"v":1,"payload":{"state":"running"}}`}, `{"v":1,"payload":{"state":"running"}}`},
		{[]string{"system.log"}, ""},
	} {
		got := make(chan []frameRec, 1)
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
		code, stdout, stderr := runCmd(t, nil, append([]string{"pub", "--socket", path}, tc.args...)...)
		if code != 0 || stdout != "" || stderr != "" {
			t.Fatalf("pub: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		want := []frameRec{{codec.VerbHELLO, "busd-pub", ""}, {codec.VerbPUB, tc.args[0], tc.body}, {codec.VerbBYE, "", ""}}
		select {
		case recs := <-got:
			if len(recs) != len(want) {
				t.Fatalf("frames %+v, want %+v", recs, want)
			}
			for i := range want {
				if recs[i] != want[i] {
					t.Errorf("frame %d: %+v, want %+v", i, recs[i], want[i])
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatal("fake daemon got nothing")
		}
	}
}

func TestSubAgainstFakeDaemon(t *testing.T) {
	big := `{"blob":"` + strings.Repeat("x", 200<<10) + `"}` // larger than the read buffer
	subs := make(chan []string, 1)
	path := fakeDaemon(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		var got []string
		for len(got) < 3 {
			f, ok := readFrame(t, r)
			if !ok {
				return
			}
			got = append(got, f.Verb.String()+" "+string(f.Args))
		}
		subs <- got
		var out []byte
		out = codec.AppendFrame(out, codec.VerbEVT, "topology.t1.status", []byte(`{"v":1}`))
		out = codec.AppendFrame(out, codec.VerbEVT, "system.bus.health", []byte(big))
		out = codec.AppendFrame(out, codec.VerbEVT, "empty.body", nil)
		// Dribble the stream out in odd pieces to exercise partial frames.
		for len(out) > 0 {
			n := min(len(out), 7777)
			if _, err := c.Write(out[:n]); err != nil {
				t.Errorf("write: %v", err)
				return
			}
			out = out[n:]
			time.Sleep(time.Millisecond)
		}
	})
	// The path comes from DECNET_BUS_SOCKET this time.
	code, stdout, stderr := runCmd(t, map[string]string{"DECNET_BUS_SOCKET": path}, "sub", "topology.>", "system.*.health")
	if code != 0 {
		t.Fatalf("sub: exit %d, stderr %q", code, stderr)
	}
	if got := <-subs; strings.Join(got, "|") != "HELLO busd-sub|SUB topology.>|SUB system.*.health" {
		t.Errorf("fake daemon received %q", got)
	}
	want := "topology.t1.status {\"v\":1}\nsystem.bus.health " + big + "\nempty.body\n"
	if stdout != want {
		t.Errorf("stdout (%d bytes) differs from the %d expected; starts %.80q", len(stdout), len(want), stdout)
	}
	if !strings.Contains(stderr, "closed the connection") {
		t.Errorf("stderr %q", stderr)
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
	if code, _, stderr := runCmd(t, nil, "sub", "--socket", path, ">"); code != 1 || !strings.Contains(stderr, "bad frame") {
		t.Errorf("bad frame: exit %d, stderr %q", code, stderr)
	}

	path = fakeDaemon(t, func(c net.Conn) {
		readHello(c)
		out := codec.AppendFrame(nil, codec.VerbEVT, "a.b", []byte(`{}`))
		out = codec.AppendFrame(out, codec.VerbBYE, "", nil)
		c.Write(out)
		time.Sleep(200 * time.Millisecond)
	})
	if code, stdout, _ := runCmd(t, nil, "sub", "--socket", path, ">"); code != 0 || stdout != "a.b {}\n" {
		t.Errorf("bye: exit %d, stdout %q", code, stdout)
	}

	path = fakeDaemon(t, func(c net.Conn) {
		readHello(c)
		c.Write([]byte("EVT a.b\n\x00\x00\x00\x10{"))
	})
	if code, _, stderr := runCmd(t, nil, "sub", "--socket", path, ">"); code != 1 || !strings.Contains(stderr, "middle of a frame") {
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
		{[]string{"pub", "a", "{" + strings.Repeat(" ", codec.MaxBody) + "}"}, "at most"},
		{[]string{"pub", "a", strings.Repeat("x", 5000)}, "JSON object"},
		{[]string{"pub", strings.Repeat("x", 5000)}, "longer than"},
		{[]string{"pub", "--bogus", "a"}, "bogus"},
		{[]string{"sub"}, "PATTERN"},
		{[]string{"sub", "a.>", ""}, "empty pattern"},
		{[]string{"sub", "a .>"}, "pattern"},
	}
	for _, tc := range tests {
		// DECNET_BUS_SOCKET points nowhere: usage errors come first.
		code, _, stderr := runCmd(t, map[string]string{"DECNET_BUS_SOCKET": "/nonexistent/bus.sock"}, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%.60q: exit %d, stderr %.200q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestReadEventsBufferReuse(t *testing.T) {
	// Many frames in one stream, with sizes around the buffer boundary.
	var in []byte
	var want bytes.Buffer
	for i := 0; i < 200; i++ {
		body := `{"n":"` + strings.Repeat("y", (i*997)%(70<<10)) + `"}`
		in = codec.AppendFrame(in, codec.VerbEVT, "t.x", []byte(body))
		want.WriteString("t.x " + body + "\n")
	}
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := readEvents(iotestOneByteThenRest(bytes.NewReader(in)), w); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want.Bytes()) {
		t.Errorf("output differs: %d bytes, want %d", out.Len(), want.Len())
	}
}

// iotestOneByteThenRest returns reads of alternating sizes 1 and 5000.
func iotestOneByteThenRest(r io.Reader) io.Reader { return &alternating{r: r} }

type alternating struct {
	r io.Reader
	i int
}

func (a *alternating) Read(p []byte) (int, error) {
	a.i++
	n := 5000
	if a.i%2 == 1 {
		n = 1
	}
	if len(p) > n {
		p = p[:n]
	}
	return a.r.Read(p)
}
