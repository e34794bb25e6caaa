package capture

// dropTally counts Footer.DaemonDrops: the events the daemon dropped for
// slow subscribers while one file was written. KindOut and KindClose
// records carry a connection's drops since it opened; a connection counts
// from 0 when it opened in this file, and otherwise from its first sample in
// the file (what it dropped before that sample, it dropped, as far as the
// file knows, before the file began). Its share is its latest sample minus
// that start.
type dropTally struct {
	open   map[uint64]dropSpan // connections seen and not closed
	closed uint64              // the shares of connections closed in this file
}

type dropSpan struct{ start, latest uint64 }

func (t *dropTally) opened(conn uint64) {
	if t.open == nil {
		t.open = make(map[uint64]dropSpan)
	}
	t.open[conn] = dropSpan{}
}

func (t *dropTally) sample(conn, drops uint64) {
	if t.open == nil {
		t.open = make(map[uint64]dropSpan)
	}
	span, seen := t.open[conn]
	if !seen {
		span = dropSpan{start: drops, latest: drops}
	}
	span.latest = max(span.latest, drops)
	t.open[conn] = span
}

// closing takes the last sample of a connection and retires it, so that
// the map holds only open connections.
func (t *dropTally) closing(conn, drops uint64) {
	t.sample(conn, drops)
	span := t.open[conn]
	t.closed += span.latest - span.start
	delete(t.open, conn)
}

func (t *dropTally) total() uint64 {
	sum := t.closed
	for _, span := range t.open {
		sum += span.latest - span.start
	}
	return sum
}
