package main

import (
	"time"

	"busd/capture"
	"busd/codec"
	"busd/trie"
)

// slowReader models what a daemon records of a subscriber that reads at a
// bounded pace: it takes the events owed to it, reads them at pace bytes
// per second, and once more than highWater bytes wait the socket backs up
// (a stall sample); beyond queueEvents waiting events the oldest waiting
// one is dropped; when everything is read it drains (a resume sample).
// Between a stall and its resume the reader reads all the time, at its
// pace, which is what capture.Pace assumes.
//
// Invariants: backlog is the bytes of head (its unread part) and of every
// event in queue; head is 0 exactly when nothing waits.
type slowReader struct {
	c   client
	out []capture.Record

	now     int64   // time the model has been advanced to
	head    float64 // unread bytes of the event being read
	queue   []int   // sizes of the events waiting behind it, oldest first
	backlog float64

	eventsOut, bytesOut, drops uint64
	stalled                    bool
	sampledDrops               uint64 // drops at the last drop sample
	lastDropSample             int64
}

// The daemon's defaults (engine.DefaultConfig) that shape the samples.
const (
	highWater   = 256 << 10
	queueEvents = 1024
	// dropSampleEvery spaces the drop samples of a reader that drops
	// continuously.
	dropSampleEvery = int64(100 * time.Millisecond)
)

// advance reads until at.
func (s *slowReader) advance(at int64) {
	for s.now < at && s.backlog > 0 {
		can := s.c.pace * float64(at-s.now) / 1e9
		if can < s.head {
			s.head -= can
			s.bytesOut += uint64(can)
			s.backlog -= can
			s.now = at
			return
		}
		s.now += int64(s.head / s.c.pace * 1e9)
		s.bytesOut += uint64(s.head)
		s.backlog -= s.head
		s.eventsOut++
		s.head = 0
		if len(s.queue) > 0 {
			s.head = float64(s.queue[0])
			s.queue = s.queue[1:]
		} else {
			s.backlog = 0
			if s.stalled {
				s.stalled = false
				s.sample(capture.OutResumed)
			}
		}
	}
	s.now = max(s.now, at)
}

// deliver hands the reader one event of the given frame size at at.
func (s *slowReader) deliver(at int64, size int) {
	s.advance(at)
	if s.head == 0 {
		s.head = float64(size)
	} else {
		s.queue = append(s.queue, size)
	}
	s.backlog += float64(size)
	if len(s.queue) > queueEvents {
		s.backlog -= float64(s.queue[0])
		s.queue = s.queue[1:]
		s.drops++
	}
	if !s.stalled && s.backlog > highWater {
		s.stalled = true
		s.sample(capture.OutStalled)
	}
	if s.drops != s.sampledDrops && s.now-s.lastDropSample >= dropSampleEvery {
		s.sampledDrops, s.lastDropSample = s.drops, s.now
		s.sample(capture.OutDropped)
	}
}

func (s *slowReader) sample(state capture.OutState) {
	s.out = append(s.out, capture.Record{Kind: capture.KindOut, Time: s.now, Conn: s.c.id, State: state,
		EventsOut: s.eventsOut, BytesOut: s.bytesOut, Drops: s.drops})
}

// slowSamples runs the slow readers over pubs (sorted by time) and returns
// their samples, and each reader's last drop count (for its close).
func slowSamples(readers []client, pubs []capture.Record, end int64) []capture.Record {
	var out []capture.Record
	for _, c := range readers {
		s := &slowReader{c: c}
		for i := range pubs {
			r := &pubs[i]
			if r.Kind != capture.KindPub || r.Conn == c.id || !matchesAny(c.patterns, r.Text) {
				continue
			}
			s.deliver(r.Time, codec.EventFrameSize(r.Text, int(r.Size)))
		}
		s.advance(end)
		if s.drops != s.sampledDrops {
			s.sample(capture.OutDropped)
		}
		out = append(out, s.out...)
	}
	return out
}

func matchesAny(patterns []string, topic []byte) bool {
	for _, p := range patterns {
		if trie.MatchBytes(p, topic) {
			return true
		}
	}
	return false
}
