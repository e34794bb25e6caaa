package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"busd/bench/load"
)

// replayLine is one line of busbench replay --json: a run or the headroom.
type replayLine struct {
	run      *ReplayRun
	headroom *ReplayHeadroom
}

// readReplays reads a file of busbench replay --json output.
func readReplays(path string) ([]replayLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []replayLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		var kind struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(sc.Bytes(), &kind); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		var l replayLine
		switch kind.Kind {
		case "run":
			l.run = new(ReplayRun)
			err = json.Unmarshal(sc.Bytes(), l.run)
		case "headroom":
			l.headroom = new(ReplayHeadroom)
			err = json.Unmarshal(sc.Bytes(), l.headroom)
		default:
			err = fmt.Errorf("kind %q is neither run nor headroom", kind.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lines, nil
}

// checkRun says whether a replay checks the model: a run at a fixed speed
// (not a trial of the headroom search, whose failing trials overload the
// daemon) that lost nothing apart from the slow readers' drops, with the
// daemon's CPU measured.
func checkRun(r *ReplayRun) bool {
	return r.Pass == nil && r.LossFree && r.ServerMeasured && r.ServerCPUSeconds > 0
}

// checkRuns are the replays the model is checked on: for each speed, its
// median run by the daemon's CPU (the same replay's CPU moves from run to
// run with whatever else the machine does, which no model of the daemon
// predicts; busbench replay --rounds gives several).
func checkRuns(lines []replayLine) []load.Result {
	var runs []load.Result
	for _, r := range medianRuns(lines) {
		runs = append(runs, r.Result)
	}
	return runs
}

// medianRuns is, for each fixed speed, its checkable run of median CPU
// (the lower of the two middle ones for an even count), by speed.
func medianRuns(lines []replayLine) []*ReplayRun {
	bySpeed := map[float64][]*ReplayRun{}
	for _, l := range lines {
		if l.run != nil && checkRun(l.run) {
			bySpeed[l.run.Speed] = append(bySpeed[l.run.Speed], l.run)
		}
	}
	var out []*ReplayRun
	for _, speed := range slices.Sorted(maps.Keys(bySpeed)) {
		rs := bySpeed[speed]
		slices.SortFunc(rs, func(a, b *ReplayRun) int { return cmp.Compare(a.ServerCPUSeconds, b.ServerCPUSeconds) })
		m := rs[(len(rs)-1)/2]
		m.Rounds = len(rs)
		out = append(out, m)
	}
	return out
}

// writeReplaySection prints BENCHMARKS.md's "Capacity from a capture": the
// headroom, the search's trials, and the capacity model (fitted to runs,
// the synthetic grid) checked on the fixed-speed replays.
func writeReplaySection(w io.Writer, runs []load.Result, lines []replayLine) error {
	m, err := load.FitCostModel(runs)
	if err != nil {
		return err
	}
	hmean, hworst, err := load.HeldOutError(runs)
	if err != nil {
		return err
	}
	var trials, fixed []*ReplayRun
	var h *ReplayHeadroom
	for _, l := range lines {
		switch {
		case l.headroom != nil:
			h = l.headroom
		case l.run.Pass != nil:
			trials = append(trials, l.run)
		default:
			fixed = append(fixed, l.run)
		}
	}
	if h == nil {
		return errors.New("no headroom in the replay results (busbench replay --find-max --json)")
	}
	fmt.Fprintf(w, "`%s` is a capture shaped like the platform's traffic on one host, written by `go run ./bench/capgen`\n", h.Capture)
	fmt.Fprintf(w, "(seeded: always the same records): %s.\n", h.Shape)
	fmt.Fprintln(w, "`busbench replay` replays it into a fresh busd (`busd capture replay` does the same into a running one).")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "**%s.**\n\n", capitalize(h.Sentence))
	fmt.Fprintln(w, "The headroom search doubles the replay's speed from the recorded pace until a trial loses an event")
	fmt.Fprintln(w, "(slow readers' losses aside: the capture shows them losing events anyway) or falls behind its schedule")
	fmt.Fprintln(w, "(lag p99 over 10 ms, or under 95 % of the PUB rate asked), then bisects; a trial that only falls behind")
	fmt.Fprintln(w, "is run again before it counts, as the replay's own host may have stalled it.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| speed | verdict | PUBs/s | deliveries/s | MB/s out | lag p99 | server cores | replay cores | why |")
	fmt.Fprintln(w, "|--:|:--|--:|--:|--:|--:|--:|--:|:--|")
	for _, t := range trials {
		verdict := "pass"
		if !*t.Pass {
			verdict = "fail"
		}
		replayCores := 0.0
		if t.Seconds > 0 {
			replayCores = t.ReplayCPUSeconds / t.Seconds
		}
		fmt.Fprintf(w, "| %g× | %s | %s | %s | %.1f | %.1f ms | %.2f | %.2f | %s |\n", t.Speed, verdict,
			load.FormatRate(t.PublishedPerSec), load.FormatRate(t.DeliveredPerSec), t.MBPerSec, t.LagP99Us/1e3,
			cores(t.Result), replayCores, t.Why)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The capacity model (\"Capacity planning\", fitted to the synthetic grid only) predicts the daemon's CPU")
	fmt.Fprintln(w, "for whole replays at fixed speeds from the daemon's own counters over each (`/statsz`: publishes,")
	fmt.Fprintln(w, "events and bytes out, read batches, backlog retries; write system calls from `/proc/<pid>/io`).")
	fmt.Fprintln(w, "Each speed is replayed in several interleaved rounds; the same replay's CPU moves from round to round")
	fmt.Fprintln(w, "with whatever else the machine does, so the model is checked on each speed's median run:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| speed | PUBs/s | deliveries/s | MB/s out | reads/s | writes/s | backlog retries/s | seconds | server CPU-s, each round | median | predicted | error |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|:--|--:|--:|--:|")
	rounds := map[float64][]string{}
	for _, r := range fixed {
		cpu := fmt.Sprintf("%.2f", r.ServerCPUSeconds)
		if !checkRun(r) {
			cpu += " (not checked: " + notChecked(r) + ")"
		}
		rounds[r.Speed] = append(rounds[r.Speed], cpu)
	}
	medians := medianRuns(lines)
	for _, speed := range slices.Sorted(maps.Keys(rounds)) {
		if !slices.ContainsFunc(medians, func(r *ReplayRun) bool { return r.Speed == speed }) {
			fmt.Fprintf(w, "| %g× | | | | | | | | %s | | | |\n", speed, strings.Join(rounds[speed], ", "))
		}
	}
	for _, r := range medians {
		perSec := func(n uint64) string { return load.FormatRate(float64(n) / r.Seconds) }
		fmt.Fprintf(w, "| %g× | %s | %s | %.1f | %s | %s | %s | %.1f | %s | %.2f | %.2f | %+.0f %% |\n", r.Speed,
			load.FormatRate(r.PublishedPerSec), load.FormatRate(r.DeliveredPerSec), r.MBPerSec,
			perSec(r.ServerReadBatches), perSec(r.ServerWrites), perSec(r.ServerBacklogRetries), r.Seconds,
			strings.Join(rounds[r.Speed], ", "), r.ServerCPUSeconds, m.Predict(r.Result),
			100*(m.Predict(r.Result)-r.ServerCPUSeconds)/r.ServerCPUSeconds)
	}
	fmt.Fprintln(w)
	cmean, cworst, n := load.CheckError(m, checkRuns(lines))
	if n == 0 {
		return errors.New("no replay at a fixed speed to check the model on")
	}
	fmt.Fprintf(w, "Its error on these %d speeds' median replays is %.0f %% on average and %.0f %% at worst (the bound: 10 %% and 20 %%); "+
		"on the synthetic runs held out of its fit, %.0f %% and %.0f %%.\n", n, 100*cmean, 100*cworst, 100*hmean, 100*hworst)
	return nil
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func cores(r load.Result) float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return r.ServerCPUSeconds / r.Seconds
}

func notChecked(r *ReplayRun) string {
	switch {
	case !r.LossFree:
		return "lossy"
	case !r.ServerMeasured || r.ServerCPUSeconds <= 0:
		return "CPU unknown"
	}
	return "?"
}
