package main

// End-to-end tests: the real binary, built once in TestMain, run as a
// daemon and as clients in subprocesses.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"busd/codec"
)

var (
	busdBin  string // path of the built binary
	buildErr error  // why it could not be built
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "busd-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	busdBin = filepath.Join(dir, "busd")
	args := []string{"build", "-o", busdBin}
	if raceEnabled {
		args = append(args, "-race") // the daemon gets the race detector too
	}
	cmd := exec.Command("go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a subprocess writer and a test
// reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running busd subprocess.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error // from Wait, valid after done is closed
}

// cleanEnv is the test process's environment without anything busd reads,
// plus HOME set to a temp dir and extra.
func cleanEnv(t *testing.T, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BUSD_") || strings.HasPrefix(kv, socketEnv+"=") ||
			strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+shortTempDir(t))
	return append(env, extra...)
}

// start runs the binary with args; the process is killed at cleanup.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return startCmd(t, exec.Command(busdBin, args...), env)
}

// startCmd runs cmd with env; the process is killed at cleanup.
func startCmd(t *testing.T, cmd *exec.Cmd, env []string) *proc {
	t.Helper()
	args := cmd.Args[1:]
	p := &proc{
		cmd:    cmd,
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd.Env = env
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("busd %v stderr:\n%s", args, p.stderr.String())
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("busd %v did not exit within %v; stderr:\n%s", p.cmd.Args[1:], timeout, p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("wait: %v", p.err)
	}
	return 0
}

func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// waitSocket waits until a client can connect to path, failing early when
// the daemon exits.
func waitSocket(t *testing.T, p *proc, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		// gnet's own listener answers before the daemon takes the path
		// over (engine/accept.go) and sets its mode: a daemon that logs at
		// info level is ready once it says so.
		logsInfo := strings.Contains(p.stderr.String(), `msg="busd starting"`)
		ready := !logsInfo || strings.Contains(p.stderr.String(), `msg="busd ready"`)
		if c, err := net.Dial("unix", path); err == nil && ready {
			c.Close()
			return
		} else if err == nil {
			c.Close()
		}
		select {
		case <-p.done:
			t.Fatalf("busd exited (%v) before serving %s; stderr:\n%s", p.err, path, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s: no daemon answered within 10s; stderr:\n%s", path, p.stderr.String())
}

// rawClient is a minimal protocol client for the tests.
type rawClient struct {
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, path, name string, patterns ...string) *rawClient {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	out := codec.AppendFrame(nil, codec.VerbHELLO, name, nil)
	for _, p := range patterns {
		out = codec.AppendFrame(out, codec.VerbSUB, p, nil)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	return &rawClient{c: c, r: bufio.NewReader(c)}
}

// next reads the next frame within timeout.
func (rc *rawClient) next(t *testing.T, timeout time.Duration) codec.Frame {
	t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(timeout))
	f, ok := readFrame(t, rc.r)
	if !ok {
		t.Fatal("no frame")
	}
	return f
}

func TestE2EServeHeartbeatShutdown(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, "bus.sock")
	d := start(t, cleanEnv(t), "--socket", path, "--heartbeat", "1", "--log-level", "debug")
	waitSocket(t, d, path)

	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want a socket with 0660", fi.Mode())
	}

	rc := dialRaw(t, path, "e2e-health", "system.bus.health")
	f := rc.next(t, 5*time.Second)
	if f.Verb != codec.VerbEVT || string(f.Args) != "system.bus.health" {
		t.Fatalf("got %v %q, want EVT system.bus.health", f.Verb, f.Args)
	}
	var env struct {
		V       int     `json:"v"`
		ID      string  `json:"id"`
		Topic   string  `json:"topic"`
		Type    string  `json:"type"`
		TS      float64 `json:"ts"`
		Payload struct {
			PID       *int     `json:"pid"`
			UptimeSec *float64 `json:"uptime_sec"`
			TS        *float64 `json:"ts"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(f.Body, &env); err != nil {
		t.Fatalf("health body %q: %v", f.Body, err)
	}
	if env.V != 1 || env.Type != "bus.health" || env.Topic != "system.bus.health" || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(env.ID) {
		t.Errorf("envelope %s", f.Body)
	}
	p := env.Payload
	if p.PID == nil || *p.PID != d.cmd.Process.Pid || p.UptimeSec == nil || *p.UptimeSec < 0 || p.TS == nil {
		t.Errorf("payload %s (daemon pid %d)", f.Body, d.cmd.Process.Pid)
	}
	if now := float64(time.Now().UnixNano()) / 1e9; p.TS != nil && (*p.TS < now-60 || *p.TS > now+60) {
		t.Errorf("payload ts %v is not close to now %v", *p.TS, now)
	}

	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0", code)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file still there after shutdown (lstat err %v)", err)
	}
	// The client saw its connection closed.
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := rc.r.ReadByte(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Error("client connection still open after shutdown")
			}
			break
		}
	}
	if s := d.stderr.String(); !strings.Contains(s, "busd starting") || !strings.Contains(s, "socket="+path) {
		t.Errorf("no startup line in stderr:\n%s", s)
	}
}

func TestE2ESIGINT(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "bus.sock")
	d := start(t, cleanEnv(t), "--socket", path, "--log-format", "json")
	waitSocket(t, d, path)
	d.signal(t, syscall.SIGINT)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code after SIGINT: %d, want 0", code)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file still there after shutdown (lstat err %v)", err)
	}
	// Every log line is JSON.
	for _, line := range strings.Split(strings.TrimSpace(d.stderr.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not a JSON log line: %q", line)
		}
	}
}

func TestE2EAlreadyRunning(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "bus.sock")
	first := start(t, cleanEnv(t), "--socket", path)
	waitSocket(t, first, path)

	second := start(t, cleanEnv(t), "--socket", path)
	if code := second.wait(t, 10*time.Second); code == 0 {
		t.Errorf("second daemon exited 0")
	}
	if s := second.stderr.String(); !strings.Contains(s, "already") || !strings.Contains(s, path) {
		t.Errorf("second daemon's stderr does not say it is already running on %s:\n%s", path, s)
	}

	// The first one is unharmed.
	select {
	case <-first.done:
		t.Fatalf("first daemon exited: %v", first.err)
	default:
	}
	if c, err := net.Dial("unix", path); err != nil {
		t.Errorf("first daemon no longer answers: %v", err)
	} else {
		c.Close()
	}
	first.signal(t, syscall.SIGTERM)
	if code := first.wait(t, 10*time.Second); code != 0 {
		t.Errorf("first daemon exit code %d", code)
	}
}

func TestE2EEnvSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "env.sock")
	d := start(t, cleanEnv(t, socketEnv+"="+path))
	waitSocket(t, d, path)

	// A client finds it through the same variable.
	pub := start(t, cleanEnv(t, socketEnv+"="+path), "pub", "a.b", `{"x":1}`)
	if code := pub.wait(t, 10*time.Second); code != 0 {
		t.Errorf("pub via %s: exit %d, stderr %s", socketEnv, code, pub.stderr.String())
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestE2EMissingParent(t *testing.T) {
	missing := filepath.Join(shortTempDir(t), "nope")
	path := filepath.Join(missing, "bus.sock")
	d := start(t, cleanEnv(t), "--socket", path)
	if code := d.wait(t, 10*time.Second); code == 0 {
		t.Error("exit 0 with a missing parent directory")
	}
	if s := d.stderr.String(); !strings.Contains(s, missing) || !strings.Contains(s, "does not exist") {
		t.Errorf("stderr does not name the missing directory %s:\n%s", missing, s)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing directory was created (stat err %v)", err)
	}
}

func TestE2EPubSub(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "bus.sock")
	d := start(t, cleanEnv(t), "--socket", path)
	waitSocket(t, d, path)

	sub := start(t, cleanEnv(t), "sub", "--socket", path, "decky.*.state", "nomatch.>")
	body := `{"v":1,"id":"0123456789abcdef0123456789abcdef","topic":"decky.d1.state","type":"state","ts":1764190000.5,"payload":{"state":"running"}}`
	want := regexp.MustCompile(`^\[#\d+\] decky\.d1\.state ` + regexp.QuoteMeta(body) + `$`)

	// A non-matching event first: it must never be printed.
	other := start(t, cleanEnv(t), "pub", "--socket", path, "decky.d1.traffic", `{"n":1}`)
	if code := other.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("pub: exit %d, stderr %s", code, other.stderr.String())
	}
	waitPrinted(t, sub, path, "decky.d1.state", body)
	for _, line := range strings.Split(strings.TrimSuffix(sub.stdout.String(), "\n"), "\n") {
		if !want.MatchString(line) {
			t.Errorf("unexpected line from sub: %q", line)
		}
	}

	sub.signal(t, syscall.SIGINT)
	if code := sub.wait(t, 10*time.Second); code != 0 {
		t.Errorf("sub exit code after SIGINT: %d; stderr %s", code, sub.stderr.String())
	}

	// With --no-reconnect, a subscriber whose daemon goes away exits 1
	// with one line saying so.
	sub2 := start(t, cleanEnv(t), "sub", "--no-reconnect", "--socket", path, ">")
	waitPrinted(t, sub2, path, "ping.x", `{"ping":1}`)
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("daemon exit code %d", code)
	}
	if code := sub2.wait(t, 10*time.Second); code != 1 || !strings.Contains(sub2.stderr.String(), "lost the connection to "+path) {
		t.Errorf("sub exit code after the daemon stopped: %d; stderr %s", code, sub2.stderr.String())
	}
}

func TestE2ESubReconnects(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "bus.sock")
	d := start(t, cleanEnv(t), "--socket", path)
	waitSocket(t, d, path)
	sub := start(t, cleanEnv(t), "sub", "--socket", path, "r.>")
	waitPrinted(t, sub, path, "r.1", `{"n":1}`)

	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("daemon exit code %d", code)
	}
	d2 := start(t, cleanEnv(t), "--socket", path)
	waitSocket(t, d2, path)
	// The same subscriber process prints events from the new daemon.
	waitPrinted(t, sub, path, "r.2", `{"n":2}`)
	if s := sub.stderr.String(); !strings.Contains(s, "reconnecting") || !strings.Contains(s, "restored") {
		t.Errorf("sub stderr %q does not report the reconnection", s)
	}
	sub.signal(t, syscall.SIGTERM)
	if code := sub.wait(t, 10*time.Second); code != 0 {
		t.Errorf("sub exit code %d", code)
	}
	d2.signal(t, syscall.SIGTERM)
	d2.wait(t, 10*time.Second)
}

// waitPrinted publishes topic/body with "busd pub" until the subscriber sub
// prints it. The subscription races the first publish (the subscriber
// process may not have sent SUB yet), and delivery is at-most-once, so the
// event is sent again until it shows up.
func waitPrinted(t *testing.T, sub *proc, path, topic, body string) {
	t.Helper()
	want := topic + " " + body + "\n"
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(sub.stdout.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("sub printed %q, want %q; sub stderr %s", sub.stdout.String(), want, sub.stderr.String())
		}
		select {
		case <-sub.done:
			t.Fatalf("sub exited early: %v; stderr %s", sub.err, sub.stderr.String())
		default:
		}
		pub := start(t, cleanEnv(t), "pub", "--raw", "--socket", path, topic, body)
		if code := pub.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("pub: exit %d, stderr %s", code, pub.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestE2ESdNotify(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, "bus.sock")
	notifyPath := filepath.Join(dir, "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	msgs := make(chan string, 10)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := nc.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("no sd_notify message")
			return ""
		}
	}

	d := start(t, cleanEnv(t, "NOTIFY_SOCKET="+notifyPath), "--socket", path)
	ready := next()
	if !strings.Contains(ready, "READY=1") || !strings.Contains(ready, "STATUS=") {
		t.Errorf("first notification %q, want READY=1 with STATUS=", ready)
	}
	// READY=1 means clients can connect now.
	if c, err := net.Dial("unix", path); err != nil {
		t.Errorf("connect right after READY=1: %v", err)
	} else {
		c.Close()
	}
	d.signal(t, syscall.SIGTERM)
	if stopping := next(); !strings.Contains(stopping, "STOPPING=1") {
		t.Errorf("notification on shutdown %q, want STOPPING=1", stopping)
	}
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestE2ELowFileLimit(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to lower the limit with")
	}
	path := filepath.Join(shortTempDir(t), "bus.sock")
	// Hard and soft limit 200: max-conns 4096 must drop to 200-64.
	d := startCmd(t, exec.Command(sh, "-c", `ulimit -n 200 && exec "$0" "$@"`, busdBin, "--socket", path, "--max-conns", "4096"), cleanEnv(t))
	waitSocket(t, d, path)
	if s := d.stderr.String(); !strings.Contains(s, "effective_max_conns=136") || !strings.Contains(s, "max_conns=136") {
		t.Errorf("no lowered max-conns in the log:\n%s", s)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// The daemon relies on the Go runtime to raise the soft open-files limit
// at start-up (openFilesLimit only reads it): started with a low soft limit
// under a higher hard one, it reports the hard limit less one.
func TestE2ERuntimeRaisesFileLimit(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to lower the soft limit with")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	nrOpen, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		t.Skipf("cannot read fs.nr_open: %v", err)
	}
	if max, _ := strconv.ParseUint(strings.TrimSpace(string(nrOpen)), 10, 64); lim.Max > max || lim.Max < 300 {
		t.Skipf("hard limit %d: the runtime cannot raise to it (fs.nr_open %d) or it is too low to tell", lim.Max, max)
	}
	path := filepath.Join(shortTempDir(t), "bus.sock")
	d := startCmd(t, exec.Command(sh, "-c", `ulimit -S -n 200 && exec "$0" "$@"`, busdBin, "--socket", path), cleanEnv(t))
	waitSocket(t, d, path)
	if want := fmt.Sprintf("nofile=%d", lim.Max-1); !strings.Contains(d.stderr.String(), want) {
		t.Errorf("log does not report %s (soft limit 200, hard %d):\n%s", want, lim.Max, d.stderr.String())
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// A daemon configured by a file alone: its socket and settings come from
// BUSD_CONFIG's file.
func TestE2EConfigFile(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, "cfg.sock")
	config := filepath.Join(dir, "busd.toml")
	text := fmt.Sprintf("socket = %q\nlog-format = \"json\"\nmax-conns = 77\n", path)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, cleanEnv(t, "BUSD_CONFIG="+config))
	waitSocket(t, d, path)
	if s := d.stderr.String(); !strings.Contains(s, `"max_conns":77`) {
		t.Errorf("settings from the file not in the start-up log:\n%s", s)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
