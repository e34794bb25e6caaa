package client

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"busd/engine"
)

// daemon is a real in-process busd.
type daemon struct {
	t    *testing.T
	srv  *engine.Server
	path string
	once sync.Once
	err  chan error
}

// tempSocket is a socket path in a short temp dir (socket paths are limited
// to 107 bytes).
func tempSocket(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "bus.sock")
}

// startDaemon runs a daemon on path until stop or the test's end.
func startDaemon(t *testing.T, path string) *daemon {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.Socket = path
	cfg.Heartbeat = 0
	cfg.Group = ""
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, srv: srv, path: path, err: make(chan error, 1)}
	ready := make(chan struct{})
	go func() { d.err <- srv.Run(func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-d.err:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon not ready")
	}
	t.Cleanup(d.stop)
	return d
}

// stop shuts the daemon down (once).
func (d *daemon) stop() {
	d.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.srv.Shutdown(ctx); err != nil {
			d.t.Errorf("Shutdown: %v", err)
		}
		if err := <-d.err; err != nil {
			d.t.Errorf("Run: %v", err)
		}
	})
}

// waitPatterns waits until the daemon's connection named name has exactly
// the given patterns: after it, events published by others reach it.
func (d *daemon) waitPatterns(name string, patterns ...string) {
	d.t.Helper()
	slices.Sort(patterns)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, ci := range d.srv.Connections() {
			if ci.Name == name && slices.Equal(ci.Patterns, patterns) {
				return
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("connection %q never had patterns %q: %+v", name, patterns, d.srv.Connections())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dial connects a client named name, closed at the test's end.
func dial(t *testing.T, path, name string, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts = append([]Option{WithName(name), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	c, err := Dial(ctx, path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// next reads one event or fails after a while.
func next(t *testing.T, s *Subscription) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next on %q: %v", s.Pattern(), err)
	}
	return ev
}

// nextIsBarrier publishes a barrier event on topic from pub and checks that
// it is the next event each of subs receives. One publisher's events reach a
// subscriber in publish order, so anything pub published earlier that a
// subscription must not get would arrive before the barrier: no waiting for
// "long enough".
func nextIsBarrier(t *testing.T, pub Bus, topic string, subs ...*Subscription) {
	t.Helper()
	if err := pub.Publish(context.Background(), topic, nil, "barrier"); err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if ev := next(t, s); ev.Topic != topic || ev.Type != "barrier" {
			t.Fatalf("%q received %s %s before the barrier", s.Pattern(), ev.Topic, ev.Body)
		}
	}
}

// queueEmpty checks that s, still open, has nothing queued. Enough for the
// fake and Nop, which deliver synchronously: what Publish delivers is
// queued when it returns.
func queueEmpty(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case ev, ok := <-s.C():
		if !ok {
			t.Fatalf("%q ended: %v", s.Pattern(), s.Err())
		}
		t.Fatalf("%q received %s %s", s.Pattern(), ev.Topic, ev.Body)
	default:
	}
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
