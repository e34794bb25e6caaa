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
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"busd/codec"
)

const (
	dialTimeout = 5 * time.Second
	// byeTimeout bounds how long pub waits for the daemon to close after BYE.
	byeTimeout = 2 * time.Second
)

// parseClient reads the --socket flag shared by pub and sub and returns the
// socket path and the positional arguments.
func parseClient(name, synopsis string, args []string, env func(string) string, stdout io.Writer) (string, []string, error) {
	fs := flag.NewFlagSet("busd "+name, flag.ContinueOnError)
	var socket string
	fs.StringVar(&socket, "socket", "", socketUsage)
	// --socket's variable is applied by the socket rules, not as a flag.
	if err := parseFlags(fs, nil, map[string]string{"socket": socketEnv}, args, env, stdout, synopsis); err != nil {
		return "", nil, err
	}
	path, err := resolveSocket(systemSocketSources(socket, env), false)
	if err != nil {
		return "", nil, err
	}
	return path, fs.Args(), nil
}

// dial connects to the daemon with a one-line error when it is not there.
func dial(path string) (net.Conn, error) {
	c, err := net.DialTimeout("unix", path, dialTimeout)
	if err != nil {
		reason := err
		var se *os.SyscallError
		if errors.As(err, &se) {
			reason = se.Err
		}
		return nil, fmt.Errorf("cannot connect to %s: %v (is busd running?)", path, reason)
	}
	return c, nil
}

// checkToken rejects a topic or pattern that cannot travel in a header:
// empty, or with whitespace, control or non-ASCII bytes.
func checkToken(what, s string) error {
	if s == "" {
		return usageErrorf("empty %s", what)
	}
	if len(s) > codec.MaxHeader-len("UNSUB \n") {
		return usageErrorf("%s longer than %d bytes", what, codec.MaxHeader-len("UNSUB \n"))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return usageErrorf("%s %q: only printable ASCII without spaces is allowed", what, s)
		}
	}
	return nil
}

func runPub(args []string, env func(string) string, stdout, stderr io.Writer) int {
	const synopsis = "busd pub [--socket path] TOPIC [JSON]"
	path, rest, err := parseClient("pub", synopsis, args, env, stdout)
	if err != nil {
		return clientExit(err, stderr, "pub")
	}
	if len(rest) < 1 || len(rest) > 2 {
		return clientExit(usageErrorf("want TOPIC and at most one JSON body, got %d arguments", len(rest)), stderr, "pub")
	}
	topic := rest[0]
	if err := checkToken("topic", topic); err != nil {
		return clientExit(err, stderr, "pub")
	}
	var body []byte
	if len(rest) == 2 {
		body = []byte(rest[1])
		if err := checkObject(body); err != nil {
			return clientExit(err, stderr, "pub")
		}
	}

	conn, err := dial(path)
	if err != nil {
		return clientExit(err, stderr, "pub")
	}
	defer conn.Close()
	out := codec.AppendFrame(nil, codec.VerbHELLO, "busd-pub", nil)
	out = codec.AppendFrame(out, codec.VerbPUB, topic, body)
	out = codec.AppendFrame(out, codec.VerbBYE, "", nil)
	_ = conn.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := conn.Write(out); err != nil {
		fmt.Fprintf(stderr, "busd: publish to %s: %v\n", path, err)
		return exitFailure
	}
	// The daemon answers BYE by closing; waiting for that means the event
	// was read before this process exits. Nothing more is reported: delivery
	// is fire-and-forget.
	if uc, ok := conn.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	_ = conn.SetReadDeadline(time.Now().Add(byeTimeout))
	_, _ = io.Copy(io.Discard, conn)
	return exitOK
}

// checkObject accepts exactly one JSON object with optional whitespace.
func checkObject(body []byte) error {
	if len(body) > codec.MaxBody {
		return usageErrorf("body is %d bytes; at most %d are allowed", len(body), codec.MaxBody)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
		return usageErrorf("body is not one JSON object: %s", body)
	}
	return nil
}

func runSub(args []string, env func(string) string, stdout, stderr io.Writer) int {
	const synopsis = "busd sub [--socket path] PATTERN..."
	path, patterns, err := parseClient("sub", synopsis, args, env, stdout)
	if err != nil {
		return clientExit(err, stderr, "sub")
	}
	if len(patterns) == 0 {
		return clientExit(usageErrorf("want at least one PATTERN (e.g. '>' for everything)"), stderr, "sub")
	}
	for _, p := range patterns {
		if err := checkToken("pattern", p); err != nil {
			return clientExit(err, stderr, "sub")
		}
	}

	conn, err := dial(path)
	if err != nil {
		return clientExit(err, stderr, "sub")
	}
	defer conn.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			conn.Close() // unblocks the read loop
		case <-done:
		}
	}()

	out := codec.AppendFrame(nil, codec.VerbHELLO, "busd-sub", nil)
	for _, p := range patterns {
		out = codec.AppendFrame(out, codec.VerbSUB, p, nil)
	}
	if _, err := conn.Write(out); err != nil {
		if ctx.Err() != nil {
			return exitOK
		}
		fmt.Fprintf(stderr, "busd: subscribe on %s: %v\n", path, err)
		return exitFailure
	}

	w := bufio.NewWriter(stdout)
	err = readEvents(conn, w)
	switch {
	case ctx.Err() != nil: // interrupted
		return exitOK
	case err == nil || errors.Is(err, errBye):
		fmt.Fprintln(stderr, "busd: the daemon closed the connection")
		return exitOK
	default:
		fmt.Fprintf(stderr, "busd: %v\n", err)
		return exitFailure
	}
}

var errBye = errors.New("daemon said BYE")

// readEvents prints every EVT from r as "TOPIC BODY" lines to w until EOF
// (nil), BYE (errBye), or an error.
func readEvents(r io.Reader, w *bufio.Writer) error {
	buf := make([]byte, 64<<10)
	start, end := 0, 0
	for {
		for {
			f, n, need, err := codec.Parse(buf[start:end])
			if err != nil {
				return fmt.Errorf("bad frame from the daemon: %w", err)
			}
			if n == 0 {
				// Incomplete: keep the partial frame at the front and make
				// room for all of it.
				end = copy(buf, buf[start:end])
				start = 0
				if need > len(buf) {
					nb := make([]byte, need)
					copy(nb, buf[:end])
					buf = nb
				}
				break
			}
			start += n
			switch f.Verb {
			case codec.VerbEVT:
				w.Write(f.Args)
				if len(f.Body) > 0 {
					w.WriteByte(' ')
					w.Write(f.Body)
				}
				w.WriteByte('\n')
			case codec.VerbBYE:
				if err := w.Flush(); err != nil {
					return fmt.Errorf("write output: %w", err)
				}
				return errBye
			}
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		m, err := r.Read(buf[end:])
		end += m
		if err != nil {
			if m > 0 {
				continue // parse what arrived with the error first
			}
			if errors.Is(err, io.EOF) {
				if end > start {
					return errors.New("the daemon closed the connection in the middle of a frame")
				}
				return nil
			}
			return err
		}
	}
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
