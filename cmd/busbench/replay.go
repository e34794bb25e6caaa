package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"busd/bench/load"
	"busd/capture"
	"busd/capture/inspect"
	"busd/capture/replay"
)

const replayUsage = `usage: busbench replay --capture FILE [--speeds 1,4,16] [--rounds N] [--wall D] [--find-max [--trial D] [--trials N]]
                       [--busd BIN] [--busd-args ARGS] [--json]`

// replayConfig is what busbench replay was asked.
type replayConfig struct {
	capture  string
	speeds   []float64
	rounds   int           // each speed is replayed rounds times, the speeds interleaved
	wall     time.Duration // each speed replays the first wall×speed of capture; 0: all of it
	findMax  bool
	fm       replay.FindMaxOptions
	busd     string
	busdArgs []string
	asJSON   bool
}

func parseReplay(args []string, stderr io.Writer) (replayConfig, error) {
	fs := flag.NewFlagSet("busbench replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c replayConfig
	fs.StringVar(&c.capture, "capture", "", "capture `file` to replay")
	speeds := fs.String("speeds", "", "comma-separated replay speeds (1: as recorded)")
	fs.IntVar(&c.rounds, "rounds", 1, "replay the speeds this many times, interleaved (the model is checked on each speed's median run)")
	fs.DurationVar(&c.wall, "wall", 0, "replay the first `D`×speed of the capture at each speed (0: all of it)")
	fs.BoolVar(&c.findMax, "find-max", false, "search the highest speed the daemon carries without loss and on schedule")
	fs.DurationVar(&c.fm.TrialWall, "trial", replay.DefaultTrialWall, "with --find-max: the wall time of each trial at most")
	fs.IntVar(&c.fm.MaxTrials, "trials", replay.DefaultMaxTrials, "with --find-max: the number of trials at most")
	fs.StringVar(&c.busd, "busd", "", "busd `binary` to start (default: build ./cmd/busd)")
	busdArgs := fs.String("busd-args", "", "extra busd flags, space-separated")
	fs.BoolVar(&c.asJSON, "json", false, "print one JSON object per run (a load.Result with the replay's figures), then the headroom")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.capture == "":
		return c, errors.New("--capture FILE is required")
	case *speeds == "" && !c.findMax:
		return c, errors.New("give --speeds, --find-max or both")
	case c.wall < 0 || c.fm.TrialWall <= 0 || c.fm.MaxTrials < 1 || c.rounds < 1:
		return c, errors.New("--wall must not be negative, --trial, --trials and --rounds must be positive")
	}
	if *speeds != "" {
		for s := range strings.SplitSeq(*speeds, ",") {
			v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "x"), 64)
			if err != nil || v <= 0 || v > 1e6 {
				return c, fmt.Errorf("--speeds: %q is not a positive speed", s)
			}
			c.speeds = append(c.speeds, v)
		}
	}
	c.busdArgs = strings.Fields(*busdArgs)
	return c, nil
}

// ReplayRun is one replay as busbench replay prints it with --json: a
// load.Result (so that busbench model reads it, features from the daemon's
// own counters) and the replay's verdict.
type ReplayRun struct {
	Kind string `json:"kind"` // "run"
	load.Result
	Speed         float64 `json:"speed"`
	TargetPubRate float64 `json:"target_pub_rate"`
	Lossless      bool    `json:"lossless"`       // slow readers included
	LossFree      bool    `json:"loss_free"`      // apart from the slow readers' losses, which are the capture's
	SlowDrops     uint64  `json:"slow_drops"`     // events the daemon dropped for the slow readers
	LagP99Us      float64 `json:"lag_p99_us"`     // how late PUBs were sent against the schedule
	Pass          *bool   `json:"pass,omitempty"` // with --find-max: the search's verdict
	Why           string  `json:"why,omitempty"`
	CPUError      string  `json:"cpu_error,omitempty"`
	// ReplayCPUSeconds: the replay's own CPU, which shares the machine's
	// cores with the daemon.
	ReplayCPUSeconds float64 `json:"replay_cpu_s"`
	// Rounds: how many runs of this speed the report's median run is of
	// (filled by the report, not printed by the replay).
	Rounds int `json:"-"`
}

// ReplayHeadroom is the last line of --find-max --json.
type ReplayHeadroom struct {
	Kind     string  `json:"kind"` // "headroom"
	Capture  string  `json:"capture"`
	Shape    string  `json:"shape"` // the capture's traffic in a sentence
	Factor   float64 `json:"factor"`
	AtLeast  bool    `json:"at_least"`
	CPUPerMP float64 `json:"cpu_s_per_million_pubs"`
	CPUPerMD float64 `json:"cpu_s_per_million_deliveries"`
	Sentence string  `json:"sentence"`
}

// replayRun makes a ReplayRun of a replay's report and the daemon's counters
// over it.
func replayRun(name string, rep *replay.Report, d load.ServerCounters) ReplayRun {
	r := load.Result{
		System:               "busd",
		Workload:             fmt.Sprintf("replay %s %gx", name, rep.Speed),
		Mode:                 "replay",
		Subscribers:          len(rep.Conns),
		Published:            d.Published,
		Delivered:            d.EventsOut,
		Seconds:              rep.WallSeconds,
		PublishedPerSec:      rep.PubRate,
		ServerMeasured:       rep.CPUError == "",
		ServerCPUSeconds:     rep.CPUSeconds,
		ServerReadBatches:    d.ReadBatches,
		ServerBytesOut:       d.BytesOut,
		ServerWrites:         d.Writes,
		ServerWakeups:        d.Wakeups,
		ServerBacklogRetries: d.BacklogRetries,
	}
	if rep.PubRate > 0 {
		r.PublishSeconds = float64(rep.PubsSent) / rep.PubRate
	}
	if d.EventsOut > 0 {
		r.Size = int(d.BytesOut / d.EventsOut) // the mean frame delivered
	}
	if rep.WallSeconds > 0 {
		r.DeliveredPerSec = float64(d.EventsOut) / rep.WallSeconds
		r.MBPerSec = float64(d.BytesOut) / rep.WallSeconds / 1e6
	}
	if d.EventsOut > 0 {
		r.ServerCPUPerMDelivered = r.ServerCPUSeconds / (float64(d.EventsOut) / 1e6)
	}
	if d.Published > 0 {
		r.ServerCPUPerMPublished = r.ServerCPUSeconds / (float64(d.Published) / 1e6)
	}
	lost := (rep.Missing - rep.SlowMissing) + (rep.DaemonDrops - rep.SlowDrops)
	r.Lost = lost
	return ReplayRun{Kind: "run", Result: r, Speed: rep.Speed, TargetPubRate: rep.TargetPubRate,
		Lossless: rep.Lossless, LossFree: lost == 0, SlowDrops: rep.SlowDrops,
		LagP99Us: rep.Lag.P99, CPUError: rep.CPUError, ReplayCPUSeconds: rep.ReplayCPUSeconds}
}

// String is the run in one line.
func (r ReplayRun) String() string {
	verdict := ""
	if r.Pass != nil {
		verdict = "pass  "
		if !*r.Pass {
			verdict = "FAIL  "
		}
	}
	return fmt.Sprintf("speed %-6g %spub %7s/s (target %7s/s)  dlv %7s/s %6.1f MB/s  lag p99 %6.0fµs  lost %d (slow readers' drops %d)  srv %.2f CPU-s, %.2f cpu-s/M pub, reads %d, writes %d%s",
		r.Speed, verdict, load.FormatRate(r.PublishedPerSec), load.FormatRate(r.TargetPubRate),
		load.FormatRate(r.DeliveredPerSec), r.MBPerSec, r.LagP99Us, r.Lost, r.SlowDrops,
		r.ServerCPUSeconds, r.ServerCPUPerMPublished, r.ServerReadBatches, r.ServerWrites, whyNote(r.Why))
}

func whyNote(why string) string {
	if why == "" {
		return ""
	}
	return "  (" + why + ")"
}

// runReplay is busbench replay: it starts a busd of its own (admin socket
// on), replays the capture into it at each speed and/or searches the
// headroom, and reports each run with the daemon's counters over it.
func runReplay(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseReplay(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "busbench replay: %v\n%s\n", err, replayUsage)
		}
		return 2
	}
	// Refuse a file that is not a capture before starting anything.
	rd, err := capture.Open(cfg.capture, capture.ReaderOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "busbench replay: %v\n", err)
		return 1
	}
	rd.Close()
	open := func() (*capture.Reader, error) { return capture.Open(cfg.capture, capture.ReaderOptions{}) }
	name := strings.TrimSuffix(filepath.Base(cfg.capture), filepath.Ext(cfg.capture))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	defer load.RemoveBuilds()
	b := &load.Busd{Binary: cfg.busd, Args: cfg.busdArgs}
	if err := b.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "busbench replay: %v\n", err)
		return 1
	}
	defer b.Stop()
	socket := b.Listening()
	s := &replaySession{name: name, b: b, stdout: stdout, asJSON: cfg.asJSON}
	if s.last, err = b.ServerCounters(); err != nil {
		fmt.Fprintf(stderr, "busbench replay: %v\n", err)
		return 1
	}
	opts := replay.Options{Socket: socket}
	speeds := cfg.speeds
	if cfg.findMax {
		h, err := s.findMax(ctx, open, opts, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "busbench replay: find-max: %v\n", err)
			return 1
		}
		if h.Interrupted {
			return 1
		}
		// The fixed speeds are for runs the daemon carries: those over
		// the headroom are left out.
		speeds = nil
		for _, v := range cfg.speeds {
			if h.AtLeast || v <= h.Factor {
				speeds = append(speeds, v)
			} else {
				fmt.Fprintf(stderr, "busbench replay: speed %g is over the headroom, %g: not replayed\n", v, h.Factor)
			}
		}
	}
	// Rounds rotate the speeds' order, so that no speed always runs first
	// after the search or last.
	var plan []float64
	for round := range cfg.rounds {
		for k := range speeds {
			plan = append(plan, speeds[(round+k)%len(speeds)])
		}
	}
	for _, speed := range plan {
		o := opts
		o.Speed = speed
		o.Window = time.Duration(float64(cfg.wall) * speed)
		rep, err := replay.Run(ctx, open, o)
		if err == nil {
			err = s.emit(rep, nil, "")
		}
		if err != nil {
			fmt.Fprintf(stderr, "busbench replay: speed %g: %v\n", speed, err)
			return 1
		}
		if rep.Interrupted {
			return 1
		}
	}
	return 0
}

// findMax runs the headroom search, printing each trial and then the
// headroom.
func (s *replaySession) findMax(ctx context.Context, open func() (*capture.Reader, error), opts replay.Options, cfg replayConfig) (*replay.Headroom, error) {
	shape, err := describeCapture(open)
	if err != nil {
		return nil, err
	}
	fm := cfg.fm
	var emitErr error
	fm.Trial = func(t replay.Trial) {
		pass := t.Pass
		if err := s.emit(t.Report, &pass, t.Why); err != nil && emitErr == nil {
			emitErr = err
		}
	}
	h, err := replay.FindMax(ctx, open, opts, fm)
	if err == nil {
		err = emitErr
	}
	if err != nil {
		return nil, err
	}
	if !s.asJSON {
		_, err = fmt.Fprintln(s.stdout, h)
		return h, err
	}
	return h, json.NewEncoder(s.stdout).Encode(ReplayHeadroom{Kind: "headroom", Capture: cfg.capture, Shape: shape,
		Factor: h.Factor, AtLeast: h.AtLeast, CPUPerMP: h.CPUPerMillionPubs, CPUPerMD: h.CPUPerMillionDeliver, Sentence: h.String()})
}

// describeCapture is the capture's traffic in one sentence.
func describeCapture(open func() (*capture.Reader, error)) (string, error) {
	rd, err := open()
	if err != nil {
		return "", err
	}
	defer rd.Close()
	sum, err := inspect.Analyze(rd)
	if err != nil {
		return "", err
	}
	secs := float64(sum.DurationNs) / 1e9
	perPub := 0.0
	if sum.Publishes > 0 {
		perPub = float64(sum.Deliveries) / float64(sum.Publishes)
	}
	return fmt.Sprintf("%.0f s of traffic, %.0f PUBs/s on average (per second: median %d, max %d) on %d topics, "+
		"bodies of %d to %d bytes (median %d), %d connections, %.1f deliveries per PUB, %d slow readers",
		secs, sum.PubRate.Mean, sum.PubRate.Median, sum.PubRate.Max, len(sum.Topics),
		sum.BodySizes.Min, sum.BodySizes.Max, sum.BodySizes.P50, sum.Connections.AtStart+int(sum.Connections.Opens),
		perPub, len(sum.SlowReaders)), nil
}

// replaySession prints the runs, each with the daemon's counters since the
// previous one (only replays run in between).
type replaySession struct {
	name   string
	b      *load.Busd
	last   load.ServerCounters
	stdout io.Writer
	asJSON bool
}

func (s *replaySession) emit(rep *replay.Report, pass *bool, why string) error {
	now, err := s.b.ServerCounters()
	if err != nil {
		return err
	}
	run := replayRun(s.name, rep, now.Sub(s.last))
	s.last = now
	run.Pass, run.Why = pass, why
	if s.asJSON {
		return json.NewEncoder(s.stdout).Encode(run)
	}
	_, err = fmt.Fprintln(s.stdout, run)
	return err
}
