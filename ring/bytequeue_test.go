package ring

import (
	"bytes"
	"fmt"
	"testing"
)

// reserveFrame appends a frame of n bytes filled with tag.
func reserveFrame(f *ByteQueue, n int, tag byte) int {
	dst, dropped := f.Reserve(n)
	for i := range dst {
		dst[i] = tag
	}
	return dropped
}

// drain pops every frame and returns them in order, one string each.
func drain(t *testing.T, f *ByteQueue) []string {
	t.Helper()
	var out []string
	for f.Len() > 0 {
		b, k := f.Front(1 << 30)
		if k == 0 {
			t.Fatal("Front returned nothing from a non-empty queue")
		}
		out = append(out, string(b))
		f.Pop(k)
	}
	return out
}

func TestByteQueueEventBound(t *testing.T) {
	f := NewByteQueue(3, 1<<20)
	dropped := 0
	for i := range 5 {
		dropped += reserveFrame(f, 2, byte('a'+i))
	}
	if dropped != 2 || f.Drops() != 2 || f.Len() != 3 || f.Bytes() != 6 {
		t.Fatalf("dropped %d, Drops %d, Len %d, Bytes %d; want 2, 2, 3, 6", dropped, f.Drops(), f.Len(), f.Bytes())
	}
	if got := drain(t, f); fmt.Sprint(got) != "[ccddee]" {
		t.Fatalf("queued %q, want the three newest", got)
	}
}

func TestByteQueueByteBound(t *testing.T) {
	f := NewByteQueue(100, 10)
	reserveFrame(f, 4, 'a')
	reserveFrame(f, 4, 'b')
	if d := reserveFrame(f, 4, 'c'); d != 1 {
		t.Fatalf("third frame of 4 under a 10-byte bound dropped %d, want 1", d)
	}
	// A lone frame above the bound is kept.
	if d := reserveFrame(f, 25, 'z'); d != 2 || f.Len() != 1 || f.Bytes() != 25 {
		t.Fatalf("oversize frame: dropped %d, Len %d, Bytes %d; want 2, 1, 25", d, f.Len(), f.Bytes())
	}
	if f.Cap() != 25 {
		t.Fatalf("Cap %d, want 25: the buffer never outgrows max(maxBytes, largest frame)", f.Cap())
	}
}

// Frames that do not fit before the end of the buffer start over at 0;
// Front returns only runs that are back to back.
func TestByteQueueWrap(t *testing.T) {
	const n = minByteQueueBuffer / 4
	run := func(tags string) string {
		var b []byte
		for _, c := range []byte(tags) {
			b = append(b, bytes.Repeat([]byte{c}, n)...)
		}
		return string(b)
	}
	f := NewByteQueue(100, minByteQueueBuffer)
	for i := range 3 {
		reserveFrame(f, n, byte('a'+i)) // [a b c _]
	}
	f.Pop(1)                                                  // [_ b c _]
	if reserveFrame(f, n, 'd')+reserveFrame(f, n, 'e') != 0 { // d after c, e wraps: [e b c d]
		t.Fatal("dropped a frame with room left")
	}
	if f.Cap() != minByteQueueBuffer {
		t.Fatalf("Cap %d: grew instead of wrapping", f.Cap())
	}
	if b, k := f.Front(1 << 30); k != 3 || string(b) != run("bcd") {
		t.Fatalf("Front: %d frames, %d bytes; want the run b c d", k, len(b))
	}
	f.Pop(3)
	if b, k := f.Front(1 << 30); k != 1 || string(b) != run("e") {
		t.Fatalf("after the run: %d frames, %d bytes; want e", k, len(b))
	}
	// [e f g h] is full to the byte bound, and the buffer is as large as
	// it may grow: i drops e and wraps into its place.
	for _, c := range []byte("fgh") {
		reserveFrame(f, n, c)
	}
	if d := reserveFrame(f, n, 'i'); d != 1 || f.Cap() != minByteQueueBuffer {
		t.Fatalf("into a full buffer: dropped %d, Cap %d; want 1 and no growth", d, f.Cap())
	}
	if got := drain(t, f); len(got) != 2 || got[0] != run("fgh") || got[1] != run("i") {
		t.Fatalf("after the wrap: %d runs, want f g h then i", len(got))
	}
}

// Growing keeps every frame and the order.
func TestByteQueueGrowKeepsOrder(t *testing.T) {
	f := NewByteQueue(10000, 1<<22)
	var want []byte
	for i := range 3000 {
		n := 1 + i%300
		dst, d := f.Reserve(n)
		if d != 0 {
			t.Fatalf("frame %d: dropped %d under no bound pressure", i, d)
		}
		for j := range dst {
			dst[j] = byte(i)
		}
		want = append(want, dst...)
	}
	var got []byte
	for f.Len() > 0 {
		b, k := f.Front(1000)
		got = append(got, b...)
		f.Pop(k)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("contents changed across growth")
	}
}

// Front stops at limit bytes but always returns one frame.
func TestByteQueueFrontLimit(t *testing.T) {
	f := NewByteQueue(10, 1<<20)
	reserveFrame(f, 100, 'a')
	reserveFrame(f, 100, 'b')
	if b, k := f.Front(150); k != 1 || len(b) != 100 {
		t.Fatalf("Front(150): %d frames, %d bytes; want 1, 100", k, len(b))
	}
	if b, k := f.Front(10); k != 1 || len(b) != 100 {
		t.Fatalf("Front(10): %d frames, %d bytes; want the oldest frame anyway", k, len(b))
	}
	if b, k := f.Front(200); k != 2 || len(b) != 200 {
		t.Fatalf("Front(200): %d frames, %d bytes; want 2, 200", k, len(b))
	}
}

func TestByteQueueFree(t *testing.T) {
	f := NewByteQueue(10, 1<<20)
	reserveFrame(f, 10, 'a')
	f.Free()
	if f.Cap() == 0 || f.Len() != 1 {
		t.Fatal("Free dropped a queue that holds a frame")
	}
	f.Pop(1)
	f.Free()
	if f.Cap() != 0 {
		t.Fatalf("Free left %d bytes", f.Cap())
	}
	reserveFrame(f, 10, 'b')
	if got := drain(t, f); fmt.Sprint(got) != "[bbbbbbbbbb]" {
		t.Fatalf("after Free: %q", got)
	}
}
