package codec

import "testing"

// A released message comes back from the cache it was released to, with
// the new length and reference count; larger classes bypass the cache.
func TestMessageCacheRecycles(t *testing.T) {
	var c MessageCache
	m := c.New(300, 2)
	if m.Size() != 300 || m.Refs() != 2 {
		t.Fatalf("New(300, 2): size %d refs %d", m.Size(), m.Refs())
	}
	c.Release(m)
	if c.Len() != 0 {
		t.Fatalf("cached a message still referenced once: Len %d", c.Len())
	}
	c.Release(m)
	if c.Len() != 1 {
		t.Fatalf("after the last release: Len %d, want 1", c.Len())
	}
	again := c.New(100, 3)
	if again != m || again.Size() != 100 || again.Refs() != 3 || c.Len() != 0 {
		t.Fatalf("New after release: %p size %d refs %d (Len %d), want %p size 100 refs 3", again, again.Size(), again.Refs(), c.Len(), m)
	}
	for range 3 {
		c.Release(again)
	}
	// A frame of 1 KiB and one byte is in the 2 KiB class: not cached.
	big := c.New(1025, 1)
	c.Release(big)
	if c.Len() != 1 {
		t.Fatalf("a 2 KiB-class message was cached: Len %d, want 1", c.Len())
	}
	c.Reset()
	if c.Len() != 0 {
		t.Fatalf("Reset left %d messages", c.Len())
	}
}

// The cache holds at most cacheDepth messages a class; the rest go to the
// shared pool.
func TestMessageCacheDepth(t *testing.T) {
	var c MessageCache
	ms := make([]*Message, cacheDepth+10)
	for i := range ms {
		ms[i] = c.New(200, 1)
	}
	for _, m := range ms {
		c.Release(m)
	}
	if c.Len() != cacheDepth {
		t.Fatalf("Len %d, want %d", c.Len(), cacheDepth)
	}
	c.Reset()
}

func TestMessageCacheReleasedTooOften(t *testing.T) {
	var c MessageCache
	m := c.New(10, 1)
	m.refs.Store(0) // as if someone released it behind the cache's back
	defer func() {
		if recover() == nil {
			t.Fatal("no panic on a release below zero references")
		}
	}()
	c.Release(m)
}
