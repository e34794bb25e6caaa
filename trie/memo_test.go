package trie

import (
	"slices"
	"testing"
)

// The memo answers like Match and follows every Add and Remove.
func TestMatchMemo(t *testing.T) {
	x := New[int]()
	var m Memo[int]
	got := func(topic string) []int {
		s := slices.Clone(x.MatchMemo(&m, []byte(topic)))
		slices.Sort(s)
		return s
	}
	x.Add("a.*", 1)
	if s := got("a.b"); !slices.Equal(s, []int{1}) {
		t.Fatalf("a.b = %v", s)
	}
	x.Add("a.b", 2)
	if s := got("a.b"); !slices.Equal(s, []int{1, 2}) {
		t.Fatalf("after Add: %v", s)
	}
	if s := got("a.c"); !slices.Equal(s, []int{1}) {
		t.Fatalf("other topic: %v", s)
	}
	x.Remove("a.*", 1)
	if s := got("a.c"); len(s) != 0 {
		t.Fatalf("after Remove: %v", s)
	}
	// The memo keeps its own copy of the topic: reusing the caller's
	// buffer cannot make it answer for the wrong topic.
	buf := []byte("a.b")
	x.MatchMemo(&m, buf)
	copy(buf, "a.c")
	if s := x.MatchMemo(&m, buf); len(s) != 0 {
		t.Fatalf("a.c after buffer reuse = %v", s)
	}
}

// Memo hits reach Stats only through FlushMemo, all of them, once.
func TestFlushMemoCountsHits(t *testing.T) {
	x := New[int]()
	x.Add("a.b", 1)
	var m Memo[int]
	topic := []byte("a.b")
	x.MatchMemo(&m, topic) // fills the memo: a miss, and a cache store
	before := x.Stats().Hits
	for range 5 {
		x.MatchMemo(&m, topic)
	}
	if h := x.Stats().Hits; h != before {
		t.Fatalf("hits before FlushMemo: %d, want %d", h, before)
	}
	x.FlushMemo(&m)
	if h := x.Stats().Hits; h != before+5 {
		t.Fatalf("hits after FlushMemo: %d, want %d", h, before+5)
	}
	x.FlushMemo(&m)
	if h := x.Stats().Hits; h != before+5 {
		t.Fatalf("hits after a second FlushMemo: %d, want %d", h, before+5)
	}
}
