package inspect

import (
	"cmp"
	"errors"
	"io"
	"maps"
	"slices"

	"busd/capture"
)

// Analyze reads r's records to the end, once, and sums them up.
//
// A file cut short (capture.ErrTruncated) is not an error: the Summary
// covers the records up to the cut and says where it is (Cut). Any other
// error of the reader (a corrupt chunk, a read error) is returned with the
// Summary of the records before it, Cut saying where.
func Analyze(r *capture.Reader) (*Summary, error) {
	a := newAnalysis(r.Header())
	var rec capture.Record
	var err error
	for {
		if err = r.Next(&rec); err != nil {
			break
		}
		a.record(&rec)
	}
	s := a.summary()
	s.Chunks = r.Chunks()
	switch footer, complete := r.Footer(); {
	case errors.Is(err, io.EOF) && complete:
		s.Complete, s.EndReason = true, footer.Reason
		s.DurationNs = max(footer.End-s.OffsetNs, 0)
		err = nil
	default:
		reason := "unreadable"
		switch {
		case errors.Is(err, capture.ErrTruncated):
			reason = "truncated"
		case errors.Is(err, capture.ErrCorrupt):
			reason = "corrupt"
		}
		s.Cut = &Cut{Reason: reason, Chunks: s.Chunks, LastNs: a.last, Error: err.Error()}
		if reason == "truncated" {
			err = nil
		}
		if a.records > 0 {
			s.DurationNs = max(a.last-s.OffsetNs, 0)
		}
	}
	s.PubRate = a.rate.rate(s.DurationNs, s.Publishes)
	return s, err
}

// analysis is the state of one pass over a file.
type analysis struct {
	header capture.Header
	conns  map[uint64]*connState
	topics map[string]*topicState
	subs   subscriptions

	records   uint64
	kinds     [256]uint64
	last      int64 // Time of the latest record
	bodyBytes uint64
	sizes     sizeHist
	rate      rateCounter

	deliveries           uint64
	gaps, recorderDrops  uint64
	opens, closes, fouls uint64
}

func newAnalysis(h capture.Header) *analysis {
	a := &analysis{
		header: h,
		conns:  map[uint64]*connState{},
		topics: map[string]*topicState{},
		subs:   subscriptions{patterns: map[string]*patternState{}},
		last:   h.Offset,
	}
	for _, hc := range h.Conns {
		c := a.conn(hc.Conn)
		c.name, c.open = hc.Name, true
		c.dropsStart, c.dropsLast, c.dropsKnown = hc.Drops, hc.Drops, true
		for _, p := range hc.Patterns {
			a.subs.sub(c, []byte(p))
		}
	}
	return a
}

// conn is connection id's state, created on first sight: a connection the
// file never introduced (its OPEN lost in a gap) is taken as open.
func (a *analysis) conn(id uint64) *connState {
	c := a.conns[id]
	if c == nil {
		c = &connState{id: id, open: true, patterns: map[string]*patternState{}}
		a.conns[id] = c
	}
	return c
}

// record takes one record. This is the per-record path: one map lookup
// for the connection, one for a PUB's topic, and the topic's cached
// receivers; nothing allocates once a topic has been seen.
func (a *analysis) record(rec *capture.Record) {
	a.records++
	a.kinds[rec.Kind]++
	a.last = max(a.last, rec.Time)
	switch rec.Kind {
	case capture.KindPub:
		a.pub(rec)
	case capture.KindOpen:
		a.opens++
		if _, known := a.conns[rec.Conn]; !known {
			c := a.conn(rec.Conn)
			c.dropsKnown = true
		}
	case capture.KindClose:
		a.closes++
		if rec.ProtocolError {
			a.fouls++
		}
		c := a.conn(rec.Conn)
		a.dropSample(c, rec.Drops)
		c.open = false
		a.subs.drop(c)
	case capture.KindHello:
		a.conn(rec.Conn).name = string(rec.Text)
	case capture.KindSub:
		if c := a.conn(rec.Conn); c.open {
			a.subs.sub(c, rec.Text)
		}
	case capture.KindUnsub:
		a.subs.unsub(a.conn(rec.Conn), rec.Text)
	case capture.KindOut:
		c := a.conn(rec.Conn)
		c.pace.Observe(rec)
		switch rec.State {
		case capture.OutStalled:
			if !c.stalled {
				c.stalls++
			}
			c.stalled = true
		case capture.OutResumed:
			c.stalled = false
		}
		a.dropSample(c, rec.Drops)
	case capture.KindGap:
		a.gaps++
		a.recorderDrops += rec.Count
	}
}

func (a *analysis) dropSample(c *connState, drops uint64) {
	if !c.dropsKnown {
		c.dropsStart, c.dropsLast, c.dropsKnown = drops, drops, true
	}
	c.dropsLast = max(c.dropsLast, drops)
}

func (a *analysis) pub(rec *capture.Record) {
	t := a.topics[string(rec.Text)]
	if t == nil {
		t = &topicState{topic: string(rec.Text)}
		a.topics[t.topic] = t
	}
	size := uint64(rec.Size)
	t.publishes++
	t.bytes += size
	a.bodyBytes += size
	a.sizes.add(rec.Size)
	a.rate.pub(rec.Time - a.header.Offset)

	c := a.conn(rec.Conn)
	c.publishes++
	c.bytes += size
	if t.lastPublisher != c {
		if c.topics == nil {
			c.topics = map[*topicState]struct{}{}
		}
		c.topics[t] = struct{}{}
		t.lastPublisher = c
	}
	a.subs.receivers(t)
	for _, r := range t.receivers {
		if r != c { // a publisher never receives its own events
			r.deliveries++
			a.deliveries++
		}
	}
	for _, p := range t.patterns {
		p.deliveries += uint64(len(p.holders))
	}
	if len(c.patterns) > 0 {
		for _, p := range t.patterns {
			if _, own := c.patterns[p.pattern]; own {
				p.deliveries-- // not to the publisher, through this pattern either
			}
		}
	}
}

// summary is the Summary of the records taken so far; Analyze adds what
// the end of the file says.
func (a *analysis) summary() *Summary {
	h := a.header
	s := &Summary{
		Host:         h.Host,
		BusdVersion:  h.BusdVersion,
		Start:        h.Start,
		Payload:      h.Payload.String(),
		TopicFilters: append([]string{}, h.Topics...),
		Sequence:     h.Sequence,
		OffsetNs:     h.Offset,

		Records:   a.records,
		Kinds:     map[string]uint64{},
		Publishes: a.kinds[capture.KindPub],
		BodyBytes: a.bodyBytes,

		Topics:     make(map[string]uint64, len(a.topics)),
		TopicBytes: make(map[string]uint64, len(a.topics)),
		BodySizes:  a.sizes.sizes(),

		Publishers:    []Publisher{},
		Subscriptions: []Subscription{},
		Deliveries:    a.deliveries,
		Drops:         Drops{Recorder: a.recorderDrops, Gaps: a.gaps, ByConn: []ConnDrops{}},
		SlowReaders:   []SlowReader{},
		Connections: Churn{AtStart: len(h.Conns), Opens: a.opens, Closes: a.closes,
			ProtocolErrors: a.fouls},
	}
	for k, n := range a.kinds {
		if n > 0 {
			s.Kinds[capture.Kind(k).String()] += n
		}
	}
	for name, t := range a.topics {
		s.Topics[name], s.TopicBytes[name] = t.publishes, t.bytes
	}
	for _, id := range slices.Sorted(maps.Keys(a.conns)) {
		c := a.conns[id]
		if c.open {
			s.Connections.AtEnd++
		}
		if c.publishes > 0 {
			s.Publishers = append(s.Publishers, Publisher{Conn: id, Name: c.name,
				Publishes: c.publishes, Bytes: c.bytes, Topics: len(c.topics)})
		}
		drops := c.dropsLast - c.dropsStart
		if drops > 0 {
			s.Drops.Daemon += drops
			s.Drops.ByConn = append(s.Drops.ByConn, ConnDrops{Conn: id, Name: c.name, Drops: drops})
		}
		if c.stalls > 0 {
			s.SlowReaders = append(s.SlowReaders, SlowReader{Conn: id, Name: c.name, Stalls: c.stalls,
				Stalled: c.stalled, BytesPerSecond: c.pace.BytesPerSecond(), Drops: drops,
				Deliveries: c.deliveries})
		}
	}
	// Ties keep the connection order (stable sorts over ids in order).
	slices.SortStableFunc(s.Publishers, func(x, y Publisher) int { return cmp.Compare(y.Publishes, x.Publishes) })
	slices.SortStableFunc(s.Drops.ByConn, func(x, y ConnDrops) int { return cmp.Compare(y.Drops, x.Drops) })
	// Slowest first; a pace still unknown (0) last.
	slices.SortStableFunc(s.SlowReaders, func(x, y SlowReader) int {
		if (x.BytesPerSecond == 0) != (y.BytesPerSecond == 0) {
			if x.BytesPerSecond == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(x.BytesPerSecond, y.BytesPerSecond)
	})
	for _, p := range slices.Sorted(maps.Keys(a.subs.patterns)) {
		ps := a.subs.patterns[p]
		s.Subscriptions = append(s.Subscriptions, Subscription{Pattern: p,
			Subscribers: len(ps.subscribers), Deliveries: ps.deliveries})
	}
	return s
}
