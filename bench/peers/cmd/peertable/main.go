// Command peertable runs every selected system × workload (a fresh server
// per run) in one process and prints one markdown table comparing busd
// with the peer brokers: delivered events per second, server CPU per
// million events, loss, peak RSS, latency for the rate workloads, and
// busd's ratio to each peer.
//
//	peertable [--duration 3s] [--systems busd,raw,nats,redis,mosquitto]
//	          [--workloads W1w,W5-1k,...|all] [--json out.json] [--max-time 40m]
//	peertable --from out.json      # the table again, from saved results
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"busd/bench/load"
	"busd/bench/peers"
)

// Report is what --json writes and --from reads.
type Report struct {
	Generated string            `json:"generated"`
	Duration  string            `json:"duration"`
	Go        string            `json:"go"`
	CPUs      int               `json:"cpus"`
	Versions  map[string]string `json:"versions"`
	Systems   []string          `json:"systems"`
	Workloads []string          `json:"workloads"`
	// Count is how many runs each system × workload had; Results holds
	// them all.
	Count   int           `json:"count,omitempty"`
	Results []load.Result `json:"results"`
	// Errors are the runs that failed or were skipped, "system workload:
	// reason".
	Errors []string `json:"errors,omitempty"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("peertable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		duration  = fs.Duration("duration", load.DefaultDuration, "measurement time of each run")
		systems   = fs.String("systems", strings.Join(peers.SystemNames, ","), "comma-separated systems (busd first: the ratios are busd ÷ peer)")
		workloads = fs.String("workloads", "all", "comma-separated workloads, or all (the standard set)")
		jsonOut   = fs.String("json", "", "write the raw results to this `file`")
		from      = fs.String("from", "", "print the table from a `file` written by --json, running nothing")
		maxTime   = fs.Duration("max-time", 40*time.Minute, "bound on the whole comparison; runs not started by then are skipped")
		busdBin   = fs.String("busd", "", "busd `binary` (default: build ./cmd/busd)")
		busbench  = fs.String("busbench", "", "busbench `binary` for the raw relay (default: build ./cmd/busbench)")
		gnetfloor = fs.String("gnetfloor", "", "gnetfloor `binary` for the raw relay on gnet (default: build ./bench/gnetfloor)")
		natsd     = fs.String("natsd", "", "natsd `binary` (default: $BUSD_NATSD, else build cmd/natsd)")
		quiet     = fs.Bool("quiet", false, "no progress lines on stderr")
		count     = fs.Int("count", 1, "rounds: each runs every workload on every system once; the table shows each figure's median")
	)
	if code, ok := load.ParseFlags(fs, args); !ok {
		return code
	}
	if *count < 1 {
		fmt.Fprintln(stderr, "peertable: --count must be at least 1")
		return 2
	}
	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			fmt.Fprintln(stderr, "peertable:", err)
			return 1
		}
		var rep Report
		if err := json.Unmarshal(b, &rep); err != nil {
			fmt.Fprintf(stderr, "peertable: %s: %v\n", *from, err)
			return 1
		}
		printTable(stdout, rep)
		return 0
	}

	var ws []load.Workload
	if *workloads == "all" {
		ws = load.Workloads()
	} else {
		var err error
		if ws, err = load.LookupList(*workloads); err != nil {
			fmt.Fprintln(stderr, "peertable:", err)
			return 2
		}
	}
	opts := peers.Options{BusdBinary: *busdBin, BusbenchBinary: *busbench, GnetFloorBinary: *gnetfloor, NATSD: *natsd}
	var syss []load.System
	for _, name := range strings.Split(*systems, ",") {
		s, err := peers.NewSystem(strings.TrimSpace(name), opts)
		if err != nil {
			fmt.Fprintln(stderr, "peertable:", err)
			return 2
		}
		syss = append(syss, s)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()
	defer load.RemoveBuilds()
	defer peers.RemoveBuilds()

	rep := Report{
		Generated: time.Now().UTC().Format(time.RFC3339),
		Duration:  duration.String(),
		Go:        runtime.Version(),
		CPUs:      runtime.NumCPU(),
		Versions:  peers.Versions(opts),
	}
	for _, s := range syss {
		rep.Systems = append(rep.Systems, s.Name())
	}
	for _, w := range ws {
		rep.Workloads = append(rep.Workloads, w.Name)
	}
	failed := false
	ran := map[string]bool{}
	rep.Count = *count
	for round := range *count {
		// Every round runs every workload on every system in turn, so the
		// runs a ratio compares are close in time: the systems of one
		// workload, and W1w and W6 (see runOrder).
		for _, w := range runOrder(ws) {
			w.Duration = *duration
			for _, s := range syss {
				if round > 0 && !ran[w.Name+"\x00"+s.Name()] {
					continue // unsupported or failed in the first round
				}
				if ctx.Err() != nil {
					rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: not run (--max-time or interrupted)", s.Name(), w.Name))
					continue
				}
				if sp, ok := s.(load.Supporter); ok {
					if err := sp.Supports(w); err != nil {
						rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: %v", s.Name(), w.Name, err))
						continue
					}
				}
				res, err := load.Run(ctx, s, w)
				if err != nil {
					if errors.Is(err, peers.ErrMissingBinary) {
						fmt.Fprintf(stderr, "peertable: %v (bench/peers/run.sh installs the Debian peers)\n", err)
						return 1
					}
					failed = true
					rep.Errors = append(rep.Errors, fmt.Sprintf("%s %s: %v", s.Name(), w.Name, err))
					if !*quiet {
						fmt.Fprintf(stderr, "FAIL %s %s: %v\n", s.Name(), w.Name, err)
					}
					continue
				}
				rep.Results = append(rep.Results, res)
				ran[w.Name+"\x00"+s.Name()] = true
				if !*quiet {
					fmt.Fprintln(stderr, res.String())
				}
			}
		}
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(*jsonOut, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "peertable:", err)
			return 1
		}
	}
	printTable(stdout, rep)
	if failed {
		return 1
	}
	return 0
}

// printTable writes one markdown table: a row per workload and system.
func printTable(w io.Writer, rep Report) {
	runs := map[string][]load.Result{}
	for _, r := range rep.Results {
		k := r.Workload + "\x00" + r.System
		runs[k] = append(runs[k], r)
	}
	byKey := map[string]load.Result{}
	for k, rs := range runs {
		byKey[k] = medianResult(rs)
	}
	count := max(rep.Count, 1)
	fmt.Fprintf(w, "Peer comparison: %s per run, %d run(s) of each system × workload, interleaved (each figure is the median), %d CPUs, %s. Versions: %s.\n\n",
		rep.Duration, count, rep.CPUs, rep.Go, versions(rep.Versions))
	fmt.Fprintln(w, "| workload | system | delivered msgs/s | srv CPU-s /M delivered | srv CPU-s /M published | lost | peak RSS MiB | p50 µs | p99 µs | busd÷peer msgs/s (>1: busd faster) | busd÷peer CPU /M delivered (<1: busd cheaper) | busd÷peer p99 (<1: busd lower) |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, wl := range rep.Workloads {
		busd, haveBusd := byKey[wl+"\x00busd"]
		for _, sys := range rep.Systems {
			r, ok := byKey[wl+"\x00"+sys]
			if !ok {
				fmt.Fprintf(w, "| %s | %s | n/a | | | | | | | | | |\n", wl, sys)
				continue
			}
			cells := []string{wl, sys, load.FormatRate(r.DeliveredPerSec)}
			if r.ServerMeasured {
				perPub := "—"
				if r.Mode == "open" {
					perPub = f2(r.ServerCPUPerMPublished)
				}
				cells = append(cells, f2(r.ServerCPUPerMDelivered), perPub)
			} else {
				cells = append(cells, "—", "—")
			}
			cells = append(cells, lost(r))
			if r.ServerMeasured {
				cells = append(cells, fmt.Sprintf("%.1f", r.ServerRSSPeakMB))
			} else {
				cells = append(cells, "—")
			}
			if r.LatencySamples > 0 {
				cells = append(cells, micro(r.LatencyP50), micro(r.LatencyP99))
			} else {
				cells = append(cells, "—", "—")
			}
			if sys == "busd" || sys == peers.NoValidate || !haveBusd {
				cells = append(cells, "—", "—", "—")
			} else {
				cells = append(cells, ratio(busd.DeliveredPerSec, r.DeliveredPerSec))
				if busd.ServerMeasured && r.ServerMeasured {
					cells = append(cells, ratio(busd.ServerCPUPerMDelivered, r.ServerCPUPerMDelivered))
				} else {
					cells = append(cells, "—")
				}
				if busd.LatencySamples > 0 && r.LatencySamples > 0 {
					cells = append(cells, ratio(float64(busd.LatencyP99), float64(r.LatencyP99)))
				} else {
					cells = append(cells, "—")
				}
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Workloads ending in w are closed loop (lossless by construction), f open loop (floods: loss is what the server dropped), W5 a fixed rate with latency, W6 a never-reading subscriber beside the counted one. lost: events a counted subscriber missed (% of published × subscribers). srv CPU-s /M: server process CPU seconds per million events. raw is a byte relay with no patterns and no queues: the ceiling, not a broker; gnet-raw is the same relay on one gnet event loop: the floor under busd's CPU per event at a fixed rate.")
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "\n- %s", e)
	}
	if len(rep.Errors) > 0 {
		fmt.Fprintln(w)
	}
	printTargets(w, runs)
}

func versions(v map[string]string) string {
	if len(v) == 0 {
		return "unknown"
	}
	var out []string
	for _, k := range []string{"nats", "redis", "mosquitto"} {
		if s, ok := v[k]; ok {
			out = append(out, s)
		}
	}
	return strings.Join(out, "; ")
}

func f2(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func lost(r load.Result) string {
	if r.Lost == 0 {
		return "0"
	}
	want := float64(r.Published) * float64(r.Subscribers)
	if want <= 0 {
		return fmt.Sprint(r.Lost)
	}
	return fmt.Sprintf("%d (%.1f%%)", r.Lost, 100*float64(r.Lost)/want)
}

func micro(d time.Duration) string {
	return fmt.Sprintf("%.0f", float64(d)/1e3)
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a/b) || math.IsInf(a/b, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// runOrder is ws with W6 moved right after W1w: the W6 target compares
// busd's fast subscriber with its W1w rate, and on a shared machine runs
// minutes apart differ by more than the effect measured.
func runOrder(ws []load.Workload) []load.Workload {
	out := make([]load.Workload, 0, len(ws))
	var w6 []load.Workload
	for _, w := range ws {
		if w.Name == "W6" {
			w6 = append(w6, w)
		}
	}
	for _, w := range ws {
		switch w.Name {
		case "W6":
			if !slices.ContainsFunc(ws, func(x load.Workload) bool { return x.Name == "W1w" }) {
				out = append(out, w)
			}
		case "W1w":
			out = append(append(out, w), w6...)
		default:
			out = append(out, w)
		}
	}
	return out
}
