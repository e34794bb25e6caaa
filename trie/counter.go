package trie

import (
	"sync/atomic"
	"unsafe"
)

// counterStripes is the number of independent cells of a stripedCounter.
const counterStripes = 32

// stripedCounter is a statistics counter that concurrent goroutines can
// increment without all writing one cache line. Every cache hit increments
// one, so a single atomic word would be the one shared write on an
// otherwise read-only path.
//
// The cell is chosen from the address of a stack variable: a goroutine's
// stack is its own, so a goroutine keeps using one cell while different
// goroutines spread over the cells. A stack move only changes the cell,
// which is harmless because cells are only ever summed. This needs no
// pooled token per call: xsync.Counter's sync.Pool round trip cost more
// than the rest of a cache hit (BenchmarkMatch, cache=hit;
// bench/decisions/trie.md).
type stripedCounter struct {
	cells [counterStripes]struct {
		n atomic.Uint64
		_ [56]byte // one cell per cache line
	}
}

func (c *stripedCounter) inc() { c.add(1) }

func (c *stripedCounter) add(n uint64) {
	var anchor byte
	// Goroutine stacks are at least a few KiB apart; drop the bits that
	// vary within one stack and mix the rest (Fibonacci hashing).
	a := uint64(uintptr(unsafe.Pointer(&anchor))) >> 12
	c.cells[(a*0x9e3779b97f4a7c15)>>(64-5)].n.Add(n)
}

// load sums the cells. Increments racing with it may or may not be seen.
func (c *stripedCounter) load() uint64 {
	var s uint64
	for i := range c.cells {
		s += c.cells[i].n.Load()
	}
	return s
}
