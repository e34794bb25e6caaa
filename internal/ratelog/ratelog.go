// Package ratelog writes warnings that a client (or a peer) can trigger
// at will, at most Burst lines per Period: a flood of bad input costs the
// log a few lines a second. The caller counts every event elsewhere
// (metrics); the next line written says how many were left out.
package ratelog

import (
	"log/slog"
	"sync"
	"time"
)

// Defaults used by the zero Log.
const (
	DefaultBurst  = 20
	DefaultPeriod = time.Second
)

// Log is a rate-limited warning log. Set Logger before use; Burst and
// Period default to DefaultBurst and DefaultPeriod. Safe for concurrent use.
type Log struct {
	Logger *slog.Logger
	Burst  int
	Period time.Duration

	mu         sync.Mutex
	window     time.Time // start of the current period
	written    int       // lines written in it
	suppressed int       // lines left out since the last one written
}

// Warn logs msg with attrs unless the period's lines are used up. The
// caller's attrs slice may be appended to.
func (l *Log) Warn(msg string, attrs ...any) {
	burst, period := l.Burst, l.Period
	if burst <= 0 {
		burst = DefaultBurst
	}
	if period <= 0 {
		period = DefaultPeriod
	}
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.window) >= period {
		l.window, l.written = now, 0
	}
	if l.written >= burst {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.written++
	suppressed := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	if suppressed > 0 {
		attrs = append(attrs, "suppressed_before", suppressed)
	}
	if l.Logger != nil {
		l.Logger.Warn(msg, attrs...)
	}
}
