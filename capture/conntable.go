package capture

import (
	"maps"
	"slices"
)

// connTable is what the recorder knows of each open connection, kept from
// the records it writes: a rotated file's header lists it, so that every
// file replays on its own. Owned by the writer goroutine.
type connTable map[uint64]*connState

type connState struct {
	info     Conn
	patterns map[string]struct{}
	// drops is the connection's drop total at its last sample, so that
	// the capture counts only the drops made while it ran.
	drops uint64
}

// open adds a connection; one already known keeps what it has (a
// connection may be both in the start's snapshot and in an OPEN record).
func (t connTable) open(c Conn) {
	if _, ok := t[c.Conn]; ok {
		return
	}
	s := &connState{info: c, patterns: map[string]struct{}{}, drops: c.Drops}
	for _, p := range c.Patterns {
		s.patterns[p] = struct{}{}
	}
	s.info.Patterns = nil
	t[c.Conn] = s
}

// apply updates the table with rec and returns how many events the daemon
// dropped since the connection's previous sample.
func (t connTable) apply(rec *Record) (newDrops uint64) {
	if rec.Kind == KindOpen {
		t.open(Conn{Conn: rec.Conn, PID: rec.PID, UID: rec.UID})
		return 0
	}
	s := t[rec.Conn]
	if s == nil {
		return 0 // closed already, or a gap lost its OPEN
	}
	switch rec.Kind {
	case KindHello:
		s.info.Name = string(rec.Text)
	case KindSub:
		s.patterns[string(rec.Text)] = struct{}{}
	case KindUnsub:
		delete(s.patterns, string(rec.Text))
	case KindOut, KindClose:
		if rec.Drops > s.drops {
			newDrops = rec.Drops - s.drops
			s.drops = rec.Drops
		}
		if rec.Kind == KindClose {
			delete(t, rec.Conn)
		}
	}
	return newDrops
}

// list is the open connections, by id, for a file's header.
func (t connTable) list() []Conn {
	out := make([]Conn, 0, len(t))
	for _, id := range slices.Sorted(maps.Keys(t)) {
		s := t[id]
		c := s.info
		c.Patterns = slices.Sorted(maps.Keys(s.patterns))
		c.Drops = s.drops
		out = append(out, c)
	}
	return out
}
