package replay

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"busd/capture"
)

// On a tiny capture the search ends, within its bounds, with a finite
// headroom above the recorded pace.
func TestFindMaxTiny(t *testing.T) {
	sock := startDaemon(t)
	s := newScript(capture.PayloadFull,
		capture.Conn{Conn: 1, Name: "all", Patterns: []string{">"}},
		capture.Conn{Conn: 2, Name: "some", Patterns: []string{"a.*"}},
		capture.Conn{Conn: 3, Name: "pub"},
	)
	for i := range 50 {
		s.pub(ms(10*i), 3, []string{"a.b", "c.d"}[i%2], fmt.Appendf(nil, `{"n": %d}`, i))
	}
	data := s.file(t, ms(500))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	fm := FindMaxOptions{
		TrialWall: 500 * time.Millisecond,
		MaxTrials: 6,
		MaxSpeed:  32,
		// The machine is shared: timer overshoot alone can reach tens
		// of milliseconds, which is not what this test is about.
		MaxLagP99: 250 * time.Millisecond,
	}
	h, err := FindMax(ctx, opener(data), Options{Socket: sock, Settle: 200 * time.Millisecond}, fm)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	for _, tr := range h.Trials {
		t.Logf("speed %g pass %v: %s", tr.Speed, tr.Pass, tr.Why)
	}
	t.Log(h)
	if len(h.Trials) == 0 || len(h.Trials) > fm.MaxTrials {
		t.Fatalf("%d trials, bound %d", len(h.Trials), fm.MaxTrials)
	}
	if h.Factor <= 1 || h.Factor > fm.MaxSpeed {
		t.Fatalf("headroom %v, want in (1, %v]", h.Factor, fm.MaxSpeed)
	}
	if took > 20*time.Second {
		t.Fatalf("the search took %v", took)
	}
	if h.CPUPerMillionPubs <= 0 && h.Trials[0].Report.CPUError == "" {
		t.Logf("CPU below the clock's resolution at the best speed")
	}
}

// The verdict names who set the limit where the trials failed.
func TestHeadroomSaysWhoSetTheLimit(t *testing.T) {
	h := &Headroom{Factor: 40, CPUPerMillionPubs: 1.7, CPUPerMillionDeliver: 0.6, LimitSpeed: 44, LimitDaemonCores: 0.15, LimitReplayCores: 1.6}
	if s := h.String(); !h.ReplayBound() || !strings.Contains(s, "at 44× the daemon used 0.15 of a core and the replay 1.60: the replay") {
		t.Errorf("replay-bound verdict %q", s)
	}
	h.LimitDaemonCores, h.LimitReplayCores = 0.95, 0.4
	if s := h.String(); h.ReplayBound() || strings.Contains(s, "the replay, sharing") {
		t.Errorf("daemon-bound verdict %q", s)
	}
}
