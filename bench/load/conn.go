package load

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"busd/codec"
)

const (
	// pubBufSize is the publisher's write buffer: it is flushed when full
	// and whenever the publisher waits.
	pubBufSize = 32 << 10
	// subBufSize is the subscriber's initial read buffer; it grows (once)
	// when a frame does not fit.
	subBufSize = 256 << 10
	// dialTimeout bounds connecting to a server.
	dialTimeout = 5 * time.Second
)

func dialUnix(path string) (*net.UnixConn, error) {
	c, err := net.DialTimeout("unix", path, dialTimeout)
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

// framePub writes frames of one verb (PUB to busd, EVT to the raw relay)
// through a buffered writer; the frame is encoded straight into the
// writer's free space, so publishing allocates nothing.
type framePub struct {
	conn *net.UnixConn
	w    *bufio.Writer
	verb codec.Verb
	name string // the verb's text
	len  [4]byte
}

func newFramePub(conn *net.UnixConn, verb codec.Verb) *framePub {
	return &framePub{conn: conn, w: bufio.NewWriterSize(conn, pubBufSize), verb: verb, name: verb.String()}
}

// frame writes any frame (setup traffic: HELLO, SUB).
func (p *framePub) frame(verb codec.Verb, args string, body []byte) error {
	_, err := p.w.Write(codec.AppendFrame(nil, verb, args, body))
	return err
}

func (p *framePub) Publish(topic string, body []byte) error {
	n := len(p.name) + 1 + len(topic) + 1 + 4 + len(body)
	if n <= p.w.Available() {
		b := codec.AppendFrame(p.w.AvailableBuffer(), p.verb, topic, body)
		_, err := p.w.Write(b)
		return err
	}
	// Larger than the free space: the header through the buffer, the body
	// through it too (bufio writes a large body straight to the socket).
	p.w.WriteString(p.name)
	p.w.WriteByte(' ')
	p.w.WriteString(topic)
	p.w.WriteByte('\n')
	binary.BigEndian.PutUint32(p.len[:], uint32(len(body)))
	p.w.Write(p.len[:])
	_, err := p.w.Write(body)
	return err
}

func (p *framePub) Flush() error { return p.w.Flush() }

func (p *framePub) Close() error {
	err := p.w.Flush()
	if e := p.conn.Close(); err == nil {
		err = e
	}
	return err
}

// frameSub reads EVT frames with zero-allocation parsing on a large
// buffer. An EVT on its probe topic is not an event: it marks that the
// server has registered this connection's patterns (see Ready).
type frameSub struct {
	conn    *net.UnixConn
	probe   string
	onEvent func([]byte)
	ready   chan struct{}
	done    chan struct{}
	err     error // read error, valid after done
	closing bool  // set under mu before the connection is closed
	mu      sync.Mutex
	// poke, if set, is called by Ready until the probe arrives (busd:
	// publish on the probe topic).
	poke func() error
}

func newFrameSub(conn *net.UnixConn, probe string, onEvent func([]byte), bufSize int) *frameSub {
	s := &frameSub{conn: conn, probe: probe, onEvent: onEvent,
		ready: make(chan struct{}), done: make(chan struct{})}
	go s.read(bufSize)
	return s
}

func (s *frameSub) read(bufSize int) {
	defer close(s.done)
	buf := make([]byte, bufSize)
	start, end := 0, 0
	readyClosed := false
	var f codec.Frame
	for {
		n, rerr := s.conn.Read(buf[end:])
		end += n
		need := 0
		for start < end {
			m, nd, err := f.Decode(buf[start:end])
			if err != nil {
				s.err = fmt.Errorf("subscriber: %w", err)
				return
			}
			if m == 0 {
				need = nd
				break
			}
			start += m
			switch f.Verb {
			case codec.VerbEVT:
				if len(f.Args) == len(s.probe) && string(f.Args) == s.probe {
					if !readyClosed {
						close(s.ready)
						readyClosed = true
					}
					continue
				}
				s.onEvent(f.Body)
			case codec.VerbBYE:
				return
			}
		}
		if start == end {
			start, end = 0, 0
		} else if len(buf)-end < 64<<10 || need > len(buf)-start {
			end = copy(buf, buf[start:end])
			start = 0
			if need > len(buf) {
				nb := make([]byte, need+64<<10)
				copy(nb, buf[:end])
				buf = nb
			}
		}
		if rerr != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if !closing {
				s.err = fmt.Errorf("subscriber: %w", rerr)
			}
			return
		}
	}
}

func (s *frameSub) Ready(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-s.ready:
			return nil
		case <-s.done:
			if s.err != nil {
				return s.err
			}
			return errors.New("subscriber: connection closed before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("subscriber not ready: %w", ctx.Err())
		case <-t.C:
			if s.poke != nil {
				if err := s.poke(); err != nil {
					return err
				}
			}
			t.Reset(5 * time.Millisecond)
		}
	}
}

// Close closes the connection and returns once the read goroutine has
// stopped (onEvent is not called after Close returns).
func (s *frameSub) Close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	err := s.conn.Close()
	<-s.done
	if s.err != nil {
		return s.err
	}
	return err
}
