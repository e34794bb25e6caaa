package ring

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

const stressProducers = 4

// bytesSlack is the documented bound on how far Bytes() may read over
// maxBytes while calls are in flight: per pusher its own item, one from a
// straddling earlier push and one being evicted, plus one each for the popper
// and a closer.
func bytesSlack(producers, largest int) int { return (3*producers + 2) * largest }

// TestStress runs concurrent producers against one consumer and a Close that
// lands while they are still pushing, then accounts for every item.
func TestStress(t *testing.T) {
	perProducer := 20000
	if testing.Short() {
		perProducer = 3000
	}
	for _, tc := range []struct {
		events, bytes, largest int
	}{
		{events: 64, bytes: 4000, largest: 100},   // both bounds bite
		{events: 50, bytes: 1 << 30, largest: 10}, // events only, modulo indexing
		{events: 1, bytes: 1 << 30, largest: 10},  // a single slot
		{events: 1000, bytes: 300, largest: 400},  // bytes only, oversize items
	} {
		t.Run(fmt.Sprintf("events=%d/bytes=%d", tc.events, tc.bytes), func(t *testing.T) {
			stress(t, tc.events, tc.bytes, tc.largest, perProducer)
		})
	}
}

func stress(t *testing.T, maxEvents, maxBytes, largest, perProducer int) {
	r := New[*item](maxEvents, maxBytes)
	items := make([][]*item, stressProducers)
	for p := range items {
		rng := rand.New(rand.NewPCG(uint64(p), uint64(maxEvents)))
		items[p] = make([]*item, perProducer)
		for i := range items[p] {
			items[p][i] = &item{producer: p, seq: i, size: 1 + rng.IntN(largest)}
		}
	}
	byteLimit := maxBytes + bytesSlack(stressProducers, largest)

	// violations are collected rather than reported on the spot because
	// t.Fatal must not be called from the worker goroutines.
	var (
		mu         sync.Mutex
		violations []string
	)
	violate := func(format string, args ...any) {
		mu.Lock()
		if len(violations) < 10 {
			violations = append(violations, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	checkBounds := func(where string) {
		if n := r.Len(); n > maxEvents {
			violate("%s: Len %d > %d", where, n, maxEvents)
		}
		if b := r.Bytes(); b > byteLimit {
			violate("%s: Bytes %d > %d + slack", where, b, maxBytes)
		}
	}

	var (
		producersDone sync.WaitGroup
		evictedByPush [stressProducers]int
		closeNow      = make(chan struct{})
		closed        = make(chan struct{})
	)
	for p := range stressProducers {
		producersDone.Add(1)
		go func() {
			defer producersDone.Done()
			rng := rand.New(rand.NewPCG(uint64(p), 1))
			for i, it := range items[p] {
				if p == 0 && i == perProducer*9/10 {
					close(closeNow)
				}
				evictedByPush[p] += r.Push(it)
				if i%64 == 0 {
					checkBounds("producer")
				}
				// With few CPUs the producers would otherwise run to
				// completion before the consumer is scheduled.
				if rng.IntN(8) == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	go func() {
		<-closeNow
		r.Close()
		close(closed)
	}()

	var popped int
	consumerDone := make(chan struct{})
	go func() {
		defer close(consumerDone)
		last := [stressProducers]int{-1, -1, -1, -1}
		allDone := make(chan struct{})
		go func() { producersDone.Wait(); <-closed; close(allDone) }()
		rng := rand.New(rand.NewPCG(42, 42))
		// The consumer alternates between Pop and PopN runs of random
		// length, so both dequeue paths race the evicting producers.
		var batch [8]*item
		var pending []*item
		pop := func() (*item, bool) {
			if len(pending) == 0 && rng.IntN(2) == 0 {
				pending = batch[:r.PopN(batch[:1+rng.IntN(len(batch))])]
			}
			if len(pending) > 0 {
				it := pending[0]
				pending = pending[1:]
				return it, true
			}
			return r.Pop()
		}
		for {
			it, ok := pop()
			if !ok {
				select {
				case <-allDone:
					// Nothing is in flight any more, so a final empty Pop
					// means empty for good.
					if it, ok = pop(); !ok {
						return
					}
				default:
					runtime.Gosched()
					continue
				}
			}
			if it.seq <= last[it.producer] {
				violate("producer %d: popped #%d after #%d", it.producer, it.seq, last[it.producer])
			}
			last[it.producer] = it.seq
			it.popped.Store(true)
			it.Release()
			popped++
			if popped%32 == 0 {
				checkBounds("consumer")
			}
			// A consumer that sometimes falls behind keeps the ring full
			// enough for producers to evict under contention.
			if rng.IntN(16) == 0 {
				runtime.Gosched()
			}
		}
	}()
	<-consumerDone

	for _, v := range violations {
		t.Error(v)
	}
	total := uint64(stressProducers * perProducer)
	if r.Len() != 0 || r.Bytes() != 0 {
		t.Errorf("after Close and quiescence: Len %d, Bytes %d; want 0, 0", r.Len(), r.Bytes())
	}
	if r.Pushed() != total {
		t.Errorf("Pushed = %d, want %d", r.Pushed(), total)
	}
	if r.Popped() != uint64(popped) {
		t.Errorf("Popped = %d, consumer received %d", r.Popped(), popped)
	}
	if p, q := r.Pushed(), r.Popped()+r.Drops()+r.Discarded()+uint64(r.Len()); p != q {
		t.Errorf("conservation: Pushed %d != Popped %d + Drops %d + Discarded %d + Len %d",
			p, r.Popped(), r.Drops(), r.Discarded(), r.Len())
	}
	sumEvicted := 0
	for _, n := range evictedByPush {
		sumEvicted += n
	}
	if uint64(sumEvicted) != r.Drops() {
		t.Errorf("Push returned %d evictions in all, Drops = %d", sumEvicted, r.Drops())
	}
	var releasedByRing, poppedFlags uint64
	for _, its := range items {
		for _, it := range its {
			if n := it.released.Load(); n != 1 {
				t.Fatalf("%v released %d times", it, n)
			}
			if it.popped.Load() {
				poppedFlags++
			} else {
				releasedByRing++
			}
		}
	}
	if poppedFlags != uint64(popped) || releasedByRing != r.Drops()+r.Discarded() {
		t.Errorf("items popped %d (consumer counted %d), released by the ring %d (Drops+Discarded %d)",
			poppedFlags, popped, releasedByRing, r.Drops()+r.Discarded())
	}
	t.Logf("pushed %d: popped %d, dropped %d, discarded %d", total, r.Popped(), r.Drops(), r.Discarded())
}

// TestResidentBytesAfterRace checks the tighter bound on what stays queued:
// once racing pushes have returned, the resident bytes are within
// max(maxBytes, P*L), and events within maxEvents.
func TestResidentBytesAfterRace(t *testing.T) {
	const maxEvents, maxBytes, largest = 16, 200, 120
	rounds := 3000
	if testing.Short() {
		rounds = 300
	}
	r := New[*item](maxEvents, maxBytes)
	rng := rand.New(rand.NewPCG(7, 7))
	var all []*item
	start := make([]chan []*item, stressProducers)
	var wg sync.WaitGroup
	for p := range stressProducers {
		start[p] = make(chan []*item)
		go func() {
			for batch := range start[p] {
				for _, it := range batch {
					r.Push(it)
				}
				wg.Done()
			}
		}()
	}
	limit := max(maxBytes, stressProducers*largest)
	for round := range rounds {
		wg.Add(stressProducers)
		for p := range stressProducers {
			batch := make([]*item, 1+rng.IntN(4))
			for i := range batch {
				batch[i] = &item{producer: p, seq: round*8 + i, size: 1 + rng.IntN(largest)}
			}
			all = append(all, batch...)
			start[p] <- batch
		}
		wg.Wait()
		if n, b := r.Len(), r.Bytes(); n > maxEvents || b > limit || (b > maxBytes && n > stressProducers) {
			t.Fatalf("round %d: Len %d, Bytes %d; bounds %d events, %d bytes (%d with racing pushes)",
				round, n, b, maxEvents, maxBytes, limit)
		}
		// Drain part of the ring so that the next round sometimes starts
		// from empty, where racing pushes may all be admitted.
		for k := rng.IntN(maxEvents + 1); k > 0; k-- {
			it, ok := r.Pop()
			if !ok {
				break
			}
			it.popped.Store(true)
			it.Release()
		}
	}
	for p := range start {
		close(start[p])
	}
	r.Close()
	for _, it := range all {
		if n := it.released.Load(); n != 1 {
			t.Fatalf("%v released %d times", it, n)
		}
	}
	if p, q := r.Pushed(), r.Popped()+r.Drops()+r.Discarded(); p != q || r.Len() != 0 {
		t.Fatalf("conservation: Pushed %d, Popped+Drops+Discarded %d, Len %d", p, q, r.Len())
	}
}

// TestCloseRacesPushes aims many short-lived rings' Close at pushes in
// flight, the window where a push publishes after Close has drained.
func TestCloseRacesPushes(t *testing.T) {
	iterations := 2000
	if testing.Short() {
		iterations = 200
	}
	var leaked atomic.Int64
	for range iterations {
		r := New[*item](4, 1<<20)
		items := make([][]*item, stressProducers)
		var wg sync.WaitGroup
		for p := range stressProducers {
			items[p] = newItems(20, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, it := range items[p] {
					r.Push(it)
				}
			}()
		}
		runtime.Gosched()
		r.Close()
		wg.Wait()
		if r.Len() != 0 {
			t.Fatalf("Len %d after Close and all pushes returned", r.Len())
		}
		for _, its := range items {
			for _, it := range its {
				if it.released.Load() != 1 {
					leaked.Add(1)
				}
			}
		}
		if p, q := r.Pushed(), r.Drops()+r.Discarded(); p != q {
			t.Fatalf("Pushed %d != Drops %d + Discarded %d with no pops", p, r.Drops(), r.Discarded())
		}
	}
	if n := leaked.Load(); n != 0 {
		t.Fatalf("%d items not released exactly once", n)
	}
}
