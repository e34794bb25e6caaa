package trie

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// benchIndex subscribes n subscribers, one pattern each, in the shapes the
// bus sees: exact topics, one "*" inside, ">" tails. Ids repeat so that
// several subscribers share a pattern, as connections of one service do.
func benchIndex(n int, opts ...Option) *Index[int] {
	x := New[int](opts...)
	distinct := max(n/8, 1)
	for i := range n {
		k := (i / 8) % distinct
		var p string
		switch i % 8 {
		case 0:
			p = fmt.Sprintf("decky.d%d.state", k)
		case 1:
			p = "decky.*.state"
		case 2:
			p = fmt.Sprintf("decky.d%d.>", k)
		case 3:
			p = fmt.Sprintf("topology.t%d.>", k)
		case 4:
			p = "system.*.health"
		case 5:
			p = "attacker.>"
		case 6:
			p = fmt.Sprintf("orchestrator.traffic.d%d", k)
		case 7:
			p = fmt.Sprintf("canary.c%d.triggered", k)
		}
		x.Add(p, i)
	}
	return x
}

// benchTopics is the published working set: 1024 topics over the families
// above, some matching nothing.
func benchTopics() [][]byte {
	forms := []string{
		"decky.d%d.state", "decky.d%d.traffic", "topology.t%d.status",
		"system.w%d.health", "attacker.session.s%d", "orchestrator.traffic.d%d",
		"canary.c%d.placed", "email.received.%d",
	}
	out := make([][]byte, 1024)
	for i := range out {
		out[i] = fmt.Appendf(nil, forms[i%len(forms)], i/len(forms))
	}
	return out
}

func BenchmarkMatch(b *testing.B) {
	topics := benchTopics()
	for _, n := range []int{10, 1000, 100000} {
		for _, mode := range []string{"hit", "miss"} {
			b.Run(fmt.Sprintf("subs=%d/cache=%s", n, mode), func(b *testing.B) {
				var opts []Option
				if mode == "miss" {
					opts = append(opts, WithCacheSize(0))
				}
				x := benchIndex(n, opts...)
				matched := 0
				for _, t := range topics {
					matched += len(x.Match(t))
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					x.Match(topics[i&(len(topics)-1)])
				}
				b.ReportMetric(float64(matched)/float64(len(topics)), "subs/match")
			})
		}
	}
}

// BenchmarkMatchMemo measures the engine's path for a publisher repeating
// its topic: the memo answers, and its hits are flushed once per batch of
// 256, as the engine does once per read.
func BenchmarkMatchMemo(b *testing.B) {
	x := benchIndex(1000)
	topic := benchTopics()[0]
	var m Memo[int]
	x.MatchMemo(&m, topic)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		x.MatchMemo(&m, topic)
		if i&255 == 255 {
			x.FlushMemo(&m)
		}
	}
}

// BenchmarkMatchParallel measures readers on every P while one goroutine
// adds and removes a matching subscription, which invalidates the cache on
// every change.
func BenchmarkMatchParallel(b *testing.B) {
	topics := benchTopics()
	for _, churn := range []struct {
		name  string
		every time.Duration // 0: no churn; <0: as fast as possible
	}{{"none", 0}, {"1kHz", time.Millisecond}, {"max", -1}} {
		b.Run("churn="+churn.name, func(b *testing.B) {
			x := benchIndex(1000)
			for _, t := range topics {
				x.Match(t)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var changes int
			if churn.every != 0 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var tick <-chan time.Time
					if churn.every > 0 {
						tk := time.NewTicker(churn.every)
						defer tk.Stop()
						tick = tk.C
					}
					for {
						if tick != nil {
							select {
							case <-stop:
								return
							case <-tick:
							}
						} else {
							select {
							case <-stop:
								return
							default:
							}
						}
						x.Add("decky.*.state", -1)
						x.Remove("decky.*.state", -1)
						changes += 2
					}
				}()
			}
			before := x.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					x.Match(topics[i&(len(topics)-1)])
					i++
				}
			})
			b.StopTimer()
			close(stop)
			wg.Wait()
			after := x.Stats()
			hits, misses := after.Hits-before.Hits, after.Misses-before.Misses
			b.ReportMetric(float64(hits)/float64(max(hits+misses, 1)), "hit-ratio")
		})
	}
}

// BenchmarkMatchRule is the standalone matcher on one pattern of each shape
// the bus sees, against a topic it matches and one it does not; the client
// and the peer benchmarks' filters run it once per event and pattern.
func BenchmarkMatchRule(b *testing.B) {
	for _, pattern := range []string{"decky.d1.state", "decky.*.state", "topology.t1.>"} {
		for _, topic := range []string{"decky.d1.state", "topology.t1.status"} {
			b.Run(fmt.Sprintf("pattern=%s/topic=%s", pattern, topic), func(b *testing.B) {
				tb := []byte(topic)
				want := Match(pattern, topic)
				b.ReportAllocs()
				for b.Loop() {
					if MatchBytes(pattern, tb) != want {
						b.Fatal("the answer changed")
					}
				}
			})
		}
	}
}
