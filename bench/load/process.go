package load

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// server is a child server process listening on a UNIX socket in its own
// short temporary directory.
type server struct {
	cmd    *exec.Cmd
	dir    string
	socket string
	exited chan struct{}
	stderr *logBuffer
}

// startServer runs bin with args(socket), and env added to this process's
// environment, and waits until the socket accepts a connection.
func startServer(ctx context.Context, bin string, args func(socket string) []string, env ...string) (*server, error) {
	// Short: socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "bb")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, socket: filepath.Join(dir, "s"), exited: make(chan struct{}), stderr: &logBuffer{max: 8 << 10}}
	s.cmd = exec.Command(bin, args(s.socket)...)
	if len(env) > 0 {
		s.cmd.Env = append(os.Environ(), env...)
	}
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	if err := s.waitSocket(ctx, s.socket); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitSocket waits until path, one of the server's sockets, accepts a
// connection.
func (s *server) waitSocket(ctx context.Context, path string) error {
	bin := filepath.Base(s.cmd.Path)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := dialUnix(path)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited at start (%v): %s", bin, s.cmd.ProcessState, s.stderr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: socket %s not accepting after 10s: %s", bin, path, s.stderr)
		}
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM, then SIGKILL after 5 s, waits, removes the directory.
func (s *server) stop() error {
	var err error
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			err = fmt.Errorf("server pid %d ignored SIGTERM for 5s: killed", s.pid())
		}
	}
	os.RemoveAll(s.dir)
	return err
}

// logBuffer keeps the first max bytes written to it (a server's logs,
// for error messages).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *logBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (t *logBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf.Bytes()))
}
