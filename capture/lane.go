package capture

import (
	"encoding/binary"
	"sync/atomic"
)

// lane carries one event loop's records to the recorder's file writer: a
// single-producer, single-consumer byte ring. The loop appends entries and
// never waits: an entry that does not fit is dropped, counted, and the next
// entry that fits is preceded by a gap entry saying how many were lost
// there, so the file marks the hole where it is.
//
// Invariants: head <= tail <= head+len(buf); the bytes in [head, tail)
// (modulo len(buf)) are whole entries, each laneAlign-aligned and never
// wrapped: an entry that would cross the end of buf is preceded by a
// padding entry that fills the rest of it. tail is written by the producer
// only, head by the consumer only; each publishes its side with a release
// store that the other reads with an acquire load, so the bytes an entry
// occupies are written before the consumer can see them and read before
// the producer can reuse them.
type lane struct {
	buf  []byte
	mask uint64

	head atomic.Uint64 // consumer: bytes released
	_    [cacheLine - 8]byte
	tail atomic.Uint64 // producer: bytes published
	// gap counts entries dropped since the last one written (producer
	// only); dropped is their running total, for status readers.
	gap     uint64
	dropped atomic.Uint64
	_       [cacheLine - 24]byte
}

const (
	cacheLine = 128 // see ring's cacheLinePad: a line and its prefetch pair
	laneAlign = 8
	// laneHeader: length (uint32), kind (uint8), state/flag (uint8), two
	// spare bytes, time (int64), conn (uint64).
	laneHeader = 24
	// kindPad marks padding to the end of the buffer.
	kindPad Kind = 0
	// laneGapSize is a gap entry: the header and the count.
	laneGapSize = laneHeader + 8
)

// newLane makes a lane of at least size bytes (rounded up to a power of
// two).
func newLane(size int) *lane {
	n := 1 << 12
	for n < size {
		n <<= 1
	}
	return &lane{buf: make([]byte, n), mask: uint64(n - 1)}
}

// reserve returns n bytes (n already aligned) to write one entry into, or
// nil when the lane is full: the entry is then dropped and counted. A gap
// entry is written first if entries were dropped since the last one that
// fit. Producer only; commit publishes what reserve returned.
func (ln *lane) reserve(n int, now int64) []byte {
	need := uint64(n)
	if ln.gap > 0 {
		need += laneGapSize
	}
	tail := ln.tail.Load()
	size := uint64(len(ln.buf))
	pos := tail & ln.mask
	var pad uint64
	if pos+need > size {
		pad = size - pos // the entry never wraps: skip to the start
	}
	if tail+pad+need-ln.head.Load() > size {
		ln.gap++
		ln.dropped.Add(1)
		return nil
	}
	if pad > 0 {
		// Only length and kind: pad may be as short as laneAlign.
		binary.LittleEndian.PutUint32(ln.buf[pos:], uint32(pad))
		ln.buf[pos+4] = byte(kindPad)
		tail += pad
		pos = 0
		ln.tail.Store(tail)
	}
	if ln.gap > 0 {
		e := ln.buf[pos : pos+laneGapSize]
		putLaneHeader(e, laneGapSize, KindGap, 0, now, 0)
		binary.LittleEndian.PutUint64(e[laneHeader:], ln.gap)
		ln.gap = 0
		tail += laneGapSize
		pos += laneGapSize
		ln.tail.Store(tail)
	}
	return ln.buf[pos : pos+uint64(n)]
}

// commit publishes the n bytes reserve returned last.
func (ln *lane) commit(n int) {
	ln.tail.Store(ln.tail.Load() + uint64(n))
}

// peek returns the next entry, or nil when the lane is empty. It stays
// valid until release. Consumer only.
func (ln *lane) peek() []byte {
	for {
		head := ln.head.Load()
		if head == ln.tail.Load() {
			return nil
		}
		pos := head & ln.mask
		n := binary.LittleEndian.Uint32(ln.buf[pos:])
		if Kind(ln.buf[pos+4]) == kindPad {
			ln.head.Store(head + uint64(n))
			continue
		}
		return ln.buf[pos : pos+uint64(n)]
	}
}

// release hands the entry peek returned back to the producer.
func (ln *lane) release(e []byte) {
	ln.head.Store(ln.head.Load() + uint64(len(e)))
}

func putLaneHeader(e []byte, n uint32, k Kind, flag uint8, now int64, conn uint64) {
	binary.LittleEndian.PutUint32(e, n)
	e[4], e[5] = byte(k), flag
	binary.LittleEndian.PutUint64(e[8:], uint64(now))
	binary.LittleEndian.PutUint64(e[16:], conn)
}

// alignEntry rounds an entry's length up to laneAlign.
func alignEntry(n int) int { return (n + laneAlign - 1) &^ (laneAlign - 1) }

// entryTime is the capture time written in a lane entry's header.
func entryTime(e []byte) uint64 { return binary.LittleEndian.Uint64(e[8:]) }
