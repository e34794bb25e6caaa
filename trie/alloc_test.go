//go:build !race

package trie

import "testing"

func TestCacheHitAllocs(t *testing.T) {
	x := New[int]()
	x.Add("decky.*.state", 1)
	x.Add("decky.>", 2)
	x.Add("decky.d1.state", 3)
	topic := []byte("decky.d1.state")
	x.Match(topic)
	if n := testing.AllocsPerRun(1000, func() { x.Match(topic) }); n != 0 {
		t.Fatalf("cache hit: %v allocs, want 0", n)
	}
	if x.Stats().Hits < 1000 {
		t.Fatalf("the measured calls were not cache hits: %+v", x.Stats())
	}
}

// TestSingleNodeMissAllocs: a miss whose only match is one pattern node
// shares that node's snapshot, so with the cache off it does not allocate.
func TestSingleNodeMissAllocs(t *testing.T) {
	x := New[int](WithCacheSize(0))
	x.Add("decky.*.state", 1)
	x.Add("decky.*.state", 2)
	topic := []byte("decky.d1.state")
	x.Match(topic)
	if n := testing.AllocsPerRun(1000, func() { x.Match(topic) }); n != 0 {
		t.Fatalf("uncached single-node match: %v allocs, want 0", n)
	}
}

func TestMatchMemoHitAllocatesNothing(t *testing.T) {
	x := New[int]()
	x.Add("decky.*.state", 1)
	var m Memo[int]
	topic := []byte("decky.d1.state")
	x.MatchMemo(&m, topic)
	if n := testing.AllocsPerRun(100, func() { x.MatchMemo(&m, topic) }); n != 0 {
		t.Fatalf("memo hit: %.0f allocs", n)
	}
}

func TestMatchRuleAllocatesNothing(t *testing.T) {
	topic := []byte("decky.d1.state.x")
	for _, p := range []string{"decky.*.state.>", "decky.d1.state.x", "decky.d2.>", "*"} {
		if n := testing.AllocsPerRun(100, func() { Match(p, "decky.d1.state.x") }); n != 0 {
			t.Errorf("Match(%q): %.0f allocs", p, n)
		}
		if n := testing.AllocsPerRun(100, func() { MatchBytes(p, topic) }); n != 0 {
			t.Errorf("MatchBytes(%q): %.0f allocs", p, n)
		}
	}
}
