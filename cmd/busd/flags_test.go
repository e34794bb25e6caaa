package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"busd/engine"
)

// runCmd calls run in-process and returns the exit code and both outputs.
func runCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, mapEnv(env), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestServeDefaults(t *testing.T) {
	o, err := parseServe(nil, mapEnv(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got, want := o.config(), engine.DefaultConfig()
	got.Logger, want.Logger = nil, nil
	if !reflect.DeepEqual(got, want) { // OnTick is nil in both
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if o.socket != "" || slog.Level(o.logLevel) != slog.LevelInfo || o.logFormat != "text" || o.version {
		t.Errorf("defaults: %+v", o)
	}
	// The documented defaults, in case the engine's change.
	if want.Heartbeat != 10*time.Second || want.RingEvents != 1024 || want.RingBytes != 4<<20 ||
		want.HighWater != 256<<10 || want.Loops != 1 || want.MaxConns != 4096 || !want.ValidateJSON || want.Group != "decnet" ||
		want.MaxPatternsPerConn != 10000 || want.MaxPatterns != 100000 || want.MaxPendingBytes != 64<<20 ||
		want.FrameTimeout != 30*time.Second || want.ReleaseAfterBytes != 16<<20 {
		t.Errorf("engine defaults differ from the documented ones: %+v", want)
	}
}

var fullEnv = map[string]string{
	"BUSD_GROUP":         "bus",
	"BUSD_HEARTBEAT":     "3",
	"BUSD_RING_EVENTS":   "77",
	"BUSD_RING_BYTES":    "8MiB",
	"BUSD_HIGH_WATER":    "64KiB",
	"BUSD_LOOPS":         "2",
	"BUSD_MAX_CONNS":     "100",
	"BUSD_VALIDATE_JSON": "false",
	"BUSD_LOG_LEVEL":     "debug",
	"BUSD_LOG_FORMAT":    "json",

	"BUSD_MAX_PATTERNS_PER_CONN": "50",
	"BUSD_MAX_PATTERNS":          "0",
	"BUSD_MAX_PENDING_BYTES":     "2MiB",
	"BUSD_FRAME_TIMEOUT":         "5",
	"BUSD_RELEASE_AFTER":         "0",
}

func TestServeEnv(t *testing.T) {
	o, err := parseServe(nil, mapEnv(fullEnv), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.config()
	if c.Group != "bus" || c.Heartbeat != 3*time.Second || c.RingEvents != 77 || c.RingBytes != 8<<20 ||
		c.HighWater != 64<<10 || c.Loops != 2 || c.MaxConns != 100 || c.ValidateJSON ||
		slog.Level(o.logLevel) != slog.LevelDebug || o.logFormat != "json" ||
		c.MaxPatternsPerConn != 50 || c.MaxPatterns != 0 || c.MaxPendingBytes != 2<<20 ||
		c.FrameTimeout != 5*time.Second || c.ReleaseAfterBytes != 0 {
		t.Errorf("from env: %+v / %+v", c, o)
	}
}

func TestServeFlagBeatsEnv(t *testing.T) {
	args := []string{
		"--group", "g2", "--heartbeat", "250ms", "--ring-events", "5", "--ring-bytes", "2MiB",
		"--high-water", "8192", "--loops", "3", "--max-conns", "9", "--validate-json=true",
		"--log-level", "warn", "--log-format", "text", "--socket", "/s/bus.sock",
		"--max-patterns-per-conn", "7", "--max-patterns", "70", "--max-pending-bytes", "0",
		"--frame-timeout", "1m", "--release-after", "1MiB",
	}
	o, err := parseServe(args, mapEnv(fullEnv), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.config()
	if c.Group != "g2" || c.Heartbeat != 250*time.Millisecond || c.RingEvents != 5 || c.RingBytes != 2<<20 ||
		c.HighWater != 8192 || c.Loops != 3 || c.MaxConns != 9 || !c.ValidateJSON ||
		slog.Level(o.logLevel) != slog.LevelWarn || o.logFormat != "text" || o.socket != "/s/bus.sock" ||
		c.MaxPatternsPerConn != 7 || c.MaxPatterns != 70 || c.MaxPendingBytes != 0 ||
		c.FrameTimeout != time.Minute || c.ReleaseAfterBytes != 1<<20 {
		t.Errorf("flags over env: %+v / %+v", c, o)
	}
	// Single-dash spelling works too, and an empty variable counts as unset.
	o, err = parseServe([]string{"-loops", "4"}, mapEnv(map[string]string{"BUSD_LOOPS": "", "BUSD_RING_EVENTS": ""}), io.Discard)
	if err != nil || o.loops.n != 4 || o.ringEvents.n != 1024 {
		t.Errorf("single dash / empty env: %+v, %v", o, err)
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"10": 10 * time.Second, "0": 0, "0.5": 500 * time.Millisecond, " 2 ": 2 * time.Second,
		"10s": 10 * time.Second, "250ms": 250 * time.Millisecond, "1m30s": 90 * time.Second, "0s": 0,
	}
	for in, want := range good {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "-1", "-5s", "10x", "1e400", "NaN", "Inf", "1e12"} {
		if got, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int{
		"0": 0, "4096": 4096, "10B": 10, "256KiB": 256 << 10, "4MiB": 4 << 20, "4mib": 4 << 20,
		"1 GiB": 1 << 30, " 8 MiB ": 8 << 20, "1kib": 1024,
	}
	for in, want := range good {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "4MB", "4M", "-1", "1.5MiB", "0x10", "2GiB", "99999999999", "4 XiB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %v, want an error", in, got)
		}
	}
	for n, want := range map[int]string{4 << 20: "4MiB", 256 << 10: "256KiB", 1 << 30: "1GiB", 1000: "1000", 0: "0"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestBoolAndEnumValues(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "1": true, "YES": true, "on": true, "false": false, "0": false, "no": false, "Off": false} {
		var b boolValue
		if err := b.Set(in); err != nil || bool(b) != want {
			t.Errorf("bool %q = %v, %v", in, b, err)
		}
	}
	var b boolValue
	if b.Set("maybe") == nil {
		t.Error("bool maybe accepted")
	}
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError} {
		var l levelValue
		if err := l.Set(in); err != nil || slog.Level(l) != want {
			t.Errorf("level %q = %v, %v", in, l, err)
		}
	}
	var l levelValue
	if l.Set("trace") == nil {
		t.Error("level trace accepted")
	}
	var f formatValue
	if f.Set("JSON") != nil || f != "json" || f.Set("xml") == nil {
		t.Errorf("format: %q", f)
	}
}

// TestBadValuesExit2 checks that every bad flag or variable exits 2 with a
// message naming it.
func TestBadValuesExit2(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want []string // substrings of stderr
	}{
		{[]string{"--heartbeat", "abc"}, nil, []string{"--heartbeat", "abc"}},
		{[]string{"--heartbeat", "-1s"}, nil, []string{"--heartbeat", "negative"}},
		{nil, map[string]string{"BUSD_HEARTBEAT": "soon"}, []string{"BUSD_HEARTBEAT", "soon"}},
		{[]string{"--ring-events", "0"}, nil, []string{"--ring-events", "at least 1"}},
		{nil, map[string]string{"BUSD_RING_EVENTS": "many"}, []string{"BUSD_RING_EVENTS"}},
		{[]string{"--ring-bytes", "4MB"}, nil, []string{"--ring-bytes", "4MB"}},
		{[]string{"--ring-bytes", "1MiB"}, nil, []string{"--ring-bytes", "at least"}},
		{nil, map[string]string{"BUSD_RING_BYTES": "lots"}, []string{"BUSD_RING_BYTES"}},
		{[]string{"--high-water", "100"}, nil, []string{"--high-water", "at least 4KiB"}},
		{nil, map[string]string{"BUSD_HIGH_WATER": "-1"}, []string{"BUSD_HIGH_WATER"}},
		{[]string{"--loops", "0"}, nil, []string{"--loops"}},
		{nil, map[string]string{"BUSD_LOOPS": "two"}, []string{"BUSD_LOOPS"}},
		{[]string{"--max-conns", "x"}, nil, []string{"--max-conns"}},
		{nil, map[string]string{"BUSD_MAX_CONNS": "0"}, []string{"BUSD_MAX_CONNS"}},
		{[]string{"--validate-json=maybe"}, nil, []string{"--validate-json"}},
		{nil, map[string]string{"BUSD_VALIDATE_JSON": "maybe"}, []string{"BUSD_VALIDATE_JSON"}},
		{[]string{"--log-level", "trace"}, nil, []string{"--log-level"}},
		{nil, map[string]string{"BUSD_LOG_LEVEL": "loud"}, []string{"BUSD_LOG_LEVEL"}},
		{[]string{"--log-format", "xml"}, nil, []string{"--log-format"}},
		{nil, map[string]string{"BUSD_LOG_FORMAT": "xml"}, []string{"BUSD_LOG_FORMAT"}},
		{[]string{"--no-such-flag"}, nil, []string{"no-such-flag"}},
		{[]string{"serve", "extra"}, nil, []string{"unexpected argument", "extra"}},
		{[]string{"frobnicate"}, nil, []string{"unknown command", "frobnicate"}},
	}
	for _, tc := range tests {
		code, _, stderr := runCmd(t, tc.env, tc.args...)
		if code != 2 {
			t.Errorf("%v %v: exit %d, want 2 (stderr %q)", tc.args, tc.env, code, stderr)
			continue
		}
		if strings.Contains(stderr, "---") {
			t.Errorf("%v %v: stderr %q", tc.args, tc.env, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v %v: stderr %q does not mention %q", tc.args, tc.env, stderr, w)
			}
		}
	}
}

func TestFlagShadowsBadEnv(t *testing.T) {
	// The flag wins, so a bad variable behind it is never parsed.
	o, err := parseServe([]string{"--loops", "2"}, mapEnv(map[string]string{"BUSD_LOOPS": "bad"}), io.Discard)
	if err != nil || o.loops.n != 2 {
		t.Errorf("got %+v, %v", o, err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"serve", "--help"}} {
		code, stdout, _ := runCmd(t, nil, args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, w := range []string{"--socket", "DECNET_BUS_SOCKET", "--ring-bytes", "BUSD_RING_BYTES", "default 4MiB", "--version"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: help lacks %q:\n%s", args, w, stdout)
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"pub", "-h"}, {"sub", "-h"}} {
		if code, stdout, _ := runCmd(t, nil, args...); code != 0 || stdout == "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, stdout)
		}
	}

	for _, args := range [][]string{{"--version"}, {"serve", "--version"}, {"version"}, {"--loops", "2", "--version"}} {
		// --version exits before anything else, even with a bad socket or
		// a bad variable.
		code, stdout, stderr := runCmd(t, map[string]string{"DECNET_BUS_SOCKET": "/nonexistent/dir/bus.sock", "BUSD_LOOPS": "bad"}, args...)
		if code != 0 || stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
		if !strings.HasPrefix(stdout, "busd ") || !strings.Contains(stdout, runtime.Version()) || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%v: version line %q", args, stdout)
		}
	}
}

func TestBuildInfoString(t *testing.T) {
	bi := buildInfo{version: "v1.2.0", revision: "0123456789abcdef0123456789abcdef01234567", time: "2025-01-02T03:04:05Z", modified: true, goVer: "go1.26.8"}
	if got, want := bi.String(), "busd v1.2.0 revision 0123456789abcdef0123456789abcdef01234567 (2025-01-02T03:04:05Z, modified) go1.26.8"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := bi.short(), "v1.2.0+0123456789ab-dirty"; got != want {
		t.Errorf("short = %q, want %q", got, want)
	}
	bi = buildInfo{version: "(devel)", goVer: "go1.26.8"}
	if got, want := bi.String(), "busd (devel) revision unknown go1.26.8"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := bi.short(); got != "(devel)" {
		t.Errorf("short = %q", got)
	}

	old := version
	version = "v9.9.9"
	defer func() { version = old }()
	if got := readBuildInfo().version; got != "v9.9.9" {
		t.Errorf("link-time version ignored: %q", got)
	}
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "json", levelValue(slog.LevelWarn))
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["msg"] != "shown" || m["level"] != "WARN" {
		t.Errorf("json log %q: %v", buf.String(), err)
	}
	buf.Reset()
	log = newLogger(&buf, "text", levelValue(slog.LevelDebug))
	log.Debug("dbg")
	if !strings.Contains(buf.String(), "level=DEBUG msg=dbg") {
		t.Errorf("text log %q", buf.String())
	}
}
