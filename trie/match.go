package trie

import (
	"slices"
)

// Match returns every subscriber with at least one pattern matching topic,
// each exactly once, in no particular order.
//
// The returned slice is shared and read-only: callers must not modify it.
// It is never modified afterwards, so it stays valid after later Add or
// Remove calls; it is then simply out of date. A cache hit does not
// allocate.
func (x *Index[T]) Match(topic []byte) []T {
	if subs, ok := x.cache.lookup(topic, x.gen.Load()); ok {
		return subs
	}
	x.mu.RLock()
	gen := x.gen.Load()
	var c collector[T]
	x.walk(&x.root, bytesView(topic), &c)
	subs, owned := c.result()
	x.mu.RUnlock()
	x.cache.misses.inc()
	x.cache.store(topic, gen, subs, owned)
	return subs
}

// walk collects the subscriber sets of every pattern node under n that
// matches rest. rest holds at least one token (the empty string is one empty
// token). The literal path is followed iteratively; only "*" branches
// recurse, so the depth is at most the number of "*" tokens in one pattern.
// Each node is visited at most once, since the topic token compared at a
// node is fixed by the node's depth.
//
// rest may be a view of the caller's buffer: nothing here retains it.
func (x *Index[T]) walk(n *node[T], rest string, c *collector[T]) {
	for {
		// ">" needs one remaining token, which rest always has here.
		if n.tail != nil {
			c.add(&n.tail.subs)
		}
		tok, next, more := nextToken(rest)
		if n.star != nil && tok != "" {
			if more {
				x.walk(n.star, next, c)
			} else {
				c.add(&n.star.subs)
			}
		}
		if len(n.kids) == 0 {
			return
		}
		n = n.child(tok, x.hash(tok))
		if n == nil {
			return
		}
		if !more {
			c.add(&n.subs)
			return
		}
		rest = next
	}
}

// collector gathers the subscriber sets of matching nodes. The first set is
// kept apart so that the common single-match case needs no slice, and its
// result can be the node's shared snapshot.
type collector[T comparable] struct {
	first *subSet[T]
	more  []*subSet[T]
}

func (c *collector[T]) add(s *subSet[T]) {
	if s.len() == 0 {
		return
	}
	if c.first == nil {
		c.first = s
		return
	}
	c.more = append(c.more, s)
}

// dedupByIndex is the number of matched sets up to which a subscriber is
// checked for duplicates by asking each earlier set (O(1) each, see
// subSet) instead of building a map of everything collected.
const dedupByIndex = 8

// result merges the collected sets, dropping subscribers matched by more
// than one pattern. owned reports that the slice was built for this call
// rather than being a set's shared snapshot. Callers hold the read lock.
//
// The largest set is copied without any check and the others are checked
// against the sets before them, so the cost follows the smaller sets: the
// typical miss is one big wildcard set plus a few exact subscriptions.
func (c *collector[T]) result() (subs []T, owned bool) {
	if c.first == nil {
		return nil, false
	}
	if len(c.more) == 0 {
		return c.first.snapshot(), false
	}
	sets := append(c.more, c.first)
	slices.SortFunc(sets, func(a, b *subSet[T]) int { return b.len() - a.len() })
	total := 0
	for _, s := range sets {
		total += s.len()
	}
	out := make([]T, 0, total)
	out = append(out, sets[0].list...)
	if len(sets) <= dedupByIndex {
		for j := 1; j < len(sets); j++ {
		member:
			for _, v := range sets[j].list {
				for _, s := range sets[:j] {
					if s.index(v) >= 0 {
						continue member
					}
				}
				out = append(out, v)
			}
		}
		return slices.Clip(out), true
	}
	seen := make(map[T]struct{})
	for _, s := range sets[1:] {
		for _, v := range s.list {
			if _, dup := seen[v]; dup || sets[0].index(v) >= 0 {
				continue
			}
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return slices.Clip(out), true
}
