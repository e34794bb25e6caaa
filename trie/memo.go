package trie

import "bytes"

// Memo remembers the last topic one goroutine matched. A publisher usually
// repeats a handful of topics, and comparing with the previous one is
// cheaper than hashing it into the shared cache.
//
// A Memo belongs to one goroutine (the engine keeps one per event loop).
// Its answer is never stale: it is used only while the index generation
// equals the one read before the match it remembers, so no Add or Remove
// happened since.
//
// Its hits reach the index's statistics only through FlushMemo: counting
// each one in the shared counter took a locked add per publish
// (BenchmarkMatchMemo; bench/decisions/trie.md).
type Memo[T comparable] struct {
	topic []byte
	gen   uint64
	subs  []T
	valid bool
	hits  uint64 // answered since the last FlushMemo
}

// MatchMemo is Match with m in front of the shared cache. The result has
// the same contract as Match's.
func (x *Index[T]) MatchMemo(m *Memo[T], topic []byte) []T {
	gen := x.gen.Load()
	if m.valid && m.gen == gen && bytes.Equal(m.topic, topic) {
		m.hits++
		return m.subs
	}
	subs := x.Match(topic)
	// Match answered for a generation at least gen; remembering it under gen
	// is safe because the memo is only used while the generation is still gen.
	m.topic = append(m.topic[:0], topic...)
	m.gen, m.subs, m.valid = gen, subs, true
	return subs
}

// FlushMemo adds the hits m answered since the last call to the index's
// statistics (Stats.Hits). The engine calls it once per read batch.
func (x *Index[T]) FlushMemo(m *Memo[T]) {
	if m.hits != 0 {
		x.cache.hits.add(m.hits)
		m.hits = 0
	}
}
