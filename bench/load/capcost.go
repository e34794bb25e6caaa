package load

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// captureOff names the runs without a capture in WriteCaptureCost.
const captureOff = "off"

// captureMode is how a run was recorded: off, or the capture's payload mode.
func captureMode(r *Result) string {
	if r.Capture == nil {
		return captureOff
	}
	return r.Capture.Payload
}

// captureRounds splits runs into rounds: a round ends where a capture mode
// it already holds comes again. scripts/benchmarks runs each mode once
// per round, in an order that rotates, so that no mode is always the
// furthest in time from the run without a capture it is compared with.
func captureRounds(runs []Result) [][]*Result {
	var rounds [][]*Result
	var cur []*Result
	for i := range runs {
		r := &runs[i]
		if slices.ContainsFunc(cur, func(o *Result) bool { return captureMode(o) == captureMode(r) }) {
			rounds = append(rounds, cur)
			cur = nil
		}
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		rounds = append(rounds, cur)
	}
	return rounds
}

// WriteCaptureCost prints, as markdown, what a running capture costs one
// workload: runs are busbench results of that workload in rounds, each
// holding one run without a capture and one per capture mode
// (scripts/benchmarks: W1w, off, full and shape). Each row is one mode:
// the median delivered rate and server CPU per million delivered, each
// also as the median of its per-round ratios to the round's run without a
// capture, the recorder's drops over every run (and their share of the
// records), and the median file bytes per record. A closing sentence says whether a full capture's extra CPU
// is mostly per-record work (what shape mode also does) or the bodies.
func WriteCaptureCost(w io.Writer, runs []Result) error {
	if len(runs) == 0 {
		return errors.New("capcost: no runs")
	}
	workload := runs[0].Workload
	type row struct {
		rate, cpu, rateRatio, cpuRatio, extraCPU, bytesPerRecord []float64
		drops, records                                           uint64
		dropRuns, runs                                           int
	}
	rows := map[string]*row{}
	order := []string{captureOff, "full", "shape"}
	rounds := captureRounds(runs)
	for _, round := range rounds {
		var off *Result
		for _, r := range round {
			if r.Workload != workload {
				return fmt.Errorf("capcost: runs of %s and %s: one workload only", workload, r.Workload)
			}
			if captureMode(r) == captureOff {
				off = r
			}
		}
		for _, r := range round {
			mode := captureMode(r)
			rw := rows[mode]
			if rw == nil {
				rw = &row{}
				rows[mode] = rw
				if !slices.Contains(order, mode) {
					order = append(order, mode)
				}
			}
			rw.runs++
			rw.rate = append(rw.rate, r.DeliveredPerSec)
			rw.cpu = append(rw.cpu, r.ServerCPUPerMDelivered)
			if c := r.Capture; c != nil {
				rw.bytesPerRecord = append(rw.bytesPerRecord, c.BytesPerRecord)
				rw.drops += c.RecorderDrops
				rw.records += c.Records
				if c.RecorderDrops > 0 {
					rw.dropRuns++
				}
			}
			if off != nil && r != off && off.DeliveredPerSec > 0 && off.ServerCPUPerMDelivered > 0 {
				rw.rateRatio = append(rw.rateRatio, r.DeliveredPerSec/off.DeliveredPerSec)
				rw.cpuRatio = append(rw.cpuRatio, r.ServerCPUPerMDelivered/off.ServerCPUPerMDelivered)
				rw.extraCPU = append(rw.extraCPU, r.ServerCPUPerMDelivered-off.ServerCPUPerMDelivered)
			}
		}
	}
	if rows[captureOff] == nil {
		return errors.New("capcost: no run without a capture to compare with")
	}
	if len(rows) == 1 {
		return errors.New("capcost: no run with a capture")
	}

	fmt.Fprintf(w, "%s, %d interleaved round(s); each ratio compares a run with its round's run without a capture (median of the rounds' ratios).\n\n",
		workload, len(rounds))
	fmt.Fprintln(w, "| capture | msgs/s | msgs/s ÷ no capture, each round | median | srv CPU-s /M delivered | CPU ÷ no capture | records the recorder dropped | file bytes /record |")
	fmt.Fprintln(w, "|---|--:|---|--:|--:|--:|--:|--:|")
	var dropping []string
	for _, mode := range order {
		rw := rows[mode]
		if rw == nil {
			continue
		}
		if mode == captureOff {
			fmt.Fprintf(w, "| none | %s | | | %.3f | | | |\n", FormatRate(median(rw.rate)), median(rw.cpu))
			continue
		}
		each := make([]string, len(rw.rateRatio))
		for i, x := range rw.rateRatio {
			each[i] = fmt.Sprintf("%.2f", x)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.3f | %s | %s | %.1f |\n", mode, FormatRate(median(rw.rate)),
			strings.Join(each, ", "), ratio(rw.rateRatio), median(rw.cpu), ratio(rw.cpuRatio),
			dropShare(rw.drops, rw.records), median(rw.bytesPerRecord))
		if rw.dropRuns > 0 {
			dropping = append(dropping, fmt.Sprintf("%s in %d of %d runs", mode, rw.dropRuns, rw.runs))
		}
	}
	fmt.Fprintln(w)
	if len(dropping) > 0 {
		fmt.Fprintf(w, "**The recorder dropped records** (%s): those runs measured a capture that kept less than everything.\n\n",
			strings.Join(dropping, "; "))
	} else {
		fmt.Fprintln(w, "No capture dropped a record.")
		fmt.Fprintln(w)
	}
	if full, shape := rows["full"], rows["shape"]; full != nil && shape != nil && len(full.extraCPU) > 0 && len(shape.extraCPU) > 0 {
		fmt.Fprint(w, dominates(median(full.extraCPU), median(shape.extraCPU)))
		if full.drops > 0 {
			// A dropped record is never encoded nor compressed.
			fmt.Fprint(w, " The full captures dropped records, so their figures understate what keeping every record costs.")
		}
		fmt.Fprintln(w)
	}
	return nil
}

// dominates says what most of a full capture's extra server CPU per
// million events (full, over the run without a capture) goes to, given a
// shape capture's (shape): shape records the same records without their
// bodies, so what it costs is the per-record work, and the rest of full's
// extra is the bodies'.
func dominates(full, shape float64) string {
	if full <= 0 {
		return fmt.Sprintf("A full capture's extra server CPU per event is within these runs' noise (median %+.3f CPU-s per million).", full)
	}
	share := min(max(shape/full, 0), 1)
	what := "the per-record work a shape capture does too (the tap on the event loop, each record's encoding and its share of the compression) dominates it"
	if share < 0.5 {
		what = "the bodies (copied into the lanes, encoded and compressed, which a shape capture skips) dominate it"
	}
	return fmt.Sprintf("A full capture adds %.3f CPU-s per million delivered events to the daemon, a shape capture %.3f (medians of the rounds' differences): %.0f%% of a full capture's cost is there without the bodies, so %s.",
		full, shape, 100*share, what)
}

// dropShare is the recorder's drops over all runs of a mode, and their
// share of the records offered to it (kept or dropped).
func dropShare(drops, kept uint64) string {
	if drops == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.1f%%)", drops, 100*float64(drops)/float64(drops+kept))
}

// ratio is the median of xs with three decimals, or "-" without any.
func ratio(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", median(xs))
}
