package ring

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// item is a fake buffer that insists on being released exactly once; a
// second Release panics because it may run on a goroutine other than the
// test's, where t.Fatal is not allowed.
type item struct {
	producer int
	seq      int
	size     int
	released atomic.Int32
	popped   atomic.Bool // set by the consumer before it releases its reference
}

func (it *item) Size() int { return it.size }

func (it *item) Release() {
	if n := it.released.Add(1); n != 1 {
		panic(fmt.Sprintf("item p%d#%d released %d times", it.producer, it.seq, n))
	}
}

func (it *item) String() string { return fmt.Sprintf("p%d#%d(%dB)", it.producer, it.seq, it.size) }

func newItems(n, size int) []*item {
	its := make([]*item, n)
	for i := range its {
		its[i] = &item{seq: i, size: size}
	}
	return its
}

func mustPop(t *testing.T, r *Ring[*item], want *item) {
	t.Helper()
	got, ok := r.Pop()
	if !ok {
		t.Fatalf("Pop: empty, want %v", want)
	}
	if got != want {
		t.Fatalf("Pop = %v, want %v", got, want)
	}
	got.popped.Store(true)
	got.Release()
}

func mustEmpty(t *testing.T, r *Ring[*item]) {
	t.Helper()
	if v, ok := r.Pop(); ok {
		t.Fatalf("Pop = %v, want empty", v)
	}
	if r.Len() != 0 || r.Bytes() != 0 {
		t.Fatalf("Len, Bytes = %d, %d on an empty ring", r.Len(), r.Bytes())
	}
}

func checkConservation(t *testing.T, r *Ring[*item]) {
	t.Helper()
	if p, q := r.Pushed(), r.Popped()+r.Drops()+r.Discarded()+uint64(r.Len()); p != q {
		t.Fatalf("Pushed %d != Popped %d + Drops %d + Discarded %d + Len %d",
			p, r.Popped(), r.Drops(), r.Discarded(), r.Len())
	}
}

func checkReleased(t *testing.T, its []*item, want ...int) {
	t.Helper()
	for i, it := range its {
		if got := int(it.released.Load()); got != want[i] {
			t.Errorf("%v released %d times, want %d", it, got, want[i])
		}
	}
}

func TestFIFO(t *testing.T) {
	for _, events := range []int{1, 3, 4, 7, 8} {
		t.Run(fmt.Sprintf("events=%d", events), func(t *testing.T) {
			r := New[*item](events, 1<<20)
			its := newItems(10*events+3, 5)
			// Several laps, with the ring partly filled, exercise every
			// slot's sequence number wrapping around.
			next := 0
			for i, it := range its {
				if ev := r.Push(it); ev != 0 {
					t.Fatalf("Push %d evicted %d", i, ev)
				}
				if r.Len() == events || i == len(its)-1 {
					if r.Bytes() != 5*r.Len() {
						t.Fatalf("Bytes = %d with %d entries of 5", r.Bytes(), r.Len())
					}
					for ; next <= i; next++ {
						mustPop(t, r, its[next])
					}
					mustEmpty(t, r)
				}
			}
			checkConservation(t, r)
			if r.Popped() != uint64(len(its)) || r.Drops() != 0 {
				t.Fatalf("Popped, Drops = %d, %d", r.Popped(), r.Drops())
			}
		})
	}
}

func TestEvictAtEventBound(t *testing.T) {
	for _, events := range []int{1, 3, 4} {
		t.Run(fmt.Sprintf("events=%d", events), func(t *testing.T) {
			r := New[*item](events, 1<<20)
			its := newItems(events+5, 1)
			for i, it := range its {
				want := 0
				if i >= events {
					want = 1
				}
				if ev := r.Push(it); ev != want {
					t.Fatalf("Push %d evicted %d, want %d", i, ev, want)
				}
				if r.Len() > events {
					t.Fatalf("Len %d > %d", r.Len(), events)
				}
			}
			for _, it := range its[:5] {
				if it.released.Load() != 1 || it.popped.Load() {
					t.Fatalf("%v: evicted entry not released by the ring", it)
				}
			}
			for _, it := range its[5:] {
				mustPop(t, r, it)
			}
			mustEmpty(t, r)
			if r.Drops() != 5 {
				t.Fatalf("Drops = %d, want 5", r.Drops())
			}
			checkConservation(t, r)
		})
	}
}

func TestEvictAtByteBound(t *testing.T) {
	r := New[*item](100, 10)
	a, b, c, d := &item{seq: 0, size: 4}, &item{seq: 1, size: 4}, &item{seq: 2, size: 4}, &item{seq: 3, size: 2}
	for _, step := range []struct {
		it      *item
		evicted int
		bytes   int
	}{
		{a, 0, 4},
		{b, 0, 8},
		{c, 1, 8},  // 12 > 10: a goes
		{d, 0, 10}, // exactly at the bound is allowed
	} {
		if ev := r.Push(step.it); ev != step.evicted || r.Bytes() != step.bytes {
			t.Fatalf("Push %v: evicted %d, Bytes %d; want %d, %d", step.it, ev, r.Bytes(), step.evicted, step.bytes)
		}
	}
	checkReleased(t, []*item{a, b, c, d}, 1, 0, 0, 0)
	// A 9-byte item needs everything but nothing else out: b, c and d all go
	// since 9+2 > 10 still.
	e := &item{seq: 4, size: 9}
	if ev := r.Push(e); ev != 3 || r.Len() != 1 || r.Bytes() != 9 {
		t.Fatalf("Push 9B: evicted %d, Len %d, Bytes %d; want 3, 1, 9", ev, r.Len(), r.Bytes())
	}
	mustPop(t, r, e)
	mustEmpty(t, r)
	if r.Drops() != 4 {
		t.Fatalf("Drops = %d, want 4", r.Drops())
	}
	checkConservation(t, r)
}

func TestOversizeOnEmptyRing(t *testing.T) {
	r := New[*item](4, 10)
	big := &item{seq: 0, size: 50}
	if ev := r.Push(big); ev != 0 || r.Len() != 1 || r.Bytes() != 50 {
		t.Fatalf("oversize on empty: evicted %d, Len %d, Bytes %d", ev, r.Len(), r.Bytes())
	}
	mustPop(t, r, big)

	// On a non-empty ring an oversize item still gets in, alone.
	small, big2, tiny := &item{seq: 1, size: 5}, &item{seq: 2, size: 50}, &item{seq: 3, size: 1}
	r.Push(small)
	if ev := r.Push(big2); ev != 1 || r.Len() != 1 || r.Bytes() != 50 {
		t.Fatalf("oversize on non-empty: evicted %d, Len %d, Bytes %d", ev, r.Len(), r.Bytes())
	}
	// And the next push evicts it, because the ring is then not empty.
	if ev := r.Push(tiny); ev != 1 || r.Len() != 1 || r.Bytes() != 1 {
		t.Fatalf("after oversize: evicted %d, Len %d, Bytes %d", ev, r.Len(), r.Bytes())
	}
	mustPop(t, r, tiny)
	checkReleased(t, []*item{big, small, big2, tiny}, 1, 1, 1, 1)
	checkConservation(t, r)
}

func TestZeroAndNegativeSize(t *testing.T) {
	r := New[*item](2, 1)
	its := []*item{{seq: 0, size: 0}, {seq: 1, size: -7}, {seq: 2, size: 1}}
	for _, it := range its {
		if ev := r.Push(it); ev != 0 {
			t.Fatalf("Push %v evicted %d", it, ev)
		}
		mustPop(t, r, it)
	}
	mustEmpty(t, r)
}

func TestCloseReleasesEverything(t *testing.T) {
	r := New[*item](8, 1<<20)
	its := newItems(5, 3)
	for _, it := range its {
		r.Push(it)
	}
	mustPop(t, r, its[0])
	r.Close()
	if !r.Closed() {
		t.Fatal("Closed() = false after Close")
	}
	checkReleased(t, its, 1, 1, 1, 1, 1)
	if r.Discarded() != 4 || r.Drops() != 0 || r.Popped() != 1 {
		t.Fatalf("Discarded, Drops, Popped = %d, %d, %d; want 4, 0, 1", r.Discarded(), r.Drops(), r.Popped())
	}
	mustEmpty(t, r)
	checkConservation(t, r)
	r.Close() // idempotent
	if r.Discarded() != 4 {
		t.Fatalf("second Close changed Discarded to %d", r.Discarded())
	}
}

func TestPushAfterClose(t *testing.T) {
	r := New[*item](8, 1<<20)
	r.Close()
	its := newItems(3, 1)
	for _, it := range its {
		if ev := r.Push(it); ev != 1 {
			t.Fatalf("Push after Close evicted %d, want 1 (itself)", ev)
		}
	}
	checkReleased(t, its, 1, 1, 1)
	mustEmpty(t, r)
	if r.Pushed() != 3 || r.Drops() != 3 || r.Discarded() != 0 {
		t.Fatalf("Pushed, Drops, Discarded = %d, %d, %d; want 3, 3, 0", r.Pushed(), r.Drops(), r.Discarded())
	}
	checkConservation(t, r)
}

func TestCounters(t *testing.T) {
	r := New[*item](3, 10)
	its := newItems(8, 3)
	total := 0
	for _, it := range its[:5] { // 5 x 3B into 3 events / 10B: 2 evicted
		total += r.Push(it)
	}
	mustPop(t, r, its[2])
	r.Push(its[5])
	r.Close()
	total += r.Push(its[6])
	total += r.Push(its[7])
	if total != int(r.Drops()) {
		t.Fatalf("Push returned %d evictions in all, Drops = %d", total, r.Drops())
	}
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"Pushed", r.Pushed(), 8},
		{"Popped", r.Popped(), 1},
		{"Drops", r.Drops(), 4},
		{"Discarded", r.Discarded(), 3},
		{"Len", uint64(r.Len()), 0},
		{"Bytes", uint64(r.Bytes()), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	checkConservation(t, r)
	checkReleased(t, its, 1, 1, 1, 1, 1, 1, 1, 1)
}

func TestNewRejectsBadBounds(t *testing.T) {
	for _, b := range [][2]int{{0, 1}, {1, 0}, {-1, 5}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d, %d) did not panic", b[0], b[1])
				}
			}()
			New[*item](b[0], b[1])
		}()
	}
}

// A released entry must not stay reachable from its slot, or the ring would
// pin a pooled buffer that has since been handed to someone else.
func TestSlotsDropReferences(t *testing.T) {
	r := New[*item](4, 1<<20)
	for _, it := range newItems(6, 1) {
		r.Push(it)
	}
	r.Pop()
	r.Close()
	for i := range r.cells {
		if r.cells[i].val != nil {
			t.Fatalf("slot %d still holds %v", i, r.cells[i].val)
		}
	}
}

func TestPopN(t *testing.T) {
	r := New[*item](8, 1<<20)
	its := newItems(6, 10)
	for _, it := range its {
		r.Push(it)
	}
	var dst [4]*item
	if n := r.PopN(dst[:]); n != 4 || dst[0] != its[0] || dst[3] != its[3] {
		t.Fatalf("PopN = %d %v", n, dst)
	}
	if r.Len() != 2 || r.Bytes() != 20 || r.Popped() != 4 {
		t.Fatalf("Len %d Bytes %d Popped %d after PopN", r.Len(), r.Bytes(), r.Popped())
	}
	if n := r.PopN(dst[:]); n != 2 || dst[0] != its[4] || dst[1] != its[5] {
		t.Fatalf("second PopN = %d", n)
	}
	if n := r.PopN(dst[:]); n != 0 {
		t.Fatalf("PopN on empty = %d", n)
	}
	for _, it := range its {
		it.Release()
	}
	checkConservation(t, r)
	mustEmpty(t, r)
}
