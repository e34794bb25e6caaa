package replay

import (
	"net"
	"testing"
	"time"

	"busd/capture"
	"busd/codec"
)

// readAll feeds frames of total bytes to a reader at pace and returns how
// long it took to count them.
func readAll(t *testing.T, frames []byte, copies int, pace float64) (time.Duration, uint64) {
	t.Helper()
	a, b := net.Pipe()
	rd := newReader(1)
	start := time.Now()
	go rd.run(b, pace)
	for range copies {
		if _, err := a.Write(frames); err != nil {
			t.Fatal(err)
		}
	}
	// The reader has counted everything once the pipe takes no more.
	for rd.delivered.Load() < uint64(copies) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("reader counted %d of %d", rd.delivered.Load(), copies)
		}
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	a.Close()
	<-rd.done
	return took, rd.bytes.Load()
}

// A subscriber whose capture shows a stall and its resume reads at the
// pace between them; one that never stalled reads freely.
func TestReaderPace(t *testing.T) {
	var slow capture.Pace
	slow.Observe(&capture.Record{Kind: capture.KindOut, Time: 0, State: capture.OutStalled, BytesOut: 1000})
	slow.Observe(&capture.Record{Kind: capture.KindOut, Time: ms(1000), State: capture.OutResumed, BytesOut: 1000 + 200_000})
	var free capture.Pace
	if slow.BytesPerSecond() != 200_000 || free.BytesPerSecond() != 0 {
		t.Fatalf("paces %v and %v", slow.BytesPerSecond(), free.BytesPerSecond())
	}
	body := appendFiller(nil, 1000)
	frame := appendHeader(nil, codec.VerbEVT, []byte("s.x"), len(body))
	frame = append(frame, body...)
	const events = 100 // ~100 KB: half a second at the slow pace
	freeTook, freeBytes := readAll(t, frame, events, free.BytesPerSecond())
	slowTook, slowBytes := readAll(t, frame, events, slow.BytesPerSecond())
	if freeBytes != slowBytes || slowBytes != uint64(events*len(frame)) {
		t.Fatalf("bytes counted: free %d, slow %d, want %d", freeBytes, slowBytes, events*len(frame))
	}
	// Allow the bucket's burst: at least 90% of the bytes at the pace.
	if min := time.Duration(0.9*float64(slowBytes)/slow.BytesPerSecond()*float64(time.Second)) - 20*time.Millisecond; slowTook < min {
		t.Fatalf("the slow reader took %v, want at least %v", slowTook, min)
	}
	if freeTook >= slowTook {
		t.Fatalf("free reader %v, slow reader %v", freeTook, slowTook)
	}
	t.Logf("free %v, slow %v", freeTook, slowTook)
}
