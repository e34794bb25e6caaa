package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"busd/bench/load"
)

// runModel reads busbench --json results (one object per line) and prints
// the capacity-planning section of BENCHMARKS.md fitted to them.
//
//	busbench model [--ring-bytes N] [--high-water N] results.jsonl
func runModel(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("busbench model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ringBytes := fs.Int("ring-bytes", 4<<20, "the daemon's --ring-bytes, for the memory bound")
	highWater := fs.Int("high-water", 256<<10, "the daemon's --high-water, for the memory bound")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: busbench model [--ring-bytes N] [--high-water N] results.jsonl")
		return 2
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "busbench: %v\n", err)
		return 1
	}
	defer f.Close()
	var runs []load.Result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r load.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintf(stderr, "busbench: %s: %v\n", fs.Arg(0), err)
			return 1
		}
		// Only runs that kept up: a run that fell behind its rate or lost
		// events did not do what its counts say it was asked to.
		if r.System == "busd" && r.Mode == "rate" && r.Lost == 0 && r.PublishedPerSec > 0 {
			runs = append(runs, r)
		}
	}
	if err := load.WriteCapacity(stdout, runs, *ringBytes, *highWater); err != nil {
		fmt.Fprintf(stderr, "busbench: model: %v\n", err)
		return 1
	}
	return 0
}
