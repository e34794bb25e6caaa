package replay

import (
	"fmt"
	"slices"
	"time"
)

// Report is what a replay found. Rates are per second; durations in
// seconds; lags in microseconds.
type Report struct {
	RecordedSeconds float64 `json:"recorded_s"`        // capture time replayed per pass
	RecordedPubRate float64 `json:"recorded_pub_rate"` // recorded PUBs per second over it
	WallSeconds     float64 `json:"wall_s"`
	// PubRate is the PUBs sent (copies included) per second of schedule:
	// from each pass's start to its last frame, or to the end of its span
	// if that is later (a pass that kept up), without the set-up and the
	// wait for the last deliveries. TargetPubRate is what the
	// schedule asked (0 at speed max).
	PubRate       float64 `json:"achieved_pub_rate"`
	TargetPubRate float64 `json:"target_pub_rate,omitempty"`
	Speed         float64 `json:"speed"` // 0: as fast as possible
	MaxSpeed      bool    `json:"max_speed"`
	Scale         int     `json:"scale"`
	Passes        int     `json:"passes"`
	Interrupted   bool    `json:"interrupted"` // the context ended the replay
	Truncated     bool    `json:"truncated"`   // the file was cut short: its complete chunks were replayed
	Payload       string  `json:"payload"`

	PubsSent    uint64 `json:"pubs_sent"`
	Expected    uint64 `json:"deliveries_expected"`
	Received    uint64 `json:"deliveries_received"`
	DaemonDrops uint64 `json:"daemon_drops"` // from the daemon's drop notices
	Missing     uint64 `json:"missing"`      // expected, neither received nor noticed as dropped
	Unexpected  uint64 `json:"unexpected"`   // received beyond what was expected
	// SlowMissing, SlowDrops: the part of Missing and DaemonDrops that
	// fell on subscribers the capture shows reading slowly (their losses
	// are the capture's, not the daemon's).
	SlowMissing uint64 `json:"slow_missing"`
	SlowDrops   uint64 `json:"slow_drops"`
	// Lossless: nothing missing and nothing dropped, slow readers
	// included.
	Lossless bool `json:"lossless"`

	Lag LagStats `json:"lag"`
	// BarrierTimeouts counts subscriptions the daemon was not seen to
	// apply in time; their deliveries may be miscounted.
	BarrierTimeouts int `json:"barrier_timeouts,omitempty"`

	DaemonPID            int     `json:"daemon_pid"`
	CPUSeconds           float64 `json:"daemon_cpu_s"`
	CPUPerMillionPubs    float64 `json:"cpu_s_per_million_pubs"`
	CPUPerMillionDeliver float64 `json:"cpu_s_per_million_deliveries"`
	CPUError             string  `json:"cpu_error,omitempty"`
	// ReplayCPUSeconds is this process's own CPU time over the replay:
	// on one machine, the replay and the daemon share the cores.
	ReplayCPUSeconds float64 `json:"replay_cpu_s"`

	Conns []ConnReport `json:"conns"`
}

// LagStats is how late PUBs were sent against the schedule.
type LagStats struct {
	Measured bool    `json:"measured"` // false at speed max: no schedule
	Count    uint64  `json:"count"`
	P50      float64 `json:"p50_us"`
	P99      float64 `json:"p99_us"`
	Max      float64 `json:"max_us"`
}

// P99Duration is P99 as a duration.
func (l LagStats) P99Duration() time.Duration { return time.Duration(l.P99 * 1e3) }

// ConnReport is one replayed subscriber.
type ConnReport struct {
	Conn               uint64            `json:"conn"`
	Name               string            `json:"name"`
	Expected           uint64            `json:"expected"`
	Received           uint64            `json:"received"`
	Bytes              uint64            `json:"bytes"`
	Drops              uint64            `json:"drops"`
	DropNotices        uint64            `json:"drop_notices"`
	Missing            uint64            `json:"missing"`
	SlowReader         bool              `json:"slow_reader"`
	PaceBytesPerSecond float64           `json:"pace_bytes_per_s,omitempty"`
	Topics             map[string]uint64 `json:"topics"`
}

func micros(d time.Duration) float64 { return float64(d) / 1e3 }

func (r *runner) report(wall time.Duration, passes int, interrupted bool) *Report {
	pl := r.plan
	rep := &Report{
		RecordedSeconds: pl.span.Seconds(),
		WallSeconds:     wall.Seconds(),
		Speed:           r.opts.Speed,
		MaxSpeed:        r.max,
		Scale:           r.opts.Scale,
		Passes:          passes,
		Interrupted:     interrupted,
		Truncated:       pl.truncated,
		Payload:         pl.header.Payload.String(),
		PubsSent:        r.sent.Load(),
		BarrierTimeouts: r.barrierTimeouts,
	}
	if r.max {
		rep.Speed = 0
	}
	if pl.span > 0 {
		rep.RecordedPubRate = float64(pl.pubs) / pl.span.Seconds()
	}
	if r.schedule > 0 {
		rep.PubRate = float64(rep.PubsSent) / r.schedule.Seconds()
	}
	if !r.max {
		rep.TargetPubRate = rep.RecordedPubRate * r.opts.Speed * float64(r.opts.Scale)
		rep.Lag = LagStats{
			Measured: true,
			Count:    r.lag.total,
			P50:      micros(r.lag.quantile(0.50)),
			P99:      micros(r.lag.quantile(0.99)),
			Max:      micros(time.Duration(r.lag.max)),
		}
	}
	ids := make([]uint64, 0, len(r.conns))
	for id := range r.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		cr := *r.conns[id]
		if got := cr.Received + cr.Drops; got < cr.Expected {
			cr.Missing = cr.Expected - got
		} else if cr.Received > cr.Expected {
			rep.Unexpected += cr.Received - cr.Expected
		}
		rep.Expected += cr.Expected
		rep.Received += cr.Received
		rep.DaemonDrops += cr.Drops
		rep.Missing += cr.Missing
		if cr.SlowReader {
			rep.SlowMissing += cr.Missing
			rep.SlowDrops += cr.Drops
		}
		rep.Conns = append(rep.Conns, cr)
	}
	rep.Lossless = rep.Missing == 0 && rep.DaemonDrops == 0
	return rep
}

// setCPU fills the CPU figures from the daemon's CPU time over the run.
func (rep *Report) setCPU(d time.Duration) {
	rep.CPUSeconds = d.Seconds()
	if rep.PubsSent > 0 {
		rep.CPUPerMillionPubs = rep.CPUSeconds / float64(rep.PubsSent) * 1e6
	}
	if rep.Received > 0 {
		rep.CPUPerMillionDeliver = rep.CPUSeconds / float64(rep.Received) * 1e6
	}
}

// String is the report for people, a few lines.
func (rep *Report) String() string {
	speed := "max"
	if !rep.MaxSpeed {
		speed = fmt.Sprintf("%g×", rep.Speed)
	}
	s := fmt.Sprintf("replayed %.3fs of capture (%.0f PUB/s recorded) at speed %s, scale %d, %d pass(es), in %.3fs\n",
		rep.RecordedSeconds, rep.RecordedPubRate, speed, rep.Scale, rep.Passes, rep.WallSeconds)
	s += fmt.Sprintf("PUBs sent %d at %.0f/s", rep.PubsSent, rep.PubRate)
	if rep.TargetPubRate > 0 {
		s += fmt.Sprintf(" (target %.0f/s)", rep.TargetPubRate)
	}
	s += fmt.Sprintf("\ndeliveries %d of %d expected; daemon drops %d, missing %d", rep.Received, rep.Expected, rep.DaemonDrops, rep.Missing)
	if rep.SlowDrops+rep.SlowMissing > 0 {
		s += fmt.Sprintf(" (slow readers: drops %d, missing %d)", rep.SlowDrops, rep.SlowMissing)
	}
	if rep.Unexpected > 0 {
		s += fmt.Sprintf(", unexpected %d", rep.Unexpected)
	}
	s += fmt.Sprintf("; lossless %v\n", rep.Lossless)
	if rep.Lag.Measured {
		s += fmt.Sprintf("schedule lag p50 %.0fµs p99 %.0fµs max %.0fµs\n", rep.Lag.P50, rep.Lag.P99, rep.Lag.Max)
	}
	if rep.CPUError != "" {
		s += "daemon CPU: unknown (" + rep.CPUError + ")\n"
	} else {
		s += fmt.Sprintf("daemon (pid %d) CPU %.2fs: %.2f CPU-s per million PUBs, %.2f per million deliveries\n",
			rep.DaemonPID, rep.CPUSeconds, rep.CPUPerMillionPubs, rep.CPUPerMillionDeliver)
	}
	if rep.BarrierTimeouts > 0 {
		s += fmt.Sprintf("warning: %d subscription(s) not confirmed in time; their counts may be off\n", rep.BarrierTimeouts)
	}
	if rep.Truncated {
		s += "warning: the file is cut short; its complete chunks were replayed\n"
	}
	if rep.Interrupted {
		s += "interrupted\n"
	}
	return s
}
