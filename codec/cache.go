package codec

// MessageCache recycles released messages of the small size classes for one
// goroutine, without sync.Pool's per-call pinning and shared queues: a
// subscriber that never reads has one message evicted for every event pushed
// to it, and handing the evicted buffer straight to the next event is the
// cheapest way round that loop.
//
// Invariants: a MessageCache is used by one goroutine at a time; it holds
// only messages with no reference left (refs == 0), at most cacheDepth per
// cached class, and never a message of a class it does not cache. The zero
// value is ready to use.
type MessageCache struct {
	free [cachedClasses][]*Message
}

const (
	// cachedClasses: frames up to 1 KiB (512 B and 1 KiB classes), which
	// covers typical events; larger ones go through the pools.
	cachedClasses = 2
	// cacheDepth per class: a batch of evictions (at most 64 per push
	// batch, see the engine) fits with room to spare.
	cacheDepth = 256
)

// New is NewMessageRefs, reusing a cached message when one of the right
// class is at hand.
func (c *MessageCache) New(frameLen int, refs int32) *Message {
	cl := classFor(frameLen)
	if cl >= cachedClasses || len(c.free[cl]) == 0 || refs < 1 {
		return NewMessageRefs(frameLen, refs)
	}
	list := c.free[cl]
	m := list[len(list)-1]
	list[len(list)-1] = nil
	c.free[cl] = list[:len(list)-1]
	m.frame = m.frame[:frameLen]
	m.refs.Store(refs)
	if Invariants {
		liveMessages.Add(1)
	}
	return m
}

// Release is m.Release, except that the last reference hands the buffer to
// c (when it has room for that class) instead of to the shared pool.
func (c *MessageCache) Release(m *Message) {
	cl := int(m.class)
	if cl >= cachedClasses || len(c.free[cl]) == cacheDepth {
		m.Release()
		return
	}
	switch n := m.refs.Add(-1); {
	case n == 0:
		if Invariants {
			liveMessages.Add(-1)
			clear(m.frame)
		}
		if c.free[cl] == nil {
			c.free[cl] = make([]*Message, 0, cacheDepth)
		}
		c.free[cl] = append(c.free[cl], m)
	case n < 0:
		panic("codec: Message released more often than retained")
	}
}

// Len is the number of cached messages.
func (c *MessageCache) Len() int {
	n := 0
	for _, l := range c.free {
		n += len(l)
	}
	return n
}

// Reset hands every cached message back to the shared pools.
func (c *MessageCache) Reset() {
	for cl, list := range c.free {
		for i, m := range list {
			messagePools[cl].Put(m)
			list[i] = nil
		}
		c.free[cl] = list[:0]
	}
}
