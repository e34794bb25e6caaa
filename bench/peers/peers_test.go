package peers

import (
	"context"
	"errors"
	"flag"
	"os"
	"testing"
	"time"

	"busd/bench/load"
)

var benchDuration = flag.Duration("peers.duration", 0, "measurement time per benchmark run (0: the workload's default)")

func TestMain(m *testing.M) {
	code := m.Run()
	load.RemoveBuilds()
	RemoveBuilds()
	os.Exit(code)
}

// BenchmarkPeers runs every standard workload against busd, the raw relay
// and each peer broker, a fresh server per run, and reports the same
// metrics as busd's own benchmarks:
//
//	go test -run '^$' -bench 'Peers/system=redis/workload=W1w' -benchtime=1x
func BenchmarkPeers(b *testing.B) {
	for _, name := range SystemNames {
		b.Run("system="+name, func(b *testing.B) {
			for _, w := range load.Workloads() {
				if *benchDuration > 0 {
					w.Duration = *benchDuration
				}
				b.Run("workload="+w.Name, func(b *testing.B) {
					sys, err := NewSystem(name, Options{})
					if err != nil {
						b.Fatal(err)
					}
					if s, ok := sys.(load.Supporter); ok {
						if err := s.Supports(w); err != nil {
							b.Skip(err)
						}
					}
					var res load.Result
					for i := 0; i < b.N; i++ {
						ctx, cancel := context.WithTimeout(context.Background(), w.Duration+2*time.Minute)
						res, err = load.Run(ctx, sys, w)
						cancel()
						if errors.Is(err, ErrMissingBinary) {
							b.Fatalf("%v (bench/peers/run.sh installs the Debian peers)", err)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					b.Log(res.String())
					res.Report(b.ReportMetric)
				})
			}
		})
	}
}
