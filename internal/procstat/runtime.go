package procstat

import (
	"bytes"
	"errors"
	"strconv"
	"time"
)

// RunTime is the time a process's threads (those alive now: Go keeps its
// threads) spent on a CPU, from /proc/<pid>/task/*/schedstat, in
// nanoseconds: what an idle process's cost needs, where CPU's 10 ms ticks
// would round a minute of idling to a handful.
func RunTime(pid int) (time.Duration, error) {
	ns, err := sumTasks(pid, "schedstat", func(b []byte) (uint64, bool, error) {
		f := bytes.Fields(b)
		if len(f) < 1 {
			return 0, false, errors.New("empty")
		}
		n, err := strconv.ParseUint(string(f[0]), 10, 64)
		return n, true, err
	})
	return time.Duration(ns), err
}
