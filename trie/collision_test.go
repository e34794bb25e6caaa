package trie

import (
	"math/rand/v2"
	"slices"
	"testing"

	"busd/internal/wildcardref"
)

// TestHashCollisions makes every token (or every token of the same length)
// share a hash, so correctness rests on the full-token comparison and on
// unlinking from the middle of a collision chain.
func TestHashCollisions(t *testing.T) {
	hashes := map[string]func(string) uint64{
		"constant": func(string) uint64 { return 42 },
		"length":   func(s string) uint64 { return uint64(len(s)) },
	}
	topics := allTopics(3)
	for name, h := range hashes {
		t.Run("hash="+name, func(t *testing.T) {
			for _, size := range []int{0, 64} {
				for seed := range 10 {
					r := rand.New(rand.NewPCG(uint64(seed), 99))
					x := New[int](WithCacheSize(size), withHash(h))
					var ref wildcardref.Index
					for step := range 80 {
						pattern, sub := randTokens(r, 3), r.IntN(3)
						if r.IntN(3) != 0 {
							if x.Add(pattern, sub) != ref.Add(pattern, sub) {
								t.Fatalf("seed %d step %d: Add(%q, %d) disagrees", seed, step, pattern, sub)
							}
						} else if len(ref.Pairs) > 0 {
							p := ref.Pairs[r.IntN(len(ref.Pairs))]
							if !x.Remove(p.Pattern, p.Sub) || !ref.Remove(p.Pattern, p.Sub) {
								t.Fatalf("seed %d step %d: Remove(%q, %d) failed", seed, step, p.Pattern, p.Sub)
							}
						}
						if step%4 == 3 {
							checkAgainstRef(t, x, &ref, topics, step)
						}
					}
				}
			}
		})
	}
}

// TestCollisionChainUnlink removes chain members from the head, the middle
// and the tail, under a hash where all tokens collide.
func TestCollisionChainUnlink(t *testing.T) {
	toks := []string{"a", "b", "c", "d", "e"}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}} {
		x := New[int](withHash(func(string) uint64 { return 7 }))
		for i, tok := range toks {
			x.Add("p."+tok, i)
		}
		live := []int{0, 1, 2, 3, 4}
		for _, i := range order {
			if !x.Remove("p."+toks[i], i) {
				t.Fatalf("order %v: Remove(p.%s) = false", order, toks[i])
			}
			live = slices.DeleteFunc(live, func(v int) bool { return v == i })
			for _, j := range live {
				if got := x.Match([]byte("p." + toks[j])); !slices.Equal(got, []int{j}) {
					t.Fatalf("order %v: p.%s matched %v, want [%d]", order, toks[j], got, j)
				}
			}
			if got := x.Match([]byte("p." + toks[i])); len(got) != 0 {
				t.Fatalf("order %v: removed p.%s still matches %v", order, toks[i], got)
			}
		}
		if !x.root.empty() {
			t.Fatalf("order %v: trie not pruned", order)
		}
	}
}
