// Command peeridle measures what each broker costs while nothing happens:
// the server's CPU (percent of one core, from the kernel's per-thread run
// time) and its wakeups per second, with 0, 20 and 200 idle subscribers,
// each server fresh per run, rounds interleaved (system order rotating),
// medians printed as one markdown table. busd runs with its heartbeat at
// the default (10 s), as deployed. gnet-floor is the smallest gnet server
// (bench/gnetfloor): the part of busd's idle cost that comes with gnet.
//
//	peeridle [--systems busd,redis,nats] [--subs 0,20,200] [--duration 20s] [--rounds 3] [--json out.jsonl]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"busd/bench/load"
	"busd/bench/peers"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("peeridle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		systems  = fs.String("systems", "busd,busd-watchdog,redis,nats,gnet-floor", "comma-separated systems (busd, busd-watchdog, and peers; the ratios are each busd's ÷ each peer's)")
		subsList = fs.String("subs", "0,20,200", "comma-separated numbers of idle subscribers")
		duration = fs.Duration("duration", 20*time.Second, "measurement time of each run")
		rounds   = fs.Int("rounds", 3, "interleaved rounds")
		jsonOut  = fs.String("json", "", "also write every run to this file, one JSON object per line")
		busdBin  = fs.String("busd", "", "busd binary (default: build ./cmd/busd)")
		natsd    = fs.String("natsd", "", "natsd binary (default: build this module's cmd/natsd)")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	names := strings.Split(*systems, ",")
	var counts []int
	for _, s := range strings.Split(*subsList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			fmt.Fprintf(stderr, "peeridle: --subs %q: not a list of counts\n", *subsList)
			return 2
		}
		counts = append(counts, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer load.RemoveBuilds()
	o := peers.Options{BusdBinary: *busdBin, NATSD: *natsd}
	var out *json.Encoder
	if *jsonOut != "" {
		f, err := os.Create(*jsonOut)
		if err != nil {
			fmt.Fprintf(stderr, "peeridle: %v\n", err)
			return 1
		}
		defer f.Close()
		out = json.NewEncoder(f)
	}
	notify, closeNotify, err := notifySocket()
	if err != nil {
		fmt.Fprintf(stderr, "peeridle: %v\n", err)
		return 1
	}
	defer closeNotify()
	results := map[string]map[int][]load.IdleResult{}
	for round := range *rounds {
		for k := range names {
			name := names[(round+k)%len(names)]
			for _, n := range counts {
				sys, err := system(name, o, notify)
				if err != nil {
					fmt.Fprintf(stderr, "peeridle: %v\n", err)
					return 2
				}
				r, err := load.Idle(ctx, sys, n, *duration)
				if err != nil {
					fmt.Fprintf(stderr, "peeridle: %s with %d subscribers: %v\n", name, n, err)
					return 1
				}
				fmt.Fprintln(stderr, r)
				if out != nil {
					_ = out.Encode(r)
				}
				if results[name] == nil {
					results[name] = map[int][]load.IdleResult{}
				}
				results[name][n] = append(results[name][n], r)
			}
		}
	}
	table(stdout, names, counts, results, *duration, *rounds)
	return 0
}

// busdWatchdog names busd run as deploy/busd.service runs it, under
// systemd's watchdog (WatchdogSec=30s): it pings every 15 s, and each
// event loop proves it runs every 5 s.
const busdWatchdog = "busd-watchdog"

// system is the named system as deployed: busd with its default heartbeat
// (the load generator's busd turns it off to keep measurements clean of
// it; idle, the heartbeat is part of the cost). notify is the socket that
// stands in for systemd's, for busd-watchdog.
func system(name string, o peers.Options, notify string) (load.System, error) {
	switch name {
	case "busd":
		return &load.Busd{Binary: o.BusdBinary, Args: []string{"--heartbeat", "10s"}}, nil
	case busdWatchdog:
		return &load.Busd{Binary: o.BusdBinary, Args: []string{"--heartbeat", "10s"}, Label: busdWatchdog,
			Env: []string{"NOTIFY_SOCKET=" + notify, "WATCHDOG_USEC=30000000"}}, nil
	case peers.GnetFloorName:
		return &peers.GnetFloor{}, nil
	}
	return peers.NewSystem(name, o)
}

func median(rs []load.IdleResult, f func(load.IdleResult) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// table prints one row per system, its CPU and wakeups at each number of
// idle subscribers, then one row per busd variant and peer: the ratio of
// their CPU.
func table(w io.Writer, names []string, counts []int, res map[string]map[int][]load.IdleResult, d time.Duration, rounds int) {
	fmt.Fprintf(w, "Server CPU in %% of one core, and wakeups per second, with idle subscribers and nothing published; medians of %d interleaved rounds of %v each.\n\n", rounds, d)
	fmt.Fprint(w, "| system |")
	for _, c := range counts {
		fmt.Fprintf(w, " CPU, %d subscribers | wakeups/s |", c)
	}
	fmt.Fprint(w, "\n|---|")
	for range counts {
		fmt.Fprint(w, "--:|--:|")
	}
	fmt.Fprintln(w)
	cpu := func(r load.IdleResult) float64 { return r.CPUPercent }
	wake := func(r load.IdleResult) float64 { return r.WakeupsPerSec }
	for _, n := range names {
		fmt.Fprintf(w, "| %s |", n)
		for _, c := range counts {
			fmt.Fprintf(w, " %.3f %% | %.1f |", median(res[n][c], cpu), median(res[n][c], wake))
		}
		fmt.Fprintln(w)
	}
	for _, a := range names {
		if !strings.HasPrefix(a, "busd") {
			continue
		}
		for _, b := range names {
			if strings.HasPrefix(b, "busd") {
				continue
			}
			fmt.Fprintf(w, "| %s ÷ %s |", a, b)
			for _, c := range counts {
				if p := median(res[b][c], cpu); p > 0 {
					fmt.Fprintf(w, " %.2f | |", median(res[a][c], cpu)/p)
				} else {
					fmt.Fprint(w, " — | |")
				}
			}
			fmt.Fprintln(w)
		}
	}
}
