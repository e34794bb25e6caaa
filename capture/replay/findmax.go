package replay

import (
	"context"
	"fmt"
	"time"

	"busd/capture"
)

// FindMaxOptions bound the headroom search.
type FindMaxOptions struct {
	// TrialWall bounds each trial's schedule in wall time: a trial at
	// speed S replays the first TrialWall×S of capture time (or all of
	// it), so a long capture does not make trials long. Default 10s.
	TrialWall time.Duration
	// MaxTrials bounds the number of trials. Default 12.
	MaxTrials int
	// MaxLagP99: a trial whose schedule lag p99 exceeds it fails.
	// Default 10ms.
	MaxLagP99 time.Duration
	// MinRate: a trial whose achieved PUB rate is below this fraction of
	// its target fails. Default 0.95.
	MinRate float64
	// MaxSpeed stops the doubling there (the headroom is then at least
	// that). Default 4096.
	MaxSpeed float64
	// Resolution: the bisection stops once the failing speed is within
	// this factor of the passing one. Default 1.1.
	Resolution float64
	// Trial, if set, is called after each trial.
	Trial func(Trial)
}

// Defaults of FindMaxOptions.
const (
	DefaultTrialWall  = 10 * time.Second
	DefaultMaxTrials  = 12
	DefaultMaxLagP99  = 10 * time.Millisecond
	DefaultMinRate    = 0.95
	DefaultMaxSpeed   = 4096
	DefaultResolution = 1.1
)

func (fm *FindMaxOptions) normalize() {
	if fm.TrialWall <= 0 {
		fm.TrialWall = DefaultTrialWall
	}
	if fm.MaxTrials <= 0 {
		fm.MaxTrials = DefaultMaxTrials
	}
	if fm.MaxLagP99 <= 0 {
		fm.MaxLagP99 = DefaultMaxLagP99
	}
	if fm.MinRate <= 0 {
		fm.MinRate = DefaultMinRate
	}
	if fm.MaxSpeed <= 0 {
		fm.MaxSpeed = DefaultMaxSpeed
	}
	if fm.Resolution <= 1 {
		fm.Resolution = DefaultResolution
	}
}

// Trial is one replay of the search.
type Trial struct {
	Speed  float64 `json:"speed"`
	Pass   bool    `json:"pass"`
	Why    string  `json:"why"` // what failed it, or what it achieved
	Report *Report `json:"report"`
}

// Headroom is what the search found.
type Headroom struct {
	// Factor is the highest speed that passed: the capture's traffic fits
	// Factor times over on this host. 0 if even the recorded pace failed
	// (or no trial passed).
	Factor float64 `json:"factor"`
	// AtLeast: no trial failed up to MaxSpeed (or the trials ran out
	// before one did): Factor is a lower bound.
	AtLeast bool `json:"at_least"`
	// The daemon's CPU cost at Factor.
	CPUPerMillionPubs    float64 `json:"cpu_s_per_million_pubs"`
	CPUPerMillionDeliver float64 `json:"cpu_s_per_million_deliveries"`
	Trials               []Trial `json:"trials"`
	Interrupted          bool    `json:"interrupted"`
	// Where the daemon stopped keeping up (the lowest failing speed): the
	// cores the daemon and this replay used there. On one machine they
	// share the cores, and a replay that used more than the daemon is
	// likely what set the limit: the daemon's own headroom is then
	// higher than Factor.
	LimitSpeed       float64 `json:"limit_speed,omitempty"`
	LimitDaemonCores float64 `json:"limit_daemon_cores,omitempty"`
	LimitReplayCores float64 `json:"limit_replay_cores,omitempty"`
}

// ReplayBound reports whether the replay, not the daemon, most likely set
// the limit: it used more CPU than the daemon where the trials failed (a
// heuristic: neither may be near a core, when the losses come from how
// soon the replay's readers get a core in a burst).
func (h *Headroom) ReplayBound() bool {
	return h.LimitSpeed > 0 && h.LimitReplayCores > h.LimitDaemonCores
}

// String is the verdict in one sentence.
func (h *Headroom) String() string {
	if h.Factor == 0 {
		return "this traffic does not fit at its recorded pace on this machine"
	}
	over := fmt.Sprintf("%.3g×", h.Factor)
	if h.AtLeast {
		over = "at least " + over
	}
	s := fmt.Sprintf("this traffic fits %s over on this machine, at %.3g CPU-s per million PUBs (%.3g per million deliveries)",
		over, h.CPUPerMillionPubs, h.CPUPerMillionDeliver)
	if h.LimitSpeed > 0 {
		s += fmt.Sprintf("; at %.3g× the daemon used %.2f of a core and the replay %.2f", h.LimitSpeed, h.LimitDaemonCores, h.LimitReplayCores)
		if h.ReplayBound() {
			s += ": the replay, sharing this machine's cores, most likely set the limit, and the daemon's own headroom is higher"
		}
	}
	return s
}

// FindMax searches the highest speed at which the daemon still carries the
// capture without loss and on schedule: doubling from 1 until a trial
// fails, then bisecting between the last pass and the first failure.
// opts.Speed, Window and Loop are the search's to set; the rest applies to
// every trial. Losses on subscribers the capture shows reading slowly do
// not fail a trial: the capture says they would lose events anyway.
func FindMax(ctx context.Context, open func() (*capture.Reader, error), opts Options, fm FindMaxOptions) (*Headroom, error) {
	fm.normalize()
	opts.Loop = false
	h := &Headroom{}
	lo, hi := 0.0, 0.0 // highest pass, lowest failure (0: none yet)
	var best *Report
	speed := 1.0
	retried := false
	for range fm.MaxTrials {
		trial := opts
		trial.Speed = speed
		trial.Window = time.Duration(float64(fm.TrialWall) * speed)
		rep, err := Run(ctx, open, trial)
		if err != nil {
			return nil, err
		}
		if rep.Interrupted {
			h.Interrupted = true
			break
		}
		t := Trial{Speed: speed, Report: rep}
		var lossy bool
		t.Pass, lossy, t.Why = judge(rep, &fm)
		h.Trials = append(h.Trials, t)
		if fm.Trial != nil {
			fm.Trial(t)
		}
		// Falling behind may be the replay's own host stalling it once
		// (a timer late under load): a speed fails on lag or rate only
		// if it fails twice in a row. Losses are not noise.
		if !t.Pass && !lossy && !retried {
			retried = true
			continue
		}
		retried = false
		if t.Pass {
			lo, best = speed, rep
		} else {
			hi = speed
		}
		switch {
		case hi == 0 && speed >= fm.MaxSpeed:
			speed = 0
		case hi == 0:
			speed = min(2*speed, fm.MaxSpeed)
		case lo == 0:
			// Even the recorded pace failed: look below it.
			speed = hi / 2
		case hi/lo <= fm.Resolution:
			speed = 0
		default:
			speed = (lo + hi) / 2
		}
		if speed == 0 {
			break
		}
	}
	h.Factor = lo
	h.AtLeast = lo > 0 && hi == 0
	for _, t := range h.Trials {
		if !t.Pass && t.Speed == hi && t.Report.WallSeconds > 0 {
			h.LimitSpeed = hi
			h.LimitDaemonCores = t.Report.CPUSeconds / t.Report.WallSeconds
			h.LimitReplayCores = t.Report.ReplayCPUSeconds / t.Report.WallSeconds
		}
	}
	if best != nil {
		h.CPUPerMillionPubs, h.CPUPerMillionDeliver = best.CPUPerMillionPubs, best.CPUPerMillionDeliver
	}
	return h, nil
}

// judge says whether a trial passed, whether it lost events, and why.
func judge(rep *Report, fm *FindMaxOptions) (pass, lossy bool, why string) {
	if lost := rep.Missing - rep.SlowMissing; lost > 0 {
		return false, true, fmt.Sprintf("%d deliveries missing", lost)
	}
	if drops := rep.DaemonDrops - rep.SlowDrops; drops > 0 {
		return false, true, fmt.Sprintf("%d events dropped by the daemon", drops)
	}
	if p99 := rep.Lag.P99Duration(); p99 > fm.MaxLagP99 {
		return false, false, fmt.Sprintf("schedule lag p99 %v over %v", p99.Round(time.Microsecond), fm.MaxLagP99)
	}
	if rep.TargetPubRate > 0 && rep.PubRate < fm.MinRate*rep.TargetPubRate {
		return false, false, fmt.Sprintf("achieved %.0f PUB/s of %.0f", rep.PubRate, rep.TargetPubRate)
	}
	return true, false, fmt.Sprintf("%.0f PUB/s, lag p99 %.0fµs, lossless", rep.PubRate, rep.Lag.P99)
}
