package main

import (
	"fmt"
	"io"

	"busd/bench/load"
)

// runCapCost reads busbench --json results of one workload run without a
// capture and with each payload mode, in interleaved rounds, and prints
// the table of BENCHMARKS.md's capture section (see load.WriteCaptureCost).
func runCapCost(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: busbench capcost results.jsonl")
		return 2
	}
	runs, err := readResults(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "busbench: %v\n", err)
		return 1
	}
	if err := load.WriteCaptureCost(stdout, runs); err != nil {
		fmt.Fprintf(stderr, "busbench: %v\n", err)
		return 1
	}
	return 0
}
