package bridge_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"busd/bridge"
	"busd/client"
	"busd/codec"
	"busd/engine"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// host is one machine of a test: a real in-process daemon on its own
// socket, which the test may stop and start again on the same path.
type host struct {
	t    *testing.T
	name string
	path string
	mu   sync.Mutex
	srv  *engine.Server
	done chan error
}

func newHost(t *testing.T, name string) *host {
	dir, err := os.MkdirTemp("", "br")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := &host{t: t, name: name, path: filepath.Join(dir, "bus.sock")}
	h.start()
	t.Cleanup(h.stop)
	return h
}

func (h *host) start() {
	h.t.Helper()
	cfg := engine.DefaultConfig()
	cfg.Socket = h.path
	cfg.Heartbeat = 0
	cfg.Group = ""
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := engine.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- srv.Run(func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		h.t.Fatalf("%s: daemon: %v", h.name, err)
	case <-time.After(10 * time.Second):
		h.t.Fatalf("%s: daemon not ready", h.name)
	}
	h.mu.Lock()
	h.srv, h.done = srv, done
	h.mu.Unlock()
}

func (h *host) stop() {
	h.mu.Lock()
	srv, done := h.srv, h.done
	h.srv = nil
	h.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	<-done
}

// waitConn waits until the daemon has a connection named name holding
// exactly patterns.
func (h *host) waitConn(name string, patterns ...string) {
	h.t.Helper()
	slices.Sort(patterns)
	waitFor(h.t, fmt.Sprintf("%s: connection %q with %q", h.name, name, patterns), 10*time.Second, func() bool {
		h.mu.Lock()
		srv := h.srv
		h.mu.Unlock()
		if srv == nil {
			return false
		}
		for _, c := range srv.Connections() {
			if c.Name == name && slices.Equal(c.Patterns, patterns) {
				return true
			}
		}
		return false
	})
}

// dial connects a client to the host's daemon.
func (h *host) dial(name string) *client.Client {
	h.t.Helper()
	c, err := client.Dial(context.Background(), h.path, client.WithName(name),
		client.WithQueueSize(1<<16), client.WithReconnect(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// rawPublisher is a deployed client as it is: frames written on the
// socket by hand.
type rawPublisher struct{ conn net.Conn }

func (h *host) rawPublisher() *rawPublisher {
	h.t.Helper()
	conn, err := net.Dial("unix", h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write(codec.AppendFrame(nil, codec.VerbHELLO, "deployed-client", nil)); err != nil {
		h.t.Fatal(err)
	}
	return &rawPublisher{conn}
}

func (p *rawPublisher) publish(t *testing.T, topic string, body []byte) {
	t.Helper()
	if _, err := p.conn.Write(codec.AppendFrame(nil, codec.VerbPUB, topic, body)); err != nil {
		t.Fatal(err)
	}
}

// runBridge starts a bridge for h and returns it once its NATS connection
// is up (or at once, with connected false, for a bridge expected to fail).
func runBridge(t *testing.T, h *host, cfg bridge.Config, waitConnected bool) *bridge.Bridge {
	t.Helper()
	if cfg.HostID == "" {
		cfg.HostID = h.name
	}
	cfg.Socket = h.path
	d := bridge.DefaultConfig()
	if cfg.BufferEvents == 0 {
		cfg.BufferEvents = d.BufferEvents
	}
	if cfg.BufferBytes == 0 {
		cfg.BufferBytes = d.BufferBytes
	}
	if cfg.BufferAge == 0 {
		cfg.BufferAge = d.BufferAge
	}
	if cfg.ImportPendingMsgs == 0 {
		cfg.ImportPendingMsgs, cfg.ImportPendingBytes = d.ImportPendingMsgs, d.ImportPendingBytes
	}
	if cfg.MaxHops == 0 {
		cfg.MaxHops = d.MaxHops
	}
	if cfg.ReconnectMin == 0 {
		cfg.ReconnectMin, cfg.ReconnectMax = 50*time.Millisecond, 200*time.Millisecond
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval, cfg.ConnectTimeout = time.Second, time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t, h.name)
	}
	b, err := bridge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: bridge Run: %v", h.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: bridge did not stop", h.name)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("%s: bridge stopped: %v", h.name, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: bridge not ready", h.name)
	}
	if waitConnected {
		waitFor(t, h.name+" bridge connected to NATS", 10*time.Second, func() bool { return b.Stats().NATS == "connected" })
	}
	return b
}

// testLogger writes the bridge's logs to the test log, prefixed by host
// (shown on failure or with -v).
func testLogger(t *testing.T, name string) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})).With("host", name)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// collector counts what a subscription receives, by event id.
type collector struct {
	mu     sync.Mutex
	ids    map[string]int
	topics map[string]int
	total  int
}

func collect(t *testing.T, s *client.Subscription) *collector {
	c := &collector{ids: map[string]int{}, topics: map[string]int{}}
	go func() {
		for ev := range s.C() {
			c.mu.Lock()
			c.ids[ev.ID]++
			c.topics[ev.Topic]++
			c.total++
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// waitExactly waits for n events, then for quiet, and fails on any
// duplicate or surplus.
func (c *collector) waitExactly(t *testing.T, who string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s to receive %d events (has %d)", who, n, c.count()), 20*time.Second, func() bool { return c.count() >= n })
	time.Sleep(300 * time.Millisecond) // a duplicate or a looping event would show by now
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total != n {
		t.Errorf("%s received %d events, want exactly %d", who, c.total, n)
	}
	for id, k := range c.ids {
		if k != 1 {
			t.Errorf("%s received event %s %d times", who, id, k)
		}
	}
}

// envelope is an event body with a fresh id.
func envelope(topic string, i int) []byte {
	return client.AppendEnvelope(nil, topic, "test", time.Now(), []byte(fmt.Sprintf(`{"i": %d}`, i)))
}
