package engine

import (
	"testing"

	"github.com/panjf2000/gnet/v2"

	"busd/codec"
)

// fakeConn stands in for a gnet connection in tests that isolate the
// message path from the kernel: writes are counted and dropped.
type fakeConn struct {
	gnet.Conn
	written int
	// stuck makes the connection look like a reader that never reads: its
	// outbound buffer stays at the high-water mark and writes are refused.
	stuck int
}

func (f *fakeConn) Write(b []byte) (int, error) {
	if f.stuck > 0 {
		return 0, nil
	}
	f.written += len(b)
	return len(b), nil
}
func (f *fakeConn) OutboundBuffered() int { return f.stuck }

// pipeline is a server with clients wired to fake connections on one loop,
// ready for dispatch calls: the whole PUB → match → queue → write path
// without syscalls.
type pipeline struct {
	srv  *Server
	loop *loop
	pub  *peer
	subs []*peer
	// remote are subscribers on other loops (addRemote).
	remote []*peer
}

func newPipeline(tb testing.TB, subscribers int, pattern string) *pipeline {
	cfg := testConfig("/nonexistent/bus.sock")
	srv, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	l := newLoop(srv, nil)
	mk := func() *peer {
		return newPeer(srv.nextID.Add(1), &fakeConn{}, l)
	}
	p := &pipeline{srv: srv, loop: l, pub: mk()}
	for range subscribers {
		cl := mk()
		if err := srv.subscribe(cl, []byte(pattern)); err != nil {
			tb.Fatal(err)
		}
		p.subs = append(p.subs, cl)
	}
	// What the subscribers' queues still hold goes back to the pool, as
	// OnClose would do, so the invariants build's audit of live messages
	// stays exact for the tests that follow.
	tb.Cleanup(func() {
		for _, cl := range append(p.subs, p.remote...) {
			cl.out.queue.Load().Close()
		}
	})
	return p
}

// addRemote subscribes a new fake connection to pattern from a loop of its
// own, whose gnet side only counts the tasks it is given: events reach the
// subscriber through its shared queue, and they reach its connection when
// the test runs the loop's task (loop.Run).
func (p *pipeline) addRemote(tb testing.TB, pattern string) (*peer, *loop, *countingLoop) {
	el := &countingLoop{}
	l := newLoop(p.srv, el)
	cl := newPeer(p.srv.nextID.Add(1), &fakeConn{}, l)
	if err := p.srv.subscribe(cl, []byte(pattern)); err != nil {
		tb.Fatal(err)
	}
	p.remote = append(p.remote, cl)
	return cl, l, el
}

// useConn puts c in place of cl's fake connection, on both sides.
func (p *pipeline) useConn(cl *peer, c gnet.Conn) {
	cl.conn = c
	cl.out.attach(c, p.loop)
}

// feed runs buf through the publisher's read path, as OnTraffic does.
func (p *pipeline) feed(buf []byte) int {
	n, _ := p.srv.dispatch(p.pub, buf)
	p.loop.endBatch()
	return n
}

func pubFrames(topic string, body []byte, count int) []byte {
	var b []byte
	for range count {
		b = codec.AppendFrame(b, codec.VerbPUB, topic, body)
	}
	return b
}
