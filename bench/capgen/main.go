// Command capgen writes a synthetic capture file shaped like the platform's
// traffic on one host, for capacity planning: busbench replay and
// scripts/benchmarks replay it (bench/captures/platform.buscap is its
// output with the default flags). The same flags always give the same
// records.
//
//	go run ./bench/capgen [--seed N] [--duration D] [--out FILE]
//
// What it models (platform.go): topologies of deckies whose collectors
// publish decky.{id}.traffic in Poisson bursts, rare decky state changes
// and topology mutations, topology status heartbeats, correlators turning
// bursts into attacker.observed, every process's system.log lines, a
// dashboard subscribed to `>`, and two subscribers that read slowly
// (slow.go gives them the stall, resume and drop samples a daemon records).
package main

//go:generate go run . --out ../captures/platform.buscap

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("capgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := defaultConfig()
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed gives the same records")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "capture time to generate")
	fs.IntVar(&cfg.Topologies, "topologies", cfg.Topologies, "topologies on the host")
	fs.IntVar(&cfg.Deckies, "deckies", cfg.Deckies, "deckies per topology")
	out := fs.String("out", "platform.buscap", "capture `file` to write")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || cfg.Duration <= 0 || cfg.Duration > time.Hour || cfg.Topologies < 1 || cfg.Deckies < 1 {
		fmt.Fprintln(stderr, "usage: capgen [--seed N] [--duration D (at most 1h)] [--topologies N] [--deckies N] [--out FILE]")
		return 2
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(stderr, "capgen: %v\n", err)
		return 1
	}
	st, err := generate(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		fmt.Fprintf(stderr, "capgen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "capgen: %s: %d records, %d PUBs (%.0f/s), %d bytes\n",
		*out, st.records, st.pubs, float64(st.pubs)/cfg.Duration.Seconds(), st.size)
	return 0
}
