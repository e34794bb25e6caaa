package codec

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// Message is one EVT frame, built once per publish and shared by every
// subscriber it is delivered to.
//
// Invariants:
//   - Frame() holds a complete, encoded EVT frame (header, length, body) and is
//     never modified after the message is handed out;
//   - refs counts the holders (the builder plus one per queue slot or pending
//     write); the holder that drops it to zero returns the buffer to its pool,
//     after which nobody may touch Frame();
//   - a Message is never shared between pools: class picks its size class.
type Message struct {
	refs  atomic.Int32
	class int8
	frame []byte
}

// Size classes: powers of two from 512 B up to the largest legal EVT frame
// (1 MiB body + 4 KiB header + 4 length bytes rounds up to 2 MiB).
const (
	minClassShift = 9
	maxClassShift = 21
	numClasses    = maxClassShift - minClassShift + 1
)

var messagePools [numClasses]sync.Pool

func classFor(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// NewMessage returns a message whose Frame has length frameLen, holding one
// reference owned by the caller. frameLen must not exceed MaxEventFrame.
func NewMessage(frameLen int) *Message { return NewMessageRefs(frameLen, 1) }

// NewMessageRefs is NewMessage holding refs references (at least 1) from
// the start: a fan-out that knows how many queues it feeds sets the count
// in the one store that initializes it, instead of adding to it after.
func NewMessageRefs(frameLen int, refs int32) *Message {
	if refs < 1 {
		panic("codec: a new message needs at least one reference")
	}
	c := classFor(frameLen)
	if c >= numClasses {
		panic("codec: message larger than the largest legal frame")
	}
	m, _ := messagePools[c].Get().(*Message)
	if m == nil {
		m = &Message{class: int8(c), frame: make([]byte, 0, 1<<(c+minClassShift))}
	}
	m.frame = m.frame[:frameLen]
	m.refs.Store(refs)
	if Invariants {
		liveMessages.Add(1)
	}
	return m
}

// Frame returns the encoded EVT frame. The bytes stay valid while the caller
// holds a reference.
func (m *Message) Frame() []byte { return m.frame }

// Size is the number of frame bytes, the unit of a queue's byte bound.
func (m *Message) Size() int { return len(m.frame) }

// Retain adds a reference for a new holder.
func (m *Message) Retain() { m.refs.Add(1) }

// Release drops one reference; the last one returns the buffer to its pool.
func (m *Message) Release() {
	switch n := m.refs.Add(-1); {
	case n == 0:
		if Invariants {
			liveMessages.Add(-1)
			clear(m.frame) // a use after release now reads zeros, not a stale event
		}
		messagePools[m.class].Put(m)
	case n < 0:
		panic("codec: Message released more often than retained")
	}
}

// Refs reports the current reference count, for tests and invariant checks.
func (m *Message) Refs() int32 { return m.refs.Load() }
