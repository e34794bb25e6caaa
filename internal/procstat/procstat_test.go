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
