package main

import (
	"fmt"
	"io"

	"busd/bench/load"
)

// runBudget reads busbench --json results (one object per line, in rounds
// that each start with a raw run) and prints the table of BENCHMARKS.md's
// "What validation costs" section (see load.WriteBudget).
func runBudget(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: busbench budget results.jsonl")
		return 2
	}
	runs, err := readResults(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "busbench: %v\n", err)
		return 1
	}
	if err := load.WriteBudget(stdout, runs); err != nil {
		fmt.Fprintf(stderr, "busbench: %v\n", err)
		return 1
	}
	return 0
}
