package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// peer is the daemon's state for one connection: who it is, what it
// subscribed to, its reading side, and its outbox (the writing side,
// outbox.go).
//
// Ownership: every plain field is read and written only on the connection's
// own event loop (gnet runs OnOpen, OnTraffic, OnClose and inbox tasks for a
// connection on one goroutine). name and patterns are also read by
// Connections, under infoMu; framesIn and bytesIn are atomic for Stats; the
// outbox says who may call which of its methods.
type peer struct {
	id    uint64
	conn  gnet.Conn
	loop  *loop
	since time.Time
	name  string
	// Peer credentials (SO_PEERCRED) at connect time.
	pid      int32
	uid, gid uint32
	// protoErr: this connection sent a hostile frame and is being closed.
	protoErr bool
	// bridge: the connection's HELLO name is a bridge's
	// (codec.IsBridgeName). Bridges form one no-echo group (fanOut).
	// Set on the connection's loop, read by every publisher's. Beside
	// protoErr, in what was padding: the fields below keep their offsets.
	bridge atomic.Bool

	// patterns is this connection's subscription set; the index holds the
	// same pairs. Removed from the index when the connection closes.
	// Written on the loop under infoMu, so that Connections can read it
	// (and name) from another goroutine; SUB and UNSUB are rare.
	patterns map[string]struct{}
	infoMu   sync.Mutex

	// need is how many buffered bytes the frame being received needs before
	// parsing it again is worth it (0: unknown, parse on every read).
	need int

	// out is where the events this connection subscribed to go.
	out outbox

	framesIn atomic.Uint64
	bytesIn  atomic.Uint64

	// limits is this connection's side of the limits (limits.go,
	// pending.go). Last, so that the fields above keep their offsets.
	limits peerLimits
}

// newPeer is the state of connection c, served by loop l.
func newPeer(id uint64, c gnet.Conn, l *loop) *peer {
	cl := &peer{id: id, conn: c, loop: l, since: time.Now()}
	cl.out.attach(c, l)
	return cl
}
