package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"busd/bench/load"
)

// NATS is a nats-server (embedded by the natsd command of this module) in
// its own process on 127.0.0.1 — NATS has no UNIX-socket listener for
// clients, so it is the one system here on TCP loopback.
type NATS struct {
	// Bin is the natsd binary; empty: $BUSD_NATSD, else built once per
	// process from this module's cmd/natsd.
	Bin string

	proc *child
	addr string
}

var _ load.System = (*NATS)(nil)

func (*NATS) Name() string     { return "nats" }
func (s *NATS) ServerPID() int { return s.proc.pid() }

var natsdBuild struct {
	once sync.Once
	path string
	err  error
}

// RemoveBuilds deletes the natsd binary built by this process, if any.
func RemoveBuilds() {
	if natsdBuild.path != "" {
		os.RemoveAll(filepath.Dir(natsdBuild.path))
	}
}

// natsdBinary returns a natsd binary, building it on first use.
func natsdBinary() (string, error) {
	if p := os.Getenv("BUSD_NATSD"); p != "" {
		return p, nil
	}
	natsdBuild.once.Do(func() {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			natsdBuild.err = errors.New("nats: cannot locate the module source to build natsd; set BUSD_NATSD")
			return
		}
		dir, err := os.MkdirTemp("", "busd-peers-natsd-")
		if err != nil {
			natsdBuild.err = err
			return
		}
		out := filepath.Join(dir, "natsd")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/natsd")
		cmd.Dir = filepath.Dir(file)
		if b, err := cmd.CombinedOutput(); err != nil {
			natsdBuild.err = fmt.Errorf("nats: building natsd: %v: %s", err, b)
			return
		}
		natsdBuild.path = out
	})
	return natsdBuild.path, natsdBuild.err
}

func (s *NATS) Start(ctx context.Context) error {
	bin := s.Bin
	if bin == "" {
		var err error
		if bin, err = natsdBinary(); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "busd-peer-nats-")
	if err != nil {
		return err
	}
	p, out, err := startChild(dir, bin, nil, true)
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	line, err := readFirstLine(out, 15*time.Second)
	if err != nil || !strings.HasPrefix(line, "listening ") {
		p.stop()
		return fmt.Errorf("nats: natsd did not start (%q, %v): %s", line, err, p.logTail())
	}
	s.proc, s.addr = p, strings.TrimPrefix(line, "listening ")
	if err := p.waitDial(ctx, "tcp", s.addr); err != nil {
		p.stop()
		s.proc = nil
		return err
	}
	return nil
}

func (s *NATS) Stop() error {
	err := s.proc.stop()
	s.proc = nil
	return err
}

// natsConn is the common part of a publisher and a subscriber: a TCP
// connection that has sent CONNECT.
type natsConn struct {
	peerConn
}

func (s *NATS) dial() (*natsConn, error) {
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	nc := &natsConn{}
	nc.init(c)
	// The server sends INFO first; CONNECT may follow at once.
	nc.w.WriteString(`CONNECT {"verbose":false,"pedantic":false,"echo":false,"lang":"go","version":"bench","protocol":1}` + "\r\n")
	return nc, nil
}

// natsPublisher pipelines PUBs through a buffered writer. A reader goroutine
// answers the server's PINGs (through a flag the writer checks at frame
// boundaries, so a PONG never lands inside a PUB) and records -ERR.
type natsPublisher struct {
	*natsConn
	pongDue atomic.Int32
	scratch []byte
	done    chan struct{}
}

func (s *NATS) NewPublisher() (load.Publisher, error) {
	nc, err := s.dial()
	if err != nil {
		return nil, err
	}
	p := &natsPublisher{natsConn: nc, scratch: make([]byte, 0, 256), done: make(chan struct{})}
	go p.readLoop()
	return p, nil
}

func (p *natsPublisher) readLoop() {
	defer close(p.done)
	rb := newRbuf(p.c)
	for {
		l, err := rb.line()
		if err != nil {
			p.setErr(err)
			return
		}
		switch {
		case len(l) >= 4 && string(l[:4]) == "PING":
			p.pongDue.Add(1)
		case len(l) >= 4 && string(l[:4]) == "-ERR":
			p.setErr(fmt.Errorf("nats: server: %s", l))
		}
	}
}

func (p *natsPublisher) pongs() {
	for p.pongDue.Load() > 0 {
		p.pongDue.Add(-1)
		p.w.WriteString("PONG\r\n")
	}
}

func (p *natsPublisher) Publish(topic string, body []byte) error {
	if p.pongDue.Load() != 0 {
		p.pongs()
	}
	b := append(p.scratch[:0], "PUB "...)
	b = append(b, topic...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, '\r', '\n')
	p.scratch = b
	p.w.Write(b)
	p.w.Write(body)
	_, err := p.w.WriteString("\r\n")
	if err != nil {
		return err
	}
	return p.loadErr()
}

func (p *natsPublisher) Flush() error {
	if p.pongDue.Load() != 0 {
		p.pongs()
	}
	if err := p.w.Flush(); err != nil {
		return err
	}
	return p.loadErr()
}

func (p *natsPublisher) Close() error {
	err := p.w.Flush()
	p.c.Close()
	<-p.done
	return err
}

// natsSubscriber holds one SUB per pattern (sid = index+1) and parses MSG
// frames out of its read buffer without allocating.
type natsSubscriber struct {
	*natsConn
	subscriberLife
	set     subSet
	onEvent func([]byte)
}

func (s *NATS) NewSubscriber(patterns []string, onEvent func(body []byte)) (load.Subscriber, error) {
	set, err := newSubSet(patterns, NATSSubject)
	if err != nil {
		return nil, err
	}
	nc, err := s.dial()
	if err != nil {
		return nil, err
	}
	sub := &natsSubscriber{natsConn: nc, set: set, onEvent: onEvent}
	sub.subscriberLife.init()
	for i, subj := range set.subs {
		fmt.Fprintf(nc.w, "SUB %s %d\r\n", subj, i+1)
	}
	// The server handles a connection's frames in order: its PONG means
	// every SUB is registered.
	nc.w.WriteString("PING\r\n")
	if err := nc.w.Flush(); err != nil {
		nc.c.Close()
		return nil, err
	}
	go sub.readLoop()
	return sub, nil
}

func (s *natsSubscriber) readLoop() {
	defer close(s.done)
	rb := newRbuf(s.c)
	// One pattern, translated exactly: every MSG is the one copy.
	single := len(s.set.pats) == 1
	readied := false
	for {
		l, err := rb.line()
		if err != nil {
			if !s.closed.Load() {
				s.setErr(err)
			}
			return
		}
		if len(l) < 3 {
			continue
		}
		switch l[0] {
		case 'M': // MSG <subject> <sid> [reply-to] <#bytes>
			var f [5][]byte
			n := 0
			for i := 0; i < len(l) && n < 5; {
				for i < len(l) && l[i] == ' ' {
					i++
				}
				j := i
				for j < len(l) && l[j] != ' ' {
					j++
				}
				if j > i {
					f[n] = l[i:j]
					n++
				}
				i = j
			}
			if n < 4 {
				s.setErr(fmt.Errorf("nats: bad MSG line %q", l))
				return
			}
			size := atoi(f[n-1])
			sid := atoi(f[2])
			// The subject lives in the buffer that take may move: check
			// it first.
			deliver := single || s.set.deliverVia(sid-1, f[1])
			body, err := rb.take(size + 2)
			if err != nil {
				if !s.closed.Load() {
					s.setErr(err)
				}
				return
			}
			if deliver {
				s.onEvent(body[:size])
			}
		case 'P':
			if l[1] == 'I' { // PING
				s.w.WriteString("PONG\r\n")
				s.w.Flush()
			} else if !readied { // PONG
				readied = true
				close(s.ready)
			}
		case '-':
			s.setErr(fmt.Errorf("nats: server: %s", l))
		}
	}
}

func (s *natsSubscriber) Ready(ctx context.Context) error {
	return s.awaitReady(ctx, &s.peerConn, "nats")
}

func (s *natsSubscriber) Close() error {
	s.end(&s.peerConn)
	return nil
}
