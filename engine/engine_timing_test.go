package engine

import (
	"fmt"
	"testing"
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
