package bench

import (
	"context"
	"flag"
	"os"
	"strconv"
	"testing"
	"time"

	"busd/bench/load"
)

// TestMain doubles as the raw relay process (see rawSystem), so that the
// tests need not build cmd/busbench.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "relay" {
		os.Exit(load.RelayMain(os.Args[2:], os.Stderr))
	}
	code := m.Run()
	load.RemoveBuilds()
	os.Exit(code)
}

// benchDuration derives a run's measurement time from -benchtime.
func benchDuration(b *testing.B) time.Duration {
	v := ""
	if f := flag.Lookup("test.benchtime"); f != nil {
		v = f.Value.String()
	}
	d, err := load.MeasureTime(v)
	if err != nil {
		b.Fatalf("-benchtime %q: %v", v, err)
	}
	return d
}

// runE2E runs w once on sys, whatever b.N, and reports its metrics. The
// framework calls it with b.N == 1 first; because the run lasts at least
// -benchtime, it is not called again (for -benchtime=Nx, it is called
// once more with b.N == N, and runs once more).
func runE2E(b *testing.B, sys load.System, w load.Workload) {
	w.Duration = benchDuration(b)
	res, err := load.Run(context.Background(), sys, w)
	if err != nil {
		b.Fatal(err)
	}
	if w.Mode == load.ClosedLoop && res.Lost > 0 {
		b.Errorf("closed loop lost %d events: %v", res.Lost, res)
	}
	if res.Delivered == 0 {
		b.Fatalf("nothing delivered: %v", res)
	}
	res.Report(b.ReportMetric)
}

// BenchmarkE2E is every standard workload against busd, the validate=false
// variants of W1w and W2w, the payload sweep of W1w, and the raw relay (the
// ceiling: a process that copies bytes) on the workloads it can run.
func BenchmarkE2E(b *testing.B) {
	ws := load.Workloads()
	byName := map[string]load.Workload{}
	for _, w := range ws {
		byName[w.Name] = w
	}
	b.Run("system=busd", func(b *testing.B) {
		for _, w := range ws {
			b.Run("workload="+w.Name, func(b *testing.B) { runE2E(b, &load.Busd{}, w) })
		}
		for _, name := range []string{"W1w", "W2w"} {
			b.Run("workload="+name+"/validate=false", func(b *testing.B) {
				runE2E(b, &load.Busd{Args: []string{"--validate-json=false"}}, byName[name])
			})
		}
		for _, w := range load.PayloadSweep() {
			b.Run("workload=W1w/size="+strconv.Itoa(w.Size), func(b *testing.B) { runE2E(b, &load.Busd{}, w) })
		}
	})
	b.Run("system=raw", func(b *testing.B) {
		for _, w := range ws {
			if (&load.Raw{}).Supports(w) != nil {
				continue // needs patterns or queues: not a ceiling anything is measured against
			}
			b.Run("workload="+w.Name, func(b *testing.B) { runE2E(b, rawSystem(), w) })
		}
	})
}

// rawSystem is the raw relay, run by this test binary.
func rawSystem() *load.Raw {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return &load.Raw{Binary: exe}
}
