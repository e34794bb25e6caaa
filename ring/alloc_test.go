//go:build !race

package ring

import "testing"

// benignItem may be pushed again after the ring released it, which lets
// alloc tests and benchmarks reuse one value.
type benignItem struct{ size int }

func (b *benignItem) Size() int { return b.size }
func (b *benignItem) Release()  {}

func TestPushPopAllocs(t *testing.T) {
	for _, events := range []int{8, 7} {
		r := New[*benignItem](events, 1<<20)
		it := &benignItem{size: 100}
		if a := testing.AllocsPerRun(1000, func() {
			r.Push(it)
			r.Pop()
		}); a != 0 {
			t.Errorf("events=%d: Push+Pop: %v allocs per run, want 0", events, a)
		}
		// Full ring: every push evicts.
		for range events {
			r.Push(it)
		}
		if a := testing.AllocsPerRun(1000, func() { r.Push(it) }); a != 0 {
			t.Errorf("events=%d: evicting Push: %v allocs per run, want 0", events, a)
		}
		batch := []*benignItem{it, it, it}
		if a := testing.AllocsPerRun(1000, func() { r.PushN(batch) }); a != 0 {
			t.Errorf("events=%d: evicting PushN: %v allocs per run, want 0", events, a)
		}
		reclaimed := make([]*benignItem, 0, len(batch))
		if a := testing.AllocsPerRun(1000, func() { _, reclaimed = r.PushNReclaim(batch, reclaimed[:0]) }); a != 0 {
			t.Errorf("events=%d: evicting PushNReclaim: %v allocs per run, want 0", events, a)
		}
	}
}
