package trie

import (
	"sync/atomic"
	"unsafe"

	"github.com/puzpuzpuz/xsync/v3"
)

// maxCachedTopic is the longest topic whose result is cached. Real topics
// are a few dozen bytes; the bound keeps a stream of long distinct topics
// (a header may be 4 KiB) from turning the cache into hundreds of MiB of
// keys. Longer topics are still matched correctly, just never cached.
const maxCachedTopic = 256

// resultWeightUnit is how many subscribers of a merged result count as one
// more cached topic toward the bound (see cache).
const resultWeightUnit = 128

// entry is one cached match result. subs is immutable and is handed out
// to callers as is; weight is what the entry counts toward the bound.
type entry[T comparable] struct {
	gen    uint64
	subs   []T
	weight int64
}

// cache maps topics to match results.
//
// Invariants: an entry's subs is exactly the match result of the trie as it
// was at generation gen (the Index guarantees this by computing both under
// one read lock). Entries are never updated in place, only replaced, so a
// reader that loaded an entry may use it without synchronization.
//
// Bounding: size approximately sums the weights of the entries stored since
// the last clear; when it passes max, the whole map is cleared. An entry
// weighs 1, plus 1 per resultWeightUnit subscribers when its result is a
// merged list of its own (a result that is one pattern's shared snapshot
// costs nothing extra): without that, a few thousand topics each matched by
// thousands of subscribers could hold gigabytes while staying under a
// topic-count bound. Clearing is crude but needs no bookkeeping on the hit
// path, and a bus's working set of topics (a few thousand) is far below the
// default bound. Under concurrency size can drift from the true weight by
// what concurrent stores add or replace around a clear; each clear resets
// it, so the drift does not accumulate.
//
// Counting: striped counters, because every hit would otherwise write one
// shared cache line (see stripedCounter).
type cache[T comparable] struct {
	m      *xsync.MapOf[string, *entry[T]] // nil when disabled
	max    int64
	size   atomic.Int64
	hits   stripedCounter
	misses stripedCounter
}

func newCache[T comparable](max int) *cache[T] {
	c := &cache[T]{}
	if max > 0 {
		c.m = xsync.NewMapOf[string, *entry[T]]()
		c.max = int64(max)
	}
	return c
}

// lookup returns the cached result for topic if it was computed at gen.
// It does not allocate: the key is a view of topic used for the lookup only.
func (c *cache[T]) lookup(topic []byte, gen uint64) ([]T, bool) {
	if c.m == nil {
		return nil, false
	}
	e, ok := c.m.Load(bytesView(topic))
	if !ok || e.gen != gen {
		return nil, false
	}
	c.hits.inc()
	return e.subs, true
}

// store caches subs as topic's result at gen; owned says that subs was
// built for this result rather than shared with other topics. A concurrent
// store for the same topic may overwrite a newer entry with an older one;
// that only costs a later miss, since lookups compare generations.
func (c *cache[T]) store(topic []byte, gen uint64, subs []T, owned bool) {
	if c.m == nil || len(topic) > maxCachedTopic {
		return
	}
	w := int64(1)
	if owned {
		w += int64(len(subs) / resultWeightUnit)
	}
	if old, replaced := c.m.LoadAndStore(string(topic), &entry[T]{gen: gen, subs: subs, weight: w}); replaced {
		w -= old.weight
	}
	if w == 0 {
		return
	}
	if n := c.size.Add(w); n > c.max && c.size.CompareAndSwap(n, 0) {
		// Only the inserter that resets the count clears, so one
		// overflow causes one clear even when many goroutines see it.
		c.m.Clear()
	}
}

func (c *cache[T]) stats() (entries int, hits, misses uint64) {
	if c.m != nil {
		entries = c.m.Size()
	}
	return entries, c.hits.load(), c.misses.load()
}

// bytesView returns b as a string without copying. The result must not
// outlive b's contents staying unchanged, so it is only used for lookups and
// comparisons that do not retain it.
func bytesView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
