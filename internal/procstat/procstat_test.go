package procstat

import (
	"os"
	"testing"
	"time"
)

func TestOwnProcess(t *testing.T) {
	pid := os.Getpid()
	before, err := CPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Burn a little more than the 10 ms resolution.
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	after, err := CPU(pid)
	if err != nil || after <= before {
		t.Errorf("CPU %v then %v (%v): the burn did not show", before, after, err)
	}
	if rss, err := RSS(pid); err != nil || rss < 1<<20 {
		t.Errorf("RSS %d (%v), want at least 1 MiB", rss, err)
	}
}

func TestNoSuchProcess(t *testing.T) {
	if _, err := CPU(-1); err == nil {
		t.Error("CPU of pid -1: no error")
	}
	if _, err := RSS(-1); err == nil {
		t.Error("RSS of pid -1: no error")
	}
}

// RunTime counts this process's CPU time in nanoseconds: it grows by
// about the work done, and agrees with getrusage within a tick or two.
func TestRunTime(t *testing.T) {
	pid := os.Getpid()
	before, err := RunTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	self0 := Self()
	x := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x++
	}
	after, err := RunTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	ran, self := after-before, Self()-self0
	if ran < 20*time.Millisecond || ran > self+30*time.Millisecond || ran < self-30*time.Millisecond {
		t.Errorf("RunTime grew by %v over a 50 ms busy loop; getrusage says %v (x=%d)", ran, self, x)
	}
}
