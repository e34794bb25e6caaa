package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"busd/client"
	"busd/engine"
	"busd/engine/sockfile"
)

func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ba") // short: socket paths max out at 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startDaemon runs a real daemon in dir until the test ends.
func startDaemon(t *testing.T, dir string) (*engine.Server, string) {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.Socket = filepath.Join(dir, "bus.sock")
	cfg.Heartbeat = 0
	cfg.Group = ""
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-runErr:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon not ready")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-runErr
	})
	return srv, cfg.Socket
}

// startAdmin serves src's admin socket in dir until the test ends.
func startAdmin(t *testing.T, src Source, dir string) *Server {
	t.Helper()
	a, err := Listen(src, Options{Path: filepath.Join(dir, "admin.sock"), Version: "v-test"})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return a
}

// unixHTTP is an HTTP client for a UNIX socket.
func unixHTTP(path string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}
}

func get(t *testing.T, path, url string) (string, string) {
	t.Helper()
	hc := unixHTTP(path)
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://busd" + url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), resp.Header.Get("Content-Type")
}

// sample is one metric line.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$`)

// parseMetrics checks the Prometheus text format line by line and returns
// the samples by name (with labels) and the declared types.
func parseMetrics(t *testing.T, text string) (map[string]float64, map[string]string) {
	t.Helper()
	samples := map[string]float64{}
	types := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "# HELP "):
			continue
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)
			if len(f) != 4 {
				t.Fatalf("bad TYPE line %q", line)
			}
			switch f[3] {
			case "counter", "gauge", "histogram", "summary", "untyped":
			default:
				t.Fatalf("bad type in %q", line)
			}
			if _, dup := types[f[2]]; dup {
				t.Errorf("TYPE of %s declared twice", f[2])
			}
			types[f[2]] = f[3]
		case strings.HasPrefix(line, "#"):
			t.Fatalf("unexpected comment %q", line)
		default:
			m := sampleLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("not a sample line: %q", line)
			}
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				t.Fatalf("bad value in %q", line)
			}
			samples[m[1]+m[2]] = v
		}
	}
	return samples, types
}

func TestEndpoints(t *testing.T) {
	dir := tempDir(t)
	srv, bus := startDaemon(t, dir)
	a := startAdmin(t, srv, dir)

	fi, err := os.Lstat(a.Path())
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("admin socket: %v, %v", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 { // bus.sock, admin.sock and their .lock files
		t.Errorf("left-overs in the directory: %v", entries)
	}

	text, ctype := get(t, a.Path(), "/metrics")
	if !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("content type %q", ctype)
	}
	before, types := parseMetrics(t, text)
	for name, typ := range map[string]string{
		"busd_connections": "gauge", "busd_connections_accepted_total": "counter", "busd_connections_rejected_total": "counter",
		"busd_frames_in_total": "counter", "busd_bytes_in_total": "counter", "busd_published_total": "counter",
		"busd_events_out_total": "counter", "busd_bytes_out_total": "counter", "busd_dropped_total": "counter",
		"busd_protocol_errors_total": "counter", "busd_heartbeats_total": "counter", "busd_drop_notices_total": "counter", "busd_subscriptions": "gauge",
		"busd_queued_events": "gauge", "busd_match_cache_hits_total": "counter", "busd_match_cache_misses_total": "counter",
		"busd_match_cache_hit_ratio": "gauge", "busd_pending_bytes": "gauge", "busd_pending_closes_total": "counter",
		"busd_frame_timeouts_total": "counter", "busd_memory_releases_total": "counter",
	} {
		if types[name] != typ {
			t.Errorf("%s: type %q, want %q", name, types[name], typ)
		}
		if _, ok := before[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if types["busd_subscriptions_refused_total"] != "counter" {
		t.Errorf("busd_subscriptions_refused_total: type %q, want counter", types["busd_subscriptions_refused_total"])
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", `busd_build_info{version="v-test"}`,
		`busd_subscriptions_refused_total{reason="conn_limit"}`, `busd_subscriptions_refused_total{reason="total_limit"}`} {
		if _, ok := before[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}

	// Traffic.
	ctx := context.Background()
	quiet := client.WithLogger(slog.New(slog.DiscardHandler))
	sub, err := client.Dial(ctx, bus, client.WithName("watcher"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	s, _ := sub.Subscribe("a.>")
	sub.Subscribe("b.*")
	pub, err := client.Dial(ctx, bus, client.WithName("writer"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Subscribe("a.>")
	deadline := time.Now().Add(10 * time.Second)
	for srv.Stats().Subscriptions < 3 {
		if time.Now().After(deadline) {
			t.Fatal("subscriptions never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 5 {
		if err := pub.Publish(ctx, "a.x", map[string]int{"n": 1}, "t"); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if _, err := s.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Counters are added by the event loop right after its write, so a
	// scrape may briefly trail what a subscriber has already read.
	for deadline := time.Now().Add(5 * time.Second); srv.Stats().EventsOut < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	after, _ := parseMetrics(t, mustGet(t, a.Path(), "/metrics"))
	for name, min := range map[string]float64{
		"busd_connections": 2, "busd_connections_accepted_total": 2, "busd_published_total": 5,
		"busd_events_out_total": 5, "busd_subscriptions": 3, "busd_subscription_patterns": 2,
	} {
		if after[name] < min {
			t.Errorf("%s = %v after traffic, want at least %v", name, after[name], min)
		}
	}
	for _, name := range []string{"busd_frames_in_total", "busd_bytes_in_total", "busd_bytes_out_total"} {
		if after[name] <= before[name] {
			t.Errorf("%s did not move: %v -> %v", name, before[name], after[name])
		}
	}
	if hits, misses := after["busd_match_cache_hits_total"], after["busd_match_cache_misses_total"]; hits+misses < 5 || after["busd_match_cache_hit_ratio"] != hits/(hits+misses) {
		t.Errorf("cache: hits %v misses %v ratio %v", hits, misses, after["busd_match_cache_hit_ratio"])
	}

	var statsz Statsz
	decode(t, a.Path(), "/statsz", &statsz)
	if statsz.Connections != 2 || statsz.Published < 5 || statsz.Subscriptions != 3 {
		t.Errorf("statsz %+v", statsz)
	}

	var connz Connz
	decode(t, a.Path(), "/connz?pretty", &connz)
	if connz.NumConnections != 2 || len(connz.Connections) != 2 {
		t.Fatalf("connz %+v", connz)
	}
	w := connz.Connections[0]
	if w.Name != "watcher" || w.PID != int32(os.Getpid()) || w.UID != uint32(os.Getuid()) ||
		strings.Join(w.Patterns, ",") != "a.>,b.*" || w.Delivered != 5 || w.Since.IsZero() {
		t.Errorf("watcher %+v", w)
	}
	if connz.Connections[1].Name != "writer" {
		t.Errorf("writer %+v", connz.Connections[1])
	}

	var subsz Subsz
	decode(t, a.Path(), "/subsz", &subsz)
	if subsz.Patterns != 2 || subsz.Pairs != 3 || len(subsz.Subscribers) != 2 ||
		subsz.Subscribers[0] != (PatternCount{"a.>", 2}) || subsz.Subscribers[1] != (PatternCount{"b.*", 1}) {
		t.Errorf("subsz %+v", subsz)
	}
	if subsz.CacheHits+subsz.CacheMisses < 5 {
		t.Errorf("subsz cache %+v", subsz)
	}

	if body, _ := get(t, a.Path(), "/debug/pprof/"); !strings.Contains(body, "goroutine") {
		t.Errorf("pprof index: %.200s", body)
	}
	if body, _ := get(t, a.Path(), "/debug/pprof/goroutine?debug=1"); !strings.Contains(body, "goroutine profile") {
		t.Errorf("pprof goroutine: %.200s", body)
	}
	if body, _ := get(t, a.Path(), "/"); !strings.Contains(body, "/metrics") {
		t.Errorf("index: %q", body)
	}
}

func mustGet(t *testing.T, path, url string) string {
	t.Helper()
	b, _ := get(t, path, url)
	return b
}

func decode(t *testing.T, path, url string, v any) {
	t.Helper()
	b, ctype := get(t, path, url)
	if ctype != "application/json" {
		t.Errorf("%s: content type %q", url, ctype)
	}
	if err := json.Unmarshal([]byte(b), v); err != nil {
		t.Fatalf("%s: %v in %s", url, err, b)
	}
}

func TestEmptyDocuments(t *testing.T) {
	dir := tempDir(t)
	srv, _ := startDaemon(t, dir)
	a := startAdmin(t, srv, dir)
	if b := mustGet(t, a.Path(), "/connz"); !strings.Contains(b, `"connections":[]`) {
		t.Errorf("connz without clients: %s", b)
	}
	if b := mustGet(t, a.Path(), "/subsz"); !strings.Contains(b, `"subscribers":[]`) || !strings.Contains(b, `"cache_hit_ratio":0`) {
		t.Errorf("subsz without clients: %s", b)
	}
}

func TestSocketFileLifeCycle(t *testing.T) {
	dir := tempDir(t)
	srv, _ := startDaemon(t, dir)
	path := filepath.Join(dir, "admin.sock")

	// A stale socket is replaced.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	a, err := Listen(srv, Options{Path: path, Mode: 0o660})
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	go a.Serve()
	if fi, _ := os.Lstat(path); fi.Mode().Perm() != 0o660 {
		t.Errorf("mode %v, want 0660", fi.Mode())
	}
	mustGet(t, path, "/statsz")

	// A live one is refused and left alone.
	if _, err := Listen(srv, Options{Path: path}); !errors.Is(err, ErrInUse) {
		t.Errorf("over a live server: %v", err)
	}
	mustGet(t, path, "/statsz")

	// Shutdown removes the file.
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left after Shutdown: %v", err)
	}

	// A file that is not a socket is never removed.
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(srv, Options{Path: path}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("over a regular file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Error("the regular file was touched")
	}
	if _, err := Listen(srv, Options{Path: filepath.Join(dir, "missing", "admin.sock")}); err == nil {
		t.Error("missing directory accepted")
	}
	// Nothing but the sockets, their lock files and the regular file: no
	// private directory stays behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		switch e.Name() {
		case "bus.sock", "bus.sock.lock", "admin.sock", "admin.sock.lock":
		default:
			t.Errorf("left over in the directory: %s", e.Name())
		}
	}
}

func TestLongestPath(t *testing.T) {
	dir := tempDir(t)
	srv, _ := startDaemon(t, dir)
	// As long as a socket address allows.
	name := strings.Repeat("a", sockfile.MaxPathLen-len(dir)-1)
	path := filepath.Join(dir, name)
	a, err := Listen(srv, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve()
	defer a.Shutdown(context.Background())
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	mustGet(t, path, "/statsz")
}
