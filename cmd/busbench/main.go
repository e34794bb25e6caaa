// Command busbench is the end-to-end load generator of busd: it runs the
// standard workloads (or one described by flags) against a fresh busd, a
// running busd, or the raw relay (the ceiling), and prints one line per run.
//
//	busbench [--system busd|raw] [--workload W1w,W2f,...|all] [flags]
//	busbench --socket /run/decnet/bus.sock [--pid N] --workload W1w
//	busbench model results.jsonl   (capacity model fitted to --json output)
//	busbench budget results.jsonl  (W1w rates beside raw's, round by round)
//	busbench capcost results.jsonl (what a running capture costs W1w)
//	busbench --workload W1w --capture full  (with a capture on the daemon)
//	busbench replay --capture FILE [--speeds 1,4,16] [--find-max] [--json]
//	                               (a capture replayed into a fresh busd: the
//	                               daemon's cost at each speed, the headroom)
//
// Without --workload, the flags --publishers, --subscribers, --pattern,
// --topic, --size, --mode and --rate describe one custom workload; with it,
// those given override each selected workload.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"busd/bench/load"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	// A hidden subcommand: the raw relay process that load.Raw starts.
	if len(args) > 0 && args[0] == "relay" {
		return load.RelayMain(args[1:], stderr)
	}
	if len(args) > 0 && args[0] == "model" {
		return runModel(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "budget" {
		return runBudget(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "replay" {
		return runReplay(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "capcost" {
		return runCapCost(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("busbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		system      = fs.String("system", "busd", "system under test: busd or raw")
		busdBin     = fs.String("busd", "", "busd `binary` to start (default: build ./cmd/busd)")
		busdArgs    = fs.String("busd-args", "", "extra busd flags, space-separated (e.g. --validate-json=false)")
		label       = fs.String("label", "", "name of the busd system in the results (default: busd)")
		socket      = fs.String("socket", "", "socket `path` of a running busd: nothing is started or stopped")
		pid         = fs.Int("pid", 0, "process id of the running busd (with --socket) for server CPU and RSS")
		workloads   = fs.String("workload", "", "comma-separated standard workloads, or all")
		publishers  = fs.Int("publishers", 1, "publishers")
		subscribers = fs.Int("subscribers", 1, "counted subscribers")
		slow        = fs.Int("slow", 0, "subscribers that subscribe like the counted ones and never read (W6): the daemon drops for them and retries them every backlog tick")
		pattern     = fs.String("pattern", "decky.d1.state", "comma-separated patterns of each subscriber")
		topic       = fs.String("topic", "decky.d1.state", "topic; %d is replaced by the publisher index")
		size        = fs.Int("size", load.DefaultSize, "event body `bytes`")
		rate        = fs.Int("rate", 1000, "events per second per publisher (--mode rate)")
		mode        = fs.String("mode", "closed", "closed, open or rate")
		duration    = fs.Duration("duration", load.DefaultDuration, "measurement time per workload")
		asJSON      = fs.Bool("json", false, "print one JSON object per run")
		list        = fs.Bool("list", false, "list the standard workloads and exit")
		captureMode = fs.String("capture", "off", "record each measurement with a capture on the busd busbench starts: off, full or shape (payload mode)")
	)
	if code, ok := load.ParseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "busbench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *list {
		for _, w := range append(load.Workloads(), load.PayloadSweep()...) {
			fmt.Fprintf(stdout, "%-10s %-6s %d pub, %d sub %q, %d B, idle %d/%d, slow %d, rate %d\n",
				w.Name, w.Mode, w.Publishers, w.Subscribers, w.Patterns, w.BodySize(),
				w.IdleSubs, w.IdleConns, w.SlowSubscribers, w.Rate)
		}
		return 0
	}

	m, err := load.ParseMode(*mode)
	if err != nil {
		fmt.Fprintf(stderr, "busbench: %v\n", err)
		return 2
	}
	capturing, err := load.ParseCapture(*captureMode)
	if err == nil && capturing != "" && (*system != "busd" || *socket != "") {
		err = errors.New("--capture needs a busd that busbench starts (--system busd, no --socket)")
	}
	if err != nil {
		fmt.Fprintf(stderr, "busbench: %v\n", err)
		return 2
	}
	var ws []load.Workload
	switch *workloads {
	case "":
		t := load.ConstTopic(*topic)
		if strings.Contains(*topic, "%d") {
			t = load.PerPublisherTopic(*topic, *publishers)
		}
		ws = []load.Workload{{Name: "custom", Publishers: *publishers, Subscribers: *subscribers,
			Topic: t, Patterns: strings.Split(*pattern, ",")}}
	case "all":
		ws = append(load.Workloads(), load.PayloadSweep()...)
	default:
		var err error
		if ws, err = load.LookupList(*workloads); err != nil {
			fmt.Fprintf(stderr, "busbench: %v (see --list)\n", err)
			return 2
		}
	}
	for i := range ws {
		w := &ws[i]
		custom := w.Name == "custom"
		if custom || given["publishers"] {
			w.Publishers = *publishers
		}
		if custom || given["subscribers"] {
			w.Subscribers = *subscribers
		}
		if custom || given["slow"] {
			w.SlowSubscribers = *slow
		}
		if given["pattern"] {
			w.Patterns = strings.Split(*pattern, ",")
		}
		if given["topic"] || (given["publishers"] && !custom) {
			w.Topic = load.ConstTopic(*topic)
			if strings.Contains(*topic, "%d") {
				w.Topic = load.PerPublisherTopic(*topic, w.Publishers)
			}
		}
		if custom || given["size"] {
			w.Size = *size
		}
		if custom || given["mode"] {
			w.Mode = m
		}
		if given["rate"] || (w.Mode == load.Rate && w.Rate == 0) {
			w.Rate = *rate
		}
		w.Duration = *duration
	}

	var sys load.System
	switch *system {
	case "busd":
		b := &load.Busd{Binary: *busdBin, Socket: *socket, PID: *pid, Label: *label, Capture: capturing}
		if *busdArgs != "" {
			b.Args = strings.Fields(*busdArgs)
		}
		sys = b
	case "raw":
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "busbench: %v\n", err)
			return 1
		}
		sys = &load.Raw{Binary: self}
	default:
		fmt.Fprintf(stderr, "busbench: unknown system %q (busd or raw)\n", *system)
		return 2
	}
	defer load.RemoveBuilds()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	code := 0
	enc := json.NewEncoder(stdout)
	for _, w := range ws {
		res, err := load.Run(ctx, sys, w)
		if errors.Is(err, load.ErrUnsupported) {
			fmt.Fprintf(stderr, "busbench: skip: %v\n", err)
			continue
		}
		if err != nil {
			fmt.Fprintf(stderr, "busbench: %v\n", err)
			code = 1
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if *asJSON {
			enc.Encode(res)
		} else {
			fmt.Fprintln(stdout, res)
		}
		if c := res.Capture; c != nil && c.RecorderDrops > 0 {
			// Said apart from the result too: the JSON line alone would
			// leave it to whoever reads the file.
			fmt.Fprintf(stderr, "busbench: %s: the capture dropped %d of %d records (its lanes were full): it measured an incomplete capture\n",
				w.Name, c.RecorderDrops, c.Records+c.RecorderDrops)
		}
	}
	return code
}
