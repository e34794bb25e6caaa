package ring

// ByteQueue is a drop-oldest FIFO of byte frames kept back to back in one
// buffer, for a single goroutine. It is the queue of a subscriber that has
// fallen behind, fed from its own event loop: an event costs one copy into
// the buffer, and dropping the oldest one costs an index step, with no
// per-event buffer, reference count or atomic operation. (Ring is the queue
// other goroutines push into.)
//
// Invariants:
//   - the queued frames are the count entries of ents from first on
//     (modulo len(ents)), oldest first, and bytes is the sum of their
//     lengths;
//   - each frame lies in buf[off:off+n] and never wraps around the end of
//     buf: one that does not fit before the end starts at 0; frames never
//     overlap;
//   - count <= maxEvents; after Reserve, bytes <= max(maxBytes, n) for the
//     frame n just reserved (a lone frame above maxBytes is kept, like Ring);
//   - len(buf) <= max(maxBytes, the largest frame reserved) and len(ents) is
//     a power of two at most max(64, 2*maxEvents): memory follows what is
//     queued, up to the bounds, and Free gives it back.
//
// The zero value is not usable; call NewByteQueue.
type ByteQueue struct {
	buf          []byte
	ents         []frameEnt
	first, count int
	bytes        int
	maxEvents    int
	maxBytes     int
	drops        uint64
}

type frameEnt struct{ off, n int }

// minByteQueueBuffer is the first buffer's size. Small: many subscribers may
// fall a few events behind at once (a burst to every dashboard), and each
// spill then costs this much; one that keeps falling behind doubles it.
const minByteQueueBuffer = 4 << 10

// NewByteQueue returns an empty queue bounded to maxEvents frames and maxBytes
// bytes (both at least 1). It allocates nothing until the first Reserve.
func NewByteQueue(maxEvents, maxBytes int) *ByteQueue {
	if maxEvents < 1 || maxBytes < 1 {
		panic("ring: ByteQueue bounds must be at least 1")
	}
	return &ByteQueue{maxEvents: maxEvents, maxBytes: maxBytes}
}

// Reserve appends a frame of n bytes (n >= 1) and returns the bytes to fill
// in, valid until the next call on f. To stay within the bounds it first
// drops the oldest frames; it also drops them when the buffer, at its
// largest, has no contiguous room left. Returns how many frames it dropped.
func (f *ByteQueue) Reserve(n int) (dst []byte, dropped int) {
	if n < 1 {
		panic("ring: ByteQueue.Reserve of an empty frame")
	}
	for f.count > 0 && (f.count >= f.maxEvents || f.bytes+n > f.maxBytes) {
		f.dropOldest()
		dropped++
	}
	off, ok := f.place(n)
	for !ok {
		if !f.grow(n) {
			f.dropOldest() // count > 0 here: an empty buffer of n bytes fits n
			dropped++
		}
		off, ok = f.place(n)
	}
	if f.count == len(f.ents) {
		f.growEnts()
	}
	f.ents[(f.first+f.count)&(len(f.ents)-1)] = frameEnt{off, n}
	f.count++
	f.bytes += n
	return f.buf[off : off+n : off+n], dropped
}

// place finds where a frame of n bytes goes without moving anything.
func (f *ByteQueue) place(n int) (off int, ok bool) {
	if f.count == 0 {
		return 0, len(f.buf) >= n
	}
	start := f.ents[f.first].off
	last := f.ents[(f.first+f.count-1)&(len(f.ents)-1)]
	end := last.off + last.n
	if start < end { // not wrapped: free space after end, and before start
		if len(f.buf)-end >= n {
			return end, true
		}
		return 0, start >= n
	}
	return end, start-end >= n // wrapped: free space between end and start
}

// grow moves the frames, oldest first, to the start of a larger buffer
// with room for n more bytes. It returns false when the buffer is already
// as large as allowed.
func (f *ByteQueue) grow(n int) bool {
	limit := max(f.maxBytes, n)
	if len(f.buf) >= limit {
		return false
	}
	size := max(2*len(f.buf), minByteQueueBuffer, f.bytes+n)
	size = min(size, max(limit, f.bytes+n))
	buf := make([]byte, size)
	off := 0
	for i := range f.count {
		e := &f.ents[(f.first+i)&(len(f.ents)-1)]
		copy(buf[off:], f.buf[e.off:e.off+e.n])
		e.off = off
		off += e.n
	}
	f.buf = buf
	return true
}

func (f *ByteQueue) growEnts() {
	size := max(2*len(f.ents), 64)
	ents := make([]frameEnt, size)
	for i := range f.count {
		ents[i] = f.ents[(f.first+i)&(len(f.ents)-1)]
	}
	f.ents, f.first = ents, 0
}

func (f *ByteQueue) dropOldest() {
	f.Pop(1)
	f.drops++
}

// Front returns the oldest frames that lie back to back in the buffer, as
// many as fit in limit bytes (at least one, whatever its size), and how
// many frames that is; nothing if the queue is empty. The bytes stay valid
// until the next Reserve, Pop or Free.
func (f *ByteQueue) Front(limit int) (b []byte, frames int) {
	if f.count == 0 {
		return nil, 0
	}
	start := f.ents[f.first].off
	end := start
	for frames < f.count {
		e := f.ents[(f.first+frames)&(len(f.ents)-1)]
		if e.off != end || (frames > 0 && end+e.n-start > limit) {
			break
		}
		end += e.n
		frames++
	}
	return f.buf[start:end], frames
}

// Pop removes the k oldest frames (k <= Len()), which the caller has used.
func (f *ByteQueue) Pop(k int) {
	if k > f.count {
		panic("ring: ByteQueue.Pop past the end")
	}
	for range k {
		f.bytes -= f.ents[f.first].n
		f.first = (f.first + 1) & (len(f.ents) - 1)
	}
	f.count -= k
}

// Free drops the buffers of an empty queue, so that a subscriber that has
// caught up holds no memory for it. It does nothing if frames are queued.
func (f *ByteQueue) Free() {
	if f.count == 0 {
		f.buf, f.ents, f.first, f.bytes = nil, nil, 0, 0
	}
}

// Len is the number of queued frames.
func (f *ByteQueue) Len() int { return f.count }

// Bytes is the number of queued bytes.
func (f *ByteQueue) Bytes() int { return f.bytes }

// Drops is how many frames Reserve has dropped.
func (f *ByteQueue) Drops() uint64 { return f.drops }

// Cap is the buffer's size in bytes, for memory accounting.
func (f *ByteQueue) Cap() int { return len(f.buf) }
