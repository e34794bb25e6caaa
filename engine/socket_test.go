package engine

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"busd/codec"
)

func TestSocketMode(t *testing.T) {
	e := startServer(t, nil)
	st, err := os.Stat(e.path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Type() != os.ModeSocket || st.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v, want socket 0660", st.Mode())
	}
}

func testConfig(path string) Config {
	cfg := DefaultConfig()
	cfg.Socket = path
	cfg.Group = ""
	cfg.Heartbeat = 0
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

func TestSecondDaemonRefuses(t *testing.T) {
	e := startServer(t, nil)
	srv, err := New(testConfig(e.path))
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Run(nil)
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Run = %v, want ErrAlreadyRunning", err)
	}
	// The first daemon still owns its socket.
	w := e.dial()
	w.sub("still.here")
}

// The daemon being replaced takes no lock: a live server that merely
// answers on the path must also be respected.
func TestRefusesWhenForeignServerAnswers(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "bus.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	srv, _ := New(testConfig(path))
	if err := srv.Run(nil); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("Run = %v, want ErrAlreadyRunning", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the foreign server's socket was removed: %v", err)
	}
}

func TestStaleSocketIsReplaced(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "bus.sock")
	// A socket file nobody listens on, as a crash leaves it.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)
	runAndStop(t, testConfig(path))
}

func TestRefusesNonSocketFile(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "bus.sock")
	os.WriteFile(path, []byte("precious"), 0o600)
	srv, _ := New(testConfig(path))
	if err := srv.Run(nil); err == nil {
		t.Fatal("Run accepted a regular file at the socket path")
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatal("the regular file was clobbered")
	}
}

func TestMissingParentDirectory(t *testing.T) {
	srv, _ := New(testConfig(filepath.Join(shortDir(t), "missing", "bus.sock")))
	err := srv.Run(nil)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Run = %v, want a not-exist error", err)
	}
}

func TestShutdownRemovesSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "bus.sock")
	runAndStop(t, testConfig(path))
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket still there after shutdown: %v", err)
	}
	// And the path is free for the next daemon.
	runAndStop(t, testConfig(path))
}

func runAndStop(t *testing.T, cfg Config) {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- srv.Run(func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	c, err := net.Dial("unix", cfg.Socket)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after shutdown")
	}
}

func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "busd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// From the moment the socket path exists, every connect succeeds, and a
// client that connected before the daemon was ready is served: the daemon
// binds the path once, with its own listener, before the event loops start.
func TestSocketAnswersFromFirstConnect(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "bus.sock")
	srv, err := New(testConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(func() { close(ready) }) }()
	defer stopServer(t, srv, runErr)
	var first net.Conn
	deadline := time.Now().Add(10 * time.Second)
	for first == nil {
		c, err := net.Dial("unix", path)
		switch {
		case err == nil:
			first = c
		case time.Now().After(deadline):
			t.Fatalf("no connect within 10 s: %v", err)
		default:
			runtime.Gosched()
		}
	}
	defer first.Close()
	e := &testEnv{t: t, srv: srv, path: path}
	early := &wire{t: t, env: e, conn: first, r: bufio.NewReaderSize(first, 1<<16)}
	early.sub("early.topic")
	// Dial throughout start-up: none may find the path missing. (The
	// connections wait in the listen backlog, so keep well below its size.)
	for i := 0; ; i++ {
		select {
		case <-ready:
		default:
			if i < 1000 {
				c, err := net.Dial("unix", path)
				if err != nil {
					t.Fatalf("connect %d after the first: %v", i, err)
				}
				c.Close()
				continue
			}
			<-ready
		}
		break
	}
	e.sync()
	e.dial().send(codec.VerbPUB, "early.topic", `{"n":1}`)
	early.expect("early.topic", `{"n":1}`)
}
