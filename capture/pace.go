package capture

// Pace is how fast one subscriber read, estimated from its KindOut
// records: while its socket was backed up (from a stall to the resume
// that ended it) the daemon wrote exactly as fast as it read, so the bytes
// written over that time are its reading speed. A subscriber that never
// stalled read whatever it was sent: its pace is unknown and unbounded. A
// replay reads at this pace (not scaled by the replay's speed: it is the
// reader's, not the traffic's), so slow readers stay slow.
type Pace struct {
	stalled      bool
	since        int64  // Time of the current stall
	bytesAtStall uint64 // BytesOut then
	// Totals over every finished stall.
	stalledNs    int64
	stalledBytes uint64
	Stalls       int // stalls that ended
}

// Observe takes one of the subscriber's records; all but KindOut are
// ignored.
func (p *Pace) Observe(rec *Record) {
	if rec.Kind != KindOut {
		return
	}
	switch rec.State {
	case OutStalled:
		if !p.stalled {
			p.stalled, p.since, p.bytesAtStall = true, rec.Time, rec.BytesOut
		}
	case OutResumed:
		if p.stalled && rec.BytesOut >= p.bytesAtStall && rec.Time > p.since {
			p.stalledNs += rec.Time - p.since
			p.stalledBytes += rec.BytesOut - p.bytesAtStall
			p.Stalls++
		}
		p.stalled = false
	}
}

// BytesPerSecond is the estimated reading speed; 0 means unbounded (the
// subscriber never fell behind, or no stall has ended yet).
func (p *Pace) BytesPerSecond() float64 {
	if p.stalledNs == 0 {
		return 0
	}
	return float64(p.stalledBytes) / (float64(p.stalledNs) / 1e9)
}
