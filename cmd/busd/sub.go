package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"busd/client"
)

const subSynopsis = `busd sub [flags] PATTERN...

Prints every event whose topic matches one of the patterns, one line each:
  [#N] TOPIC BODY     by default (N counts from 1)
  BODY                with --raw
  {"topic": TOPIC, "event": BODY}   with --json
Exit status: 0 after --count events or on SIGINT/SIGTERM, 1 on failure,
2 on a usage error, 3 when --timeout ends before --count events.`

func runSub(args []string, env func(string) string, stdout, stderr io.Writer) int {
	var cf clientFlags
	cl := newClientCommandLine("busd sub", subSynopsis, "busd-sub", &cf)
	fs := cl.fs
	var (
		count       = intValue{n: 0, min: 0}
		timeout     durationValue
		raw         bool
		asJSON      bool
		noReconnect bool
	)
	fs.Var(&count, "count", "exit after this many `events` (0: no limit)")
	fs.Var(&timeout, "timeout", "give up after this `duration` (exit 3 if --count events did not arrive; 0: no limit)")
	fs.BoolVar(&raw, "raw", false, "print event bodies only, one per line")
	fs.BoolVar(&asJSON, "json", false, `print one JSON object per line: {"topic": ..., "event": <body>}`)
	fs.BoolVar(&noReconnect, "no-reconnect", false, "exit 1 when the connection to the daemon drops instead of reconnecting")
	patterns, err := cl.parse(args, env, stdout)
	if err != nil {
		return clientExit(err, stderr, "sub")
	}
	if len(patterns) == 0 {
		return clientExit(usageErrorf("want at least one PATTERN (e.g. '>' for everything)"), stderr, "sub")
	}
	for _, p := range patterns {
		if err := client.CheckPattern(p); err != nil {
			return clientExit(usageErrorf("%v", err), stderr, "sub")
		}
	}
	if raw && asJSON {
		return clientExit(usageErrorf("--raw and --json do not go together"), stderr, "sub")
	}
	path, err := resolveClientSocket(&cf, env)
	if err != nil {
		return clientExit(err, stderr, "sub")
	}

	errw := &lockedWriter{w: stderr}
	c, err := dialBus(path, cf.name, !noReconnect, newClientLogger(errw))
	if err != nil {
		return clientExit(err, errw, "sub")
	}
	defer c.Close()
	sub, err := c.SubscribeAny(patterns...)
	if err != nil {
		fmt.Fprintf(errw, "busd: subscribe on %s: %v\n", path, err)
		return exitFailure
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout))
		defer t.Stop()
		expired = t.C
	}

	w := bufio.NewWriter(stdout)
	defer w.Flush()
	var line []byte
	n := 0
	for count.n == 0 || n < count.n {
		select {
		case ev, ok := <-sub.C():
			if !ok {
				w.Flush()
				fmt.Fprintf(errw, "busd: lost the connection to %s\n", path)
				return exitFailure
			}
			n++
			line = formatEvent(line[:0], n, ev, raw, asJSON)
			if _, err := w.Write(line); err != nil {
				return exitFailure // stdout is gone (a closed pipe)
			}
			if len(sub.C()) == 0 {
				if err := w.Flush(); err != nil {
					return exitFailure
				}
			}
		case <-expired:
			if count.n == 0 {
				return exitOK
			}
			w.Flush()
			fmt.Fprintf(errw, "busd: timeout after %v: %d of %d events\n", time.Duration(timeout), n, count.n)
			return exitTimeout
		case <-ctx.Done():
			return exitOK
		}
	}
	return exitOK
}

// formatEvent appends one output line for ev (the n-th).
func formatEvent(b []byte, n int, ev client.Event, raw, asJSON bool) []byte {
	body := oneLine(ev.Body)
	switch {
	case raw:
		b = append(b, body...)
	case asJSON:
		b = append(b, `{"topic":`...)
		t, _ := json.Marshal(ev.Topic)
		b = append(b, t...)
		b = append(b, `,"event":`...)
		if len(body) > 0 && json.Valid(body) {
			b = append(b, body...)
		} else {
			s, _ := json.Marshal(string(body)) // not JSON: a string
			b = append(b, s...)
		}
		b = append(b, '}')
	default:
		b = fmt.Appendf(b, "[#%d] %s", n, ev.Topic)
		if len(body) > 0 {
			b = append(b, ' ')
			b = append(b, body...)
		}
	}
	return append(b, '\n')
}

// oneLine compacts a JSON body that spans several lines, so that each event
// stays one output line.
func oneLine(body []byte) []byte {
	if bytes.IndexByte(body, '\n') < 0 && bytes.IndexByte(body, '\r') < 0 {
		return body
	}
	var buf bytes.Buffer
	if json.Compact(&buf, body) == nil {
		return buf.Bytes()
	}
	return []byte(strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(string(body)))
}

// lockedWriter serializes writes from the client's logger and the command.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// newClientLogger prints the client's connection messages as
// "busd: message key=value ...", without time or level.
func newClientLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, slog.LevelKey:
				return slog.Attr{}
			}
			return a
		},
	}))
}
