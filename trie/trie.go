package trie

import (
	"sync"
	"sync/atomic"
)

// Index is the subscription index: a set of (pattern, subscriber) pairs.
// It is safe for concurrent use. Create it with New; the zero value is not
// usable, and an Index must not be copied.
//
// Pairs are keyed by the normalized pattern (see normalize): "a.>.b" and
// "a.>" are the same pattern, so Add("a.>.b", s) after Add("a.>", s) reports
// false, Remove of either spelling removes the pair, and Len counts it once.
//
// Invariants:
//   - mu guards the trie (root and everything below it) and the counters
//     patterns and pairs; Add and Remove hold it exclusively, a Match that
//     misses the cache holds it shared while walking;
//   - gen is incremented, under the exclusive lock, by every Add or Remove
//     that changes the set of pairs and by nothing else. A cached result
//     records the gen it was computed at, read under the same shared lock as
//     the walk, so a result is served from the cache only while no mutation
//     has happened since it was computed;
//   - patterns is the number of nodes with at least one subscriber, pairs
//     the sum of their subscriber counts.
type Index[T comparable] struct {
	mu       sync.RWMutex
	root     node[T]
	patterns int
	pairs    int
	hash     func(string) uint64

	_   [64]byte // keep gen, read by every Match, off the lock's cache line
	gen atomic.Uint64
	_   [56]byte

	cache *cache[T]
}

// New returns an empty Index.
func New[T comparable](opts ...Option) *Index[T] {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	x := &Index[T]{hash: cfg.hash}
	x.cache = newCache[T](cfg.cacheSize)
	return x
}

// Add records that sub subscribes to pattern. It reports false if the pair
// was already there, also when it was added under another spelling of the
// same normalized pattern (see Index).
func (x *Index[T]) Add(pattern string, sub T) bool {
	p := normalize(pattern) // outside the lock: it may allocate
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.patternNode(p, true)
	// If the pair existed, its node existed too, so nothing was created
	// above and there is nothing to undo.
	if !n.subs.add(sub) {
		return false
	}
	if n.subs.len() == 1 {
		x.patterns++
	}
	x.pairs++
	x.gen.Add(1)
	return true
}

// Remove deletes the pair; it reports false if it was not there.
func (x *Index[T]) Remove(pattern string, sub T) bool {
	p := normalize(pattern)
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.patternNode(p, false)
	if n == nil || !n.subs.remove(sub) {
		return false
	}
	if n.subs.len() == 0 {
		x.patterns--
	}
	x.pairs--
	for n != &x.root && n.empty() {
		n.parent.unlink(n)
		n = n.parent
	}
	x.gen.Add(1)
	return true
}

// patternNode returns the node that p, a normalized pattern, leads to:
// "*" and ">" tokens follow the wildcard children, any other token the
// literal child. With create, missing nodes are made on the way; without,
// it returns nil where the path ends. The caller holds x.mu exclusively.
func (x *Index[T]) patternNode(p string, create bool) *node[T] {
	n := &x.root
	for more := true; more && n != nil; {
		var tok string
		tok, p, more = nextToken(p)
		switch tok {
		case "*":
			if n.star == nil && create {
				n.star = &node[T]{parent: n, token: "*"}
			}
			n = n.star
		case ">":
			if n.tail == nil && create {
				n.tail = &node[T]{parent: n, token: ">"}
			}
			n = n.tail
		default:
			if create {
				n = n.addChild(tok, x.hash(tok))
			} else {
				n = n.child(tok, x.hash(tok))
			}
		}
	}
	return n
}

// Len returns the number of (pattern, subscriber) pairs.
func (x *Index[T]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.pairs
}

// Stats is a snapshot of an Index's size and cache counters.
type Stats struct {
	// Patterns is the number of distinct normalized patterns with at
	// least one subscriber; Pairs the number of (pattern, subscriber)
	// pairs, as Len.
	Patterns, Pairs int
	// CacheEntries is the number of topics in the result cache, including
	// entries made stale by later mutations and not yet replaced.
	CacheEntries int
	// Hits and Misses count Match calls answered from the cache and by a
	// walk of the trie. With the cache disabled every Match is a miss.
	// Hits also counts a Memo's answers, once FlushMemo has passed them on.
	Hits, Misses uint64
}

// Stats returns the current sizes and counters. The counters are read
// without stopping concurrent Match calls, so they may lag slightly.
func (x *Index[T]) Stats() Stats {
	x.mu.RLock()
	s := Stats{Patterns: x.patterns, Pairs: x.pairs}
	x.mu.RUnlock()
	s.CacheEntries, s.Hits, s.Misses = x.cache.stats()
	return s
}
