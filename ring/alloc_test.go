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
	}
}

// Once its buffers have grown, a ByteQueue allocates nothing: neither
// when it drops the oldest frame for every new one, nor when drained.
func TestByteQueueAllocs(t *testing.T) {
	f := NewByteQueue(1024, 4<<20)
	for range 2048 {
		f.Reserve(245)
	}
	if a := testing.AllocsPerRun(1000, func() { f.Reserve(245) }); a != 0 {
		t.Errorf("dropping Reserve: %v allocs per run, want 0", a)
	}
	if a := testing.AllocsPerRun(1000, func() {
		if _, k := f.Front(1 << 17); k > 0 {
			f.Pop(1)
		}
		f.Reserve(245)
	}); a != 0 {
		t.Errorf("Front+Pop+Reserve: %v allocs per run, want 0", a)
	}
}
