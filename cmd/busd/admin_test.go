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
)

func TestServeAdminFlags(t *testing.T) {
	o, err := parseServe(nil, mapEnv(nil), io.Discard)
	if err != nil || o.adminSocket != "" || o.adminMode != 0o600 {
		t.Fatalf("defaults: %q %v %v", o.adminSocket, o.adminMode, err)
	}
	o, err = parseServe(nil, mapEnv(map[string]string{"BUSD_ADMIN_SOCKET": "/a/admin.sock", "BUSD_ADMIN_MODE": "660"}), io.Discard)
	if err != nil || o.adminSocket != "/a/admin.sock" || o.adminMode != 0o660 {
		t.Fatalf("env: %q %v %v", o.adminSocket, o.adminMode, err)
	}
	o, err = parseServe([]string{"--admin-socket", "/b", "--admin-mode", "0o640"}, mapEnv(map[string]string{"BUSD_ADMIN_SOCKET": "/a", "BUSD_ADMIN_MODE": "bad"}), io.Discard)
	if err != nil || o.adminSocket != "/b" || o.adminMode != 0o640 {
		t.Fatalf("flags over env: %q %v %v", o.adminSocket, o.adminMode, err)
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
	if code != 0 || !strings.Contains(stdout, "--admin-socket") || !strings.Contains(stdout, "BUSD_ADMIN_MODE") || !strings.Contains(stdout, "default 0600") {
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
		if gap := pings[i].Sub(pings[i-1]); gap < 150*time.Millisecond {
			t.Errorf("pings %v apart: more often than WATCHDOG_USEC/2", gap)
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
