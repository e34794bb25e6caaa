//go:build !race

package engine

import (
	"context"
	"fmt"
	"testing"

	"busd/codec"
)

// steadyRuns is how many batches testing.AllocsPerRun averages over; it
// runs the function once more to warm up.
const steadyRuns = 200

// The steady-state message path allocates nothing, whichever way an event
// takes to its subscriber: parse, validate, match (cache hit), then
//
//   - direct: a subscriber on the publisher's loop gets the frame copied
//     into its direct buffer, written at the batch's end;
//   - queue: a subscriber on another loop gets a reference to the shared,
//     pooled message in its queue, and its loop's task writes it;
//   - spill: a subscriber on the publisher's loop that never reads gets
//     the frame in its spill, whose newest event takes the oldest's place.
//
// Each case also checks, from counters, that its events really took that
// path, so that none can pass by taking another.
func TestMessagePathAllocatesNothing(t *testing.T) {
	const perBatch = 16
	batch := pubFrames("decky.d1.state", []byte(envelope(1)), perBatch)
	frame := codec.EventFrameSize([]byte("decky.d1.state"), len(envelope(1)))
	events := uint64((steadyRuns + 1) * perBatch) // AllocsPerRun's warm-up run too

	for _, subs := range []int{1, 8} {
		t.Run(fmt.Sprintf("direct/subs=%d", subs), func(t *testing.T) {
			p := newPipeline(t, subs, "decky.*.state")
			p.feed(batch) // warm the pools, the cache and the slices
			before := snapshotPaths(p.subs)
			if n := testing.AllocsPerRun(steadyRuns, func() { p.feed(batch) }); n != 0 {
				t.Errorf("%.1f allocs per batch, want 0", n)
			}
			for i, d := range snapshotPaths(p.subs).since(before) {
				if d.pushed != 0 || d.written != events*uint64(frame) {
					t.Fatalf("subscriber %d: %d events through its queue and %d bytes written, want 0 and %d (every event direct)", i, d.pushed, d.written, events*uint64(frame))
				}
			}
		})
	}

	for _, subs := range []int{1, 8} {
		t.Run(fmt.Sprintf("queue/subs=%d", subs), func(t *testing.T) {
			live := codec.LiveMessages()
			p := newPipeline(t, 0, "decky.*.state")
			var loops []*loop
			var gnetLoops []*countingLoop
			var remote []*peer
			for range subs {
				sub, l, el := p.addRemote(t, "decky.*.state")
				remote, loops, gnetLoops = append(remote, sub), append(loops, l), append(gnetLoops, el)
			}
			round := func() {
				p.feed(batch)
				for _, l := range loops {
					l.Run(context.Background()) // the task the publish scheduled
				}
			}
			round() // warm the message pool, the inboxes and the rest
			before := snapshotPaths(remote)
			tasks := make([]int, subs)
			for i, el := range gnetLoops {
				tasks[i] = el.tasks
			}
			if n := testing.AllocsPerRun(steadyRuns, round); n != 0 {
				t.Errorf("%.1f allocs per batch, want 0", n)
			}
			for i, d := range snapshotPaths(remote).since(before) {
				if d.pushed != events || d.written != events*uint64(frame) || d.queued != 0 {
					t.Fatalf("subscriber %d: %d events through its queue, %d bytes written, %d left; want %d, %d and 0",
						i, d.pushed, d.written, d.queued, events, events*uint64(frame))
				}
				if got := gnetLoops[i].tasks - tasks[i]; got != steadyRuns+1 {
					t.Fatalf("subscriber %d's loop got %d tasks for %d batches, want one each", i, got, steadyRuns+1)
				}
			}
			if n := codec.LiveMessages() - live; codec.Invariants && n != 0 {
				t.Fatalf("%d messages still referenced once every queue was written", n)
			}
		})
	}

	// A subscriber that never reads: once its spill has grown to hold a
	// full queue, each new event takes the place of the oldest.
	t.Run("spill", func(t *testing.T) {
		p := newPipeline(t, 2, "decky.*.state")
		reader, stuck := p.subs[0], p.subs[1]
		stuck.conn.(*fakeConn).stuck = p.srv.cfg.HighWater
		for range 2 * p.srv.cfg.RingEvents / perBatch {
			p.feed(batch) // fill the stuck subscriber's spill
		}
		drops := stuck.out.drops()
		before := snapshotPaths(p.subs)
		if n := testing.AllocsPerRun(steadyRuns, func() { p.feed(batch) }); n != 0 {
			t.Errorf("%.1f allocs per batch, want 0", n)
		}
		if !stuck.out.spilling() || stuck.out.queued() != p.srv.cfg.RingEvents || stuck.out.drops() == drops {
			t.Fatalf("stuck subscriber spilling %t, holds %d (want %d, full) and dropped %d more", stuck.out.spilling(), stuck.out.queued(), p.srv.cfg.RingEvents, stuck.out.drops()-drops)
		}
		d := snapshotPaths(p.subs).since(before)
		if d[1].pushed != 0 || d[1].drops != events {
			t.Fatalf("stuck subscriber: %d events through its queue and %d dropped from its spill, want 0 and %d (every event spilled)", d[1].pushed, d[1].drops, events)
		}
		if reader.conn.(*fakeConn).written == 0 || stuck.conn.(*fakeConn).written != 0 {
			t.Fatal("the reader got nothing, or the stuck connection was written to")
		}
		if d[0].pushed != 0 || d[0].written != events*uint64(frame) {
			t.Fatalf("reader: %d events through its queue and %d bytes written, want 0 and %d (every event direct)", d[0].pushed, d[0].written, events*uint64(frame))
		}
	})
}

// pathCounts says where a subscriber's events went.
type pathCounts struct {
	pushed  uint64 // into its shared queue
	written uint64 // bytes its connection took
	drops   uint64 // evicted from its queue or spill
	queued  int    // waiting in its queue or spill
}

type pathSnapshot []pathCounts

func snapshotPaths(subs []*peer) pathSnapshot {
	s := make(pathSnapshot, len(subs))
	for i, sub := range subs {
		s[i] = pathCounts{
			pushed:  sub.out.queue.Load().Pushed(),
			written: uint64(sub.conn.(*fakeConn).written),
			drops:   sub.out.drops(),
			queued:  sub.out.queued(),
		}
	}
	return s
}

// since is what changed from before to s; queued is s's.
func (s pathSnapshot) since(before pathSnapshot) pathSnapshot {
	d := make(pathSnapshot, len(s))
	for i := range s {
		d[i] = pathCounts{
			pushed:  s[i].pushed - before[i].pushed,
			written: s[i].written - before[i].written,
			drops:   s[i].drops - before[i].drops,
			queued:  s[i].queued,
		}
	}
	return d
}

// A bridge's publish (its subscribers less the bridges among them) takes
// the same path and allocates nothing either, once the loop's scratch
// slice has grown.
func TestBridgePublishAllocatesNothing(t *testing.T) {
	batch := pubFrames("decky.d1.state", []byte(envelope(1)), 16)
	p := newPipeline(t, 8, "decky.*.state")
	p.pub.bridge.Store(true)
	p.subs[0].bridge.Store(true) // another bridge: skipped
	p.feed(batch)
	if n := testing.AllocsPerRun(steadyRuns, func() { p.feed(batch) }); n != 0 {
		t.Errorf("%.1f allocs per batch, want 0", n)
	}
	got := snapshotPaths(p.subs)
	if got[0].written != 0 {
		t.Errorf("a bridge received %d bytes of another bridge's events", got[0].written)
	}
	if got[1].written == 0 {
		t.Error("a subscriber that is not a bridge received nothing")
	}
}
