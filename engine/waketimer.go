package engine

import "time"

// wakeTimer brings its loop a task (loop.Run) after a delay, so that a
// loop with something to do later (retry a backlog, scan unfinished
// frames) wakes itself rather than the ticker waking every loop on a
// schedule. Arming it again before it fires pushes it back: a busy loop
// that does the work itself meanwhile is never woken for it. Loop
// goroutine only; the timer is made on first use.
type wakeTimer struct{ t *time.Timer }

func (w *wakeTimer) arm(l *loop, d time.Duration) {
	if l.el == nil {
		return // a loop outside gnet (the tests' pipelines): nothing to wake
	}
	if w.t == nil {
		w.t = time.AfterFunc(d, func() { l.inbox.schedule(nil) })
		return
	}
	w.t.Reset(d)
}
