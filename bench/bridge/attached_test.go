package bridge

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"busd/bench/load"
)

// BenchmarkDaemonBridgeAttached: the daemon's own figures with a bridge
// attached. W1w (and W5-20k, the fixed-rate latency workload) run on one
// daemon, in alternating rounds without and with a busd bridge connected
// to it with the platform's rules (exporting traffic and attacker
// events, importing topology mutations: none of which the workload
// publishes). A bridge is one more client with a few patterns, so the
// ratios should be 1 within noise.
func BenchmarkDaemonBridgeAttached(b *testing.B) {
	for _, name := range []string{"W1w", "W5-20k"} {
		b.Run("workload="+name, func(b *testing.B) {
			w, ok := load.Lookup(name)
			if !ok {
				b.Fatalf("no workload %s", name)
			}
			d, err := load.MeasureTime(flagLookup("test.benchtime"))
			if err != nil {
				b.Fatal(err)
			}
			w.Duration = d
			e := setUpAttached(b)
			var without, with []load.Result
			for range max(*rounds, 1) {
				without = append(without, e.run(b, w, false))
				with = append(with, e.run(b, w, true))
			}
			// Each figure's median on each side, then their ratio.
			ratio := func(unit string, f func(load.Result) float64) {
				if a := medianOf(without, f); a > 0 {
					b.ReportMetric(medianOf(with, f)/a, unit)
				}
			}
			b.ReportMetric(0, "ns/op")
			ratio("with/without-msgs/s", func(r load.Result) float64 { return r.DeliveredPerSec })
			ratio("with/without-srv-cpu", func(r load.Result) float64 { return r.ServerCPUPerMDelivered })
			ratio("with/without-p50", func(r load.Result) float64 { return float64(r.LatencyP50) })
			ratio("with/without-p99", func(r load.Result) float64 { return float64(r.LatencyP99) })
			for i := range without {
				b.Logf("round %d: without %v\n             with    %v", i+1, without[i], with[i])
			}
		})
	}
}

type attachedEnv struct {
	busd  *load.Busd
	nats  string
	bin   string
	admin string
}

func setUpAttached(b *testing.B) *attachedEnv {
	b.Helper()
	e := &attachedEnv{busd: &load.Busd{}, admin: shortTempDir(b)}
	e.nats = setUpNATS(b)
	if err := e.busd.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.busd.Stop() })
	var err error
	if e.bin, err = load.BusdBinary(); err != nil {
		b.Fatal(err)
	}
	return e
}

// run is one round of w on the daemon, with a bridge attached or not.
func (e *attachedEnv) run(b *testing.B, w load.Workload, attached bool) load.Result {
	b.Helper()
	if attached {
		br := startBridge(b, e.bin, e.busd.Listening(), e.nats, "h1", filepath.Join(e.admin, "br"),
			"--export", "decky.*.traffic", "--export", "attacker.observed", "--import", "topology.*.mutation.>")
		defer stopBridge(br)
		time.Sleep(200 * time.Millisecond) // connected and subscribed
	}
	sys := &load.Busd{Socket: e.busd.Listening(), PID: e.busd.ServerPID()}
	res, err := load.Run(context.Background(), sys, w)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// medianOf is the median of f over the rounds.
func medianOf(rs []load.Result, f func(load.Result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}
