package engine

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Frames a client has not finished sending stay in gnet's inbound buffer
// until the rest arrives: up to 1 MiB per connection, however slowly it
// comes. Two rules bound them:
//
//   - the budget (Config.MaxPendingBytes) bounds the bytes all connections
//     hold in unfinished frames; over it, the connections whose frames
//     have waited longest are closed until the rest fits (a healthy large
//     PUB completes in milliseconds; the frames that waited longest are the
//     stalled ones);
//   - the frame timeout (Config.FrameTimeout) closes, as a protocol error,
//     a connection whose frame (header or body) is still unfinished that
//     long after it began: a client that trickles a frame, or stalls in the
//     middle of one, holds its bytes and its slot for that long at most.
//
// The read path pays nothing for a read that ends on a frame boundary
// beyond one load (dispatchFrames). Most reads of a publisher that streams
// small frames end inside one (a read takes what the socket holds), so a
// new frame of at most smallTail bytes is only noted on the connection:
// the atomic account and total, whose locked instructions measured a cost
// per read there (BenchmarkReadEndsInsideFrame), take it when it outlasts
// a read or at the next scan. Time is never read on the read path: each
// loop's scan, on the ticker's task (scanUnfinished), stamps the frames
// that began since the previous scan, counts the small ones still there,
// and closes those that have waited too long, so a frame's age is known,
// and a small one counted, to within a scan period, which both rules can
// afford.

// unfinishedFrame is one connection's account.
//
// Written by the connection's loop only; held, since and shed are read by
// whichever loop sheds over the budget (shedOverBudget).
type unfinishedFrame struct {
	// n is how many bytes of an unfinished frame gnet's inbound buffer
	// kept after the last read; 0: none (loop-owned).
	n int
	// held is the part of n counted in the budget: all of it, or 0 while
	// the frame is a new one of at most smallTail bytes.
	held atomic.Int64
	// since is when that frame began, in Unix ns, as stamped by the scan;
	// 0: it began after its loop's last scan.
	since atomic.Int64
	// shed is 0; or held+1 once the connection was chosen to close over
	// the budget; or closing once it is closing for another reason or has
	// closed. Compare-and-swapped, so a connection is closed once.
	shed atomic.Int64
	// listed: on its loop's unfinished list (loop-owned).
	listed bool
}

// closing marks a connection that no shedder may choose (unfinishedFrame.shed).
const closing = -1

// unfinishedList is a loop's list of connections that held an unfinished
// frame at the end of a read. A connection joins when it first holds one
// and leaves at the first scan that finds it holding none, so a publisher
// whose reads keep ending inside frames joins once, not on every read.
// The loop writes it under mu; shedders on other loops read it under mu.
type unfinishedList struct {
	mu       sync.Mutex
	conns    []*peer
	lastScan int64 // Unix ns (loop-owned)
	// timer brings the loop a scan task scanTick after it first holds an
	// unfinished frame, and again after every scan that leaves some: a
	// loop with nothing unfinished is never woken to scan.
	timer wakeTimer
}

// scanTick is how often a loop holding unfinished frames scans them (its
// own timer brings the task: unfinishedList.timer); scanEvery is the
// shortest time between two scans, which other tasks may also bring.
const (
	scanTick  = 100 * time.Millisecond
	scanEvery = scanTick / 2
)

// smallTail is the largest new unfinished frame left out of the budget
// until it outlasts a read or a scan: at least a typical event frame, and
// at most this much per connection goes uncounted for a scan period.
const smallTail = 4096

// holdUnfinished records that cl's last read ended inside a frame, of which
// gnet keeps n bytes; completed: the read completed frames before it, so
// that it is a new one. It reports whether cl itself was closed over the
// budget: the caller then returns gnet.Close. Runs on cl's loop.
func (s *Server) holdUnfinished(cl *peer, n int, completed bool) (closeSelf bool) {
	u := &cl.limits.unfinished
	newFrame := completed || u.n == 0
	if newFrame && u.since.Load() != 0 {
		u.since.Store(0)
	}
	u.n = n
	if !u.listed {
		cl.loop.listUnfinished(cl)
	}
	counted := int64(n)
	if newFrame && n <= smallTail {
		counted = 0
	}
	return s.countUnfinished(cl, counted)
}

// countUnfinished sets the part of cl's unfinished frame counted in the
// budget, and closes connections if that takes the total over it (see
// holdUnfinished). Runs on cl's loop.
func (s *Server) countUnfinished(cl *peer, counted int64) (closeSelf bool) {
	u := &cl.limits.unfinished
	old := u.held.Load()
	if counted == old {
		return false
	}
	u.held.Store(counted)
	total := s.limits.pendingBytes.Add(counted - old)
	budget := int64(s.cfg.MaxPendingBytes)
	if budget > 0 && counted > old && total-s.limits.shedding.Load() > budget {
		if u.shed.Load() > 0 {
			return true // already chosen: stop reading into it
		}
		return s.shedOverBudget(cl)
	}
	return false
}

// finishUnfinished records that cl's last read ended on a frame boundary
// after it held an unfinished frame. Runs on cl's loop. Not inlined: the
// read loop (dispatchFrames) keeps the code it had, and a compare.
//
//go:noinline
func (s *Server) finishUnfinished(cl *peer) {
	u := &cl.limits.unfinished
	u.n = 0
	if held := u.held.Load(); held != 0 {
		u.held.Store(0)
		s.limits.pendingBytes.Add(-held)
	}
	if u.since.Load() != 0 {
		u.since.Store(0)
	}
}

// releaseUnfinished closes cl's account when its connection closes, and
// reports whether it was closed over the budget (its unfinished frame is
// then not a protocol error). Runs on cl's loop, in OnClose.
func (s *Server) releaseUnfinished(cl *peer) (shed bool) {
	u := &cl.limits.unfinished
	if held := u.held.Swap(0); held != 0 {
		s.limits.pendingBytes.Add(-held)
	}
	if u.n != 0 {
		s.limits.release.add(int64(u.n))
		u.n = 0
	}
	prev := u.shed.Swap(closing)
	if prev > 0 {
		s.limits.shedding.Add(-(prev - 1))
	}
	return prev > 0
}

// countUnfinishedLater counts in the budget the small new frame that cl
// still holds at a scan, and reports whether that takes the total over
// it. The scan sheds afterwards, outside the list's lock.
func (s *Server) countUnfinishedLater(cl *peer) (over bool) {
	u := &cl.limits.unfinished
	old := u.held.Swap(int64(u.n))
	total := s.limits.pendingBytes.Add(int64(u.n) - old)
	budget := int64(s.cfg.MaxPendingBytes)
	return budget > 0 && total-s.limits.shedding.Load() > budget
}

func (l *loop) listUnfinished(cl *peer) {
	cl.limits.unfinished.listed = true
	l.unfinished.mu.Lock()
	first := len(l.unfinished.conns) == 0
	l.unfinished.conns = append(l.unfinished.conns, cl)
	l.unfinished.mu.Unlock()
	if first {
		l.armScan()
	}
}

// armScan makes sure a scan task reaches the loop scanTick from now. Loop
// goroutine only.
func (l *loop) armScan() { l.unfinished.timer.arm(l, scanTick) }

// scanUnfinished runs on the loop's tasks (loop.Run), at most every
// scanEvery: it stamps the frames that began since the last scan and
// counts them in the budget, closes the connections whose frame has waited
// FrameTimeout, and drops from the list the connections that hold no
// unfinished frame any more. now is Unix ns.
func (l *loop) scanUnfinished(now int64) {
	list := &l.unfinished
	if len(list.conns) == 0 || now-list.lastScan < int64(scanEvery) {
		return
	}
	list.lastScan = now
	s := l.srv
	timeout := int64(s.cfg.FrameTimeout)
	overBudget := false
	list.mu.Lock()
	kept := list.conns[:0]
	for _, cl := range list.conns {
		u := &cl.limits.unfinished
		if u.n == 0 {
			u.listed = false
			continue
		}
		kept = append(kept, cl)
		since := u.since.Load()
		switch {
		case since == 0:
			u.since.Store(now)
			if u.held.Load() != int64(u.n) && s.countUnfinishedLater(cl) {
				overBudget = true
			}
		case timeout > 0 && now-since >= timeout && u.shed.CompareAndSwap(0, closing):
			s.frameTimedOut(cl, time.Duration(now-since))
		}
	}
	clear(list.conns[len(kept):])
	list.conns = kept
	list.mu.Unlock()
	if len(kept) > 0 {
		l.armScan()
	}
	if overBudget {
		s.shedOverBudget(nil) // closes through gnet: no connection is "self"
	}
}

// frameTimedOut closes cl, whose frame has waited too long, as a protocol
// error. Runs on cl's loop.
func (s *Server) frameTimedOut(cl *peer, waited time.Duration) {
	cl.protoErr = true
	cl.loop.protocolErrors.Add(1)
	s.limits.frameTimeouts.Add(1)
	s.limits.log.Warn("protocol error, closing connection", append(cl.logAttrs(),
		"err", s.limits.errFrameTimeout, "held", cl.limits.unfinished.held.Load(), "waited", waited.Round(time.Millisecond))...)
	_ = cl.conn.Close() // asynchronous: OnClose runs later on this loop
}

// shedCandidate is a connection the budget may close, as the shedder saw it.
type shedCandidate struct {
	cl          *peer
	since, held int64
}

// shedOverBudget closes connections, those whose unfinished frame has
// waited longest first, until what the others hold fits the budget. It
// reports whether self (whose read crossed the budget) is one of them: the
// caller closes it by returning gnet.Close; the others are closed through
// gnet, each on its own loop. Their bytes count as freed from now on (in
// limits.shedding until their OnClose), so the next shedder does not close
// more for the same excess. Runs on self's loop; one shedder at a time.
func (s *Server) shedOverBudget(self *peer) (closeSelf bool) {
	lim := &s.limits
	lim.shedMu.Lock()
	defer lim.shedMu.Unlock()
	budget := int64(s.cfg.MaxPendingBytes)
	over := lim.pendingBytes.Load() - lim.shedding.Load() - budget
	if over <= 0 {
		return false
	}
	cands := lim.candidates[:0]
	for _, l := range s.allLoops() {
		l.unfinished.mu.Lock()
		for _, cl := range l.unfinished.conns {
			u := &cl.limits.unfinished
			if held := u.held.Load(); held > 0 && u.shed.Load() == 0 {
				since := u.since.Load()
				if since == 0 {
					since = math.MaxInt64 // began after its loop's last scan: among the youngest
				}
				cands = append(cands, shedCandidate{cl: cl, since: since, held: held})
			}
		}
		l.unfinished.mu.Unlock()
	}
	// Oldest first; among frames stamped by the same scan, the largest.
	slices.SortFunc(cands, func(a, b shedCandidate) int {
		return cmp.Or(cmp.Compare(a.since, b.since), cmp.Compare(b.held, a.held))
	})
	now := time.Now().UnixNano()
	for _, c := range cands {
		if over <= 0 {
			break
		}
		if !c.cl.limits.unfinished.shed.CompareAndSwap(0, c.held+1) {
			continue // closing meanwhile
		}
		lim.shedding.Add(c.held)
		lim.budgetCloses.Add(1)
		over -= c.held
		c.cl.infoMu.Lock() // name is written by the connection's own loop
		attrs := c.cl.logAttrs()
		c.cl.infoMu.Unlock()
		attrs = append(attrs, "held", c.held, "budget", budget)
		if c.since != math.MaxInt64 {
			attrs = append(attrs, "waited", time.Duration(now-c.since).Round(time.Millisecond))
		}
		lim.log.Warn("closing connection: bytes held in unfinished frames over the budget", attrs...)
		if c.cl == self {
			closeSelf = true
		} else {
			_ = c.cl.conn.Close() // asynchronous, on the connection's loop
		}
	}
	clear(cands)
	lim.candidates = cands[:0]
	return closeSelf
}

// frameTimeoutError is the protocol error of FrameTimeout, naming it.
func frameTimeoutError(timeout time.Duration) error {
	return fmt.Errorf("frame not completed within %v", timeout)
}
