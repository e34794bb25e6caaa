package engine

import (
	"fmt"
	"path/filepath"
	"testing"

	"busd/capture"
)

// BenchmarkFanOut is the daemon's own cost per published event, without
// syscalls: parse, validate, match, queue, copy out, for N subscribers.
func BenchmarkFanOut(b *testing.B) {
	for _, subs := range []int{1, 8, 64} {
		for _, validate := range []bool{true, false} {
			b.Run(fmt.Sprintf("subs=%d/validate=%t", subs, validate), func(b *testing.B) {
				p := newPipeline(b, subs, "decky.*.state")
				p.srv.cfg.ValidateJSON = validate
				const perBatch = 64
				batch := pubFrames("decky.d1.state", []byte(envelope(1)), perBatch)
				p.feed(batch)
				b.SetBytes(int64(len(batch) / perBatch))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += perBatch {
					p.feed(batch)
				}
			})
		}
	}
}

// BenchmarkFanOutBacklogged is W6 inside the engine: every event goes to a
// subscriber that keeps up (direct path) and to one that never reads, whose
// full queue evicts its oldest event on every push.
func BenchmarkFanOutBacklogged(b *testing.B) {
	for _, stuck := range []bool{false, true} {
		b.Run(fmt.Sprintf("stuck=%t", stuck), func(b *testing.B) {
			p := newPipeline(b, 2, "decky.*.state")
			if stuck {
				p.subs[1].conn.(*fakeConn).stuck = p.srv.cfg.HighWater
			}
			const perBatch = 64
			batch := pubFrames("decky.d1.state", []byte(envelope(1)), perBatch)
			for range 2 * p.srv.cfg.RingEvents / perBatch {
				p.feed(batch) // fill the stuck subscriber's queue
			}
			b.SetBytes(int64(len(batch) / perBatch))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += perBatch {
				p.feed(batch)
			}
		})
	}
}

// BenchmarkFanOutCapturing is BenchmarkFanOut (one subscriber) while a
// capture records every PUB: the tap's cost on the loop. The writer
// goroutine compresses on another core; its cost shows in the daemon's
// CPU per event under load (BENCHMARKS.md, "What a capture costs (W1w)").
func BenchmarkFanOutCapturing(b *testing.B) {
	for _, payload := range []capture.Payload{capture.PayloadFull, capture.PayloadShape} {
		b.Run("payload="+payload.String(), func(b *testing.B) {
			p := newPipeline(b, 1, "decky.*.state")
			path := filepath.Join(b.TempDir(), "c.buscap")
			if _, err := p.srv.StartCapture(capture.Options{Path: path, Payload: payload}); err != nil {
				b.Fatal(err)
			}
			defer p.srv.StopCapture()
			const perBatch = 64
			batch := pubFrames("decky.d1.state", []byte(envelope(1)), perBatch)
			p.feed(batch)
			b.SetBytes(int64(len(batch) / perBatch))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += perBatch {
				p.feed(batch)
			}
			b.StopTimer()
			if st, _ := p.srv.StopCapture(); st.RecorderDrops != 0 {
				b.ReportMetric(float64(st.RecorderDrops)/float64(b.N), "recorder-drops/op")
			}
		})
	}
}
