package trie

import (
	"fmt"
	"slices"
	"testing"

	"busd/internal/wildcardref"
)

// matchCases pins the wildcard rules, each case checked against both the
// reference and the index.
var matchCases = []struct {
	pattern, topic string
	want           bool
}{
	{"a.b", "a.b", true},
	{"a.b", "a.c", false},
	{"a.b", "a", false},
	{"a", "a.b", false},
	{"a", "a", true},

	// Empty tokens are ordinary literals.
	{"a..b", "a..b", true},
	{"a..b", "a.b", false},
	{"a..b", "a.x.b", false},
	{".", ".", true},
	{".", "", false},
	{"", "", true},
	{"", "a", false},
	{"a.", "a.", true},
	{"a.", "a", false},
	{".a", ".a", true},
	{".a", "a", false},

	// "*" matches exactly one non-empty token.
	{"a.*", "a.b", true},
	{"a.*", "a.", false},
	{"a.*", "a", false},
	{"a.*", "a.b.c", false},
	{"*.b", ".b", false},
	{"*.b", "a.b", true},
	{"a.*.c", "a..c", false},
	{"a.*.c", "a.x.c", true},
	{"*", "a", true},
	{"*", "", false},
	{"*", ".", false},
	{"*.*", "a.b", true},
	{"*.*", "a", false},

	// ">" needs at least one remaining token, possibly empty.
	{"topology.>", "topology.t1.status", true},
	{"topology.>", "topology", false},
	{"a.>", "a.", true},
	{"a.>", "a..", true},
	{"a.>", "a.b", true},
	{">", "a", true},
	{">", "", true},
	{">", ".", true},
	{">", "a.b.c", true},
	{"*.>", "a.b", true},
	{"*.>", "a", false},
	{"*.>", ".b", false},
	{"a.*.>", "a.b.c.d", true},

	// Tokens after ">" are ignored.
	{"a.>.b", "a.x", true},
	{"a.>.b", "a.x.b", true},
	{"a.>.b", "a.x.y.z", true},
	{"a.>.b", "a", false},
	{">.x", "y", true},
	{"a.>.*", "a.", true},

	// "*" and ">" in a topic are literals; in a pattern always wildcards.
	{"a.*", "a.*", true},
	{"a.*", "a.>", true},
	{"a.>", "a.>", true},
	{"a.b", "a.*", false},
	{"a.b", "a.>", false},
	{"*", "*", true},
	{"*", ">", true},
	{">", ">", true},
	{"a.*.c", "a.>.c", true},
}

func TestReferenceMatch(t *testing.T) {
	for _, c := range matchCases {
		if got := wildcardref.Match(c.pattern, c.topic); got != c.want {
			t.Errorf("wildcardref.Match(%q, %q) = %v, want %v", c.pattern, c.topic, got, c.want)
		}
	}
}

func TestMatchCases(t *testing.T) {
	for _, size := range []int{0, 16} {
		for _, c := range matchCases {
			x := New[int](WithCacheSize(size))
			x.Add(c.pattern, 1)
			for range 2 { // second round is served from the cache
				got := len(x.Match([]byte(c.topic))) == 1
				if got != c.want {
					t.Errorf("cache=%d: pattern %q topic %q: matched %v, want %v", size, c.pattern, c.topic, got, c.want)
				}
			}
		}
	}
}

// TestMatchCasesTogether puts every pattern in one index, each with its own
// subscriber, so cases interact through shared trie nodes.
func TestMatchCasesTogether(t *testing.T) {
	x := New[int]()
	var ref wildcardref.Index
	for i, c := range matchCases {
		x.Add(c.pattern, i)
		ref.Add(c.pattern, i)
	}
	for _, c := range matchCases {
		got := x.Match([]byte(c.topic))
		if hasDup(got) {
			t.Errorf("topic %q: duplicate subscribers in %v", c.topic, got)
		}
		if want := ref.Match(c.topic); !slices.Equal(sorted(got), want) {
			t.Errorf("topic %q: got %v, want %v", c.topic, sorted(got), want)
		}
	}
}

func TestAddRemoveSemantics(t *testing.T) {
	x := New[string]()
	if !x.Add("a.b", "s") || x.Add("a.b", "s") {
		t.Fatal("Add must report whether the pair is new")
	}
	if !x.Add("a.b", "t") || !x.Add("a.*", "s") {
		t.Fatal("distinct pairs must be added")
	}
	if x.Len() != 3 {
		t.Fatalf("Len = %d, want 3", x.Len())
	}
	// "a.>.b" normalizes to "a.>": one pair, removable by either spelling.
	if !x.Add("a.>", "s") || x.Add("a.>.b", "s") || x.Add("a.>.c.d", "s") {
		t.Fatal("a.>.b must be the same pattern as a.>")
	}
	if x.Len() != 4 {
		t.Fatalf("Len = %d, want 4", x.Len())
	}
	if !x.Remove("a.>.zzz", "s") || x.Remove("a.>", "s") {
		t.Fatal("Remove must accept any spelling of the normalized pattern, once")
	}
	if x.Remove("a.b", "nobody") || x.Remove("x.y", "s") || x.Remove("a", "s") || x.Remove("a.b.c", "s") {
		t.Fatal("Remove of an absent pair must report false")
	}
	st := x.Stats()
	if st.Pairs != 3 || st.Patterns != 2 {
		t.Fatalf("Stats = %+v, want 3 pairs over 2 patterns", st)
	}
	for _, p := range [][2]string{{"a.b", "s"}, {"a.b", "t"}, {"a.*", "s"}} {
		if !x.Remove(p[0], p[1]) {
			t.Fatalf("Remove(%q, %q) = false", p[0], p[1])
		}
	}
	if x.Len() != 0 || x.Stats().Patterns != 0 {
		t.Fatalf("not empty: %+v", x.Stats())
	}
	if !x.root.empty() {
		t.Fatal("Remove must prune every node")
	}
}

func TestDedupAcrossPatterns(t *testing.T) {
	for _, n := range []int{3, 100} { // both dedup strategies
		x := New[int]()
		for i := range n {
			x.Add("a.b", i)
			x.Add("a.*", i)
			x.Add("a.>", i)
			x.Add(">", i)
		}
		got := x.Match([]byte("a.b"))
		if len(got) != n || hasDup(got) {
			t.Fatalf("n=%d: got %d subscribers, duplicates=%v", n, len(got), hasDup(got))
		}
	}
}

// TestDedupManySets matches one topic against more sets than dedupByIndex,
// with subscribers spread unevenly so that the largest set is not first.
func TestDedupManySets(t *testing.T) {
	patterns := []string{
		"a.b.c", "*.b.c", "a.*.c", "a.b.*", "*.*.c", "*.b.*", "a.*.*", "*.*.*",
		">", "a.>", "*.>", "a.b.>", "a.*.>", "*.b.>", "*.*.>",
	}
	x := New[int]()
	var ref wildcardref.Index
	add := func(p string, sub int) {
		x.Add(p, sub)
		ref.Add(p, sub)
	}
	for i, p := range patterns {
		for s := range 3 + i { // overlapping sets of different sizes
			add(p, s)
		}
		add(p, 1000+i) // and one subscriber of its own
	}
	// The largest set shares nobody with the others, so duplicates among
	// the smaller sets must be caught without its help.
	for s := range 100 {
		add("a.*.>", 2000+s)
	}
	for _, topic := range []string{"a.b.c", "a.b.x", "x.b.c", "a.b", "a"} {
		got := x.Match([]byte(topic))
		if hasDup(got) {
			t.Fatalf("%s: duplicates", topic)
		}
		if want := ref.Match(topic); !slices.Equal(sorted(got), want) {
			t.Fatalf("%s: got %v, want %v", topic, sorted(got), want)
		}
	}
}

// TestSubSetIndex crosses the linear/indexed threshold in both directions.
func TestSubSetIndex(t *testing.T) {
	x := New[int]()
	var ref wildcardref.Index
	for round := range 3 {
		for i := range 3 * linearMax {
			x.Add("p", i)
			ref.Add("p", i)
		}
		for i := 0; i < 3*linearMax; i += 1 + round {
			if x.Remove("p", i) != ref.Remove("p", i) {
				t.Fatalf("round %d: Remove(%d) disagrees", round, i)
			}
			if got, want := sorted(x.Match([]byte("p"))), ref.Match("p"); !slices.Equal(got, want) {
				t.Fatalf("round %d after removing %d: got %v, want %v", round, i, got, want)
			}
		}
	}
}

func TestCacheNotStale(t *testing.T) {
	x := New[int]()
	topic := []byte("decky.d1.state")
	if got := x.Match(topic); len(got) != 0 {
		t.Fatalf("empty index matched %v", got)
	}
	x.Add("decky.*.state", 1)
	if got := sorted(x.Match(topic)); !slices.Equal(got, []int{1}) {
		t.Fatalf("after Add: %v", got)
	}
	before := x.Match(topic)
	x.Add("decky.>", 2)
	if got := sorted(x.Match(topic)); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("after second Add: %v", got)
	}
	if !slices.Equal(before, []int{1}) {
		t.Fatalf("an earlier result changed after Add: %v", before)
	}
	x.Remove("decky.*.state", 1)
	if got := sorted(x.Match(topic)); !slices.Equal(got, []int{2}) {
		t.Fatalf("after Remove: %v", got)
	}
	x.Remove("decky.>", 2)
	if got := x.Match(topic); len(got) != 0 {
		t.Fatalf("after removing all: %v", got)
	}
	// A no-op mutation must not invalidate the cache.
	x.Add("x", 1)
	x.Match(topic)
	h := x.Stats().Hits
	x.Remove("x", 2)
	x.Match(topic)
	if x.Stats().Hits != h+1 {
		t.Fatal("a Remove that changed nothing invalidated the cache")
	}
}

func TestCacheBound(t *testing.T) {
	const size = 64
	x := New[int](WithCacheSize(size))
	x.Add(">", 1)
	for i := range 10 * size {
		topic := fmt.Appendf(nil, "t.%d", i)
		if got := x.Match(topic); !slices.Equal(got, []int{1}) {
			t.Fatalf("topic %s: %v", topic, got)
		}
		if n := x.Stats().CacheEntries; n > size {
			t.Fatalf("cache holds %d entries, bound %d", n, size)
		}
	}
	// Topics past maxCachedTopic are matched but not cached.
	long := make([]byte, maxCachedTopic+1)
	for i := range long {
		long[i] = 'x'
	}
	x2 := New[int]()
	x2.Add(">", 1)
	for range 2 {
		if got := x2.Match(long); !slices.Equal(got, []int{1}) {
			t.Fatalf("long topic: %v", got)
		}
	}
	if st := x2.Stats(); st.CacheEntries != 0 || st.Hits != 0 || st.Misses != 2 {
		t.Fatalf("long topic was cached: %+v", st)
	}
}

func TestStatsCounters(t *testing.T) {
	x := New[int]()
	x.Add("a", 1)
	x.Match([]byte("a"))
	x.Match([]byte("a"))
	x.Match([]byte("b"))
	st := x.Stats()
	if st.Hits != 1 || st.Misses != 2 || st.CacheEntries != 2 {
		t.Fatalf("Stats = %+v", st)
	}
	y := New[int](WithCacheSize(0))
	y.Add("a", 1)
	y.Match([]byte("a"))
	y.Match([]byte("a"))
	if st := y.Stats(); st.Hits != 0 || st.Misses != 2 || st.CacheEntries != 0 {
		t.Fatalf("uncached Stats = %+v", st)
	}
}

// TestTopicBufferReuse checks that the cache copies its key: a caller reusing
// its buffer must not corrupt cached entries.
func TestTopicBufferReuse(t *testing.T) {
	x := New[int]()
	x.Add("a.b", 1)
	x.Add("a.c", 2)
	buf := []byte("a.b")
	x.Match(buf)
	copy(buf, "a.c")
	if got := x.Match(buf); !slices.Equal(got, []int{2}) {
		t.Fatalf("a.c: %v", got)
	}
	if got := x.Match([]byte("a.b")); !slices.Equal(got, []int{1}) {
		t.Fatalf("a.b: %v", got)
	}
	copy(buf, "zzz")
	// Every cached key must still spell the topic its result belongs to.
	x.cache.m.Range(func(k string, e *entry[int]) bool {
		want := map[string][]int{"a.b": {1}, "a.c": {2}}[k]
		if want == nil || !slices.Equal(e.subs, want) {
			t.Errorf("cache key %q holds %v", k, e.subs)
		}
		return true
	})
}

// TestCacheWeight checks the bookkeeping behind the bound: a merged result
// weighs extra per resultWeightUnit subscribers, a shared snapshot does not,
// and replacing an entry accounts for the difference only.
func TestCacheWeight(t *testing.T) {
	x := New[int]()
	for i := range 2 * resultWeightUnit {
		x.Add("m.*", i)
		x.Add("m.>", i)
		x.Add("s.>", i)
	}
	x.Match([]byte("m.a")) // merged: 1 + 2
	x.Match([]byte("s.a")) // one pattern's snapshot: 1
	if got := x.cache.size.Load(); got != 4 {
		t.Fatalf("weight = %d, want 4", got)
	}
	x.Add("m.a", -1) // invalidates; the next misses replace entries
	x.Match([]byte("m.a"))
	x.Match([]byte("s.a"))
	if got := x.cache.size.Load(); got != 4 {
		t.Fatalf("weight after replacing = %d, want 4", got)
	}
	if sorted(x.Match([]byte("m.a")))[0] != -1 || len(x.Match([]byte("m.a"))) != 2*resultWeightUnit+1 {
		t.Fatal("merged result is wrong")
	}
	// A bound of 3 cannot hold the merged entry next to anything else.
	y := New[int](WithCacheSize(3))
	for i := range 2 * resultWeightUnit {
		y.Add("m.*", i)
		y.Add("m.>", i)
	}
	y.Match([]byte("m.a"))
	y.Match([]byte("m.b"))
	if st := y.Stats(); st.CacheEntries > 1 {
		t.Fatalf("cache over its weight bound: %+v", st)
	}
}
