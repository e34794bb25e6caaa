package load

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// BudgetTarget is the W1w ÷ raw ratio busd's targets ask for (see the peer
// table's targets); WriteBudget reports which rows' medians reach it.
const BudgetTarget = 0.70

// WriteBudget prints, as markdown, how the closed-loop rate of the systems
// in runs compares with the raw relay's, round by round: runs is a sequence
// of rounds, each starting with a "raw" result and followed by the systems
// measured right after it (scripts/benchmarks: busd as shipped and the
// measurement build at each amount of work, labelled "budget=<N>ns"). Each
// row is one system, in the order of first appearance: its delivered rate ÷
// raw's in each round, the median, and the median server CPU per million
// delivered.
func WriteBudget(w io.Writer, runs []Result) error {
	type row struct {
		ratios, cpu []float64
	}
	rows := map[string]*row{}
	var order []string
	var raw *Result
	rounds := 0
	for i := range runs {
		r := &runs[i]
		if r.System == "raw" {
			raw = r
			rounds++
			continue
		}
		if raw == nil || raw.DeliveredPerSec <= 0 {
			return fmt.Errorf("budget: %s run before any raw run to compare it with", r.System)
		}
		rw := rows[r.System]
		if rw == nil {
			rw = &row{}
			rows[r.System] = rw
			order = append(order, r.System)
		}
		rw.ratios = append(rw.ratios, r.DeliveredPerSec/raw.DeliveredPerSec)
		rw.cpu = append(rw.cpu, r.ServerCPUPerMDelivered)
	}
	if len(order) == 0 {
		return errors.New("budget: no runs to compare with raw")
	}
	fmt.Fprintf(w, "W1w, %d round(s); each ratio compares a run with its round's raw run.\n\n", rounds)
	fmt.Fprintln(w, "| busd | per-publish work on the loop | busd ÷ raw msgs/s, each round | median | srv CPU-s /M delivered |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|")
	var meeting []string
	for _, name := range order {
		rw := rows[name]
		each := make([]string, len(rw.ratios))
		for i, x := range rw.ratios {
			each[i] = fmt.Sprintf("%.2f", x)
		}
		what, work := "as shipped", "JSON validation"
		if ns, ok := strings.CutPrefix(name, "budget="); ok {
			what, work = "validation off", strings.TrimSuffix(ns, "ns")+" ns of arithmetic"
			if work == "0 ns of arithmetic" {
				work = "no work"
			}
		}
		med := median(rw.ratios)
		// Three decimals for the median: it is what is compared with
		// BudgetTarget, and two could show 0.70 for 0.695.
		fmt.Fprintf(w, "| %s | %s | %s | %.3f | %.2f |\n", what, work, strings.Join(each, ", "), med, median(rw.cpu))
		if med >= BudgetTarget {
			meeting = append(meeting, work)
		}
	}
	fmt.Fprintf(w, "\nRows whose median is at or above %.2f: %s.\n", BudgetTarget, joinOr(meeting, "none"))
	return nil
}

// median returns the median of xs (the mean of the middle two for an even
// count); xs is not modified.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func joinOr(xs []string, empty string) string {
	if len(xs) == 0 {
		return empty
	}
	return strings.Join(xs, "; ")
}
