package engine

// Stats is a snapshot of the daemon's global counters. Counters are
// monotonic since start; Connections, Subscriptions and Queued are current.
type Stats struct {
	Connections    int
	Accepted       uint64
	Rejected       uint64
	ReadBatches    uint64
	FramesIn       uint64
	BytesIn        uint64
	Published      uint64
	EventsOut      uint64
	BytesOut       uint64
	Dropped        uint64
	ProtocolErrors uint64
	Heartbeats     uint64
	DropNotices    uint64
	Subscriptions  int
	Queued         int
	// BacklogRetries counts the retries of backlogged subscribers (a
	// loop's wakeup, from the ticker while the loop is quiet, every
	// backlog tick while some subscriber's socket stays full).
	BacklogRetries uint64

	// The limits (limits.go, pending.go, release.go). SubsRefused*: SUBs
	// refused at MaxPatternsPerConn and at MaxPatterns. PendingBytes
	// (current): bytes held in unfinished frames. PendingCloses:
	// connections closed over MaxPendingBytes. FrameTimeouts: connections
	// closed at FrameTimeout (also in ProtocolErrors). MemoryReleases:
	// times freed memory was handed back to the operating system.
	SubsRefusedConnLimit  uint64
	SubsRefusedTotalLimit uint64
	PendingBytes          int64
	PendingCloses         uint64
	FrameTimeouts         uint64
	MemoryReleases        uint64

	// Captures (capture.go): started, and ended by an error (a full
	// disk); Capturing is 1 while one runs. CaptureRecords and
	// CaptureRecorderDrops are the running or latest capture's records
	// written and records its buffers could not keep.
	CapturesStarted      uint64
	CaptureFailures      uint64
	Capturing            int
	CaptureRecords       uint64
	CaptureRecorderDrops uint64
}

// Stats sums the per-loop and per-connection counters. Safe from any
// goroutine. The figures are not taken at one instant, and a loop's frame
// counts are added when its read batch ends.
func (s *Server) Stats() Stats {
	st := Stats{
		Connections: int(s.active.Load()),
		Accepted:    s.accepted.Load(),
		Rejected:    s.rejected.Load(),
		Dropped:     s.closedDrops.Load(),
		Heartbeats:  s.heartbeats.Load(),
	}
	for _, l := range s.allLoops() {
		st.ReadBatches += l.readBatches.Load()
		st.FramesIn += l.framesIn.Load()
		st.BytesIn += l.bytesIn.Load()
		st.Published += l.published.Load()
		st.EventsOut += l.eventsOut.Load()
		st.BytesOut += l.bytesOut.Load()
		st.ProtocolErrors += l.protocolErrors.Load()
		st.DropNotices += l.dropNotices.Load()
		st.BacklogRetries += l.backlogRetries.Load()
	}
	s.clients.Range(func(_ uint64, cl *peer) bool {
		st.Dropped += cl.out.drops()
		st.Queued += cl.out.queued()
		return true
	})
	st.Subscriptions = s.index.Len()
	s.limitStats(&st)
	s.captureStats(&st)
	return st
}
