package main

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"busd/admin"
)

func TestServeAdminFlags(t *testing.T) {
	o, err := parseServe(nil, mapEnv(nil), io.Discard)
	if err != nil || o.adminSocket.set || o.adminMode != 0o600 {
		t.Fatalf("defaults: %+v %v %v", o.adminSocket, o.adminMode, err)
	}
	// On by default, beside the bus socket.
	if path, explicit := o.adminSocket.resolve("/r/bus.sock"); path != "/r/bus.sock.admin" || explicit {
		t.Errorf("default admin socket %q (explicit %v), want /r/bus.sock.admin", path, explicit)
	}
	o, err = parseServe(nil, mapEnv(map[string]string{"BUSD_ADMIN_SOCKET": "/a/admin.sock", "BUSD_ADMIN_MODE": "660"}), io.Discard)
	if err != nil || o.adminSocket.path != "/a/admin.sock" || o.adminMode != 0o660 {
		t.Fatalf("env: %+v %v %v", o.adminSocket, o.adminMode, err)
	}
	o, err = parseServe([]string{"--admin-socket", "/b", "--admin-mode", "0o640"}, mapEnv(map[string]string{"BUSD_ADMIN_SOCKET": "/a", "BUSD_ADMIN_MODE": "bad"}), io.Discard)
	if err != nil || o.adminSocket.path != "/b" || o.adminMode != 0o640 {
		t.Fatalf("flags over env: %+v %v %v", o.adminSocket, o.adminMode, err)
	}
	if path, explicit := o.adminSocket.resolve("/r/bus.sock"); path != "/b" || !explicit {
		t.Errorf("configured admin socket %q (explicit %v)", path, explicit)
	}

	// Off: an empty flag, or "off" from a flag, the variable or the file.
	// An empty variable counts as unset: the default.
	offFile := writeConfig(t, "admin-socket = \"\"\n")
	for _, tc := range []struct {
		args []string
		env  map[string]string
		off  bool
	}{
		{[]string{"--admin-socket", ""}, nil, true},
		{[]string{"--admin-socket=off"}, map[string]string{"BUSD_ADMIN_SOCKET": "/a"}, true},
		{nil, map[string]string{"BUSD_ADMIN_SOCKET": "off"}, true},
		{[]string{"--config", offFile}, nil, true},
		{nil, map[string]string{"BUSD_ADMIN_SOCKET": ""}, false},
		{[]string{"--admin-socket", "./off"}, nil, false},
	} {
		o, err := parseServe(tc.args, mapEnv(tc.env), io.Discard)
		if err != nil {
			t.Fatalf("%q %v: %v", tc.args, tc.env, err)
		}
		if path, _ := o.adminSocket.resolve("/r/bus.sock"); (path == "") != tc.off {
			t.Errorf("%q %v: admin socket %q, want off %v", tc.args, tc.env, path, tc.off)
		}
	}
	if o.adminMode.String() != "0640" {
		t.Errorf("String = %q", o.adminMode.String())
	}
	for _, bad := range []string{"9", "0", "1000", "rw", "-1"} {
		code, _, stderr := runCmd(t, nil, "--admin-mode", bad)
		if code != 2 || !strings.Contains(stderr, "--admin-mode") {
			t.Errorf("--admin-mode %s: exit %d, stderr %q", bad, code, stderr)
		}
	}
	code, stdout, _ := runCmd(t, nil, "serve", "-h")
	if code != 0 || !strings.Contains(stdout, "--admin-socket") || !strings.Contains(stdout, "BUSD_ADMIN_MODE") || !strings.Contains(stdout, "default 0600") ||
		!strings.Contains(stdout, "default <socket>.admin") {
		t.Errorf("help: %s", stdout)
	}
}

func TestWatchdog(t *testing.T) {
	env := func(m map[string]string) func(string) string { return mapEnv(m) }
	if _, ok := watchdogInterval(env(nil)); ok {
		t.Error("enabled without WATCHDOG_USEC")
	}
	for _, v := range []string{"0", "-5", "x"} {
		if _, ok := watchdogInterval(env(map[string]string{"WATCHDOG_USEC": v})); ok {
			t.Errorf("enabled with WATCHDOG_USEC=%s", v)
		}
	}
	if d, ok := watchdogInterval(env(map[string]string{"WATCHDOG_USEC": "2000000"})); !ok || d != 2*time.Second {
		t.Errorf("got %v %v", d, ok)
	}
	pid := map[string]string{"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}
	if _, ok := watchdogInterval(env(pid)); ok && os.Getpid() != 1 {
		t.Error("enabled for another process's WATCHDOG_PID")
	}
	pid["WATCHDOG_PID"] = itoa(os.Getpid())
	if _, ok := watchdogInterval(env(pid)); !ok {
		t.Error("disabled for this process's WATCHDOG_PID")
	}

	// At most one ping per period, whatever the tick rate.
	now := time.Unix(1000, 0)
	pings := 0
	tick := newWatchdog(time.Second, func() time.Time { return now }, func() { pings++ })
	for range 25 { // 2.5s of 100ms ticks
		tick()
		now = now.Add(100 * time.Millisecond)
	}
	if pings != 3 { // at 0s, 1s, 2s
		t.Errorf("%d pings in 2.5s with a 1s period, want 3", pings)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// notifySocket listens for sd_notify datagrams.
func notifySocket(t *testing.T, dir string) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(dir, "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := nc.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			select {
			case msgs <- string(buf[:n]):
			default:
			}
		}
	}()
	return path, msgs
}

func TestE2EWatchdog(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, "bus.sock")
	notifyPath, msgs := notifySocket(t, dir)
	// 400ms: a ping every 200ms from the engine's ticker.
	d := start(t, cleanEnv(t, "NOTIFY_SOCKET="+notifyPath, "WATCHDOG_USEC=400000"), "--socket", path)
	var pings []time.Time
	deadline := time.After(10 * time.Second)
	for len(pings) < 4 {
		select {
		case m := <-msgs:
			if m == "WATCHDOG=1" {
				pings = append(pings, time.Now())
			}
		case <-deadline:
			t.Fatalf("%d watchdog pings in 10s; stderr:\n%s", len(pings), d.stderr.String())
		}
	}
	for i := 1; i < len(pings); i++ {
		switch gap := pings[i].Sub(pings[i-1]); {
		case gap < 150*time.Millisecond:
			t.Errorf("pings %v apart: more often than WATCHDOG_USEC/2", gap)
		case gap >= 400*time.Millisecond:
			t.Errorf("pings %v apart: systemd would have restarted the daemon", gap)
		}
	}
	if !strings.Contains(d.stderr.String(), "watchdog") {
		t.Errorf("no watchdog line in the log:\n%s", d.stderr.String())
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestE2EAdminSocketAndStats(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, "bus.sock")
	adminPath := filepath.Join(dir, "admin.sock")
	d := start(t, cleanEnv(t, "BUSD_ADMIN_SOCKET="+adminPath), "--socket", path)
	waitSocket(t, d, path)
	waitSocket(t, d, adminPath)
	if fi, err := os.Lstat(adminPath); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("admin socket %v, %v", fi.Mode(), err)
	}

	// A subscriber to show up in the table.
	sub := start(t, cleanEnv(t), "sub", "--socket", path, "--name", "watcher", "decky.>", "system.*.health")
	waitPrinted(t, sub, path, "decky.d1.state", `{"v":1}`)

	code, stdout, stderr := runCmd(t, map[string]string{"BUSD_ADMIN_SOCKET": adminPath}, "stats")
	if code != 0 {
		t.Fatalf("stats: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"connections", "published", "dropped", "match cache", "ID", "NAME", "PATTERNS", "SINCE", "watcher", "decky.>,system.*.health"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stats output lacks %q:\n%s", want, stdout)
		}
	}

	code, stdout, stderr = runCmd(t, nil, "stats", "--json", "--admin-socket", adminPath)
	if code != 0 {
		t.Fatalf("stats --json: exit %d, stderr %q", code, stderr)
	}
	var doc struct {
		Stats struct {
			Published   uint64 `json:"published"`
			Connections int    `json:"connections"`
		} `json:"stats"`
		Subscriptions struct {
			Pairs int `json:"pairs"`
		} `json:"subscriptions"`
		Connections []struct {
			Name     string   `json:"name"`
			PID      int      `json:"pid"`
			Patterns []string `json:"patterns"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stats --json: %v\n%s", err, stdout)
	}
	if doc.Stats.Published < 1 || doc.Stats.Connections < 1 || doc.Subscriptions.Pairs != 2 {
		t.Errorf("stats --json: %+v", doc)
	}
	found := false
	for _, c := range doc.Connections {
		if c.Name == "watcher" && c.PID == sub.cmd.Process.Pid && len(c.Patterns) == 2 {
			found = true
		}
	}
	if !found {
		t.Errorf("no watcher connection with its pid in %+v", doc.Connections)
	}

	// A second daemon on another bus socket but the same admin socket
	// refuses to start and leaves the first one's admin socket alone.
	second := start(t, cleanEnv(t), "--socket", filepath.Join(dir, "bus2.sock"), "--admin-socket", adminPath)
	if code := second.wait(t, 10*time.Second); code != 1 || !strings.Contains(second.stderr.String(), "admin socket") {
		t.Errorf("second daemon: exit %d, stderr %s", code, second.stderr.String())
	}
	if code, _, _ := runCmd(t, nil, "stats", "--admin-socket", adminPath); code != 0 {
		t.Errorf("first daemon's admin socket broken by the second: exit %d", code)
	}

	sub.signal(t, syscall.SIGTERM)
	sub.wait(t, 10*time.Second)
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if _, err := os.Lstat(adminPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("admin socket left after shutdown: %v", err)
	}

	// No daemon: one clear line, exit 1.
	code, _, stderr = runCmd(t, nil, "stats", "--admin-socket", adminPath)
	if code != 1 || !strings.Contains(stderr, "cannot connect to "+adminPath) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stats without a daemon: exit %d, stderr %q", code, stderr)
	}
}

// Without any setting the daemon serves its admin socket at
// <socket>.admin, mode 0600, and "busd stats" finds it from the bus
// socket alone.
func TestE2EAdminSocketByDefault(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, "bus.sock")
	adminPath := path + ".admin"
	d := start(t, cleanEnv(t), "--socket", path)
	waitSocket(t, d, path)
	waitSocket(t, d, adminPath)
	if fi, err := os.Lstat(adminPath); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("default admin socket %v, %v", fi.Mode(), err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"stats"}, map[string]string{"DECNET_BUS_SOCKET": path}},
		{[]string{"stats", "--socket", path}, nil},
		{[]string{"stats", "--json", "--socket", path}, map[string]string{"DECNET_BUS_SOCKET": "/nonexistent/bus.sock"}},
	} {
		code, stdout, stderr := runCmd(t, tc.env, tc.args...)
		if code != 0 || !strings.Contains(stdout, "connections") {
			t.Errorf("%v %v: exit %d, stdout %q, stderr %q", tc.args, tc.env, code, stdout, stderr)
		}
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if _, err := os.Lstat(adminPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("admin socket left after shutdown: %v", err)
	}
	// No daemon: stats says where it looked.
	code, _, stderr := runCmd(t, map[string]string{"DECNET_BUS_SOCKET": path}, "stats")
	if code != 1 || !strings.Contains(stderr, "cannot connect to "+adminPath) {
		t.Errorf("stats without a daemon: exit %d, stderr %q", code, stderr)
	}
}

func TestE2EAdminSocketOff(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  []string
	}{
		{[]string{"--admin-socket", ""}, nil},
		{nil, []string{"BUSD_ADMIN_SOCKET=off"}},
	} {
		dir := shortTempDir(t)
		path := filepath.Join(dir, "bus.sock")
		d := start(t, cleanEnv(t, tc.env...), append([]string{"--socket", path}, tc.args...)...)
		waitSocket(t, d, path)
		waitLog(t, d, "busd ready")
		if ents, _ := os.ReadDir(dir); len(ents) != 2 { // bus.sock, bus.sock.lock
			t.Errorf("%v %v: files beside the bus socket: %v", tc.args, tc.env, ents)
		}
		if !strings.Contains(d.stderr.String(), "admin socket off") {
			t.Errorf("%v %v: the log does not say the admin socket is off:\n%s", tc.args, tc.env, d.stderr.String())
		}
		d.signal(t, syscall.SIGTERM)
		if code := d.wait(t, 10*time.Second); code != 0 {
			t.Errorf("exit code %d", code)
		}
	}
}

// The default admin socket is a convenience: when it cannot be created the
// bus serves on with a warning. A configured one that fails stops the
// daemon with exit 1.
func TestE2EAdminSocketFailure(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, "bus.sock")
	// Something that is not a socket where the default admin socket goes.
	if err := os.WriteFile(path+".admin", []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, cleanEnv(t), "--socket", path)
	waitSocket(t, d, path)
	waitLog(t, d, "busd ready")
	if s := d.stderr.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "default admin socket not served") {
		t.Errorf("no warning about the default admin socket:\n%s", s)
	}
	pub := start(t, cleanEnv(t), "pub", "--socket", path, "a.b")
	if code := pub.wait(t, 10*time.Second); code != 0 {
		t.Errorf("the bus does not serve without its admin socket: pub exit %d, %s", code, pub.stderr.String())
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}

	// The same path, configured: exit 1, and the bus socket is gone again.
	d = start(t, cleanEnv(t), "--socket", path, "--admin-socket", path+".admin")
	if code := d.wait(t, 10*time.Second); code != 1 || !strings.Contains(d.stderr.String(), "not a socket") {
		t.Errorf("configured admin socket over a file: exit %d, stderr:\n%s", code, d.stderr.String())
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("bus socket left behind: %v", err)
	}
	if b, _ := os.ReadFile(path + ".admin"); string(b) != "keep" {
		t.Errorf("the file at the admin path was touched: %q", b)
	}
}

// waitLog waits until the daemon's log contains s.
func waitLog(t *testing.T, d *proc, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within 10s:\n%s", s, d.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The stats table shows what the limits refused and closed.
func TestStatsShowsLimits(t *testing.T) {
	var b strings.Builder
	printStats(&b, "/a", admin.Statsz{SubsRefusedConnLimit: 3, SubsRefusedTotalLimit: 4, PendingBytes: 2048, PendingCloses: 5, FrameTimeouts: 6}, admin.Subsz{}, nil)
	want := "7 SUBs refused  (3 per connection, 4 in total; 2.0 KiB in unfinished frames, 5 closed over budget, 6 frame timeouts)"
	if !strings.Contains(b.String(), want) {
		t.Errorf("stats output lacks %q:\n%s", want, b.String())
	}
}
