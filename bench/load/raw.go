package load

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"busd/codec"
)

// Raw is the ceiling: a relay process (`busbench relay`) that copies every
// byte its publishers send to every subscriber connection with large
// writes. It parses nothing but frame boundaries (one LF and one length per
// frame, so concurrent publishers' frames stay whole), ignores patterns and
// never drops: a slow subscriber stalls it. Raw publishers therefore write
// ready-made EVT frames, which the subscribers parse as usual.
type Raw struct {
	// Binary is an executable whose first argument "relay" runs a relay
	// that speaks this protocol: RelayMain (busbench does; a test binary
	// can, from its TestMain), or the one on gnet (bench/gnetfloor);
	// empty: build ./cmd/busbench once per process.
	Binary string
	// Label names the system in results (default: raw).
	Label string

	srv *server
}

// RawProbe is the topic of the frame a relay sends a subscriber once it
// is registered.
const RawProbe = "_busbench.ready"

func (r *Raw) Name() string {
	if r.Label != "" {
		return r.Label
	}
	return "raw"
}

// Supports refuses workloads that need patterns or queues.
func (r *Raw) Supports(w Workload) error {
	if w.IdleSubs > 0 || w.SlowSubscribers > 0 {
		return fmt.Errorf("%w: raw relay has no patterns and no drop-oldest queues", ErrUnsupported)
	}
	return nil
}

func (r *Raw) Start(ctx context.Context) error {
	if r.srv != nil {
		return errors.New("raw: already started")
	}
	bin := r.Binary
	if bin == "" {
		var err error
		if bin, err = buildCommand("./cmd/busbench"); err != nil {
			return err
		}
	}
	srv, err := startServer(ctx, bin, func(socket string) []string {
		return []string{"relay", "--socket", socket}
	})
	if err != nil {
		return err
	}
	r.srv = srv
	return nil
}

func (r *Raw) Stop() error {
	if r.srv == nil {
		return nil
	}
	err := r.srv.stop()
	r.srv = nil
	return err
}

func (r *Raw) ServerPID() int {
	if r.srv == nil {
		return 0
	}
	return r.srv.pid()
}

func (r *Raw) NewPublisher() (Publisher, error) {
	if r.srv == nil {
		return nil, errors.New("raw: not started")
	}
	c, err := dialUnix(r.srv.socket)
	if err != nil {
		return nil, err
	}
	p := newFramePub(c, codec.VerbEVT)
	p.frame(codec.VerbHELLO, "pub", nil)
	return p, nil
}

func (r *Raw) NewSubscriber(_ []string, onEvent func(body []byte)) (Subscriber, error) {
	if r.srv == nil {
		return nil, errors.New("raw: not started")
	}
	c, err := dialUnix(r.srv.socket)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(codec.AppendFrame(nil, codec.VerbHELLO, "sub", nil)); err != nil {
		c.Close()
		return nil, err
	}
	return newFrameSub(c, RawProbe, onEvent, subBufSize), nil
}

// RelayMain is the relay process: "relay --socket PATH" (the arguments
// after "relay" are args). It serves until SIGTERM or SIGINT and returns the
// exit code.
func RelayMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", "", "UNIX socket `path` to listen on")
	if err := fs.Parse(args); err != nil || *socket == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: relay --socket PATH")
		return 2
	}
	os.Remove(*socket)
	ln, err := net.Listen("unix", *socket)
	if err != nil {
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 1
	}
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigc
		ln.Close()
	}()
	if err := ServeRelay(ln); err != nil {
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 1
	}
	return 0
}

// ServeRelay runs the raw relay on ln until ln is closed. Each connection
// starts with a HELLO frame whose args say "pub" or "sub".
func ServeRelay(ln net.Listener) error {
	rl := &relay{}
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go rl.serve(c)
	}
}

type relay struct {
	mu   sync.Mutex // serializes writes to subscribers and guards subs
	subs []net.Conn
}

func (rl *relay) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 2*codec.MaxEventFrame)
	end := 0
	var role string
	var f codec.Frame
	for {
		n, err := c.Read(buf[end:])
		end += n
		m, _, perr := f.Decode(buf[:end])
		if perr != nil || (m > 0 && f.Verb != codec.VerbHELLO) {
			fmt.Fprintf(os.Stderr, "relay: bad first frame: %v\n", perr)
			return
		}
		if m > 0 {
			role = string(f.Args)
			end = copy(buf, buf[m:end])
			break
		}
		if err != nil {
			return
		}
	}
	switch role {
	case "sub":
		rl.mu.Lock()
		_, err := c.Write(codec.AppendFrame(nil, codec.VerbEVT, RawProbe, nil))
		if err == nil {
			rl.subs = append(rl.subs, c)
		}
		rl.mu.Unlock()
		io.Copy(io.Discard, c)
		rl.mu.Lock()
		for i, s := range rl.subs {
			if s == c {
				rl.subs = append(rl.subs[:i], rl.subs[i+1:]...)
				break
			}
		}
		rl.mu.Unlock()
	case "pub":
		rl.publish(c, buf, end)
	default:
		fmt.Fprintf(os.Stderr, "relay: HELLO %q: want pub or sub\n", role)
	}
}

// publish copies whole frames from c to every subscriber; buf[:end] holds
// what was read after the HELLO.
func (rl *relay) publish(c net.Conn, buf []byte, end int) {
	for {
		// Find the end of the last complete frame.
		off := 0
		for {
			lf := bytes.IndexByte(buf[off:end], '\n')
			if lf < 0 || off+lf+1+4 > end {
				break
			}
			total := off + lf + 1 + 4 + int(binary.BigEndian.Uint32(buf[off+lf+1:]))
			if total > end {
				break
			}
			off = total
		}
		if off > 0 {
			rl.mu.Lock()
			for _, s := range rl.subs {
				s.Write(buf[:off])
			}
			rl.mu.Unlock()
			end = copy(buf, buf[off:end])
		}
		n, err := c.Read(buf[end:])
		end += n
		if err != nil {
			return
		}
	}
}
