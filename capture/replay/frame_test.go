package replay

import (
	"testing"

	"busd/codec"
)

// A PUB, with its body or a filler, decodes back to the topic and body
// the capture holds.
func TestAppendPubDecodes(t *testing.T) {
	topic := []byte("decky.d1.state")
	body := []byte(`{"v":1}`)
	for _, shape := range []bool{false, true} {
		buf := appendPub(nil, topic, body, uint32(len(body)), shape)
		var f codec.Frame
		n, _, err := f.Decode(buf)
		if err != nil || n != len(buf) {
			t.Fatalf("shape %v: decode n=%d of %d, err %v", shape, n, len(buf), err)
		}
		if f.Verb != codec.VerbPUB || string(f.Args) != string(topic) || len(f.Body) != len(body) {
			t.Fatalf("shape %v: decoded %v %q %q", shape, f.Verb, f.Args, f.Body)
		}
		if !shape && string(f.Body) != string(body) {
			t.Fatalf("body %q, want %q", f.Body, body)
		}
	}
	buf := appendControl(nil, codec.VerbBYE, nil)
	if string(buf) != "BYE\n\x00\x00\x00\x00" {
		t.Fatalf("BYE encodes as %q", buf)
	}
}

func benchmarkAppendPub(b *testing.B, shape bool) {
	topic := []byte("decky.d1.traffic")
	body := make([]byte, 300)
	copy(body, appendFiller(nil, 300))
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPub(buf[:0], topic, body, 300, shape)
	}
}

// The encode path per PUB.
func BenchmarkAppendPub(b *testing.B) {
	b.Run("full", func(b *testing.B) { benchmarkAppendPub(b, false) })
	b.Run("shape", func(b *testing.B) { benchmarkAppendPub(b, true) })
}
