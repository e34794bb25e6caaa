package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"busd/admin"
	"busd/capture"
)

const captureRecordSynopsis = `busd capture record [--admin-socket path | --socket path] --out FILE
                    [--duration D] [--topics PATTERN]... [--payload full|shape]
                    [--max-size SIZE] [--max-files N]

Asks the running daemon to record what it carries into FILE (a zstd capture
file, created 0600 by the daemon, never over an existing file), waits until
--duration is over (or for SIGINT/SIGTERM, which stop the capture), and
prints a one-line summary. Stopping this command stops the capture; a
capture the daemon ends (size limit, write error) ends it too.

--topics keeps only the PUBs of matching topics (repeat it for several);
connections, subscriptions and drops are always recorded. --payload shape
keeps each event's size but not its body, for events that must not leave
the host. --max-size ends a file at that many bytes; with --max-files N > 1
the capture goes on in a new file named by its start time and keeps the
newest N files.`

// capturePoll is how often record asks the daemon whether its capture has
// ended by itself.
const capturePoll = 200 * time.Millisecond

func runCaptureRecord(args []string, env func(string) string, stdout, stderr io.Writer) int {
	e, he := adminFlagEnv()
	cl := newCommandLine("busd capture record", captureRecordSynopsis, e, he)
	var (
		af       adminClientFlags
		out      string
		duration durationValue
		topics   []string
		payload  string
		maxSize  = sizeValue{min: 1 << 20}
		maxFiles = intValue{n: 1, min: 1}
		laneSize = sizeValue{min: 4 << 20}
	)
	af.register(cl)
	cl.fs.StringVar(&out, "out", "", "the capture `file` to create")
	cl.fs.Var(&duration, "duration", "stop after this long")
	cl.fs.StringArrayVar(&topics, "topics", nil, "record only the PUBs matching this `pattern` (repeatable)")
	cl.fs.StringVar(&payload, "payload", "full", "full: keep event bodies; shape: keep only their sizes")
	cl.fs.Var(&maxSize, "max-size", "end a file at this size")
	cl.fs.Var(&maxFiles, "max-files", "with more than 1, rotate files at --max-size and keep the newest `N`")
	cl.fs.Var(&laneSize, "buffer", "the daemon's buffer per event loop towards the file")
	for name, def := range map[string]string{"duration": "until interrupted", "topics": "every topic",
		"max-size": formatSize(capture.DefaultMaxBytes), "buffer": formatSize(capture.DefaultLaneBytes)} {
		cl.fs.Lookup(name).DefValue = def
	}
	rest, err := cl.parse(args, env, stdout)
	if err != nil {
		return clientExit(err, stderr, "capture record")
	}
	if len(rest) > 0 {
		return clientExit(usageErrorf("unexpected argument %q", rest[0]), stderr, "capture record")
	}
	if out == "" {
		return clientExit(usageErrorf("--out is required: the capture file to create"), stderr, "capture record")
	}
	if _, err := capture.ParsePayload(payload); err != nil {
		return clientExit(usageErrorf("--payload: %q is neither full nor shape", payload), stderr, "capture record")
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return clientExit(err, stderr, "capture record")
	}
	ac, err := af.client(env)
	if err != nil {
		return clientExit(err, stderr, "capture record")
	}
	defer ac.close()

	req := admin.CaptureRequest{
		Path: abs, Topics: topics, Payload: payload,
		MaxBytes: int64(maxSize.n), MaxFiles: maxFiles.n, LaneBytes: laneSize.n,
	}
	if duration > 0 {
		req.Duration = time.Duration(duration).String()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	var st capture.Status
	if _, err := ac.do(http.MethodPost, "/capture", req, &st, http.StatusCreated); err != nil {
		var ae *adminError
		switch {
		case errors.As(err, &ae) && ae.status == http.StatusConflict:
			err = fmt.Errorf("%s (see busd capture status; busd capture stop ends it)", ae.msg)
		case errors.As(err, &ae) && (strings.Contains(ae.msg, "permission denied") || strings.Contains(ae.msg, "read-only file system")):
			err = fmt.Errorf("%s (the daemon creates the file as its own user; under the shipped systemd unit it may write only under /var/lib/busd)", ae.msg)
		}
		fmt.Fprintf(stderr, "busd: capture: %v\n", err)
		return exitFailure
	}
	id := st.ID
	tick := time.NewTicker(capturePoll)
	defer tick.Stop()
	for st.Running {
		select {
		case <-sigs:
			_, err = ac.do(http.MethodDelete, "/capture", nil, &st, http.StatusOK)
		case <-tick.C:
			_, err = ac.do(http.MethodGet, "/capture", nil, &st, http.StatusOK)
		}
		if err != nil {
			fmt.Fprintf(stderr, "busd: capture %d: %v (it may still be running: busd capture status)\n", id, err)
			return exitFailure
		}
		if st.ID != id {
			fmt.Fprintf(stderr, "busd: capture %d ended and another started; its files: %v\n", id, st.Files)
			return exitFailure
		}
	}
	fmt.Fprintln(stdout, captureSummary(st))
	if st.Error != "" {
		fmt.Fprintf(stderr, "busd: capture stopped early: %s\n", st.Error)
		return exitFailure
	}
	return exitOK
}

// captureSummary is a capture's status on one line.
func captureSummary(st capture.Status) string {
	end := st.Ended
	state := "ended (" + st.Reason + ")"
	if st.Running {
		end, state = time.Now(), "running"
	}
	files := fmt.Sprint(st.Files)
	if len(st.Files) == 1 {
		files = st.Files[0]
	}
	return fmt.Sprintf("capture %d %s: %d records (%d publishes) in %s into %s (%s); recorder drops %d, daemon drops %d",
		st.ID, state, st.Records, st.Publishes, end.Sub(st.Started).Round(time.Millisecond), files,
		humanBytes(uint64(st.Bytes)), st.RecorderDrops, st.DaemonDrops)
}

const captureStatusSynopsis = `busd capture status [--admin-socket path | --socket path] [--json]

Prints the running or latest capture's status (exit 1 when none has run).`

func runCaptureStatus(args []string, env func(string) string, stdout, stderr io.Writer) int {
	return captureStatusOrStop(args, env, stdout, stderr, "status", captureStatusSynopsis, http.MethodGet)
}

const captureStopSynopsis = `busd capture stop [--admin-socket path | --socket path] [--json]

Stops the running capture once its files are complete and prints its
status (exit 1 when none has run).`

func runCaptureStop(args []string, env func(string) string, stdout, stderr io.Writer) int {
	return captureStatusOrStop(args, env, stdout, stderr, "stop", captureStopSynopsis, http.MethodDelete)
}

func captureStatusOrStop(args []string, env func(string) string, stdout, stderr io.Writer, name, synopsis, method string) int {
	e, he := adminFlagEnv()
	cl := newCommandLine("busd capture "+name, synopsis, e, he)
	var (
		af     adminClientFlags
		asJSON bool
	)
	af.register(cl)
	cl.fs.BoolVar(&asJSON, "json", false, "print the status as JSON")
	rest, err := cl.parse(args, env, stdout)
	if err != nil {
		return clientExit(err, stderr, "capture "+name)
	}
	if len(rest) > 0 {
		return clientExit(usageErrorf("unexpected argument %q", rest[0]), stderr, "capture "+name)
	}
	ac, err := af.client(env)
	if err != nil {
		return clientExit(err, stderr, "capture "+name)
	}
	defer ac.close()
	var st capture.Status
	if _, err := ac.do(method, "/capture", nil, &st, http.StatusOK); err != nil {
		fmt.Fprintf(stderr, "busd: capture %s: %v\n", name, err)
		return exitFailure
	}
	if asJSON {
		b, _ := json.Marshal(st)
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		fmt.Fprintln(stdout, captureSummary(st))
	}
	return exitOK
}
