package engine

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkSubscriptionMemory is what one subscription costs the daemon:
// the live heap a connection's distinct SUB patterns add (its pattern set
// and the index's nodes), per pattern, reported as heapB/sub. It sizes the
// pattern limits' defaults (DefaultConfig). Run it with a fixed count, e.g.
// -benchtime 100000x: a heap measurement needs many patterns.
func BenchmarkSubscriptionMemory(b *testing.B) {
	for _, tc := range []struct {
		name    string
		pattern func(i int) string
	}{
		// What the platform's workers subscribe to.
		{"typical", func(i int) string { return fmt.Sprintf("decky.d%d.>", i) }},
		// About 210 bytes, distinct: the measured runaway client.
		{"long", func(i int) string { return fmt.Sprintf("burst.%s.%d.>", strings.Repeat("x", 190), i) }},
		// The longest a SUB header allows, distinct.
		{"max", func(i int) string { return fmt.Sprintf("%s.%d", strings.Repeat("x", 4000), i) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := newPipeline(b, 0, "")
			p.srv.cfg.MaxPatternsPerConn, p.srv.cfg.MaxPatterns = 0, 0
			cl := p.pub
			patterns := make([][]byte, b.N)
			for i := range patterns {
				patterns[i] = []byte(tc.pattern(i))
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for _, pat := range patterns {
				if err := p.srv.subscribe(cl, pat); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			if len(cl.patterns) != b.N {
				b.Fatalf("%d patterns stored, want %d", len(cl.patterns), b.N)
			}
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "heapB/sub")
			runtime.KeepAlive(patterns)
			cl.out.close()
		})
	}
}
