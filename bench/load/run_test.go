package load

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestMain doubles as the raw relay process (see rawSystem), so that the
// tests need not build cmd/busbench.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "relay" {
		os.Exit(RelayMain(os.Args[2:], os.Stderr))
	}
	code := m.Run()
	RemoveBuilds()
	os.Exit(code)
}

// e2eDuration keeps each end-to-end run around a second, race detector
// included.
const e2eDuration = 500 * time.Millisecond

func standard(t *testing.T, name string) Workload {
	t.Helper()
	w, ok := Lookup(name)
	if !ok {
		t.Fatalf("no workload %s", name)
	}
	w.Duration = e2eDuration
	return w
}

func runOK(t *testing.T, sys System, w Workload) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, sys, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	return res
}

// checkLossless: a closed loop delivers every published event to every
// counted subscriber, in order, and nothing else.
func checkLossless(t *testing.T, res Result, w Workload) {
	t.Helper()
	if res.Published == 0 || res.Delivered == 0 {
		t.Fatalf("published %d, delivered %d", res.Published, res.Delivered)
	}
	if res.Lost != 0 || res.OutOfOrder != 0 || res.Stray != 0 {
		t.Fatalf("lost %d, out of order %d, stray %d", res.Lost, res.OutOfOrder, res.Stray)
	}
	if want := res.Published * uint64(w.Subscribers); res.Delivered != want {
		t.Fatalf("delivered %d, want %d (published %d × %d subscribers)", res.Delivered, want, res.Published, w.Subscribers)
	}
}

func TestRunBusdClosedLoop(t *testing.T) {
	for _, name := range []string{"W1w", "W3w"} {
		t.Run(name, func(t *testing.T) {
			w := standard(t, name)
			res := runOK(t, &Busd{}, w)
			checkLossless(t, res, w)
			if !res.ServerMeasured || res.ServerCPUSeconds <= 0 || res.ServerRSSPeakMB <= 0 ||
				res.ServerRSSPeakMB < res.ServerRSSStartMB || res.ClientCPUSeconds <= 0 {
				t.Errorf("accounting: %+v", res)
			}
			if res.Seconds < w.Duration.Seconds() || res.PublishSeconds < w.Duration.Seconds() {
				t.Errorf("measured %.3fs (publishing %.3fs), want at least %v", res.Seconds, res.PublishSeconds, w.Duration)
			}
			// Every measured event arrived in some read, and a read holds
			// at least one event (plus, rarely, a readiness probe).
			if res.ServerReadBatches == 0 || res.ServerReadBatches > res.Published {
				t.Errorf("read batches %d for %d published", res.ServerReadBatches, res.Published)
			}
			if res.ClientProcs != ClientProcs {
				t.Errorf("generator ran with GOMAXPROCS %d, want %d", res.ClientProcs, ClientProcs)
			}
		})
	}
}

// TestRunBusdSlowSubscriber is W6: the never-reading subscriber is not
// counted, and the fast one beside it loses nothing.
func TestRunBusdSlowSubscriber(t *testing.T) {
	w := standard(t, "W6")
	res := runOK(t, &Busd{}, w)
	if res.Subscribers != 1 {
		t.Fatalf("result counts %d subscribers", res.Subscribers)
	}
	checkLossless(t, res, w)
}

func TestRunBusdIdleSubscriptions(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 subscriptions: not in -short")
	}
	w := standard(t, "W4w")
	w.Duration = 300 * time.Millisecond
	checkLossless(t, runOK(t, &Busd{}, w), w)
}

func TestRunBusdRate(t *testing.T) {
	w := standard(t, "W5-1k")
	w.Duration = 500 * time.Millisecond
	res := runOK(t, &Busd{}, w)
	if res.Lost != 0 || res.LatencySamples != res.Delivered || res.Delivered < 300 {
		t.Fatalf("lost %d, %d latency samples of %d delivered", res.Lost, res.LatencySamples, res.Delivered)
	}
	if res.LatencyP50 <= 0 || res.LatencyP50 > res.LatencyP99 || res.LatencyP99 > res.LatencyP999 || res.LatencyP999 > res.LatencyMax {
		t.Fatalf("latency p50 %v p99 %v p99.9 %v max %v", res.LatencyP50, res.LatencyP99, res.LatencyP999, res.LatencyMax)
	}
	if res.PublishedPerSec < 700 || res.PublishedPerSec > 1100 {
		t.Errorf("rate %v events/s, want about 1000", res.PublishedPerSec)
	}
}

func TestRunBusdOpenLoop(t *testing.T) {
	w := standard(t, "W2f")
	w.Duration = 300 * time.Millisecond
	res := runOK(t, &Busd{}, w)
	// Loss is allowed here; consistency is not optional.
	if res.Delivered == 0 || res.Delivered+res.Lost != res.Published*uint64(w.Subscribers) || res.OutOfOrder != 0 {
		t.Fatalf("published %d × %d, delivered %d + lost %d, out of order %d",
			res.Published, w.Subscribers, res.Delivered, res.Lost, res.OutOfOrder)
	}
}

func TestRunRaw(t *testing.T) {
	w := standard(t, "W3w")
	w.Duration = 300 * time.Millisecond
	checkLossless(t, runOK(t, rawSystem(), w), w)
	if _, err := Run(context.Background(), rawSystem(), standard(t, "W6")); err == nil {
		t.Fatal("raw accepted W6")
	}
}

func TestRunRejectsBadWorkloads(t *testing.T) {
	w := standard(t, "W1w")
	w.Patterns = []string{"nothing.matches"}
	defer func(d time.Duration) { warmupTimeout = d }(warmupTimeout)
	warmupTimeout = time.Second
	res, err := Run(context.Background(), &Busd{}, w)
	if err == nil {
		t.Fatalf("a subscriber that matches nothing passed the warm-up: %v", res)
	}
	t.Log(err)
	w = standard(t, "W1w")
	w.Size = 10
	if _, err := Run(context.Background(), &Busd{}, w); err == nil {
		t.Fatal("size 10 accepted")
	}
}

// rawSystem is the raw relay, run by this test binary.
func rawSystem() *Raw {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return &Raw{Binary: exe}
}
