package engine

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"busd/codec"
)

// startServer runs a daemon on a fresh socket and stops it at cleanup,
// checking that no message reference survives the shutdown.
func startServer(t testing.TB, mutate func(*Config)) *testEnv {
	t.Helper()
	dir, err := os.MkdirTemp("", "busd") // short: socket paths max out at 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := DefaultConfig()
	cfg.Socket = filepath.Join(dir, "bus.sock")
	cfg.Heartbeat = 0
	cfg.Group = ""
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
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
		t.Fatal("server did not become ready")
	}
	t.Cleanup(func() {
		stopServer(t, srv, runErr)
		assertNoLiveMessages(t)
	})
	return &testEnv{t: t, srv: srv, path: cfg.Socket}
}

// stopServer shuts srv down and checks what its Run (reporting on runErr)
// returned.
func stopServer(t testing.TB, srv *Server, runErr <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-runErr; err != nil {
		t.Errorf("Run returned %v", err)
	}
}

// testEnv is one running daemon and the frames the test sent it.
type testEnv struct {
	t    testing.TB
	srv  *Server
	path string
	// sent counts well-formed frames written by wires, so sync can wait
	// until the server has handled all of them.
	sent atomic.Uint64
}

// sync waits until the server has handled every well-formed frame sent so
// far: after it, subscriptions are in place and publishes are queued.
func (e *testEnv) sync() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.Stats().FramesIn < e.sent.Load() {
		if time.Now().After(deadline) {
			e.t.Fatalf("server handled %d frames, %d sent", e.srv.Stats().FramesIn, e.sent.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// assertNoLiveMessages checks the reference-count audit once every
// connection is gone (only in builds with the invariants tag).
func assertNoLiveMessages(t testing.TB) {
	t.Helper()
	if !codec.Invariants {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for codec.LiveMessages() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := codec.LiveMessages(); n != 0 {
		t.Errorf("%d messages still referenced after shutdown", n)
	}
}

// wire is a minimal client speaking PROTOCOL.md frames.
type wire struct {
	t    testing.TB
	env  *testEnv
	conn net.Conn
	r    *bufio.Reader
}

func (e *testEnv) dial() *wire {
	t := e.t
	t.Helper()
	// A full listen backlog (a test that floods connects) refuses at once
	// with EAGAIN; a client then retries.
	c, err := dialRetry(e.path, time.Now().Add(10*time.Second))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &wire{t: t, env: e, conn: c, r: bufio.NewReaderSize(c, 1<<16)}
}

func (w *wire) send(verb codec.Verb, args string, body string) {
	w.t.Helper()
	w.raw(codec.AppendFrame(nil, verb, args, []byte(body)))
	w.env.sent.Add(1)
}

func (w *wire) raw(b []byte) {
	w.t.Helper()
	w.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := w.conn.Write(b); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

func (w *wire) sub(patterns ...string) {
	w.t.Helper()
	for _, p := range patterns {
		w.send(codec.VerbSUB, p, "")
	}
	w.sync()
}

func (w *wire) sync() { w.env.sync() }

type event struct {
	topic string
	body  string
}

// next reads one EVT frame within d.
func (w *wire) next(d time.Duration) (event, error) {
	w.conn.SetReadDeadline(time.Now().Add(d))
	line, err := w.r.ReadString('\n')
	if err != nil {
		return event{}, err
	}
	var n [4]byte
	if _, err := io.ReadFull(w.r, n[:]); err != nil {
		return event{}, err
	}
	body := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(w.r, body); err != nil {
		return event{}, err
	}
	if len(line) < 5 || line[:4] != "EVT " {
		return event{}, fmt.Errorf("unexpected frame header %q", line)
	}
	return event{topic: line[4 : len(line)-1], body: string(body)}, nil
}

func (w *wire) expect(topic, body string) {
	w.t.Helper()
	ev, err := w.next(5 * time.Second)
	if err != nil {
		w.t.Fatalf("waiting for %s: %v", topic, err)
	}
	if ev.topic != topic || (body != "" && ev.body != body) {
		w.t.Fatalf("got %s %s, want %s %s", ev.topic, ev.body, topic, body)
	}
}

// barrierBody marks the barrier event of expectBarrier.
const barrierBody = `{"barrier": true}`

// expectBarrier publishes a barrier event on topic from the connection
// from, and asserts that it is the next event w receives: w got nothing
// unwanted before it. The barrier is proof when from published (or would
// have) whatever w must not get, as one publisher's events arrive in order,
// or when the daemon runs one loop (the default here) and from publishes
// the barrier only once the unwanted event would have been handed to w's
// outbox: the outbox keeps its loop's order.
func (w *wire) expectBarrier(from *wire, topic string) {
	w.t.Helper()
	from.send(codec.VerbPUB, topic, barrierBody)
	w.expect(topic, barrierBody)
}

// expectClosed asserts the server closes the connection within d.
func (w *wire) expectClosed(d time.Duration) {
	w.t.Helper()
	w.conn.SetReadDeadline(time.Now().Add(d))
	for {
		_, err := w.r.ReadByte()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return
		}
		w.t.Fatalf("connection not closed by server: %v", err)
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout()
}

func envelope(i int) string {
	return fmt.Sprintf(`{"v": 1, "id": "%032x", "topic": "t", "type": "state", "ts": 1764190000.123456, "payload": {"n": %d}}`, i, i)
}
