package peers

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync/atomic"
)

// peerConn is what every peer client holds: its connection, a buffered
// writer on it, and the first error its reader met.
type peerConn struct {
	c   net.Conn
	w   *bufio.Writer
	err atomic.Pointer[error]
}

// init sets up pc on c (in place: pc holds an atomic).
func (pc *peerConn) init(c net.Conn) {
	pc.c, pc.w = c, bufio.NewWriterSize(c, clientBuf)
}

func (pc *peerConn) setErr(err error) { pc.err.CompareAndSwap(nil, &err) }

func (pc *peerConn) loadErr() error {
	if p := pc.err.Load(); p != nil {
		return *p
	}
	return nil
}

// subscriberLife is the life cycle every peer subscriber shares: ready is
// closed once the server has confirmed every subscription, done when the
// read loop ends, and closed says that the end was asked for, so the read
// loop's last error is not one to report.
type subscriberLife struct {
	ready  chan struct{}
	done   chan struct{}
	closed atomic.Bool
}

// init makes the channels (in place: l holds an atomic).
func (l *subscriberLife) init() {
	l.ready, l.done = make(chan struct{}), make(chan struct{})
}

// awaitReady is a subscriber's Ready: nil once the server confirmed every
// subscription, else the error that ended the read loop (or ctx's).
func (l *subscriberLife) awaitReady(ctx context.Context, pc *peerConn, system string) error {
	select {
	case <-l.ready:
		return pc.loadErr()
	case <-l.done:
		if err := pc.loadErr(); err != nil {
			return err
		}
		return errors.New(system + ": subscriber closed before ready")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// end is a subscriber's Close: it closes the connection, which ends the
// read loop, and waits for the loop.
func (l *subscriberLife) end(pc *peerConn) {
	l.closed.Store(true)
	pc.c.Close()
	<-l.done
}
