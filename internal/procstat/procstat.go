// Package procstat reads what the kernel counts for a process in /proc
// (CPU time, memory, write calls, wakeups): the daemon's, measured by the
// load generator and by capture replays.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux ABI Go supports (sysconf(_SC_CLK_TCK) needs cgo).
const clockTicks = 100

// CPU is a process's user+system CPU time from /proc/<pid>/stat, all
// threads; 10 ms resolution.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: the fields
	// that follow the last ')' start at field 3 (state).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64) // field 14
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// RSS is VmRSS from /proc/<pid>/status, in bytes.
func RSS(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 1 {
			break
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			break
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// Writes is a process's write system calls so far, syscw of
// /proc/<pid>/io.
func Writes(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		if rest, ok := bytes.CutPrefix(line, []byte("syscw:")); ok {
			return strconv.ParseUint(string(bytes.TrimSpace(rest)), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/io: no syscw", pid)
}

// Wakeups is the voluntary context switches of a process's threads
// (those alive now: Go keeps its threads).
func Wakeups(pid int) (uint64, error) {
	return sumTasks(pid, "status", func(b []byte) (uint64, bool, error) {
		for line := range bytes.SplitSeq(b, []byte{'\n'}) {
			if rest, ok := bytes.CutPrefix(line, []byte("voluntary_ctxt_switches:")); ok {
				n, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 10, 64)
				return n, true, err
			}
		}
		return 0, false, nil
	})
}

// sumTasks adds up, over a process's threads (/proc/<pid>/task/*), the
// number parse reads from each thread's file name; a thread that ended
// meanwhile is left out.
func sumTasks(pid int, name string, parse func([]byte) (n uint64, found bool, err error)) (uint64, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/" + name)
		if err != nil {
			continue // the thread ended since
		}
		n, found, err := parse(b)
		if err != nil {
			return 0, fmt.Errorf("%s/%s/%s: %w", dir, t.Name(), name, err)
		}
		if found {
			sum += n
		}
	}
	return sum, nil
}

// Self is this process's user+system CPU time (getrusage RUSAGE_SELF).
func Self() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
