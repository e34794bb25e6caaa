//go:build !race

package replay

import "testing"

// Encoding a PUB into a buffer with room allocates nothing: it runs once
// per PUB and copy.
func TestAppendPubAllocs(t *testing.T) {
	topic := []byte("decky.d1.traffic")
	body := appendFiller(nil, 300)
	buf := make([]byte, 0, 1024)
	for _, shape := range []bool{false, true} {
		if n := testing.AllocsPerRun(1000, func() { buf = appendPub(buf[:0], topic, body, 300, shape) }); n != 0 {
			t.Fatalf("shape %v: %v allocs per PUB, want 0", shape, n)
		}
	}
	var h histogram
	if n := testing.AllocsPerRun(1000, func() { h.record(1234) }); n != 0 {
		t.Fatalf("lag record: %v allocs, want 0", n)
	}
}
