package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"busd/client"
	"busd/codec"
)

const dialTimeout = 5 * time.Second

// clientFlags are the flags every bus client command shares.
type clientFlags struct {
	socket string
	name   string
}

func (cf *clientFlags) register(fs *flag.FlagSet, defaultName string) {
	cf.name = defaultName
	fs.StringVar(&cf.socket, "socket", "", socketUsage)
	fs.StringVar(&cf.name, "name", defaultName, "client `name` sent in HELLO (shown by busd stats)")
}

// parseClientFlags parses a client command's flags (interspersed with its
// arguments) and resolves the socket path. --socket's variable is applied by
// the socket rules, not as a flag.
func parseClientFlags(fs *flag.FlagSet, args []string, env func(string) string, stdout io.Writer, synopsis string) ([]string, error) {
	return parseFlagsArgs(fs, nil, map[string]string{"socket": socketEnv}, args, env, stdout, synopsis, true)
}

// resolveClientSocket applies the socket rules for a client (which never
// creates ~/.decnet).
func resolveClientSocket(cf *clientFlags, env func(string) string) (string, error) {
	return resolveSocket(systemSocketSources(cf.socket, env), false)
}

// connectError turns a failed connection into the one line scripts and
// people see.
func connectError(path string, err error, hint string) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("permission denied on %s (%s)", path, hint)
	}
	reason := err
	var errno syscall.Errno
	if errors.As(err, &errno) {
		reason = errno
	}
	return fmt.Errorf("cannot connect to %s: %v (is busd running?)", path, reason)
}

// dialBus connects a client for a CLI command.
func dialBus(path, name string, reconnect bool, log *slog.Logger) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	opts := []client.Option{client.WithName(name), client.WithLogger(log)}
	if !reconnect {
		opts = append(opts, client.WithReconnect(0, 0))
	}
	c, err := client.Dial(ctx, path, opts...)
	if err != nil {
		return nil, connectError(path, err, "is this user in the socket's group?")
	}
	return c, nil
}

// checkObject accepts what the daemon accepts as a body: exactly one JSON
// object, valid UTF-8 throughout, with optional whitespace around it. It
// uses the daemon's own validator, so that pub refuses, with a reason, what
// the daemon would close the connection for.
func checkObject(body []byte) error {
	if len(body) > codec.MaxBody {
		return usageErrorf("body is %d bytes; at most %d are allowed", len(body), codec.MaxBody)
	}
	if codec.ValidJSONObject(body) {
		return nil
	}
	if !utf8.Valid(body) {
		return usageErrorf("body is not valid UTF-8, which JSON must be: %q", clip(body))
	}
	return usageErrorf("body is not one JSON object: %s", clip(body))
}

// clip shortens a rejected body for an error line.
func clip(b []byte) []byte {
	const max = 200
	if len(b) <= max {
		return b
	}
	return append(b[:max:max], "..."...)
}

const pubSynopsis = `busd pub [flags] TOPIC [JSON]

Publishes JSON (a JSON object; {} when omitted) as the payload of an event
envelope {"v": 1, "id", "topic", "type", "ts", "payload"} on TOPIC. With
--raw, JSON is the whole event body, sent verbatim. With --stdin, each
non-empty line of standard input is one event.`

func runPub(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("busd pub", flag.ContinueOnError)
	var cf clientFlags
	cf.register(fs, "busd-pub")
	var (
		typ       string
		count     = intValue{n: 1, min: 1}
		fromStdin bool
		raw       bool
	)
	fs.StringVar(&typ, "type", "", "event `type` in the envelope")
	fs.Var(&count, "count", "publish the event this many `times`")
	fs.BoolVar(&fromStdin, "stdin", false, "read events from standard input, one JSON object per line")
	fs.BoolVar(&raw, "raw", false, "send JSON as the whole event body instead of the payload of a new envelope")
	rest, err := parseClientFlags(fs, args, env, stdout, pubSynopsis)
	if err != nil {
		return clientExit(err, stderr, "pub")
	}
	want := "TOPIC and at most one JSON object"
	if fromStdin {
		want = "TOPIC only (events come from standard input)"
	}
	if len(rest) < 1 || len(rest) > 2 || (fromStdin && len(rest) != 1) {
		return clientExit(usageErrorf("want %s, got %d arguments", want, len(rest)), stderr, "pub")
	}
	topic := rest[0]
	if err := client.CheckTopic(topic); err != nil {
		return clientExit(usageErrorf("%v", err), stderr, "pub")
	}
	if fromStdin && count.n != 1 {
		return clientExit(usageErrorf("--count and --stdin do not go together"), stderr, "pub")
	}
	var body []byte
	if len(rest) == 2 {
		body = []byte(rest[1])
		if err := checkObject(body); err != nil {
			return clientExit(err, stderr, "pub")
		}
	}
	if raw && typ != "" {
		return clientExit(usageErrorf("--type has no effect with --raw (the body is sent as is)"), stderr, "pub")
	}
	path, err := resolveClientSocket(&cf, env)
	if err != nil {
		return clientExit(err, stderr, "pub")
	}

	c, err := dialBus(path, cf.name, false, slog.New(slog.DiscardHandler))
	if err != nil {
		return clientExit(err, stderr, "pub")
	}
	publish := func(b []byte) error {
		ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
		defer cancel()
		if raw {
			return c.PublishRaw(ctx, topic, b)
		}
		var payload any // nil: {}
		if len(bytes.TrimSpace(b)) > 0 {
			payload = json.RawMessage(b)
		}
		return c.Publish(ctx, topic, payload, typ)
	}
	if fromStdin {
		err = pubLines(stdin, publish)
	} else {
		for i := 0; i < count.n && err == nil; i++ {
			err = publish(body)
		}
	}
	// Close waits for the daemon to close after BYE: the events were read
	// before this process exits. Delivery itself is fire-and-forget.
	c.Close()
	if err != nil {
		fmt.Fprintf(stderr, "busd: publish to %s: %v\n", path, err)
		return exitFailure
	}
	return exitOK
}

// stdin is standard input; tests replace it.
var stdin io.Reader = os.Stdin

// pubLines publishes each non-empty line of r; a line that is not one JSON
// object stops it.
func pubLines(r io.Reader, publish func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), codec.MaxBody+1)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := checkObject(line); err != nil {
			return fmt.Errorf("line %d: %v", n, err)
		}
		if err := publish(line); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading standard input after line %d: %w", n, err)
	}
	return nil
}

const subSynopsis = `busd sub [flags] PATTERN...

Prints every event whose topic matches one of the patterns, one line each:
  [#N] TOPIC BODY     by default (N counts from 1)
  BODY                with --raw
  {"topic": TOPIC, "event": BODY}   with --json
Exit status: 0 after --count events or on SIGINT/SIGTERM, 1 on failure,
2 on a usage error, 3 when --timeout ends before --count events.`

func runSub(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("busd sub", flag.ContinueOnError)
	var cf clientFlags
	cf.register(fs, "busd-sub")
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
	patterns, err := parseClientFlags(fs, args, env, stdout, subSynopsis)
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

// clientExit prints err and returns its exit code: 2 for usage errors, 0 for
// -h, 1 otherwise.
func clientExit(err error, stderr io.Writer, cmd string) int {
	var ue *usageError
	if errors.Is(err, flag.ErrHelp) || errors.As(err, &ue) {
		return exitCodeFor(err, stderr, cmd)
	}
	fmt.Fprintf(stderr, "busd: %v\n", err)
	return exitFailure
}
