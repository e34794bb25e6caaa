package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// handler is the gnet event handler: connection life cycle, reads, and the
// ticker. Frame semantics live in dispatch.go, writes in outbox.go.
type handler struct {
	gnet.BuiltinEventEngine
	srv   *Server
	ready func()
	// gnetDir holds gnet's idle listener until OnBoot removes it.
	gnetDir string
	// accepting: the accept loop runs (ticker goroutine only).
	accepting bool
	// nextLivenessTask is when every loop gets its next liveness task
	// (with a watchdog), and backlogDelay the ticker's current delay while
	// some loop has a backlog (ticker goroutine only; see
	// scheduleLoopTasks).
	nextLivenessTask time.Time
	backlogDelay     time.Duration
}

func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	s := h.srv
	// gnet has bound its listener; it stays bound to the unlinked inode.
	_ = os.RemoveAll(h.gnetDir)
	s.mu.Lock()
	s.eng, s.booted = eng, true
	stopping := s.stopping
	s.mu.Unlock()
	if stopping {
		return gnet.Shutdown
	}
	s.nextHeartbeat = time.Now().Add(s.cfg.Heartbeat)
	s.cfg.Logger.Info("listening", "socket", s.cfg.Socket, "loops", s.cfg.Loops)
	if h.ready != nil {
		h.ready()
	}
	return gnet.None
}

func (h *handler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s := h.srv
	if s.active.Add(1) > int64(s.cfg.MaxConns) {
		s.active.Add(-1)
		s.rejected.Add(1)
		s.cfg.Logger.Warn("connection refused: connection cap reached", "max_conns", s.cfg.MaxConns)
		return nil, gnet.Close
	}
	if limit, near := nearFileLimit(c.Fd()); near {
		s.active.Add(-1)
		s.rejected.Add(1)
		s.cfg.Logger.Warn("connection refused: open-files limit nearly reached", "fd", c.Fd(), "nofile", limit)
		return nil, gnet.Close
	}
	s.accepted.Add(1)
	cl := newPeer(s.nextID.Add(1), c, s.loopOf(c.EventLoop()))
	cl.readPeer(c.Fd())
	c.SetContext(cl)
	if rec := s.capture.recorder.Load(); rec != nil {
		rec.Opened(cl.loop.lane, cl.id, cl.pid, cl.uid)
	}
	s.clients.Store(cl.id, cl)
	if s.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
		s.cfg.Logger.Debug("connection opened", cl.logAttrs()...)
	}
	return nil, gnet.None
}

func (h *handler) OnClose(c gnet.Conn, err error) gnet.Action {
	cl, _ := c.Context().(*peer)
	if cl == nil {
		return gnet.None // refused at the cap
	}
	s := h.srv
	c.SetContext(nil)
	shed := s.releaseUnfinished(cl)
	if c.InboundBuffered() > 0 && (err == nil || errors.Is(err, io.EOF)) && !cl.protoErr && !shed {
		s.protocolError(cl, errTruncatedFrame)
	}
	cl.infoMu.Lock()
	patterns := cl.patterns
	cl.patterns = nil
	cl.infoMu.Unlock()
	for p := range patterns {
		s.index.Remove(p, cl)
	}
	s.patternSetRemoved(patterns)
	drops := cl.out.close()
	s.closedDrops.Add(drops)
	if rec := s.capture.recorder.Load(); rec != nil {
		rec.Closed(cl.loop.lane, cl.id, drops, cl.protoErr)
	}
	s.clients.Delete(cl.id)
	s.active.Add(-1)
	if s.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
		s.cfg.Logger.Debug("connection closed", append(cl.logAttrs(), "err", err)...)
	}
	return gnet.None
}

func (h *handler) OnTraffic(c gnet.Conn) gnet.Action {
	cl, _ := c.Context().(*peer)
	if cl == nil {
		return gnet.Close
	}
	if cl.need > 0 {
		if n := c.InboundBuffered(); n < cl.need {
			// The frame being received is still incomplete.
			if h.srv.holdUnfinished(cl, n, false) {
				return gnet.Close // over the pending-bytes budget
			}
			return gnet.None
		}
	}
	buf, _ := c.Peek(-1)
	consumed, action := h.srv.dispatch(cl, buf)
	if consumed > 0 {
		// Discard(0) would drop everything buffered.
		_, _ = c.Discard(consumed)
	}
	cl.loop.endBatch()
	return action
}

// OnTick runs on gnet's ticker goroutine: heartbeats, and a retry for
// subscribers whose outbound buffer was full (gnet tells no one when it
// drains).
func (h *handler) OnTick() (time.Duration, gnet.Action) {
	s := h.srv
	now := time.Now()
	if !h.accepting {
		// The first tick comes once gnet's event loops run: connections can
		// be registered from now on.
		h.accepting = true
		s.mu.Lock()
		ln, eng := s.ln, s.eng
		s.mu.Unlock()
		go s.acceptLoop(ln, eng)
	}
	if s.cfg.OnTick != nil && s.loopsAlive(now) {
		s.cfg.OnTick()
	}
	if s.cfg.Heartbeat > 0 && !now.Before(s.nextHeartbeat) {
		s.heartbeat(now)
		s.nextHeartbeat = now.Add(s.cfg.Heartbeat)
	}
	s.maybeRelease(now)
	delay := h.scheduleLoopTasks(now)
	if s.cfg.Heartbeat > 0 {
		delay = min(delay, max(time.Until(s.nextHeartbeat), time.Millisecond))
	}
	return delay, gnet.None
}

// loopsAlive reports whether every event loop answered the ticker lately.
func (s *Server) loopsAlive(now time.Time) bool {
	timeout := max(livenessTimeout, 3*s.livenessTick())
	for _, l := range s.allLoops() {
		if !l.alive(now, timeout) {
			s.cfg.Logger.Error("event loop stuck: withholding the watchdog ping", "since", time.Unix(0, l.lastRun.Load()))
			return false
		}
	}
	return true
}

// scheduleLoopTasks gives the loops the tasks that are due and returns the
// delay to the next tick. A task (loop.Run) proves that a loop still runs
// and retries its backlogged subscribers (gnet tells no one when an
// outbound buffer drains); scans of unfinished frames come on each loop's
// own timer (pending.go). Each is sent only where it is needed, so that an
// idle daemon wakes no loop:
//
//   - liveness, every livenessTick(), to every loop, and only when someone
//     reads it (Config.OnTick, the watchdog): a loop that cannot run a task
//     withholds the ping. Each wakes an idle loop, and a loop's wakeup
//     after a long sleep wakes the Go runtime's monitor thread for some
//     fifty more (bench/decisions/engine.md, "Idle"): hence the longest
//     period the watchdog allows (Config.OnTickEvery);
//   - a retry, to a loop with a backlog that it has not retried itself for
//     backlogTick. A busy loop retries at the end of its batches
//     (endBatch): a ticker wakeup every backlogTick beside it cost a fast
//     subscriber next to a stuck one a measurable share of its rate (W6;
//     bench/decisions/engine.md, "Backlog retries"). While every backlog
//     is being retried that way the ticker backs off, doubling its delay
//     up to maxBacklogTick, so a loop that goes quiet leaves its backlog
//     waiting at most that long once, then retries every backlogTick.
//
// With none of these due the ticker itself sleeps maxIdleTick (less until
// a heartbeat, OnTick).
func (h *handler) scheduleLoopTasks(now time.Time) time.Duration {
	watchdog := h.srv.cfg.OnTick != nil
	liveness := watchdog && !now.Before(h.nextLivenessTask)
	if liveness {
		h.nextLivenessTask = now.Add(h.srv.livenessTick())
	}
	backlog, stale := false, false
	for _, l := range h.srv.allLoops() {
		hasBacklog := l.backlog.has.Load()
		retryDue := hasBacklog && now.UnixNano()-l.backlog.lastRetry.Load() >= int64(backlogTick)
		backlog = backlog || hasBacklog
		stale = stale || retryDue
		if liveness || retryDue {
			l.inbox.schedule(nil)
		}
	}
	switch {
	case !backlog:
		h.backlogDelay = 0
		if watchdog {
			return min(maxIdleTick, h.nextLivenessTask.Sub(now))
		}
		return maxIdleTick
	case stale || h.backlogDelay == 0:
		h.backlogDelay = backlogTick
	default:
		h.backlogDelay = min(2*h.backlogDelay, maxBacklogTick)
	}
	return h.backlogDelay
}

// livenessTick is how often each loop proves it runs while a watchdog
// reads it: Config.OnTickEvery, else well within livenessTimeout (so from
// it: tests shorten that).
func (s *Server) livenessTick() time.Duration {
	if s.cfg.OnTickEvery > 0 {
		return s.cfg.OnTickEvery
	}
	return livenessTimeout / 5
}

const (
	// maxIdleTick bounds the ticker's sleep when nothing is due (memory
	// release after a burst, maybeRelease, waits at most this long).
	maxIdleTick    = 10 * time.Second
	backlogTick    = 2 * time.Millisecond
	maxBacklogTick = 32 * time.Millisecond
)

// nearFileLimit reports whether a connection on descriptor fd leaves too
// little headroom (fdHeadroom, config.go) under the open-files limit, read at every call because
// it may be lowered while the daemon runs. Descriptors are allocated lowest
// first, so fd is at least the number of descriptors in use.
func nearFileLimit(fd int) (limit uint64, near bool) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return lim.Cur, uint64(fd)+fdHeadroom >= lim.Cur
}

func (cl *peer) readPeer(fd int) {
	if cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
		cl.pid, cl.uid, cl.gid = cred.Pid, cred.Uid, cred.Gid
	}
}

func (cl *peer) logAttrs() []any {
	return []any{"conn", cl.id, "name", cl.name, "pid", cl.pid, "uid", cl.uid, "gid", cl.gid}
}
