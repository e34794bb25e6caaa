package load

import (
	"context"
	"fmt"
	"time"

	"busd/internal/procstat"
)

// IdleResult is what a server costs while it holds idle subscribers and
// nothing is published: the floor a host pays for its bus, forever.
type IdleResult struct {
	System      string  `json:"system"`
	Subscribers int     `json:"subscribers"`
	Seconds     float64 `json:"seconds"`
	// CPUPercent is the server's CPU time over the measurement, in percent
	// of one core (from the kernel's per-thread run time, in ns).
	CPUPercent float64 `json:"cpu_percent"`
	// WakeupsPerSec are the server's voluntary context switches per
	// second: each is a thread going to sleep after waking.
	WakeupsPerSec float64 `json:"wakeups_per_sec"`
}

func (r IdleResult) String() string {
	return fmt.Sprintf("%-10s idle %4d subs  %.3f%% of a core  %.1f wakeups/s  (%.0fs)",
		r.System, r.Subscribers, r.CPUPercent, r.WakeupsPerSec, r.Seconds)
}

// idleSettle is how long a server is left after its subscribers connect
// before the measurement starts: connections settle, start-up work ends.
const idleSettle = 2 * time.Second

// Idle starts sys, connects subs subscribers, each with a pattern of its
// own that nothing is published to, waits for them to settle, and
// measures the server for d.
func Idle(ctx context.Context, sys System, subs int, d time.Duration) (IdleResult, error) {
	res := IdleResult{System: sys.Name(), Subscribers: subs}
	if err := sys.Start(ctx); err != nil {
		return res, err
	}
	defer sys.Stop()
	for i := range subs {
		s, err := sys.NewSubscriber([]string{fmt.Sprintf("idle.%d.>", i)}, func([]byte) {})
		if err != nil {
			return res, fmt.Errorf("%s: subscriber %d: %w", sys.Name(), i, err)
		}
		defer s.Close()
		if err := s.Ready(ctx); err != nil {
			return res, fmt.Errorf("%s: subscriber %d: %w", sys.Name(), i, err)
		}
	}
	if err := sleepCtx(ctx, idleSettle); err != nil {
		return res, err
	}
	pid := sys.ServerPID()
	cpu0, err1 := procstat.RunTime(pid)
	w0, err2 := procstat.Wakeups(pid)
	start := time.Now()
	if err := sleepCtx(ctx, d); err != nil {
		return res, err
	}
	cpu1, err3 := procstat.RunTime(pid)
	w1, err4 := procstat.Wakeups(pid)
	elapsed := time.Since(start)
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return res, fmt.Errorf("%s: %w", sys.Name(), err)
		}
	}
	res.Seconds = elapsed.Seconds()
	res.CPUPercent = 100 * (cpu1 - cpu0).Seconds() / res.Seconds
	res.WakeupsPerSec = float64(w1-w0) / res.Seconds
	return res, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
