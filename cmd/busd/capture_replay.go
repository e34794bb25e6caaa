package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"busd/capture"
	"busd/capture/replay"
)

const captureReplaySynopsis = `busd capture replay FILE [--socket path] [--speed N|max] [--scale K]
                    [--topics PATTERN]... [--loop] [--window D] [--find-max] [--json]

Replays the capture FILE into the daemon at --socket: each recorded
connection becomes a connection of its own that sends what it sent, when it
sent it (--speed N: N times faster; max: as fast as possible), while its
subscriptions are read back and counted against what they are owed. Prints
the PUB rate achieved, deliveries received and missing, the daemon's drops,
how far the sender fell behind its schedule, and the daemon's CPU cost.

--scale K adds K-1 copies of every publishing connection (they only
publish). --topics replays only the matching PUBs. --window replays only
the first D of the capture; --loop replays it until interrupted.
--find-max raises the speed until the daemon loses events or falls behind,
and prints the headroom: how many times over this traffic fits.
SIGINT stops the replay and prints the report of what was done.`

func runCaptureReplay(args []string, env func(string) string, stdout, stderr io.Writer) int {
	cl := newCommandLine("busd capture replay", captureReplaySynopsis, nil, map[string]string{"socket": socketEnv})
	var (
		socket  string
		speed   = "1"
		scale   = intValue{n: 1, min: 1}
		topics  []string
		loop    bool
		window  durationValue
		findMax bool
		asJSON  bool
		trial   = durationValue(replay.DefaultTrialWall)
		trials  = intValue{n: replay.DefaultMaxTrials, min: 1}
	)
	cl.fs.StringVar(&socket, "socket", "", socketUsage)
	cl.fs.StringVar(&speed, "speed", speed, "replay `N` times faster than recorded; max: as fast as possible")
	cl.fs.Var(&scale, "scale", "replay `K` copies of every publishing connection")
	cl.fs.StringArrayVar(&topics, "topics", nil, "replay only the PUBs matching this `pattern` (repeatable)")
	cl.fs.BoolVar(&loop, "loop", false, "replay again and again until interrupted")
	cl.fs.Var(&window, "window", "replay only the first `D` of the capture")
	cl.fs.BoolVar(&findMax, "find-max", false, "search the highest speed the daemon carries without loss and on schedule")
	cl.fs.Var(&trial, "trial", "with --find-max: the wall time of each trial at most")
	cl.fs.Var(&trials, "trials", "with --find-max: the number of trials at most")
	cl.fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	cl.fs.Lookup("window").DefValue = "the whole capture"
	cl.fs.Lookup("topics").DefValue = "every topic"
	rest, err := cl.parse(args, env, stdout)
	if err != nil {
		return clientExit(err, stderr, "capture replay")
	}
	if len(rest) != 1 {
		return clientExit(usageErrorf("one capture FILE is required"), stderr, "capture replay")
	}
	file := rest[0]
	opts := replay.Options{Scale: scale.n, Topics: topics, Loop: loop, Window: time.Duration(window)}
	if opts.Speed, err = parseSpeed(speed); err != nil {
		return clientExit(err, stderr, "capture replay")
	}
	if findMax && loop {
		return clientExit(usageErrorf("--find-max and --loop exclude each other"), stderr, "capture replay")
	}
	if opts.Socket, err = resolveSocket(systemSocketSources(socket, env), false); err != nil {
		return clientExit(err, stderr, "capture replay")
	}
	fail := func(err error) int {
		// capture.Open names the file itself; the line names it once.
		msg := strings.TrimPrefix(err.Error(), file+": ")
		fmt.Fprintf(stderr, "busd: capture replay %s: %s\n", file, msg)
		return exitFailure
	}
	// Read the header now, so a file that is not a capture is refused
	// before anything connects.
	rd, err := capture.Open(file, capture.ReaderOptions{})
	if err != nil {
		return fail(err)
	}
	rd.Close()
	open := func() (*capture.Reader, error) { return capture.Open(file, capture.ReaderOptions{}) }
	// And the daemon: a socket nobody serves gets the line pub and sub
	// give, before the replay sets anything up.
	probe, err := net.DialTimeout("unix", opts.Socket, dialTimeout)
	if err != nil {
		return clientExit(connectError(opts.Socket, err, "is this user in the socket's group?"), stderr, "capture replay")
	}
	probe.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	line := progressLine(stderr)
	opts.Progress = line.show

	if findMax {
		fm := replay.FindMaxOptions{TrialWall: time.Duration(trial), MaxTrials: trials.n}
		fm.Trial = func(t replay.Trial) { line.note(trialLine(t)) }
		h, err := replay.FindMax(ctx, open, opts, fm)
		line.clear()
		if err != nil {
			return fail(err)
		}
		if asJSON {
			return printJSON(stdout, h)
		}
		for _, t := range h.Trials {
			fmt.Fprintln(stdout, trialLine(t))
		}
		fmt.Fprintln(stdout, h)
		return exitOK
	}
	rep, err := replay.Run(ctx, open, opts)
	line.clear()
	if err != nil {
		return fail(err)
	}
	if asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprint(stdout, rep)
	return exitOK
}

// parseSpeed reads --speed: a positive number, or max (0 to the replay).
func parseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || v <= 0 || v > 1e9 {
		return 0, usageErrorf("--speed %q: a positive number or max", s)
	}
	return v, nil
}

func trialLine(t replay.Trial) string {
	verdict := "pass"
	if !t.Pass {
		verdict = "FAIL"
	}
	return fmt.Sprintf("speed %-8g %s  %s", t.Speed, verdict, t.Why)
}

func printJSON(w io.Writer, v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(w, "busd: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(w, "%s\n", b)
	return exitOK
}

// statusLine is the progress line on a terminal's stderr, rewritten in
// place; elsewhere (a file, a pipe) it prints nothing.
type statusLine struct {
	w    io.Writer // nil when stderr is not a terminal
	last int       // length of the line shown
}

func progressLine(stderr io.Writer) *statusLine {
	f, ok := stderr.(*os.File)
	if !ok {
		return &statusLine{}
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return &statusLine{}
	}
	return &statusLine{w: stderr}
}

func (l *statusLine) show(p replay.Progress) {
	if l.w == nil {
		return
	}
	s := fmt.Sprintf("replay %5.1f%%", 100*p.Done)
	if p.Pass > 1 {
		s += fmt.Sprintf(" (pass %d)", p.Pass)
	}
	if p.ETA > 0 {
		s += fmt.Sprintf("  ETA %v", p.ETA.Round(time.Second))
	}
	s += fmt.Sprintf("  sent %d  delivered %d  lag %v (max %v)", p.Sent, p.Delivered,
		p.Lag.Round(time.Microsecond), p.MaxLag.Round(time.Microsecond))
	l.put(s)
}

// note prints a line of its own above the progress line.
func (l *statusLine) note(s string) {
	if l.w == nil {
		return
	}
	l.clear()
	fmt.Fprintln(l.w, s)
}

func (l *statusLine) put(s string) {
	pad := max(l.last-len(s), 0)
	fmt.Fprintf(l.w, "\r%s%s", s, strings.Repeat(" ", pad))
	l.last = len(s)
}

func (l *statusLine) clear() {
	if l.w == nil || l.last == 0 {
		return
	}
	fmt.Fprintf(l.w, "\r%s\r", strings.Repeat(" ", l.last))
	l.last = 0
}
