package main

import (
	"context"
	"os"
	"testing"
	"time"

	"busd/bench/load"
)

// TestMain doubles as the relay process, so that the test runs the relay
// this package builds.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "relay" {
		os.Exit(relayMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestRelayIsLossless: the gnet relay carries every event of a closed loop
// (several publishers, several subscribers) and of a fixed rate to every
// subscriber, in order and whole, as the relay busbench compares busd with.
func TestRelayIsLossless(t *testing.T) {
	for _, name := range []string{"W2w", "W3w", "W5-20k"} {
		t.Run(name, func(t *testing.T) {
			w, ok := load.Lookup(name)
			if !ok {
				t.Fatalf("no workload %s", name)
			}
			w.Duration = 300 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := load.Run(ctx, &load.Raw{Binary: os.Args[0], Label: "gnet-raw"}, w)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
			if res.Published == 0 || res.Lost != 0 || res.OutOfOrder != 0 || res.Stray != 0 ||
				res.Delivered != res.Published*uint64(w.Subscribers) {
				t.Fatalf("published %d × %d subscribers, delivered %d, lost %d, out of order %d, stray %d",
					res.Published, w.Subscribers, res.Delivered, res.Lost, res.OutOfOrder, res.Stray)
			}
		})
	}
}
