package fuzz

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"busd/codec"
	"busd/engine"
)

// fuzzDaemon is the one in-process daemon of a fuzzing process, with a
// healthy publisher/subscriber pair that stays connected across inputs.
type fuzzDaemon struct {
	srv    *engine.Server
	dir    string
	path   string
	runErr chan error

	pub, sub net.Conn
	subR     *bufio.Reader
	topic    string // the healthy pair's topic prefix: a nonce no input can guess
	seq      int

	baseConns      int
	baseGoroutines int
}

var (
	daemonOnce sync.Once
	daemon     *fuzzDaemon
	daemonErr  error
)

// engineDaemon starts the process's daemon on first use: starting one per
// input would dominate the run time.
func engineDaemon() (*fuzzDaemon, error) {
	daemonOnce.Do(func() { daemon, daemonErr = startFuzzDaemon() })
	return daemon, daemonErr
}

func startFuzzDaemon() (*fuzzDaemon, error) {
	dir, err := os.MkdirTemp("", "busdfz") // short: socket paths max out at 108 bytes
	if err != nil {
		return nil, err
	}
	d := &fuzzDaemon{dir: dir, path: filepath.Join(dir, "bus.sock"), runErr: make(chan error, 1)}
	cfg := engine.DefaultConfig()
	cfg.Socket = d.path
	cfg.Group = ""
	cfg.Heartbeat = 0
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if d.srv, err = engine.New(cfg); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	go func() { d.runErr <- d.srv.Run(func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-d.runErr:
		return nil, fmt.Errorf("Run: %v", err)
	case <-time.After(10 * time.Second):
		return nil, errors.New("daemon did not become ready")
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	d.topic = "healthy." + hex.EncodeToString(nonce[:])
	if d.sub, err = net.Dial("unix", d.path); err != nil {
		return nil, err
	}
	d.subR = bufio.NewReaderSize(d.sub, 1<<16)
	if d.pub, err = net.Dial("unix", d.path); err != nil {
		return nil, err
	}
	if _, err := d.sub.Write(codec.AppendFrame(nil, codec.VerbSUB, d.topic+".>", nil)); err != nil {
		return nil, err
	}
	// The subscription is in place once a probe published after it arrives.
	if err := d.publish("probe"); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.sub.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		topic, _, err := readEvent(d.subR)
		if err == nil && topic == d.topic+".probe" {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("healthy pair not connected: %v", err)
		}
		if err := d.publish("probe"); err != nil {
			return nil, err
		}
	}
	// Drain extra probes.
	for {
		d.sub.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := readEvent(d.subR); err != nil {
			break
		}
	}
	d.subR.Reset(d.sub) // a timed-out read may have left a partial frame
	d.baseConns = d.srv.Stats().Connections
	d.baseGoroutines = runtime.NumGoroutine()
	return d, nil
}

func (d *fuzzDaemon) stop() {
	d.pub.Close()
	d.sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.srv.Shutdown(ctx)
	os.RemoveAll(d.dir)
}

func (d *fuzzDaemon) publish(suffix string) error {
	d.pub.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := d.pub.Write(codec.AppendFrame(nil, codec.VerbPUB, d.topic+"."+suffix, nil))
	return err
}

// readEvent reads one EVT frame and returns its topic and body.
func readEvent(r *bufio.Reader) (string, []byte, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", nil, err
	}
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return "", nil, err
	}
	if len(line) < 5 || line[:4] != "EVT " {
		return "", nil, fmt.Errorf("unexpected frame header %q", line)
	}
	return line[4 : len(line)-1], body, nil
}

// FuzzEngine writes arbitrary streams, in two writes cut at an arbitrary
// point, into a connection of a real in-process daemon while a healthy
// pair is connected to it. After each input: the daemon still runs, the
// healthy pair lost nothing and got it in order, and once the input's
// connection is closed the daemon is back to its baseline: connections,
// goroutines, and (with -tags invariants) no live message references.
func FuzzEngine(f *testing.F) {
	f.Cleanup(func() {
		if daemon != nil {
			daemon.stop()
		}
	})
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		// Every wait of this call ends by its deadline.
		callDeadline := time.Now().Add(callBudget)
		d, err := engineDaemon()
		if err != nil {
			t.Fatalf("daemon: %v", err)
		}
		c := 0
		if len(stream) > 0 {
			c = int(cut) % (len(stream) + 1)
		}
		const healthy = 3
		for i := range healthy {
			if err := d.publish(fmt.Sprintf("before.%d", d.seq+i)); err != nil {
				t.Fatalf("healthy publisher: %v", err)
			}
		}

		conn, err := net.Dial("unix", d.path)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conn.SetWriteDeadline(callDeadline)
		// The daemon may close the connection at the first hostile byte: a
		// failed write is expected, and ends the input's stream.
		if _, err := conn.Write(stream[:c]); err == nil && c < len(stream) {
			conn.Write(stream[c:])
		}
		conn.Close()

		for i := range healthy {
			if err := d.publish(fmt.Sprintf("after.%d", d.seq+i)); err != nil {
				t.Fatalf("healthy publisher: %v", err)
			}
		}
		d.sub.SetReadDeadline(callDeadline)
		for _, phase := range []string{"before", "after"} {
			for i := range healthy {
				want := fmt.Sprintf("%s.%s.%d", d.topic, phase, d.seq+i)
				topic, _, err := readEvent(d.subR)
				if err != nil {
					t.Fatalf("healthy subscriber, waiting for %s: %v", want, err)
				}
				if topic != want {
					t.Fatalf("healthy subscriber got %s, want %s", topic, want)
				}
			}
		}
		d.seq += healthy

		select {
		case err := <-d.runErr:
			t.Fatalf("daemon stopped: %v", err)
		default:
		}

		// Back to the baseline once the input's connection is gone.
		for {
			st := d.srv.Stats()
			live := codec.LiveMessages()
			g := runtime.NumGoroutine()
			if st.Connections == d.baseConns && live == 0 && g <= d.baseGoroutines+4 {
				break
			}
			if time.Now().After(callDeadline) {
				t.Fatalf("after the input's connection closed: connections %d (baseline %d), live messages %d, goroutines %d (baseline %d)",
					st.Connections, d.baseConns, live, g, d.baseGoroutines)
			}
			time.Sleep(time.Millisecond)
		}
	})
}
