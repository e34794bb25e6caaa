package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// At most Burst lines per Period; the first line after a quiet spell
// says how many were left out.
func TestBurstThenSuppressedCount(t *testing.T) {
	var buf bytes.Buffer
	l := &Log{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Burst: 3, Period: 50 * time.Millisecond}
	for range 10 {
		l.Warn("refused", "who", "x")
	}
	if n := strings.Count(buf.String(), "refused"); n != 3 {
		t.Fatalf("%d lines in one period, want 3:\n%s", n, buf.String())
	}
	time.Sleep(60 * time.Millisecond)
	buf.Reset()
	l.Warn("refused", "who", "y")
	if !strings.Contains(buf.String(), "suppressed_before=7") {
		t.Errorf("the next period's first line: %q, want suppressed_before=7", buf.String())
	}
}

// The zero Log (no logger) counts and writes nothing, and does not panic.
func TestZeroLog(t *testing.T) {
	var l Log
	for range 30 {
		l.Warn("x")
	}
}
