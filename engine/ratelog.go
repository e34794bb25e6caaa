package engine

import (
	"log/slog"
	"sync"
	"time"
)

// limitLog writes the warnings of the limits (limits.go, pending.go) at
// most limitLogBurst per limitLogPeriod, across all loops: a client that
// trips a limit in a loop, or thousands that trip it at once, cost the log
// a few lines a second. Every event is counted in Stats whether or not its
// line is written, and the next line written says how many were left out.
type limitLog struct {
	mu         sync.Mutex
	logger     *slog.Logger
	window     time.Time // start of the current period
	written    int       // lines written in it
	suppressed int       // lines left out since the last one written
}

const (
	limitLogBurst  = 20
	limitLogPeriod = time.Second
)

// warn logs msg with attrs unless the period's lines are used up. The
// caller's attrs slice may be appended to.
func (ll *limitLog) warn(msg string, attrs ...any) {
	now := time.Now()
	ll.mu.Lock()
	if now.Sub(ll.window) >= limitLogPeriod {
		ll.window, ll.written = now, 0
	}
	if ll.written >= limitLogBurst {
		ll.suppressed++
		ll.mu.Unlock()
		return
	}
	ll.written++
	suppressed := ll.suppressed
	ll.suppressed = 0
	ll.mu.Unlock()
	if suppressed > 0 {
		attrs = append(attrs, "suppressed_before", suppressed)
	}
	ll.logger.Warn(msg, attrs...)
}
