package codec

import (
	"strings"
	"testing"
	"time"
)

var envelope220 = []byte(`{"v": 1, "id": "0123456789abcdef0123456789abcdef", "topic": "decky.d1.state", "type": "state", "ts": 1764190000.123456, "payload": {"state": "running", "pid": 4242, "tags": ["a", "b"], "ok": true, "x": null}}`)

func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"verb=SUB", AppendFrame(nil, VerbSUB, "decky.*.state", nil)},
		{"verb=PUB/size=220", AppendFrame(nil, VerbPUB, "decky.d1.state", envelope220)},
		{"verb=PUB/topic=long", AppendFrame(nil, VerbPUB, strings.Repeat("t.", 500)+"x", envelope220)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.frame)))
			b.ReportAllocs()
			var f Frame
			for b.Loop() {
				if n, _, err := f.Decode(tc.frame); n == 0 || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	topic := []byte("decky.d1.state")
	b.Run("op=AppendFrame/size=220", func(b *testing.B) {
		dst := make([]byte, 0, 512)
		b.ReportAllocs()
		for b.Loop() {
			dst = AppendFrame(dst[:0], VerbPUB, "decky.d1.state", envelope220)
		}
	})
	b.Run("op=EventMessage/size=220", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := NewMessage(EventFrameSize(topic, len(envelope220)))
			off := PutEventHeader(m.Frame(), topic, len(envelope220))
			copy(m.Frame()[off:], envelope220)
			m.Release()
		}
	})
	b.Run("op=AppendEnvelope", func(b *testing.B) {
		dst := make([]byte, 0, 512)
		b.ReportAllocs()
		for b.Loop() {
			dst = AppendEnvelope(dst[:0], topic, "state", time.Unix(1764190000, 0), []byte(`{"state": "running"}`))
		}
	})
}
