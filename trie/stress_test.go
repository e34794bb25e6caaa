package trie

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"busd/internal/wildcardref"
)

// TestConcurrentStress runs readers against writers. While writers run, a
// result can only be checked for plausibility: no duplicates, and only
// subscribers that were subscribed at some point (each writer owns a
// disjoint range of subscriber ids). Once writers stop, every result must
// equal the reference built from the writers' final state.
func TestConcurrentStress(t *testing.T) {
	dur := time.Second
	if testing.Short() {
		dur = 200 * time.Millisecond
	}
	const (
		writers    = 3
		readers    = 4
		subsPerW   = 8
		maxTokens  = 3
		everMarker = 1000 // subscriber ids are below this
	)
	topics := allTopics(maxTokens)
	for _, size := range []int{0, DefaultCacheSize, 16} {
		t.Run(fmt.Sprintf("cache=%d", size), func(t *testing.T) {
			x := New[int](WithCacheSize(size))
			var ever [everMarker]atomic.Bool
			refs := make([]wildcardref.Index, writers)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 1))
					ref := &refs[w]
					for op := 0; ; op++ {
						// Pauses give readers stretches without
						// mutations, in which the cache serves hits.
						if op%64 == 63 {
							time.Sleep(200 * time.Microsecond)
						}
						select {
						case <-stop:
							return
						default:
						}
						sub := w*subsPerW + r.IntN(subsPerW)
						if len(ref.Pairs) > 0 && r.IntN(2) == 0 {
							p := ref.Pairs[r.IntN(len(ref.Pairs))]
							ref.Remove(p.Pattern, p.Sub)
							if !x.Remove(p.Pattern, p.Sub) {
								t.Errorf("Remove(%q, %d) of a present pair = false", p.Pattern, p.Sub)
								return
							}
							continue
						}
						pattern := randTokens(r, maxTokens)
						// Mark before adding: a reader may see the pair
						// as soon as Add publishes it.
						ever[sub].Store(true)
						if x.Add(pattern, sub) != ref.Add(pattern, sub) {
							t.Errorf("Add(%q, %d) disagrees with the reference", pattern, sub)
							return
						}
					}
				}()
			}
			var rwg sync.WaitGroup
			var checks atomic.Int64
			for rd := range readers {
				rwg.Add(1)
				go func() {
					defer rwg.Done()
					r := rand.New(rand.NewPCG(uint64(rd), 2))
					for {
						select {
						case <-stop:
							return
						default:
						}
						topic := topics[r.IntN(len(topics))]
						got := x.Match([]byte(topic))
						if hasDup(got) {
							t.Errorf("topic %q: duplicates in %v", topic, got)
							return
						}
						for _, s := range got {
							if s < 0 || s >= everMarker || !ever[s].Load() {
								t.Errorf("topic %q: subscriber %d was never subscribed", topic, s)
								return
							}
						}
						checks.Add(1)
					}
				}()
			}
			time.Sleep(dur)
			close(stop)
			wg.Wait()
			rwg.Wait()
			if t.Failed() {
				return
			}
			var all wildcardref.Index
			for _, ref := range refs {
				all.Pairs = append(all.Pairs, ref.Pairs...)
			}
			checkAgainstRef(t, x, &all, topics, -1)
			t.Logf("%d concurrent matches checked (%+v)", checks.Load(), x.Stats())
		})
	}
}

// TestSharedResultImmutable checks that a result handed out earlier is not
// changed by mutations of the node it came from.
func TestSharedResultImmutable(t *testing.T) {
	x := New[int]()
	for i := range 20 {
		x.Add("a", i)
	}
	before := x.Match([]byte("a"))
	saved := slices.Clone(before)
	for i := range 20 {
		x.Remove("a", i)
		x.Add("a", 100+i)
	}
	if !slices.Equal(before, saved) {
		t.Fatal("a shared Match result was modified by later mutations")
	}
}
