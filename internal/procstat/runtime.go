package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// RunTime is the time a process's threads (those alive now: Go keeps its
// threads) spent on a CPU, from /proc/<pid>/task/*/schedstat, in
// nanoseconds: what an idle process's cost needs, where CPU's 10 ms ticks
// would round a minute of idling to a handful.
func RunTime(pid int) (time.Duration, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended since
		}
		f := bytes.Fields(b)
		if len(f) < 1 {
			return 0, fmt.Errorf("%s/%s/schedstat: empty", dir, t.Name())
		}
		n, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s/%s/schedstat: %w", dir, t.Name(), err)
		}
		sum += n
	}
	return time.Duration(sum), nil
}
