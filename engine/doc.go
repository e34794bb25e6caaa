// Package engine is the busd daemon: it owns the socket, runs the gnet
// event loops, parses frames, matches topics against the subscription
// index and delivers events to every matching connection, each through its
// own bounded, drop-oldest output path.
//
// # Where things are
//
//   - dispatch.go: frames to verbs; publish and fanOut, which hand an
//     event to each subscriber's outbox.
//   - outbox.go, with spill.go and dropnotice.go: one subscriber's output
//     path, and every rule about what reaches its socket and in which order.
//     A new delivery rule goes there; its comment draws the states.
//   - batch.go, backlog.go, inbox.go, directpool.go: what a loop keeps for
//     its outboxes: the read batch and its dirty list, the backlog retried
//     after a full socket, the inbox other goroutines wake it through, and
//     the direct buffers it lends.
//   - limits.go, pending.go, release.go: what no client can make the
//     daemon hold: patterns per connection and in total, bytes in
//     unfinished frames and how long one may take, and handing memory back
//     to the OS after a burst. A new bound goes there.
//   - capture.go: the daemon's side of a capture (package capture): the
//     tap at each frame and connection event, one atomic load and a branch
//     when no capture runs.
//   - The rest: gnet's callbacks and the ticker (handler.go), the socket
//     and the accept loop, heartbeats, Stats and Connections, the Server's
//     life cycle and its Config.
//
// # Goroutines
//
// Event loops. gnet runs Config.Loops event loops, each on one goroutine. A
// loop owns its loop value and, for each of its connections, the peer and
// its outbox: gnet calls OnOpen, OnTraffic and OnClose for a connection
// on its loop only, and the engine's own tasks for the loop (below) run
// there too. Nothing a loop owns is locked; what other goroutines must read
// is atomic.
//
// The ticker. gnet calls OnTick on a goroutine of its own. It starts the
// accept loop (first tick), calls Config.OnTick while every loop is alive,
// publishes heartbeats (fanOut with no loop: every subscriber is reached
// through its queue), and gives a loop a task only when one is due: a
// liveness task each livenessTick() while a watchdog reads it, a retry of
// its backlog (handler.scheduleLoopTasks); a loop holding unfinished frames
// has its own timer for their scans (pending.go). An idle daemon with no
// watchdog wakes no loop at all. It owns the
// handler's fields and Server.nextHeartbeat.
//
// The accept loop. The engine's own goroutine accepts on the
// daemon's listener and registers each connection with gnet, one at a time,
// waiting for OnOpen on the chosen loop to keep or refuse it. It owns
// nothing the loops touch.
//
// Cross-loop tasks. A publisher on loop A whose subscriber is on loop B
// pushes into the subscriber's shared queue (lock-free, ring.Ring) and puts
// its outbox in B's inbox; the inbox keeps one gnet Execute on its way at a
// time, whose task (loop.Run) runs on B's goroutine, flushes every outbox
// in the inbox and retries B's backlog. The ticker's tasks are the
// same task with nothing in the inbox. So code in a task runs as the loop
// and may touch everything the loop owns.
//
// The release goroutine. After a burst freed enough memory, the ticker
// starts one goroutine that collects and hands memory back to the OS
// (release.go); it touches only the runtime and an atomic flag.
//
// The capture writer. While a capture runs, package capture's recorder
// owns one goroutine that drains the loops' lanes (one per loop, each
// written by its loop only) into the files; it touches nothing of the
// engine. StartCapture and StopCapture run on the caller's goroutine (the
// admin socket's) and swap the recorder the loops load.
//
// Readers. Stats, Connections and IndexStats may be called from any
// goroutine (the admin socket's, a command's): they read atomics, the
// connection map (xsync), and a peer's name and patterns under its infoMu.
// Run and Shutdown share the engine's life-cycle fields under Server.mu.
//
// # Order
//
// Events from one publisher reach one subscriber in publish order. A
// connection's frames are dispatched one after another on its loop, so a
// publisher hands its events to a subscriber's outbox in order; the outbox
// keeps that order whichever path each event takes:
//
//   - Same loop, direct. An event is copied into the direct buffer only
//     while the shared queue is empty and the outbox is not backlogged, so
//     nothing of this publisher waits ahead of it elsewhere; once an event
//     of the publisher goes to the queue instead, the next ones find the
//     queue non-empty and follow it there, until a flush has written it. A flush writes the direct buffer
//     before the queue, and a full direct buffer is written mid-batch only
//     while the queue is empty.
//   - Shared queue. Pushes from one goroutine leave the ring in push order
//     (ring.Ring's order invariant), whether popped or evicted.
//   - Spill. An outbox spills only when backlogged, and a flush that
//     backlogs it has written and returned its direct buffer first.
//     Entering the spill moves the queue's events in before the event that
//     caused it, and every flush moves in what other goroutines pushed since
//     before writing; while the spill holds anything it is the only
//     outbound queue. The spill is FIFO and drops its oldest first.
//
// Drops remove the oldest events and never reorder the rest; a drop notice
// goes out before the next delivered event. Events of different publishers
// have no order between them.
//
// # Borrowed buffers
//
// How long each buffer that code receives without owning stays valid:
//
//   - gnet's inbound buffer (c.Peek in OnTraffic): during dispatch only,
//     gnet discards it after. Whatever outlives dispatch is copied: patterns
//     and names into strings, events into frames.
//   - A delivery's topic and body: during that fanOut only. They point into
//     the inbound buffer, into the loop's envelope buffer (an empty PUB
//     body), or into the heartbeat's own. Its frame, the first encoded copy,
//     lives in one subscriber's direct buffer or spill, or in the shared
//     message; only that subscriber's own delivery writes its buffer or
//     spill, and each subscriber is visited once, so the frame holds until
//     the fanOut returns.
//   - The loop's envelope buffer (loop.envelope): written only by publish,
//     for an empty body, and read by that publish's fanOut; the next write
//     is the next publish on the loop, after that fanOut has returned. The
//     drop notice builds its payload on its own stack.
//   - The loop's write buffer (loop.wbuf): within one outbox.flush. conn.Write
//     copies what the kernel does not take at once, so nothing refers to it
//     after the write; a flush never runs inside another (OnClose, which a
//     failed write runs, does not flush).
//   - A direct buffer (outbox.direct): lent by the loop's pool from the
//     outbox's first direct event of a batch until the flush that ends the
//     batch, or the connection's close, gives it back.
//   - A shared message (codec.Message): one reference per queue holding it;
//     a flush releases its reference once the frame is written (copied by
//     gnet if need be), the queue when it evicts or discards it.
package engine
