package peers

import "busd/trie"

// Matching with busd's semantics (PROTOCOL.md, "Wildcards", applied by
// busd's own trie.MatchBytes), used by the
// peer clients to give every system busd's delivery contract: a peer whose
// pattern language is looser (Redis globs, MQTT's '+' and '#') delivers some
// events busd would not, and every peer delivers one copy per matching
// subscription where busd delivers one per connection. The clients drop
// those extra deliveries before the workload sees them; the server still
// paid for sending them, which is part of what is measured.

// subSet is a subscriber's patterns in busd syntax, deduplicated in order
// (a busd SUB set holds a pattern once), and the server subscriptions they
// translate to: subs[k] is a peer subscription, subOf[i] the subscription
// that pattern i became (two patterns may share one: "a.>" and "a.*" are
// both the Redis glob "a.*").
type subSet struct {
	pats  []string
	subs  []string
	subOf []int
}

func newSubSet(patterns []string, translate func(string) (string, error)) (subSet, error) {
	seen := make(map[string]bool, len(patterns))
	idx := make(map[string]int, len(patterns))
	var s subSet
	for _, p := range patterns {
		if seen[p] {
			continue
		}
		seen[p] = true
		t, err := translate(p)
		if err != nil {
			return subSet{}, err
		}
		k, ok := idx[t]
		if !ok {
			k = len(s.subs)
			idx[t] = k
			s.subs = append(s.subs, t)
		}
		s.pats = append(s.pats, p)
		s.subOf = append(s.subOf, k)
	}
	return s, nil
}

// first returns the index of the first pattern matching topic (in busd
// syntax), or -1.
func (s *subSet) first(topic []byte) int {
	for i, p := range s.pats {
		if trie.MatchBytes(p, topic) {
			return i
		}
	}
	return -1
}

// deliverVia reports whether a delivery of topic that the server made
// because of subscription k is the one copy to pass on: some pattern
// matches with busd's semantics, and the first that does became
// subscription k. The server's subscription for that pattern is a superset
// of it, so it did send this copy; every other copy is dropped.
func (s *subSet) deliverVia(k int, topic []byte) bool {
	f := s.first(topic)
	return f >= 0 && s.subOf[f] == k
}
