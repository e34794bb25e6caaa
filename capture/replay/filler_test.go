package replay

import (
	"encoding/json"
	"testing"
)

// Every size gives one valid JSON object of exactly that size (1, which
// no object fits, gives "{}"; 0 gives no body).
func TestFillerSizes(t *testing.T) {
	for size := 0; size <= 300; size++ {
		b := appendFiller(nil, size)
		want := size
		if size == 1 {
			want = 2
		}
		if len(b) != want || fillerSize(size) != want {
			t.Fatalf("size %d: got %d bytes (fillerSize %d), want %d", size, len(b), fillerSize(size), want)
		}
		if size == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatalf("size %d: %q is not a JSON object: %v", size, b, err)
		}
	}
}

// A filler longer than the shared padding is still whole.
func TestFillerLargest(t *testing.T) {
	size := len(fillerPad) + fillerMin + 5
	b := appendFiller(nil, size)
	if len(b) != size || !json.Valid(b) {
		t.Fatalf("size %d: got %d bytes, valid %v", size, len(b), json.Valid(b))
	}
}

func BenchmarkFiller(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(300)
	for b.Loop() {
		buf = appendFiller(buf[:0], 300)
	}
}
