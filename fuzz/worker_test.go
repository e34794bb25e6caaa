package fuzz

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"
)

// callBudget bounds the waits of one call of a fuzz function. The fuzzing
// engine kills a worker whose call runs for 10 s ("deadlocked!", with the
// reason lost); a call that gives up within the budget reports its own
// message instead.
const callBudget = 8 * time.Second

// A fuzzing worker's standard error goes nowhere: when a worker dies (a
// panic in a goroutine the fuzz function did not start, a fatal runtime
// error), the coordinator reports only "fuzzing process hung or terminated
// unexpectedly: exit status 2". With BUSD_FUZZ_CRASH_DIR set (scripts/fuzz
// sets it), every process of the run also writes its crash report, if it
// has one, to <dir>/<pid>.crash, which the script prints beside the failure.
func TestMain(m *testing.M) {
	if dir := os.Getenv("BUSD_FUZZ_CRASH_DIR"); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.crash", os.Getpid())))
		if err == nil {
			err = debug.SetCrashOutput(f, debug.CrashOptions{})
			f.Close() // SetCrashOutput holds its own duplicate of the descriptor
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "fuzz: no crash log in %s: %v\n", dir, err)
		}
	}
	os.Exit(m.Run())
}
