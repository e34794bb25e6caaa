package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// ServerCounters are a daemon's running totals that the cost model reads:
// its own counters (busd's /statsz) and the write system calls the kernel
// counted for it, which are its real writes to subscribers: a read batch
// that reaches k subscribers costs k writes, whatever the topics.
type ServerCounters struct {
	Published   uint64 `json:"published"`
	EventsOut   uint64 `json:"events_out"`
	BytesOut    uint64 `json:"bytes_out"`
	ReadBatches uint64 `json:"read_batches"`
	// Writes: write(2) and writev(2) calls (/proc/<pid>/io syscw); 0
	// when unknown.
	Writes uint64 `json:"writes"`
	// Wakeups: the times the daemon's threads blocked and were woken
	// again (voluntary context switches, summed over /proc/<pid>/task),
	// whatever woke them: a read, a socket that drained, a timer, the Go
	// scheduler. 0 when unknown.
	Wakeups uint64 `json:"wakeups"`
}

// Sub is the counts from prev to c.
func (c ServerCounters) Sub(prev ServerCounters) ServerCounters {
	return ServerCounters{
		Published:   c.Published - prev.Published,
		EventsOut:   c.EventsOut - prev.EventsOut,
		BytesOut:    c.BytesOut - prev.BytesOut,
		ReadBatches: c.ReadBatches - prev.ReadBatches,
		Writes:      c.Writes - prev.Writes,
		Wakeups:     c.Wakeups - prev.Wakeups,
	}
}

// CounterSampler is a System whose server reports ServerCounters (busd
// started by the generator). Run samples them with the server's CPU time.
type CounterSampler interface {
	ServerCounters() (ServerCounters, error)
}

// adminStats fetches /statsz from a busd admin socket.
func adminStats(path string) (ServerCounters, error) {
	var st ServerCounters
	c := http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://busd/statsz")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("admin /statsz: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("admin /statsz: %w", err)
	}
	return st, nil
}

// procWrites is a process's write system calls so far, syscw of
// /proc/<pid>/io.
func procWrites(pid int) (uint64, error) {
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

// ServerCounters reads the daemon's counters through the admin socket it
// was started with, and its writes from /proc (not available for a daemon
// given by Socket).
func (b *Busd) ServerCounters() (ServerCounters, error) {
	if b.srv == nil {
		return ServerCounters{}, errors.New("busd: counters are read only for a daemon this generator started")
	}
	st, err := adminStats(b.srv.dir + "/a")
	if err != nil {
		return st, err
	}
	if st.Writes, err = procWrites(b.srv.pid()); err != nil {
		return st, err
	}
	if st.Wakeups, err = procWakeups(b.srv.pid()); err != nil {
		return st, err
	}
	return st, nil
}

// procWakeups is the voluntary context switches of a process's threads
// (those alive now: Go keeps its threads).
func procWakeups(pid int) (uint64, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/status")
		if err != nil {
			continue // the thread ended since
		}
		for line := range bytes.SplitSeq(b, []byte{'\n'}) {
			if rest, ok := bytes.CutPrefix(line, []byte("voluntary_ctxt_switches:")); ok {
				n, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 10, 64)
				if err != nil {
					return 0, fmt.Errorf("%s/%s/status: %w", dir, t.Name(), err)
				}
				sum += n
			}
		}
	}
	return sum, nil
}
