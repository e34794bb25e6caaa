package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"unicode/utf8"

	"busd/client"
	"busd/codec"
)

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
	var cf clientFlags
	cl := newClientCommandLine("busd pub", pubSynopsis, "busd-pub", &cf)
	fs := cl.fs
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
	rest, err := cl.parse(args, env, stdout)
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
