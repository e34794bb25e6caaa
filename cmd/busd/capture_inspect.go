package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"busd/capture"
	"busd/capture/inspect"
)

const captureInspectSynopsis = `busd capture inspect FILE [--json] [--top N]

Reads a capture file once and prints what it holds: its header, the PUB
rate, the busiest topics by events and by bytes, the body sizes, the
publishers, the subscriptions and the fan-out they asked for, the drops,
the slow readers and the connections' churn.

A file cut short (a crash, a full disk) is read up to its last complete
chunk: the analysis covers the records up to there, a warning on stderr
says where the cut is, and the exit code is 0. A file that is not a capture,
of a newer format, or damaged exits 1 with one line on stderr (the analysis
of the records before the damage, if any, is printed first).

--json prints one object instead: "complete", "publishes", "topics"
(topic → PUBs) and the rest of the analysis.`

func runCaptureInspect(args []string, env func(string) string, stdout, stderr io.Writer) int {
	cl := newCommandLine("busd capture inspect", captureInspectSynopsis, nil, nil)
	var (
		asJSON bool
		top    = intValue{n: 10, min: 1}
	)
	cl.fs.BoolVar(&asJSON, "json", false, "print the analysis as one JSON object")
	cl.fs.Var(&top, "top", "show the `N` busiest topics, publishers, patterns")
	rest, err := cl.parse(args, env, stdout)
	if err != nil {
		return clientExit(err, stderr, "capture inspect")
	}
	switch {
	case len(rest) == 0:
		return clientExit(usageErrorf("no capture file given"), stderr, "capture inspect")
	case len(rest) > 1:
		return clientExit(usageErrorf("unexpected argument %q", rest[1]), stderr, "capture inspect")
	}
	path := rest[0]
	fail := func(err error) int {
		fmt.Fprintf(stderr, "busd: capture inspect %s: %v\n", path, err)
		return exitFailure
	}

	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the line already
		}
		return fail(err)
	}
	defer f.Close()
	r, err := capture.NewReader(f, capture.ReaderOptions{})
	if err != nil {
		return fail(err)
	}
	defer r.Close()
	sum, err := inspect.Analyze(r)
	if err != nil && sum.Records == 0 {
		return fail(err)
	}

	if asJSON {
		b, jerr := json.Marshal(sum)
		if jerr != nil {
			return fail(jerr)
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printInspect(stdout, path, sum, top.n)
	}
	switch {
	case err != nil:
		return fail(fmt.Errorf("%w; the analysis covers the records before the damage", err))
	case sum.Cut != nil:
		fmt.Fprintf(stderr, "busd: capture inspect %s: %s\n", path, cutLine(sum.Cut))
	}
	return exitOK
}

// cutLine says where a file without its footer ends.
func cutLine(c *inspect.Cut) string {
	what := map[string]string{"truncated": "TRUNCATED: cut short", "corrupt": "CORRUPT: damaged"}[c.Reason]
	if what == "" {
		what = "UNREADABLE: a read failed"
	}
	if c.Chunks == 0 {
		return what + " before its first complete chunk; only the header is shown"
	}
	return fmt.Sprintf("%s after %d complete chunks at %s; the records up to there are shown",
		what, c.Chunks, nsDuration(c.LastNs))
}
