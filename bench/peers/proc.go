// Package peers runs busd's load workloads against other brokers — NATS,
// Redis and Mosquitto — through the same load.System interfaces, so that
// busd's figures can be set beside theirs. Each peer server runs as a child
// process (a fresh one per workload), so its CPU time and RSS are read from
// /proc exactly as busd's are. The clients here are lean, hand-written
// protocol clients: buffered, pipelined writes and zero-allocation parsing of
// deliveries, so the client side costs about what busd's own load client
// costs and the comparison measures the servers.
//
// This is a separate Go module: the core busd module never depends on it.
package peers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrMissingBinary is wrapped by Start when a peer's server binary is not
// installed; the message names the Debian package that provides it.
var ErrMissingBinary = errors.New("peer server binary not found")

// child is a server process started by a System.
type child struct {
	cmd    *exec.Cmd
	dir    string // temporary directory, removed by stop
	log    *os.File
	done   chan struct{}
	waitEr error
}

// lookBin finds bin in PATH (and the sbin directories, which a non-login
// root shell may lack), or returns an error naming the apt package.
func lookBin(bin, pkg string) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"} {
		p := filepath.Join(d, bin)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not installed (apt-get install -y %s)", ErrMissingBinary, bin, pkg)
}

// startChild runs path with args, its stdout and stderr going to
// dir/server.log (or to stdout, a pipe the caller reads, when pipeStdout).
func startChild(dir, path string, args []string, pipeStdout bool) (*child, io.ReadCloser, error) {
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stderr = logf
	// The child dies with the benchmark process if that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out io.ReadCloser
	if pipeStdout {
		out, err = cmd.StdoutPipe()
		if err != nil {
			logf.Close()
			return nil, nil, err
		}
	} else {
		cmd.Stdout = logf
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, err
	}
	c := &child{cmd: cmd, dir: dir, log: logf, done: make(chan struct{})}
	go func() {
		c.waitEr = cmd.Wait()
		close(c.done)
	}()
	return c, out, nil
}

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// logTail returns the end of the server's log, for error messages.
func (c *child) logTail() string {
	b, err := os.ReadFile(filepath.Join(c.dir, "server.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// startConfigured runs the server bin in a fresh private directory, with
// the configuration conf(dir, sock) written there to system.conf, and waits
// until it accepts connections on sock, the UNIX socket the configuration
// must name. args gives bin's arguments for the configuration file's path.
func startConfigured(ctx context.Context, system, bin string, conf func(dir, sock string) string, args func(confFile string) []string) (*child, string, error) {
	dir, err := os.MkdirTemp("", "busd-peer-"+system+"-")
	if err != nil {
		return nil, "", err
	}
	sock := filepath.Join(dir, system+".sock")
	cf := filepath.Join(dir, system+".conf")
	if err := os.WriteFile(cf, []byte(conf(dir, sock)), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	p, _, err := startChild(dir, bin, args(cf), false)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	if err := p.waitDial(ctx, "unix", sock); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, sock, nil
}

// stop ends the process (SIGTERM, then SIGKILL after 5 s) and removes its
// directory.
func (c *child) stop() error {
	if c == nil {
		return nil
	}
	if !c.exited() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
	c.log.Close()
	return os.RemoveAll(c.dir)
}

func (c *child) pid() int {
	if c == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// waitDial polls until a connection to network/addr succeeds, the process
// exits, or ctx ends (bounded by 15 s in any case).
func (c *child) waitDial(ctx context.Context, network, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		conn, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if c.exited() {
			return fmt.Errorf("server exited before accepting clients: %v; log: %s", c.waitEr, c.logTail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server did not accept clients on %s: %w; log: %s", addr, err, c.logTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// readFirstLine reads one line from r within d.
func readFirstLine(r io.Reader, d time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	br := bufio.NewReader(r)
	go func() {
		s, err := br.ReadString('\n')
		ch <- res{strings.TrimSpace(s), err}
		if err == nil {
			_, _ = io.Copy(io.Discard, br)
		}
	}()
	select {
	case x := <-ch:
		return x.s, x.err
	case <-time.After(d):
		return "", fmt.Errorf("no line from server within %v", d)
	}
}

// clientBuf is the size of each client's write buffer and initial read
// buffer.
const clientBuf = 64 << 10
