package engine

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// After a burst, such as hundreds of connections closing with large
// unfinished frames, or a client dropping many thousands of subscriptions,
// the Go runtime keeps the freed memory for minutes: gnet pools a closed
// connection's buffers (sync.Pools, which let go of what they hold only
// over two collections), and an idle daemon allocates too little to start
// collections of its own. So the engine counts what bursts free and, once
// that reaches Config.ReleaseAfterBytes and no more has been freed for
// releaseQuiet, runs two collections and hands the free memory back to the
// operating system, on a goroutine of its own, at most once per
// releaseEvery. A soft memory limit (GOMEMLIMIT) was measured as the
// alternative and rejected: set above the daemon's legitimate peaks it
// returns little, set below them it makes the collector run without end
// (bench/decisions/limits.md).

// releaseState counts what bursts freed and runs the releases.
type releaseState struct {
	// freed is what was let go since the last release, in bytes:
	// unfinished frames of connections that closed, and an estimate of
	// removed subscriptions (subscriptionOverhead).
	freed atomic.Int64
	// lastFreedNs is when freed last grew (Unix ns).
	lastFreedNs atomic.Int64
	releases    atomic.Uint64
	running     atomic.Bool
	lastRelease time.Time // ticker goroutine only
}

// subscriptionOverhead is what a subscription costs beyond its pattern's
// bytes, at least (BenchmarkSubscriptionMemory): each removed subscription
// counts that much toward a release.
const subscriptionOverhead = 256

const (
	// releaseQuiet is how long nothing more must have been freed before a
	// release: the burst is over, and one release covers all of it.
	releaseQuiet = time.Second
	// releaseEvery is the shortest time between two releases, whose
	// collections cost CPU.
	releaseEvery = 10 * time.Second
)

// add counts n freed bytes. Called from any loop.
func (r *releaseState) add(n int64) {
	r.freed.Add(n)
	r.lastFreedNs.Store(time.Now().UnixNano())
}

// maybeRelease starts a release when one is due. Runs on the ticker
// goroutine.
func (s *Server) maybeRelease(now time.Time) {
	r := &s.limits.release
	threshold := int64(s.cfg.ReleaseAfterBytes)
	if threshold == 0 {
		return
	}
	freed := r.freed.Load()
	if freed < threshold || r.running.Load() ||
		now.UnixNano()-r.lastFreedNs.Load() < int64(releaseQuiet) || now.Sub(r.lastRelease) < releaseEvery {
		return
	}
	r.freed.Add(-freed)
	r.lastRelease = now
	r.running.Store(true)
	go func() {
		defer r.running.Store(false)
		start := time.Now()
		runtime.GC() // moves pooled buffers to the pools' victim caches
		debug.FreeOSMemory()
		r.releases.Add(1)
		s.cfg.Logger.Debug("memory handed back to the operating system after a burst",
			"freed_estimate", freed, "took", time.Since(start).Round(time.Microsecond))
	}()
}
