package replay

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"busd/capture"
	"busd/internal/procstat"
)

// runner is one Run: the plan, the options and what every pass adds up.
type runner struct {
	opts Options
	plan *plan
	open func() (*capture.Reader, error)
	max  bool // no schedule

	// Written by the schedule, read by the progress line.
	sent     atomic.Uint64
	position atomic.Int64 // capture time reached in the current pass
	passNo   atomic.Int64
	lagNow   atomic.Int64
	lagMax   atomic.Int64

	// Owned by the schedule.
	lag             histogram
	barrierTimeouts int
	scheduled       time.Duration // wall time the schedules were meant to take
	schedule        time.Duration // wall time they took
	conns           map[uint64]*ConnReport

	mu        sync.Mutex   // guards current
	current   *pass        // the pass running, for the progress line
	passStart atomic.Int64 // unix ns of the current pass's base; 0 before it
	// Deliveries counted by passes already over.
	deliveredBefore atomic.Uint64
}

func (r *runner) recordLag(d time.Duration) {
	r.lag.record(d)
	r.lagNow.Store(int64(d))
	if int64(d) > r.lagMax.Load() {
		r.lagMax.Store(int64(d))
	}
}

// Run replays the capture that open reads (it is called once for the
// pre-pass and once per pass) into the daemon at opts.Socket, and reports
// what the daemon delivered. When ctx ends the replay stops, still counts
// what arrives for a settle period, and reports (Report.Interrupted); with
// Loop that is how it ends. An error means the file or the daemon failed.
func Run(ctx context.Context, open func() (*capture.Reader, error), opts Options) (*Report, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	pl, err := readPlan(open, &opts)
	if err != nil {
		return nil, err
	}
	r := &runner{opts: opts, plan: pl, open: open, max: maxSpeed(opts.Speed), conns: map[uint64]*ConnReport{}}

	probe, err := dialConn(opts.Socket)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	pid, pidErr := peerPID(probe)
	probe.Close()
	var cpuStart time.Duration
	selfStart := procstat.Self()
	cpuErr := pidErr
	if cpuErr == nil {
		cpuStart, cpuErr = processCPU(pid)
	}

	stopProgress := r.startProgress()
	start := time.Now()
	base := start
	interrupted := false
	passes := 0
	for {
		passes++
		r.passNo.Store(int64(passes))
		p := newPass(r)
		r.mu.Lock()
		r.current = p
		r.mu.Unlock()
		r.passStart.Store(0)
		err := p.replay(ctx, base)
		r.finishPass(p)
		if err != nil && ctx.Err() == nil {
			stopProgress()
			return nil, err
		}
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		if !opts.Loop {
			break
		}
		if !r.max {
			// The next pass goes on from where this one's schedule ended,
			// not from where it really got: a pass that fell behind does
			// not shift the rest.
			base = p.base.Add(r.span())
		} else {
			base = time.Now()
		}
	}
	wall := time.Since(start)
	stopProgress()

	rep := r.report(wall, passes, interrupted)
	rep.DaemonPID = pid
	rep.ReplayCPUSeconds = (procstat.Self() - selfStart).Seconds()
	if cpuErr == nil {
		var cpuEnd time.Duration
		if cpuEnd, cpuErr = processCPU(pid); cpuErr == nil {
			rep.setCPU(cpuEnd - cpuStart)
		}
	}
	if cpuErr != nil {
		rep.CPUError = cpuErr.Error()
	}
	return rep, nil
}

// span is one pass's schedule in wall time.
func (r *runner) span() time.Duration {
	if r.max {
		return 0
	}
	return time.Duration(float64(r.plan.span) / r.opts.Speed)
}

// finishPass adds a finished pass's counts to the run's. Its connections
// are closed and their readers done.
func (r *runner) finishPass(p *pass) {
	r.mu.Lock()
	r.current = nil
	r.mu.Unlock()
	if !p.base.IsZero() && !p.end.IsZero() {
		took := p.end.Sub(p.base)
		if p.completed && !r.max {
			// A pass that kept up took its whole span, quiet end included:
			// the rate achieved is then the one recorded over the same
			// span, times the speed.
			took = max(took, r.span())
		}
		r.schedule += took
		r.scheduled += r.span()
	}
	for _, c := range p.all {
		if c.rd == nil {
			continue
		}
		cr := r.conns[c.plan.id]
		if cr == nil {
			cr = &ConnReport{Conn: c.plan.id, Name: c.plan.name, Topics: map[string]uint64{}}
			if pace := c.plan.pace.BytesPerSecond(); pace > 0 {
				cr.SlowReader, cr.PaceBytesPerSecond = true, pace
			}
			r.conns[c.plan.id] = cr
		}
		cr.Expected += c.expected
		cr.Received += c.rd.delivered.Load()
		cr.Bytes += c.rd.bytes.Load()
		cr.Drops += c.rd.drops.Load()
		cr.DropNotices += c.rd.notices.Load()
		for t, n := range c.rd.topics {
			cr.Topics[t] += n
		}
		r.deliveredBefore.Add(c.rd.delivered.Load())
	}
}

// progressEvery is how often Options.Progress is called.
const progressEvery = time.Second

// startProgress calls opts.Progress every progressEvery until the
// returned function is called.
func (r *runner) startProgress() func() {
	if r.opts.Progress == nil {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.opts.Progress(r.progress())
			}
		}
	}()
	return func() { close(stop); <-done }
}

func (r *runner) progress() Progress {
	pr := Progress{
		Pass:   int(r.passNo.Load()),
		Sent:   r.sent.Load(),
		Lag:    time.Duration(r.lagNow.Load()),
		MaxLag: time.Duration(r.lagMax.Load()),
	}
	if r.plan.span > 0 {
		pr.Done = min(float64(r.position.Load())/float64(r.plan.span), 1)
	}
	pr.Delivered = r.deliveredBefore.Load()
	r.mu.Lock()
	if p := r.current; p != nil {
		p.mu.Lock()
		for _, c := range p.all {
			if c.rd != nil {
				pr.Delivered += c.rd.delivered.Load()
			}
		}
		p.mu.Unlock()
	}
	r.mu.Unlock()
	ns := r.passStart.Load()
	if r.opts.Loop || ns == 0 || pr.Done <= 0 {
		return pr
	}
	if !r.max {
		pr.ETA = max(time.Duration((1-pr.Done)*float64(r.span())), 0)
	} else {
		elapsed := time.Since(time.Unix(0, ns))
		pr.ETA = time.Duration(float64(elapsed) / pr.Done * (1 - pr.Done))
	}
	return pr
}
