//go:build !race

package engine

import "testing"

// Reads that end inside a frame, as a streaming publisher's do, allocate
// nothing either: the connection joins its loop's unfinished list once.
func TestUnfinishedReadsAllocateNothing(t *testing.T) {
	p := newPipeline(t, 1, "decky.*.state")
	reads := unfinishedReads(16)
	p.feed(reads[0])
	p.feed(reads[1])
	i := 0
	if n := testing.AllocsPerRun(200, func() { p.feed(reads[i&1]); i++ }); n != 0 {
		t.Errorf("%.1f allocs per read, want 0", n)
	}
	if held := p.pub.limits.unfinished.held.Load(); held == 0 || p.srv.limits.pendingBytes.Load() != held {
		t.Errorf("publisher holds %d bytes, the server counts %d; want the same, not 0", held, p.srv.limits.pendingBytes.Load())
	}
}
