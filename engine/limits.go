package engine

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"busd/codec"
	"busd/internal/ratelog"
)

// Every connected process is trusted (the socket's mode is the
// authorization), but a buggy one must not take the host's memory. The
// limits bound what connections make the daemon hold: subscription
// patterns (here), and bytes of frames not yet complete (pending.go).
// Their defaults are far above what the platform's workers use and far
// below what hurts a host: see DefaultConfig, and bench/decisions/limits.md
// for the measurements.

// limitState is the server's side of the limits. Its counters are atomic:
// every loop trips limits, Stats reads them from anywhere.
type limitState struct {
	log ratelog.Log

	// patterns counts the entries of every connection's pattern set
	// (what MaxPatterns bounds): added before a pattern is stored, so
	// that loops subscribing at once cannot overshoot together.
	patterns       atomic.Int64
	refusedPerConn atomic.Uint64
	refusedTotal   atomic.Uint64

	// The pending-bytes budget and frame timeout (pending.go).
	pendingBytes  atomic.Int64 // held in unfinished frames, every connection
	shedding      atomic.Int64 // of which held by connections closed over the budget, not yet gone
	shedMu        sync.Mutex   // one shedder at a time; guards candidates
	candidates    []shedCandidate
	budgetCloses  atomic.Uint64
	frameTimeouts atomic.Uint64
	// errFrameTimeout names the configured timeout, for the log.
	errFrameTimeout error

	// Memory handed back after bursts (release.go).
	release releaseState
}

// peerLimits is a connection's side of the limits.
type peerLimits struct {
	unfinished unfinishedFrame
	// refused counts this connection's refused SUBs (atomic for
	// Connections), and lastRefusalNs is when one was last logged and
	// noticed (loop-owned): a client that sends thousands costs one line
	// and one notice a second.
	refused       atomic.Uint64
	lastRefusalNs int64
}

// Why a SUB was refused: the label of busd_subscriptions_refused_total.
const (
	refusedPerConn = "conn_limit"
	refusedTotal   = "total_limit"
)

// refusedTopic carries refusal notices: a connection whose SUB was refused
// gets one EVT on this topic, to itself alone, if one of its patterns
// matches it. Deployed clients that never asked see nothing new.
var refusedTopic = []byte("system.bus.refused")

// A SUB over a limit is refused, and the connection stays open, with the
// patterns it already has. Closing it instead (a protocol error) would
// punish the deployed clients twice: they reconnect and resubscribe every
// pattern after a close, so a client over the limit would lose all its
// subscriptions, not just the extra ones, and storm the daemon with
// reconnects that hit the limit again each time. NATS answers the same
// way (an error for the one subscription, the connection stays). The
// protocol has no reply to a SUB; the refusal is logged and counted, and
// told to clients that subscribe to refusedTopic.

// admitPattern reports whether cl may add one more pattern, which it does
// not have yet, and counts it if so; a refusal is logged, counted and
// noticed. Runs on cl's loop.
func (s *Server) admitPattern(cl *peer, pattern []byte) bool {
	if limit := s.cfg.MaxPatternsPerConn; limit > 0 && len(cl.patterns) >= limit {
		s.limits.refusedPerConn.Add(1)
		s.refusePattern(cl, pattern, refusedPerConn, limit)
		return false
	}
	n := s.limits.patterns.Add(1)
	if limit := s.cfg.MaxPatterns; limit > 0 && n > int64(limit) {
		s.limits.patterns.Add(-1)
		s.limits.refusedTotal.Add(1)
		s.refusePattern(cl, pattern, refusedTotal, limit)
		return false
	}
	return true
}

// patternRemoved gives back what admitPattern counted for pattern.
func (s *Server) patternRemoved(pattern []byte) {
	s.limits.patterns.Add(-1)
	s.limits.release.add(int64(len(pattern) + subscriptionOverhead))
}

// patternSetRemoved gives back what admitPattern counted for a closed
// connection's patterns.
func (s *Server) patternSetRemoved(patterns map[string]struct{}) {
	if len(patterns) == 0 {
		return
	}
	freed := 0
	for p := range patterns {
		freed += len(p) + subscriptionOverhead
	}
	s.limits.patterns.Add(-int64(len(patterns)))
	s.limits.release.add(int64(freed))
}

// refusalEvery is how often one connection's refusals are logged and
// noticed at most; the first always is.
const refusalEvery = time.Second

func (s *Server) refusePattern(cl *peer, pattern []byte, reason string, limit int) {
	lim := &cl.limits
	refused := lim.refused.Add(1)
	now := time.Now()
	if refused > 1 && now.UnixNano()-lim.lastRefusalNs < int64(refusalEvery) {
		return
	}
	lim.lastRefusalNs = now.UnixNano()
	s.limits.log.Warn("SUB refused: pattern limit reached", append(cl.logAttrs(),
		"reason", reason, "limit", limit, "pattern", logPrefix(pattern), "refused_on_conn", refused)...)
	s.noticeRefusal(cl, pattern, reason, limit, refused, now)
}

// noticeRefusal sends cl the refusal notice, if it asked for notices.
func (s *Server) noticeRefusal(cl *peer, pattern []byte, reason string, limit int, refused uint64, now time.Time) {
	if !s.subscribedTo(cl, refusedTopic) {
		return
	}
	payload := []byte(`{"pattern": `)
	payload = codec.AppendJSONString(payload, pattern)
	payload = append(payload, `, "reason": "`...)
	payload = append(payload, reason...)
	payload = append(payload, `", "limit": `...)
	payload = strconv.AppendInt(payload, int64(limit), 10)
	payload = append(payload, `, "refused": `...)
	payload = strconv.AppendUint(payload, refused, 10)
	payload = append(payload, '}')
	body := codec.AppendEnvelope(nil, refusedTopic, "bus.refused", now, payload)
	s.fanOut(cl.loop, nil, refusedTopic, body, []*peer{cl})
}

// logPrefix is what the log shows of a pattern: a header allows 4 KiB.
func logPrefix(pattern []byte) string {
	const max = 200
	if len(pattern) > max {
		return string(pattern[:max]) + "..."
	}
	return string(pattern)
}

// subscribedTo reports whether one of cl's patterns matches topic.
func (s *Server) subscribedTo(cl *peer, topic []byte) bool {
	for _, sub := range s.index.Match(topic) {
		if sub == cl {
			return true
		}
	}
	return false
}

// validateLimits reports the first limit setting that cannot work.
func (c *Config) validateLimits() error {
	switch {
	case c.MaxPatternsPerConn < 0:
		return fmt.Errorf("max patterns per connection %d: must not be negative (0: no limit)", c.MaxPatternsPerConn)
	case c.MaxPatterns < 0:
		return fmt.Errorf("max patterns %d: must not be negative (0: no limit)", c.MaxPatterns)
	case c.MaxPendingBytes < 0:
		return fmt.Errorf("max pending bytes %d: must not be negative (0: no limit)", c.MaxPendingBytes)
	case c.MaxPendingBytes > 0 && c.MaxPendingBytes < codec.MaxEventFrame:
		// Below one largest frame, a client's legitimate 1 MiB PUB could
		// never complete.
		return fmt.Errorf("max pending bytes %d: must hold at least one largest frame (%d bytes)", c.MaxPendingBytes, codec.MaxEventFrame)
	case c.FrameTimeout < 0:
		return fmt.Errorf("frame timeout %v: must not be negative (0: none)", c.FrameTimeout)
	case c.ReleaseAfterBytes < 0:
		return fmt.Errorf("release-after bytes %d: must not be negative (0: never)", c.ReleaseAfterBytes)
	}
	return nil
}

// initLimits prepares the server's side of the limits.
func (s *Server) initLimits() {
	s.limits.log.Logger = s.cfg.Logger
	s.limits.errFrameTimeout = frameTimeoutError(s.cfg.FrameTimeout)
}

// limitStats fills the limits' part of Stats.
func (s *Server) limitStats(st *Stats) {
	lim := &s.limits
	st.SubsRefusedConnLimit = lim.refusedPerConn.Load()
	st.SubsRefusedTotalLimit = lim.refusedTotal.Load()
	st.PendingBytes = lim.pendingBytes.Load()
	st.PendingCloses = lim.budgetCloses.Load()
	st.FrameTimeouts = lim.frameTimeouts.Load()
	st.MemoryReleases = lim.release.releases.Load()
}
