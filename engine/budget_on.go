//go:build busd_budget

package engine

import (
	"os"
	"strconv"
	"time"
)

// The measurement build (go build -tags busd_budget) answers one question:
// what does each nanosecond the event loop spends per publish cost the
// closed-loop rate? Run with --validate-json=false, it spends
// BUSD_BUDGET_NS nanoseconds of CPU on every PUB with a body, where
// validation would run, in a dependent multiply-add chain (pure ALU work,
// no memory traffic). scripts/benchmarks sets the amounts and puts the
// rates beside the raw relay's and the shipped daemon's in BENCHMARKS.md.

// budgetIters is how many chain steps make BUSD_BUDGET_NS nanoseconds on
// this machine, measured at start; 0: spend nothing.
var budgetIters = calibrateBudget(os.Getenv("BUSD_BUDGET_NS"))

// calibrateBudget converts ns (a decimal string) into chain steps, timing
// the chain three times and keeping the fastest (the others were
// interrupted).
func calibrateBudget(ns string) int {
	want, err := strconv.Atoi(ns)
	if err != nil || want <= 0 {
		return 0
	}
	const probe = 1 << 20
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		budgetChain(probe, 1)
		best = min(best, time.Since(start))
	}
	return max(1, int(float64(want)*probe/float64(best.Nanoseconds())+0.5))
}

// budgetChain runs n dependent steps; noinline keeps the compiler from
// dropping a call whose result nobody reads.
//
//go:noinline
func budgetChain(n int, x uint64) uint64 {
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

func spendBudget() {
	if budgetIters > 0 {
		budgetChain(budgetIters, uint64(budgetIters))
	}
}
