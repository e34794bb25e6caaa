package engine

import (
	"testing"

	"busd/codec"
)

// A batch that reaches more subscribers than a loop has direct buffers
// delivers every event to every subscriber, in full, and the loop never
// holds more than maxDirectBuffers buffers: the rest go through the queues.
func TestDirectBuffersBounded(t *testing.T) {
	const subscribers = 3 * maxDirectBuffers
	const events = 10
	p := newPipeline(t, subscribers, "fan.*")
	batch := pubFrames("fan.out", []byte(envelope(1)), events)
	if n := p.feed(batch); n != len(batch) {
		t.Fatalf("dispatch consumed %d of %d bytes", n, len(batch))
	}
	if p.loop.directPool.out != 0 {
		t.Fatalf("%d direct buffers still out after the batch", p.loop.directPool.out)
	}
	// Every buffer handed out came back to the spare list, so its length
	// is the most that were out at once.
	if got := len(p.loop.directPool.spare); got != maxDirectBuffers {
		t.Fatalf("loop kept %d direct buffers, want exactly %d (the bound, reached)", got, maxDirectBuffers)
	}
	frame := codec.EventFrameSize([]byte("fan.out"), len(envelope(1)))
	for i, sub := range p.subs {
		if got := sub.conn.(*fakeConn).written; got != events*frame {
			t.Fatalf("subscriber %d got %d bytes, want %d (%d events)", i, got, events*frame, events)
		}
		if q := sub.out.queue.Load(); q.Len() != 0 {
			t.Fatalf("subscriber %d still has %d queued", i, q.Len())
		}
	}
}
