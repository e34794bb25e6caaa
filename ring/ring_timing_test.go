package ring

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// nopItem is the benchmarks' item: one value is pushed over and over, so its
// Release must not mind being called more than once.
type nopItem struct{ size int }

func (n *nopItem) Size() int { return n.size }
func (n *nopItem) Release()  {}

func BenchmarkPushPop(b *testing.B) {
	// events=1000 takes the division path for slot indices, 1024 the mask.
	for _, events := range []int{1024, 1000} {
		b.Run(fmt.Sprintf("events=%d/producers=1", events), func(b *testing.B) {
			r := New[*nopItem](events, 1<<30)
			it := &nopItem{size: 64}
			b.ReportAllocs()
			for b.Loop() {
				r.Push(it)
				r.Pop()
			}
		})
	}
	// A burst of 64 pushes drained by one PopN: the engine's flush pattern.
	b.Run("events=1024/producers=1/popn=64", func(b *testing.B) {
		r := New[*nopItem](1024, 1<<30)
		it := &nopItem{size: 64}
		var dst [64]*nopItem
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r.Push(it)
			if i%64 == 63 {
				r.PopN(dst[:])
			}
		}
	})
	for _, producers := range []int{1, 4} {
		b.Run(fmt.Sprintf("events=1024/producers=%d/consumer=1", producers), func(b *testing.B) {
			benchContended(b, producers, true)
		})
	}
}

// BenchmarkPushEvict keeps the ring full so that every push also evicts.
func BenchmarkPushEvict(b *testing.B) {
	b.Run("bound=events/producers=1", func(b *testing.B) {
		r := New[*nopItem](64, 1<<30)
		it := &nopItem{size: 64}
		for range 64 {
			r.Push(it)
		}
		b.ReportAllocs()
		for b.Loop() {
			r.Push(it)
		}
	})
	b.Run("bound=bytes/producers=1", func(b *testing.B) {
		r := New[*nopItem](1024, 64*64)
		it := &nopItem{size: 64}
		for range 64 {
			r.Push(it)
		}
		b.ReportAllocs()
		for b.Loop() {
			r.Push(it)
		}
	})
	b.Run("bound=events/producers=4", func(b *testing.B) {
		benchContended(b, 4, false)
	})
}

// benchContended splits b.N pushes over producers goroutines into a
// 1024-event ring, with or without one goroutine popping concurrently. The
// reported time is per push.
func benchContended(b *testing.B, producers int, consume bool) {
	r := New[*nopItem](1024, 1<<30)
	it := &nopItem{size: 64}
	if !consume {
		for range 1024 {
			r.Push(it)
		}
	}
	stop := make(chan struct{})
	var consumer sync.WaitGroup
	if consume {
		consumer.Add(1)
		go func() {
			defer consumer.Done()
			for {
				if _, ok := r.Pop(); !ok {
					select {
					case <-stop:
						return
					default:
						runtime.Gosched()
					}
				}
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for p := range producers {
		n := b.N / producers
		if p < b.N%producers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				r.Push(it)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(stop)
	consumer.Wait()
	b.ReportMetric(float64(r.Drops())/float64(b.N), "drops/op")
}

// BenchmarkByteQueue is a spill (ByteQueue) of 1024 events that drops its oldest
// frame for every new one, as for a subscriber that never reads, and one
// that is drained in runs as a writer would.
func BenchmarkByteQueue(b *testing.B) {
	const size = 245 // an EVT frame carrying the standard envelope
	b.Run("op=reserve-dropping", func(b *testing.B) {
		f := NewByteQueue(1024, 4<<20)
		for range 2048 {
			f.Reserve(size)
		}
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			dst, _ := f.Reserve(size)
			dst[0] = 1
		}
	})
	b.Run("op=reserve-drain", func(b *testing.B) {
		f := NewByteQueue(1024, 4<<20)
		b.SetBytes(size)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			dst, _ := f.Reserve(size)
			dst[0] = 1
			if i++; i%512 == 0 {
				for f.Len() > 0 {
					_, k := f.Front(128 << 10)
					f.Pop(k)
				}
			}
		}
	})
}
