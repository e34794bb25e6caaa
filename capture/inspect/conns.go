package inspect

import (
	"slices"

	"busd/capture"
	"busd/trie"
)

// connState is what the analysis knows of one connection, open or closed.
type connState struct {
	id       uint64
	name     string
	open     bool
	patterns map[string]*patternState // held now

	publishes, bytes uint64
	topics           map[*topicState]struct{} // published to

	deliveries uint64 // events the file's PUBs asked for it
	mark       uint64 // subscriptions.stamp when a recompute last found it

	// Drops: its total at the file's start (dropsKnown: that total is
	// known, from the header or an OPEN; else its first sample sets it)
	// and at its latest sample.
	dropsStart, dropsLast uint64
	dropsKnown            bool

	pace    capture.Pace
	stalled bool
	stalls  int
}

// patternState is one pattern, across the connections that held it.
type patternState struct {
	pattern     string
	subscribers map[uint64]struct{} // every connection that held it in the file
	holders     []*connState        // the connections that hold it now
	live        int                 // its index in subscriptions.live while it has holders
	deliveries  uint64
}

// topicState is one topic: its totals, and who its PUBs go to as of
// subscription epoch epoch. receivers and patterns are kept from one
// epoch to the next, so that recomputing them allocates nothing once they
// have grown.
type topicState struct {
	topic            string
	publishes, bytes uint64
	lastPublisher    *connState // spares the publisher's topic set a lookup per PUB
	epoch            uint64
	cached           bool
	receivers        []*connState    // each connection with a matching pattern, once
	patterns         []*patternState // the held patterns that match
}

// subscriptions is the subscription state the file builds, and the cache
// of who receives each topic.
//
// Invariants: live holds exactly the patterns some open connection holds
// (patternState.live is the index); epoch changes whenever any
// connection's set of patterns does, so a topicState whose epoch equals
// it has current receivers and patterns.
type subscriptions struct {
	patterns map[string]*patternState
	live     []*patternState
	epoch    uint64
	stamp    uint64 // marks the receivers found so far by one recompute
}

// sub adds pattern to c's set (a set: subscribing twice changes nothing).
// pattern is only read: a pattern already seen is not copied.
func (s *subscriptions) sub(c *connState, pattern []byte) {
	if _, ok := c.patterns[string(pattern)]; ok {
		return
	}
	p := s.patterns[string(pattern)]
	if p == nil {
		p = &patternState{pattern: string(pattern), subscribers: map[uint64]struct{}{}}
		s.patterns[p.pattern] = p
	}
	p.subscribers[c.id] = struct{}{}
	c.patterns[p.pattern] = p
	if len(p.holders) == 0 {
		p.live = len(s.live)
		s.live = append(s.live, p)
	}
	p.holders = append(p.holders, c)
	s.epoch++
}

// unsub removes pattern from c's set; an unknown pattern is not an error.
func (s *subscriptions) unsub(c *connState, pattern []byte) {
	if p, ok := c.patterns[string(pattern)]; ok {
		delete(c.patterns, p.pattern)
		s.release(p, c)
		s.epoch++
	}
}

// drop removes every pattern of a connection that closed.
func (s *subscriptions) drop(c *connState) {
	if len(c.patterns) == 0 {
		return
	}
	for _, p := range c.patterns {
		s.release(p, c)
	}
	clear(c.patterns)
	s.epoch++
}

// release takes c off p's holders, and p off the live patterns with its
// last holder.
func (s *subscriptions) release(p *patternState, c *connState) {
	if i := slices.Index(p.holders, c); i >= 0 {
		p.holders = slices.Delete(p.holders, i, i+1)
	}
	if len(p.holders) > 0 {
		return
	}
	last := s.live[len(s.live)-1]
	s.live[p.live], last.live = last, p.live
	s.live = s.live[:len(s.live)-1]
}

// receivers brings topic t's receivers and patterns up to date: each live
// pattern is matched once, however many connections hold it.
func (s *subscriptions) receivers(t *topicState) {
	if t.cached && t.epoch == s.epoch {
		return
	}
	s.stamp++
	t.receivers, t.patterns = t.receivers[:0], t.patterns[:0]
	for _, p := range s.live {
		if !trie.Match(p.pattern, t.topic) {
			continue
		}
		t.patterns = append(t.patterns, p)
		for _, c := range p.holders {
			if c.mark != s.stamp {
				c.mark = s.stamp
				t.receivers = append(t.receivers, c)
			}
		}
	}
	t.epoch, t.cached = s.epoch, true
}
