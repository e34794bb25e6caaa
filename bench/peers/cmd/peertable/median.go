package main

import (
	"slices"
	"time"

	"busd/bench/load"
)

// medianResult summarizes repeated runs of one system × workload: the run
// with the median delivered rate, with each figure the table shows
// replaced by its own median over the runs (a noisy neighbour then moves no
// figure unless it disturbed most runs).
func medianResult(rs []load.Result) load.Result {
	if len(rs) == 1 {
		return rs[0]
	}
	byRate := slices.Clone(rs)
	slices.SortFunc(byRate, func(a, b load.Result) int {
		switch {
		case a.DeliveredPerSec < b.DeliveredPerSec:
			return -1
		case a.DeliveredPerSec > b.DeliveredPerSec:
			return 1
		}
		return 0
	})
	m := byRate[len(byRate)/2]
	med := func(f func(load.Result) float64) float64 {
		vs := make([]float64, len(rs))
		for i, r := range rs {
			vs[i] = f(r)
		}
		slices.Sort(vs)
		if len(vs)%2 == 1 {
			return vs[len(vs)/2]
		}
		return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	m.ServerCPUPerMDelivered = med(func(r load.Result) float64 { return r.ServerCPUPerMDelivered })
	m.ServerCPUPerMPublished = med(func(r load.Result) float64 { return r.ServerCPUPerMPublished })
	m.ClientCPUPerMDelivered = med(func(r load.Result) float64 { return r.ClientCPUPerMDelivered })
	m.ServerRSSPeakMB = med(func(r load.Result) float64 { return r.ServerRSSPeakMB })
	m.ServerRSSStartMB = med(func(r load.Result) float64 { return r.ServerRSSStartMB })
	m.LatencyP50 = time.Duration(med(func(r load.Result) float64 { return float64(r.LatencyP50) }))
	m.LatencyP99 = time.Duration(med(func(r load.Result) float64 { return float64(r.LatencyP99) }))
	m.LatencyP999 = time.Duration(med(func(r load.Result) float64 { return float64(r.LatencyP999) }))
	// Loss is reported at its worst: one lossy run is worth seeing.
	for _, r := range rs {
		if r.Lost > m.Lost {
			m.Lost, m.Published, m.Subscribers = r.Lost, r.Published, r.Subscribers
		}
	}
	return m
}
