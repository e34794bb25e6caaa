package load

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"busd/codec"
)

// Busd is the System for busd. By default each Start runs a fresh busd
// child process (Binary, or ./cmd/busd built once when Binary is empty) on
// a socket in a new temporary directory, with heartbeats off. With Socket
// set it targets a daemon that is already running instead: Start and Stop
// manage nothing, and the server's CPU and RSS are measured only when PID
// is given.
type Busd struct {
	// Binary is the busd executable; empty: build ./cmd/busd of module
	// busd (found above the working directory) once per process.
	Binary string
	// Args are extra daemon flags, e.g. "--validate-json=false".
	Args []string
	// Env is extra environment for the daemon, e.g. systemd's
	// WATCHDOG_USEC and NOTIFY_SOCKET.
	Env []string
	// Label names the system in results (a variant's flags, say); empty:
	// "busd".
	Label string
	// Socket, if set, is a running daemon's socket.
	Socket string
	// PID is the running daemon's process id (with Socket), or 0.
	PID int
	// Capture, "full" or "shape" (see ParseCapture), records what the
	// daemon carries during each measurement in that payload mode (see
	// Capturer); empty: no capture. Only for a daemon Start runs.
	Capture string

	srv        *server
	socket     string
	captureDir string        // the running capture's files, removed when it stops
	seq        atomic.Uint64 // probe topic numbers

	mu     sync.Mutex
	prober *framePub // publishes the subscribers' readiness probes
}

func (b *Busd) Name() string {
	if b.Label != "" {
		return b.Label
	}
	return "busd"
}

func (b *Busd) Start(ctx context.Context) error {
	if b.srv != nil {
		return errors.New("busd: already started")
	}
	if b.Socket != "" {
		if b.Capture != "" {
			return errors.New("busd: a capture runs only on a daemon this generator starts, not on one given by its socket")
		}
		c, err := dialUnix(b.Socket)
		if err != nil {
			return fmt.Errorf("busd at %s: %w", b.Socket, err)
		}
		c.Close()
		b.socket = b.Socket
		return nil
	}
	bin := b.Binary
	if bin == "" {
		var err error
		if bin, err = buildCommand("./cmd/busd"); err != nil {
			return err
		}
	}
	srv, err := startServer(ctx, bin, func(socket string) []string {
		// The admin socket sits beside the bus socket (see adminSocket):
		// read batches are counted and captures started through it.
		args := []string{"serve", "--socket", socket, "--admin-socket", filepath.Join(filepath.Dir(socket), adminSocketName),
			"--heartbeat", "0", "--log-level", "warn"}
		return append(args, b.Args...)
	}, b.Env...)
	if err != nil {
		return err
	}
	// The daemon opens its admin socket after the bus socket: a capture
	// or a read-batch count right after Start must find it.
	if err := srv.waitSocket(ctx, filepath.Join(srv.dir, adminSocketName)); err != nil {
		srv.stop()
		return err
	}
	b.srv, b.socket = srv, srv.socket
	return nil
}

func (b *Busd) Stop() error {
	b.mu.Lock()
	if b.prober != nil {
		b.prober.Close()
		b.prober = nil
	}
	b.mu.Unlock()
	b.socket = ""
	if b.srv == nil {
		return nil
	}
	err := b.srv.stop()
	b.srv = nil
	b.removeCapture()
	return err
}

// adminSocketName is the admin socket's name in the daemon's directory.
const adminSocketName = "a"

// adminSocket is the admin socket of the daemon Start ran.
func (b *Busd) adminSocket() string { return filepath.Join(b.srv.dir, adminSocketName) }

func (b *Busd) ServerPID() int {
	if b.srv != nil {
		return b.srv.pid()
	}
	return b.PID
}

func (b *Busd) NewPublisher() (Publisher, error) {
	c, err := dialUnix(b.socket)
	if err != nil {
		return nil, err
	}
	p := newFramePub(c, codec.VerbPUB)
	p.frame(codec.VerbHELLO, "busbench-pub", nil)
	return p, nil
}

// NewSubscriber subscribes to patterns and then to a probe topic of its
// own. busd handles a connection's frames in order, so once an event
// published on the probe topic arrives, every pattern is registered: Ready
// publishes such probes (from a separate connection) until one arrives.
// Probe events are not passed to onEvent.
func (b *Busd) NewSubscriber(patterns []string, onEvent func(body []byte)) (Subscriber, error) {
	c, err := dialUnix(b.socket)
	if err != nil {
		return nil, err
	}
	probe := "_busbench.ready." + strconv.FormatUint(b.seq.Add(1), 10)
	w := newFramePub(c, codec.VerbSUB)
	w.frame(codec.VerbHELLO, "busbench-sub", nil)
	for _, p := range patterns {
		w.frame(codec.VerbSUB, p, nil)
	}
	w.frame(codec.VerbSUB, probe, nil)
	if err := w.Flush(); err != nil {
		c.Close()
		return nil, err
	}
	s := newFrameSub(c, probe, onEvent, subBufSize)
	s.poke = func() error { return b.probe(probe) }
	return s, nil
}

var probeBody = []byte("{}")

func (b *Busd) probe(topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prober == nil {
		c, err := dialUnix(b.socket)
		if err != nil {
			return err
		}
		b.prober = newFramePub(c, codec.VerbPUB)
		b.prober.frame(codec.VerbHELLO, "busbench-probe", nil)
	}
	if err := b.prober.Publish(topic, probeBody); err != nil {
		return err
	}
	return b.prober.Flush()
}

// Listening is the socket of the daemon started (or given), empty before
// Start.
func (b *Busd) Listening() string { return b.socket }
