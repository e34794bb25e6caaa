package fuzz

import (
	"fmt"
	"testing"

	"busd/ring"
)

// ringFuzzItem counts its releases instead of panicking on a second one, so
// the step checks can name the item and the operation that went wrong.
type ringFuzzItem struct {
	producer, seq, size int
	released            int
	tally               *int // releases of every item in the run
}

func (it *ringFuzzItem) Size() int { return it.size }
func (it *ringFuzzItem) Release() {
	it.released++
	*it.tally++
}
func (it *ringFuzzItem) String() string {
	return fmt.Sprintf("p%d#%d(%dB)", it.producer, it.seq, it.size)
}

// ringModel is the sequential specification of a ring: a slice with the
// eviction rule spelled out directly.
type ringModel struct {
	maxEvents, maxBytes int
	queue               []*ringFuzzItem
	bytes               int
	closed              bool
	pushed, popped      uint64
	dropped, discarded  uint64
}

func (m *ringModel) push(it *ringFuzzItem) (evicted []*ringFuzzItem) {
	m.pushed++
	if m.closed {
		m.dropped++
		return []*ringFuzzItem{it}
	}
	for len(m.queue) == m.maxEvents || (len(m.queue) > 0 && m.bytes+it.size > m.maxBytes) {
		evicted = append(evicted, m.queue[0])
		m.bytes -= m.queue[0].size
		m.queue = m.queue[1:]
		m.dropped++
	}
	m.queue = append(m.queue, it)
	m.bytes += it.size
	return evicted
}

func (m *ringModel) pop() (*ringFuzzItem, bool) {
	if len(m.queue) == 0 {
		return nil, false
	}
	it := m.queue[0]
	m.queue = m.queue[1:]
	m.bytes -= it.size
	m.popped++
	return it, true
}

func (m *ringModel) close() {
	m.closed = true
	m.discarded += uint64(len(m.queue))
	m.queue, m.bytes = nil, 0
}

const ringFuzzMaxOps = 2048

// FuzzRing runs a script of pushes (from one of four producers, with a size),
// pops and closes against a ring and against ringModel, one operation at a
// time, and compares them after every step.
//
// Script: byte 0 picks maxEvents (1..8), byte 1 maxBytes (1..256), then each
// operation byte b is read as:
//
//	b%8 in 0..4: push from producer (b>>3)&3, size = the next byte (0..255)
//	b%8 in 5..6: pop
//	b%8 == 7:    close if b>>3 == 31 (b == 0xff), else pop
func FuzzRing(f *testing.F) {
	f.Add([]byte{3, 99, 0, 10, 8, 20, 16, 30, 5, 5, 5, 5})                        // FIFO across producers
	f.Add([]byte{1, 255, 0, 1, 8, 2, 16, 3, 5, 0, 4, 5})                          // one slot: every push evicts
	f.Add([]byte{7, 9, 0, 4, 0, 4, 0, 4, 8, 2, 5, 5, 5, 5})                       // byte bound
	f.Add([]byte{3, 9, 0, 200, 0, 1, 8, 250, 5, 5, 0, 3, 5})                      // oversize items
	f.Add([]byte{3, 50, 0, 10, 8, 10, 16, 10, 24, 10, 5, 0xff, 0, 7, 5, 8, 1, 5}) // close with entries, then push
	f.Add([]byte{2, 0, 0, 0, 0, 1, 8, 0, 0xff, 0xff, 5, 7})                       // zero-size items, double close
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) < 2 {
			return
		}
		maxEvents, maxBytes := 1+int(script[0]%8), 1+int(script[1])
		r := ring.New[*ringFuzzItem](maxEvents, maxBytes)
		m := &ringModel{maxEvents: maxEvents, maxBytes: maxBytes}
		var (
			all       []*ringFuzzItem
			tally     int // releases seen
			released  int // releases the model expects
			nextSeq   [4]int
			lastPoppd = [4]int{-1, -1, -1, -1}
		)
		// mustBeReleased checks the items the model says left the ring in
		// this step; the tally then catches a release of anything else.
		mustBeReleased := func(step int, desc string, its []*ringFuzzItem) {
			t.Helper()
			for _, it := range its {
				if it.released != 1 {
					t.Fatalf("step %d %s: %v released %d times, want 1", step, desc, it, it.released)
				}
			}
			released += len(its)
		}
		ops := script[2:]
		for step := 0; step < len(ops) && step < ringFuzzMaxOps; step++ {
			b := ops[step]
			var desc string
			switch k := b % 8; {
			case k <= 4:
				p := int(b>>3) & 3
				size := 0
				if step+1 < len(ops) {
					step++
					size = int(ops[step])
				}
				it := &ringFuzzItem{producer: p, seq: nextSeq[p], size: size, tally: &tally}
				nextSeq[p]++
				all = append(all, it)
				desc = fmt.Sprintf("push %v", it)
				want := m.push(it)
				if got := r.Push(it); got != len(want) {
					t.Fatalf("step %d %s: evicted %d, model evicted %v", step, desc, got, want)
				}
				mustBeReleased(step, desc, want)
			case k == 7 && b == 0xff:
				desc = "close"
				queued := m.queue
				m.close()
				r.Close()
				mustBeReleased(step, desc, queued)
			default:
				desc = "pop"
				want, wantOK := m.pop()
				got, ok := r.Pop()
				if ok != wantOK || got != want {
					t.Fatalf("step %d pop: got %v, %v; model %v, %v", step, got, ok, want, wantOK)
				}
				if ok {
					if got.seq <= lastPoppd[got.producer] {
						t.Fatalf("step %d: popped %v after #%d of the same producer", step, got, lastPoppd[got.producer])
					}
					lastPoppd[got.producer] = got.seq
					if got.released != 0 {
						t.Fatalf("step %d: popped %v already released %d times", step, got, got.released)
					}
					got.Release() // the consumer's reference
					released++
				}
			}
			if tally != released {
				t.Fatalf("step %d %s: %d releases in all, model expects %d", step, desc, tally, released)
			}
			checkRing(t, step, desc, r, m)
		}
		// Whatever the script did, closing must leave no reference behind.
		queued := m.queue
		m.close()
		r.Close()
		mustBeReleased(len(ops), "final close", queued)
		for _, it := range all {
			if it.released != 1 {
				t.Fatalf("after final close: %v released %d times", it, it.released)
			}
		}
		checkRing(t, len(ops), "final close", r, m)
	})
}

func checkRing(t *testing.T, step int, desc string, r *ring.Ring[*ringFuzzItem], m *ringModel) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d %s: %s", step, desc, fmt.Sprintf(format, args...))
	}
	if r.Len() != len(m.queue) || r.Bytes() != m.bytes {
		fail("Len, Bytes = %d, %d; model %d, %d", r.Len(), r.Bytes(), len(m.queue), m.bytes)
	}
	if r.Len() > m.maxEvents {
		fail("Len %d over the bound %d", r.Len(), m.maxEvents)
	}
	if r.Bytes() > m.maxBytes && r.Len() > 1 {
		fail("Bytes %d over the bound %d with %d entries", r.Bytes(), m.maxBytes, r.Len())
	}
	if r.Closed() != m.closed {
		fail("Closed = %v", r.Closed())
	}
	got := [4]uint64{r.Pushed(), r.Popped(), r.Drops(), r.Discarded()}
	want := [4]uint64{m.pushed, m.popped, m.dropped, m.discarded}
	if got != want {
		fail("Pushed, Popped, Drops, Discarded = %v; model %v", got, want)
	}
	if r.Pushed() != r.Popped()+r.Drops()+r.Discarded()+uint64(r.Len()) {
		fail("conservation broken: %v, Len %d", got, r.Len())
	}
}
