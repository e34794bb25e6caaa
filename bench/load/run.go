package load

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnsupported is wrapped by the errors of systems that cannot run a
// workload (see Supporter).
var ErrUnsupported = errors.New("workload not supported")

// Supporter is implemented by systems that cannot run every workload; Run
// asks before starting the server.
type Supporter interface {
	Supports(w Workload) error
}

// Result is what one Run measured. Rates are per second of the measurement:
// PublishedPerSec over the publishing time, DeliveredPerSec over Seconds
// (from the start of publishing to the last delivery). CPU is in
// CPU-seconds per million events. Server figures are zero when
// ServerMeasured is false (no server process to read).
type Result struct {
	System      string `json:"system"`
	Workload    string `json:"workload"`
	Mode        string `json:"mode"`
	Publishers  int    `json:"publishers"`
	Subscribers int    `json:"subscribers"`
	Size        int    `json:"size"`
	// ClientProcs is the generator's GOMAXPROCS during the run.
	ClientProcs int `json:"client_procs"`

	Published  uint64 `json:"published"`
	Delivered  uint64 `json:"delivered"`
	Lost       uint64 `json:"lost"`
	OutOfOrder uint64 `json:"out_of_order"`
	// Stray counts events that reached an idle connection or were not
	// built by the generator: both should be 0.
	Stray uint64 `json:"stray"`

	Seconds        float64 `json:"seconds"`
	PublishSeconds float64 `json:"publish_seconds"`

	DeliveredPerSec float64 `json:"delivered_per_sec"`
	PublishedPerSec float64 `json:"published_per_sec"`
	MBPerSec        float64 `json:"mb_per_sec"` // delivered body bytes, 10^6 bytes

	ServerMeasured         bool    `json:"server_measured"`
	ServerCPUSeconds       float64 `json:"server_cpu_seconds"`
	ClientCPUSeconds       float64 `json:"client_cpu_seconds"`
	ServerCPUPerMDelivered float64 `json:"server_cpu_per_m_delivered"`
	ServerCPUPerMPublished float64 `json:"server_cpu_per_m_published"`
	ClientCPUPerMDelivered float64 `json:"client_cpu_per_m_delivered"`
	ServerRSSPeakMB        float64 `json:"server_rss_peak_mb"` // MiB
	// ServerReadBatches is how many reads carrying frames the server
	// handled during the measurement (systems that count them: busd).
	ServerReadBatches uint64  `json:"server_read_batches,omitempty"`
	ServerRSSStartMB  float64 `json:"server_rss_start_mb"`
	// ServerBytesOut is the frame bytes the server wrote to subscribers,
	// and ServerWrites its write system calls (busd started by the
	// generator), both during the measurement.
	ServerBytesOut uint64 `json:"server_bytes_out,omitempty"`
	ServerWrites   uint64 `json:"server_writes,omitempty"`
	// ServerWakeups is how often the server's threads blocked and were
	// woken (ServerCounters.Wakeups) during the measurement.
	ServerWakeups uint64 `json:"server_wakeups,omitempty"`
	// ServerBacklogRetries: the server's wakeups to retry subscribers
	// whose socket was full (busd's backlog_retries).
	ServerBacklogRetries uint64 `json:"server_backlog_retries,omitempty"`

	// Latency percentiles of the measured events (Rate mode only).
	LatencySamples uint64        `json:"latency_samples"`
	LatencyP50     time.Duration `json:"latency_p50_ns"`
	LatencyP99     time.Duration `json:"latency_p99_ns"`
	LatencyP999    time.Duration `json:"latency_p999_ns"`
	LatencyMax     time.Duration `json:"latency_max_ns"`

	// Capture is what a capture running during the measurement recorded
	// (see Capturer); nil: none ran.
	Capture *CaptureResult `json:"capture,omitempty"`
}

// String is the one-line summary.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-4s %-10s %-6s %d→%d %6s  pub %7s/s  dlv %7s/s %7.1f MB/s  lost %d",
		r.System, r.Workload, r.Mode, r.Publishers, r.Subscribers, SizeName(r.Size),
		FormatRate(r.PublishedPerSec), FormatRate(r.DeliveredPerSec), r.MBPerSec, r.Lost)
	if r.OutOfOrder > 0 {
		fmt.Fprintf(&b, "  disorder %d", r.OutOfOrder)
	}
	if r.Stray > 0 {
		fmt.Fprintf(&b, "  stray %d", r.Stray)
	}
	if r.ServerMeasured {
		fmt.Fprintf(&b, "  srv %.2f cpu-s/M  rss %.1f→%.1f MB", r.ServerCPUPerMDelivered, r.ServerRSSStartMB, r.ServerRSSPeakMB)
	} else {
		b.WriteString("  srv -")
	}
	fmt.Fprintf(&b, "  cli %.2f cpu-s/M", r.ClientCPUPerMDelivered)
	if r.LatencySamples > 0 {
		fmt.Fprintf(&b, "  p50 %s p99 %s p99.9 %s", us(r.LatencyP50), us(r.LatencyP99), us(r.LatencyP999))
	}
	if c := r.Capture; c != nil {
		fmt.Fprintf(&b, "  capture %s %s records %.1f MB %.1f B/record", c.Payload, FormatRate(float64(c.Records)),
			float64(c.Bytes)/1e6, c.BytesPerRecord)
		if c.RecorderDrops > 0 {
			fmt.Fprintf(&b, "  CAPTURE DROPPED %d records", c.RecorderDrops)
		}
	}
	return b.String()
}

// FormatRate writes a rate (or any count) with an SI suffix, as the tables
// print it: 3.21M, 45.6k, 812.
func FormatRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d)/1e3) }

// Report passes the metrics to report, which has the signature of
// testing.B.ReportMetric: r.Report(b.ReportMetric). ns/op is nanoseconds
// of measurement per delivered event.
func (r Result) Report(report func(n float64, unit string)) {
	if r.Delivered > 0 {
		report(r.Seconds*1e9/float64(r.Delivered), "ns/op")
	}
	report(r.DeliveredPerSec, "msgs/s")
	report(r.PublishedPerSec, "pub-msgs/s")
	report(r.MBPerSec, "MB/s")
	report(float64(r.Lost), "lost")
	if r.ServerMeasured {
		report(r.ServerCPUPerMDelivered, "srv-cpu-s/M")
		report(r.ServerRSSPeakMB, "rss-MB")
	}
	report(r.ClientCPUPerMDelivered, "cli-cpu-s/M")
	if r.LatencySamples > 0 {
		report(float64(r.LatencyP50)/1e3, "p50-µs")
		report(float64(r.LatencyP99)/1e3, "p99-µs")
		report(float64(r.LatencyP999)/1e3, "p99.9-µs")
	}
}

// clockBase is the origin of the send times stamped into bodies: the
// monotonic clock of this process, which both ends of every event share.
var clockBase = time.Now()

func nowNs() int64 { return int64(time.Since(clockBase)) }

// warmupTimeout bounds the warm-up (a variable for the tests).
var warmupTimeout = 10 * time.Second

const (
	readyTimeout = 10 * time.Second
	drainTimeout = 10 * time.Second
	// drainQuiet ends the drain of an open loop when nothing has arrived
	// for this long (events the server dropped never come). Closed loops
	// and rate workloads lose nothing, so their drain waits for the last
	// event (up to drainTimeout): a scheduling stall on a loaded machine
	// must not be counted as loss.
	drainQuiet = 500 * time.Millisecond
)

// pubCtl is one publisher's closed-loop window state, shared with the
// subscribers that wake it.
type pubCtl struct {
	waiting   atomic.Bool
	target    atomic.Uint64 // wake the publisher once a subscriber's next reaches this
	wake      chan struct{}
	published uint64 // measured events, set when the publisher goroutine ends
	err       error
	_         [64]byte
}

// subPub is what one subscriber knows of one publisher.
type subPub struct {
	next   atomic.Uint64 // highest measured sequence received + 1
	warmed atomic.Bool
	recv   uint64 // measured events received (subscriber goroutine only)
	_      [40]byte
}

// subState counts one counted subscriber's events. onEvent runs on the
// subscriber's goroutine; the plain fields are read after its Close.
type subState struct {
	run      *runState
	pubs     []subPub
	gaps     uint64
	disorder uint64
	stray    uint64
	hist     *Histogram // Rate mode
}

func (s *subState) onEvent(body []byte) {
	st, err := ParseBody(body)
	if err != nil || st.Pub >= len(s.pubs) {
		s.stray++
		return
	}
	p := &s.pubs[st.Pub]
	if st.Phase != PhaseMeasured {
		if st.Phase == PhaseWarmup && !p.warmed.Load() {
			p.warmed.Store(true)
		}
		return
	}
	if s.hist != nil {
		s.hist.Record(time.Duration(nowNs() - st.SendNs))
	}
	p.recv++
	if next := p.next.Load(); st.Seq >= next {
		s.gaps += st.Seq - next
		p.next.Store(st.Seq + 1)
	} else {
		s.disorder++
	}
	if c := &s.run.pubs[st.Pub]; c.waiting.Load() && st.Seq+1 >= c.target.Load() {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

type runState struct {
	w        Workload
	pubs     []pubCtl
	subs     []*subState
	stopped  atomic.Bool
	stopCh   chan struct{}
	stopOnce sync.Once
}

func (r *runState) stop() {
	r.stopOnce.Do(func() {
		r.stopped.Store(true)
		close(r.stopCh)
	})
}

// minNext is how far the slowest subscriber has read publisher p.
func (r *runState) minNext(p int) uint64 {
	m := r.subs[0].pubs[p].next.Load()
	for _, s := range r.subs[1:] {
		m = min(m, s.pubs[p].next.Load())
	}
	return m
}

// ClientProcs is the GOMAXPROCS the generator runs with during Run (0:
// leave it alone). The generator shares the machine with the server it
// measures, and a Go process with more processors than busy goroutines
// spins threads looking for work: on 2 cores, one processor took the
// generator's CPU per event down and left the server the other core, which
// raised the closed-loop rates (bench/decisions/load.md). It is set with
// runtime.GOMAXPROCS, not the environment, so the servers the generator
// starts keep their own default.
var ClientProcs = 1

// Run measures workload w on a fresh server of sys: it starts the server,
// connects the subscribers (counted, slow and idle) and waits until each is
// Ready, warms up (events that are not counted, until every subscriber has
// received one from every publisher), then publishes for w.Duration and
// drains, reading the server's CPU time and RSS and the generator's own CPU
// time around the measurement. The server is stopped before Run returns.
func Run(ctx context.Context, sys System, w Workload) (res Result, err error) {
	if err := w.Validate(); err != nil {
		return res, err
	}
	if ClientProcs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(ClientProcs))
	}
	if s, ok := sys.(Supporter); ok {
		if err := s.Supports(w); err != nil {
			return res, fmt.Errorf("%s %s: %w", sys.Name(), w.Name, err)
		}
	}
	res = Result{System: sys.Name(), Workload: w.Name, Mode: w.Mode.String(),
		Publishers: w.Publishers, Subscribers: w.Subscribers, Size: w.size(),
		ClientProcs: runtime.GOMAXPROCS(0)}
	bodies := make([]*Body, w.Publishers)
	for p := range bodies {
		if bodies[p], err = NewBody(w.size(), p, w.Topic(p, 0)); err != nil {
			return res, err
		}
	}
	fail := func(what string, e error) error { return fmt.Errorf("%s %s: %s: %w", sys.Name(), w.Name, what, e) }

	if err := sys.Start(ctx); err != nil {
		return res, fail("start", err)
	}
	r := &runState{w: w, pubs: make([]pubCtl, w.Publishers), stopCh: make(chan struct{})}
	for p := range r.pubs {
		r.pubs[p].wake = make(chan struct{}, 1)
	}
	release := make(chan struct{}) // unblocks the slow subscribers
	var releaseOnce sync.Once
	releaseSlow := func() { releaseOnce.Do(func() { close(release) }) }
	var counted, others []Subscriber
	var pubs []Publisher
	defer func() {
		releaseSlow()
		for _, s := range others {
			s.Close()
		}
		for i, s := range counted {
			if e := s.Close(); e != nil && err == nil {
				err = fail(fmt.Sprintf("subscriber %d", i), e)
			}
		}
		for _, p := range pubs {
			p.Close()
		}
		if e := sys.Stop(); e != nil && err == nil {
			err = fail("stop", e)
		}
	}()

	// Subscribers: counted, slow, idle.
	for i := 0; i < w.Subscribers; i++ {
		s := &subState{run: r, pubs: make([]subPub, w.Publishers)}
		if w.Mode == Rate {
			s.hist = new(Histogram)
		}
		h, err := sys.NewSubscriber(w.Patterns, s.onEvent)
		if err != nil {
			return res, fail("subscriber", err)
		}
		r.subs = append(r.subs, s)
		counted = append(counted, h)
	}
	for i := 0; i < w.SlowSubscribers; i++ {
		h, err := sys.NewSubscriber(w.Patterns, func([]byte) { <-release })
		if err != nil {
			return res, fail("slow subscriber", err)
		}
		others = append(others, h)
	}
	var idleStray atomic.Uint64
	idle := IdlePatterns(w.IdleSubs)
	for c := 0; c < w.IdleConns && w.IdleSubs > 0; c++ {
		pats := slices.Clip(idle[c*len(idle)/w.IdleConns : (c+1)*len(idle)/w.IdleConns])
		h, err := sys.NewSubscriber(pats, func([]byte) { idleStray.Add(1) })
		if err != nil {
			return res, fail("idle subscriber", err)
		}
		others = append(others, h)
	}
	readyCtx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for _, h := range append(append([]Subscriber{}, counted...), others...) {
		if err := h.Ready(readyCtx); err != nil {
			return res, fail("ready", err)
		}
	}
	for range w.Publishers {
		p, err := sys.NewPublisher()
		if err != nil {
			return res, fail("publisher", err)
		}
		pubs = append(pubs, p)
	}
	if err := r.warmUp(ctx, pubs, bodies); err != nil {
		return res, fail("warm-up", err)
	}

	// Measurement.
	capturer, _ := sys.(Capturer)
	capturing := false
	if capturer != nil {
		if capturing, err = capturer.StartCapture(); err != nil {
			return res, fail("capture", err)
		}
	}
	pid := sys.ServerPID()
	var srvCPU0 time.Duration
	var rss0 uint64
	var sampler *rssSampler
	if pid > 0 {
		if srvCPU0, err = procCPU(pid); err == nil {
			rss0, err = procRSS(pid)
		}
		if err != nil {
			return res, fail("server accounting", err)
		}
		sampler = startRSSSampler(pid, rss0)
	}
	counter, _ := sys.(CounterSampler)
	var counters0 ServerCounters
	if counter != nil {
		if counters0, err = counter.ServerCounters(); err != nil {
			counter = nil // a daemon given by its socket: not counted
		}
	}
	cli0 := selfCPU()
	t0 := time.Now()
	var wg sync.WaitGroup
	for p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.publish(p, pubs[p], bodies[p])
		}()
	}
	timer := time.NewTimer(w.duration())
	select {
	case <-timer.C:
	case <-ctx.Done():
	case <-r.stopCh: // a publisher failed
	}
	timer.Stop()
	r.stop()
	wg.Wait()
	tPub := time.Now()
	tEnd := r.drain(tPub)
	cli1 := selfCPU()
	if pid > 0 {
		srvCPU1, err := procCPU(pid)
		if err != nil {
			return res, fail("server accounting", err)
		}
		peak := sampler.finish(pid)
		res.ServerMeasured = true
		res.ServerCPUSeconds = (srvCPU1 - srvCPU0).Seconds()
		res.ServerRSSStartMB = float64(rss0) / (1 << 20)
		res.ServerRSSPeakMB = float64(peak) / (1 << 20)
	}
	if counter != nil {
		counters1, err := counter.ServerCounters()
		if err != nil {
			return res, fail("server counters", err)
		}
		d := counters1.Sub(counters0)
		res.ServerReadBatches, res.ServerBytesOut, res.ServerWrites, res.ServerWakeups = d.ReadBatches, d.BytesOut, d.Writes, d.Wakeups
		res.ServerBacklogRetries = d.BacklogRetries
	}
	if capturing {
		c, err := capturer.StopCapture()
		if err != nil {
			return res, fail("capture", err)
		}
		res.Capture = &c
	}
	res.ClientCPUSeconds = (cli1 - cli0).Seconds()
	for p := range r.pubs {
		if e := r.pubs[p].err; e != nil {
			return res, fail(fmt.Sprintf("publisher %d", p), e)
		}
		res.Published += r.pubs[p].published
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	// The counts are complete once the subscribers are closed.
	releaseSlow()
	for i, s := range counted {
		if e := s.Close(); e != nil {
			return res, fail(fmt.Sprintf("subscriber %d", i), e)
		}
	}
	counted = nil
	var hist Histogram
	for _, s := range r.subs {
		for p := range s.pubs {
			got, want := s.pubs[p].recv, r.pubs[p].published
			res.Delivered += got
			if got < want {
				res.Lost += want - got
			}
		}
		res.OutOfOrder += s.disorder
		res.Stray += s.stray
		if s.hist != nil {
			hist.Merge(s.hist)
		}
	}
	res.Stray += idleStray.Load()

	res.Seconds = tEnd.Sub(t0).Seconds()
	res.PublishSeconds = tPub.Sub(t0).Seconds()
	if res.Seconds > 0 {
		res.DeliveredPerSec = float64(res.Delivered) / res.Seconds
		res.MBPerSec = res.DeliveredPerSec * float64(res.Size) / 1e6
	}
	if res.PublishSeconds > 0 {
		res.PublishedPerSec = float64(res.Published) / res.PublishSeconds
	}
	if res.Delivered > 0 {
		m := float64(res.Delivered) / 1e6
		res.ServerCPUPerMDelivered = res.ServerCPUSeconds / m
		res.ClientCPUPerMDelivered = res.ClientCPUSeconds / m
	}
	if res.Published > 0 {
		res.ServerCPUPerMPublished = res.ServerCPUSeconds / (float64(res.Published) / 1e6)
	}
	if n := hist.Count(); n > 0 {
		res.LatencySamples = n
		res.LatencyP50 = hist.Quantile(0.50)
		res.LatencyP99 = hist.Quantile(0.99)
		res.LatencyP999 = hist.Quantile(0.999)
		res.LatencyMax = hist.Max()
	}
	return res, nil
}

// warmUp publishes uncounted events, one per publisher per millisecond,
// until every counted subscriber has received one from every publisher:
// busd acknowledges nothing, so this is when the paths are known to work.
func (r *runState) warmUp(ctx context.Context, pubs []Publisher, bodies []*Body) error {
	deadline := time.Now().Add(warmupTimeout)
	for round := 0; ; round++ {
		for p, pub := range pubs {
			bodies[p].Stamp(PhaseWarmup, uint64(round), 0)
			if err := pub.Publish(r.w.Topic(p, round), bodies[p].Bytes()); err != nil {
				return err
			}
			if err := pub.Flush(); err != nil {
				return err
			}
		}
		missing := ""
		for i, s := range r.subs {
			for p := range s.pubs {
				if !s.pubs[p].warmed.Load() && missing == "" {
					missing = fmt.Sprintf("subscriber %d (patterns %q) got nothing from publisher %d (topic %q)",
						i, r.w.Patterns, p, r.w.Topic(p, 0))
				}
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %s", warmupTimeout, missing)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// publish is publisher p's measured loop; it ends when the run stops.
func (r *runState) publish(p int, pub Publisher, body *Body) {
	c := &r.pubs[p]
	var seq uint64
	var err error
	defer func() {
		if e := pub.Flush(); err == nil {
			err = e
		}
		c.published, c.err = seq, err
		if err != nil {
			r.stop()
		}
	}()
	w := r.w
	switch w.Mode {
	case ClosedLoop:
		window := w.window()
		allowed := window
		for {
			if seq&63 == 0 && r.stopped.Load() {
				return
			}
			if seq >= allowed {
				if err = pub.Flush(); err != nil {
					return
				}
				var ok bool
				if allowed, ok = r.waitWindow(p, seq, window); !ok {
					return
				}
			}
			body.Stamp(PhaseMeasured, seq, 0)
			if err = pub.Publish(w.Topic(p, int(seq)), body.Bytes()); err != nil {
				return
			}
			seq++
		}
	case OpenLoop:
		for {
			if seq&63 == 0 && r.stopped.Load() {
				return
			}
			body.Stamp(PhaseMeasured, seq, 0)
			if err = pub.Publish(w.Topic(p, int(seq)), body.Bytes()); err != nil {
				return
			}
			seq++
		}
	case Rate:
		interval := int64(time.Second) / int64(w.Rate)
		next := nowNs()
		for !r.stopped.Load() {
			now := nowNs()
			if now < next {
				time.Sleep(time.Duration(min(next-now, int64(10*time.Millisecond))))
				continue
			}
			if next < now-int64(time.Second) {
				next = now // more than a second behind: do not burst
			}
			for next <= now {
				body.Stamp(PhaseMeasured, seq, nowNs())
				if err = pub.Publish(w.Topic(p, int(seq)), body.Bytes()); err != nil {
					return
				}
				seq++
				next += interval
			}
			if err = pub.Flush(); err != nil {
				return
			}
		}
	}
}

// waitWindow blocks publisher p, about to send seq, until the slowest
// subscriber is less than window events behind, and returns the new limit.
// A subscriber wakes it once half the window is free again. It returns
// false when the run stops first.
func (r *runState) waitWindow(p int, seq, window uint64) (uint64, bool) {
	c := &r.pubs[p]
	if allowed := r.minNext(p) + window; seq < allowed {
		return allowed, true
	}
	c.target.Store(seq - window/2)
	for {
		c.waiting.Store(true)
		// Re-check after announcing the wait: a subscriber that advanced
		// before it saw the flag did not wake us.
		if allowed := r.minNext(p) + window; seq < allowed {
			c.waiting.Store(false)
			return allowed, true
		}
		select {
		case <-c.wake:
		case <-r.stopCh:
			c.waiting.Store(false)
			return 0, false
		}
		c.waiting.Store(false)
	}
}

// drain waits until every counted subscriber has seen the last event of
// every publisher, or (open loop) nothing has arrived for drainQuiet, and
// returns the time of the last observed progress.
func (r *runState) drain(from time.Time) time.Time {
	quiet := drainTimeout
	if r.w.Mode == OpenLoop {
		quiet = drainQuiet
	}
	last, lastChange := uint64(0), from
	deadline := from.Add(drainTimeout)
	for first := true; ; first = false {
		var total uint64
		done := true
		for _, s := range r.subs {
			for p := range s.pubs {
				n := s.pubs[p].next.Load()
				total += n
				if n < r.pubs[p].published {
					done = false
				}
			}
		}
		now := time.Now()
		if total != last && !first {
			lastChange = now
		}
		last = total
		if done {
			if first {
				return from
			}
			return now
		}
		if now.Sub(lastChange) > quiet || now.After(deadline) {
			return lastChange
		}
		time.Sleep(time.Millisecond)
	}
}
