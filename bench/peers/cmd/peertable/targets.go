package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"busd/bench/load"
	"busd/bench/peers"
)

// target is one of the performance targets busd is held to, checked
// against the results of the same run.
type target struct {
	name  string
	want  string // the bound, in words
	value func(get func(workload, system string) (load.Result, bool)) (float64, bool)
	met   func(v float64) bool // nil: a figure to read beside the targets, not one
}

func atLeast(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
func atMost(x float64) func(float64) bool  { return func(v float64) bool { return v <= x } }

// ratioOf returns f(busd-side result) ÷ f(peer result) for one workload.
func ratioOf(wl, num, den string, f func(load.Result) float64) func(func(string, string) (load.Result, bool)) (float64, bool) {
	return func(get func(string, string) (load.Result, bool)) (float64, bool) {
		a, ok1 := get(wl, num)
		b, ok2 := get(wl, den)
		if !ok1 || !ok2 || f(b) == 0 {
			return 0, false
		}
		return f(a) / f(b), true
	}
}

// bestPeerRatio is busd's f ÷ the best peer's f (highest when higher is
// better, lowest otherwise).
func bestPeerRatio(wl string, f func(load.Result) float64, higherBetter bool) func(func(string, string) (load.Result, bool)) (float64, bool) {
	return func(get func(string, string) (load.Result, bool)) (float64, bool) {
		a, ok := get(wl, "busd")
		if !ok {
			return 0, false
		}
		best, found := 0.0, false
		for _, p := range []string{"nats", "redis", "mosquitto"} {
			r, ok := get(wl, p)
			if !ok || (!higherBetter && !r.ServerMeasured) {
				continue
			}
			v := f(r)
			if !found || (higherBetter && v > best) || (!higherBetter && v < best) {
				best, found = v, true
			}
		}
		if !found || best == 0 {
			return 0, false
		}
		return f(a) / best, true
	}
}

var (
	rateOf     = func(r load.Result) float64 { return r.DeliveredPerSec }
	cpuDlvOf   = func(r load.Result) float64 { return r.ServerCPUPerMDelivered }
	cpuPubOf   = func(r load.Result) float64 { return r.ServerCPUPerMPublished }
	p50Of      = func(r load.Result) float64 { return float64(r.LatencyP50) }
	p99Of      = func(r load.Result) float64 { return float64(r.LatencyP99) }
	targetList = func() []target {
		var ts []target
		for _, wl := range []string{"W1w", "W3w", "W4w"} {
			ts = append(ts, target{wl + " lossless msgs/s ÷ NATS", "≥ 2.2", ratioOf(wl, "busd", "nats", rateOf), atLeast(2.2)})
		}
		ts = append(ts,
			target{"W2w deliveries/s ÷ best peer", "≥ 1.25", bestPeerRatio("W2w", rateOf, true), atLeast(1.25)},
			target{"W1w msgs/s ÷ raw socket ceiling", "≥ 0.70", ratioOf("W1w", "busd", "raw", rateOf), atLeast(0.70)},
		)
		for _, wl := range []string{"W1w", "W2w", "W3w", "W4w"} {
			ts = append(ts,
				target{wl + " server CPU /M delivered ÷ NATS", "≤ 0.30", ratioOf(wl, "busd", "nats", cpuDlvOf), atMost(0.30)},
				target{wl + " same, validation off ÷ NATS", "≤ 0.20", ratioOf(wl, peers.NoValidate, "nats", cpuDlvOf), atMost(0.20)},
				target{wl + " server CPU /M delivered ÷ cheapest peer", "< 1", bestPeerRatio(wl, cpuDlvOf, false), func(v float64) bool { return v < 1 }},
			)
		}
		for _, wl := range []string{"W1f", "W2f", "W3f", "W4f"} {
			ts = append(ts, target{wl + " server CPU /M published ÷ NATS", "< 1", ratioOf(wl, "busd", "nats", cpuPubOf), func(v float64) bool { return v < 1 }})
		}
		for _, wl := range []string{"W5-20k", "W5-1k"} {
			ts = append(ts,
				target{wl + " p50 ÷ NATS", "≤ 0.75", ratioOf(wl, "busd", "nats", p50Of), atMost(0.75)},
				target{wl + " p99 ÷ NATS", "≤ 0.75", ratioOf(wl, "busd", "nats", p99Of), atMost(0.75)},
				target{wl + " server CPU /M delivered ÷ Redis", "≤ 1", ratioOf(wl, "busd", "redis", cpuDlvOf), atMost(1)},
				// Not a target: how far above the floor of any server on
				// gnet busd is (bench/decisions/engine.md, "Fixed rate").
				target{wl + " server CPU /M delivered ÷ gnet-raw (the floor under busd)", "—", ratioOf(wl, "busd", peers.GnetRaw, cpuDlvOf), nil},
			)
		}
		ts = append(ts, target{"W6 fast subscriber ÷ busd's W1w", "≥ 0.90",
			func(get func(string, string) (load.Result, bool)) (float64, bool) {
				a, ok1 := get("W6", "busd")
				b, ok2 := get("W1w", "busd")
				if !ok1 || !ok2 || b.DeliveredPerSec == 0 {
					return 0, false
				}
				return a.DeliveredPerSec / b.DeliveredPerSec, true
			}, atLeast(0.90)})
		ts = append(ts, target{"W6 server RSS growth, MiB (ring bytes: 4 MiB)", "≤ 4",
			func(get func(string, string) (load.Result, bool)) (float64, bool) {
				r, ok := get("W6", "busd")
				if !ok || !r.ServerMeasured {
					return 0, false
				}
				return r.ServerRSSPeakMB - r.ServerRSSStartMB, true
			}, atMost(4)})
		return ts
	}
)

// printTargets writes the target table: each bound, its value in every
// round of runs (each round runs every system once, side by side, so a
// ratio within a round compares systems measured moments apart), the median
// over the rounds, and whether the median holds. Targets whose runs are
// missing are left out.
func printTargets(w io.Writer, runs map[string][]load.Result) {
	rounds := 0
	for _, rs := range runs {
		rounds = max(rounds, len(rs))
	}
	var rows []string
	for _, t := range targetList() {
		var vals []float64
		for k := range rounds {
			get := func(wl, sys string) (load.Result, bool) {
				rs := runs[wl+"\x00"+sys]
				if k >= len(rs) {
					return load.Result{}, false
				}
				return rs[k], true
			}
			if v, ok := t.value(get); ok {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		each := make([]string, len(vals))
		for i, v := range vals {
			each[i] = fmt.Sprintf("%.2f", v)
		}
		slices.Sort(vals)
		med := vals[len(vals)/2]
		if len(vals)%2 == 0 {
			med = (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
		}
		verdict := "missed"
		switch {
		case t.met == nil:
			verdict = "—"
		case t.met(med):
			verdict = "met"
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %.2f | %s |", t.name, t.want, strings.Join(each, ", "), med, verdict))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets, from the runs above: the value in each round (systems side by side), and the median over the rounds:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | bound | each round | median | |")
	fmt.Fprintln(w, "|---|--:|--:|--:|---|")
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
}
