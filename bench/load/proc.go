package load

import (
	"time"

	"busd/internal/procstat"
)

// procCPU and procRSS read another process's CPU time and RSS (the
// daemon's). CPU time is the kernel's per-thread run time in ns: at a
// fixed 1000 events/s a 3 s run costs a server some 150 ms, which the
// 10 ms ticks of /proc/<pid>/stat would read to ±7 %.
var (
	procCPU = procstat.RunTime
	procRSS = procstat.RSS
)

// selfCPU is this process's user+system CPU time.
var selfCPU = procstat.Self

// rssSampler records the peak RSS of a process, sampled every 100 ms.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

func startRSSSampler(pid int, start uint64) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{}), peak: start}
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if rss, err := procRSS(pid); err == nil && rss > s.peak {
					s.peak = rss
				}
			}
		}
	}()
	return s
}

// finish stops the sampler, takes one last sample and returns the peak.
func (s *rssSampler) finish(pid int) uint64 {
	close(s.stop)
	<-s.done
	if rss, err := procRSS(pid); err == nil && rss > s.peak {
		s.peak = rss
	}
	return s.peak
}
