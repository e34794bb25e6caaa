package replay

import (
	"bytes"
	"slices"

	"busd/trie"
)

// audience is who a PUB reaches: each connection's pattern set, as the
// capture's SUB and UNSUB records left it, and a cache of the
// connections matching each topic. The pre-pass and the schedule both
// replay the same records through one, so the deliveries the report
// expects follow one rule: a PUB reaches every other connection with a
// matching pattern, once.
//
// Invariant: cache holds only results computed since the last change to
// patterns (every change clears it).
type audience struct {
	patterns map[uint64][]string
	cache    map[string][]uint64
}

func newAudience() *audience {
	return &audience{patterns: map[uint64][]string{}, cache: map[string][]uint64{}}
}

func (a *audience) sub(conn uint64, pattern string) {
	ps := a.patterns[conn]
	if slices.Contains(ps, pattern) {
		return
	}
	a.patterns[conn] = append(ps, pattern)
	clear(a.cache)
}

func (a *audience) unsub(conn uint64, pattern string) {
	ps := a.patterns[conn]
	if i := slices.Index(ps, pattern); i >= 0 {
		a.patterns[conn] = slices.Delete(ps, i, i+1)
		clear(a.cache)
	}
}

// close forgets a connection.
func (a *audience) close(conn uint64) {
	if _, ok := a.patterns[conn]; ok {
		delete(a.patterns, conn)
		clear(a.cache)
	}
}

// match is the connections with a pattern matching topic, publisher
// included (the caller applies "other"). The result is shared: read only.
func (a *audience) match(topic []byte) []uint64 {
	if m, ok := a.cache[string(topic)]; ok {
		return m
	}
	m := []uint64{}
	for conn, ps := range a.patterns {
		for _, p := range ps {
			if trie.MatchBytes(p, topic) {
				m = append(m, conn)
				break
			}
		}
	}
	slices.Sort(m)
	a.cache[string(topic)] = m
	return m
}

// copiesReaching is how many copies of one recorded PUB by publisher reach
// conn when the publisher is replayed scale times: every copy reaches
// another connection; the publisher's own connection sees only its
// copies'.
func copiesReaching(conn, publisher uint64, scale int) uint64 {
	if conn == publisher {
		return uint64(scale - 1)
	}
	return uint64(scale)
}

// Topics the daemon itself publishes, and the replay's own barrier topics
// (barrier.go): a replayed subscriber whose patterns match them receives
// them besides the capture's events, so neither side counts them.
var (
	healthTopic  = []byte("system.bus.health")
	droppedTopic = []byte("system.bus.dropped")
)

// counted reports whether deliveries on topic are part of the capture's
// traffic.
func counted(topic []byte) bool {
	return !bytes.Equal(topic, healthTopic) && !bytes.Equal(topic, droppedTopic) &&
		!bytes.HasPrefix(topic, syncPrefix)
}
