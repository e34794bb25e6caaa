package load

import (
	"errors"
	"net/http"

	"busd/internal/procstat"
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
	// BacklogRetries: wakeups to retry subscribers whose socket was full.
	BacklogRetries uint64 `json:"backlog_retries"`
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
		Published:      c.Published - prev.Published,
		EventsOut:      c.EventsOut - prev.EventsOut,
		BytesOut:       c.BytesOut - prev.BytesOut,
		ReadBatches:    c.ReadBatches - prev.ReadBatches,
		BacklogRetries: c.BacklogRetries - prev.BacklogRetries,
		Writes:         c.Writes - prev.Writes,
		Wakeups:        c.Wakeups - prev.Wakeups,
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
	a := newAdminClient(path)
	defer a.close()
	err := a.do(http.MethodGet, "/statsz", nil, &st, http.StatusOK)
	return st, err
}

// ServerCounters reads the daemon's counters through the admin socket it
// was started with, and its writes from /proc (not available for a daemon
// given by Socket).
func (b *Busd) ServerCounters() (ServerCounters, error) {
	if b.srv == nil {
		return ServerCounters{}, errors.New("busd: counters are read only for a daemon this generator started")
	}
	st, err := adminStats(b.adminSocket())
	if err != nil {
		return st, err
	}
	if st.Writes, err = procstat.Writes(b.srv.pid()); err != nil {
		return st, err
	}
	if st.Wakeups, err = procstat.Wakeups(b.srv.pid()); err != nil {
		return st, err
	}
	return st, nil
}
