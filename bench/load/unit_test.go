package load

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"busd/codec"
	"busd/trie"
)

func TestBodyStampAndParse(t *testing.T) {
	for _, size := range []int{MinSize, 64, 100, 150, 220, 1 << 10, 256 << 10, MaxSize} {
		b, err := NewBody(size, MaxPublishers, "topology.t3.status")
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		cases := []Stamp{
			{Phase: PhaseWarmup, Pub: MaxPublishers, Seq: 0, SendNs: 0},
			{Phase: PhaseMeasured, Pub: MaxPublishers, Seq: 12345, SendNs: int64(90 * time.Minute)},
			{Phase: PhaseMeasured, Pub: MaxPublishers, Seq: maxSeq, SendNs: 1<<63 - 1},
		}
		for _, want := range cases {
			b.Stamp(want.Phase, want.Seq, want.SendNs)
			body := b.Bytes()
			if len(body) != size {
				t.Fatalf("size %d: body is %d bytes", size, len(body))
			}
			if !json.Valid(body) || !codec.ValidJSONObject(body) {
				t.Fatalf("size %d: not one JSON object: %.200s", size, body)
			}
			got, err := ParseBody(body)
			if err != nil || got != want {
				t.Fatalf("size %d: ParseBody = %+v, %v; want %+v", size, got, err, want)
			}
		}
		var env struct {
			V     int    `json:"v"`
			ID    string `json:"id"`
			Topic string `json:"topic"`
		}
		if err := json.Unmarshal(b.Bytes(), &env); err != nil || env.V != 1 || len(env.ID) != 32 {
			t.Fatalf("size %d: envelope %+v, %v", size, env, err)
		}
		if size >= 220 && env.Topic != "topology.t3.status" {
			t.Errorf("size %d: full envelope expected, topic %q", size, env.Topic)
		}
	}
	// The default body is the full envelope of PROTOCOL.md.
	b, _ := NewBody(DefaultSize, 0, "decky.d1.state")
	for _, key := range []string{`"v": 1`, `"id": "`, `"topic": "decky.d1.state"`, `"type": "state"`, `"ts": `, `"payload": {`} {
		if !strings.Contains(string(b.Bytes()), key) {
			t.Errorf("default body lacks %s: %s", key, b.Bytes())
		}
	}
	if _, err := NewBody(MinSize-1, 0, "a"); err == nil {
		t.Error("NewBody accepted a size below MinSize")
	}
	if _, err := NewBody(MaxSize+1, 0, "a"); err == nil {
		t.Error("NewBody accepted a size above MaxSize")
	}
}

func TestParseBodyRejectsForeign(t *testing.T) {
	b, _ := NewBody(220, 1, "decky.d1.state")
	for _, body := range [][]byte{
		nil,
		[]byte(`{}`),
		[]byte(`{"v": 1, "id": "zz` + strings.Repeat("0", 30) + `", "payload": {"pad": "` + strings.Repeat("x", 40) + `"}}`),
		append([]byte(`{"v": 2`), b.Bytes()[7:]...),
	} {
		if st, err := ParseBody(body); err == nil {
			t.Errorf("ParseBody(%q) = %+v, want an error", body, st)
		}
	}
}

func TestStampParseAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	b, _ := NewBody(220, 7, "decky.d1.state")
	s := &subState{run: &runState{pubs: make([]pubCtl, 8)}, pubs: make([]subPub, 8), hist: new(Histogram)}
	var seq uint64
	if n := testing.AllocsPerRun(1000, func() {
		b.Stamp(PhaseMeasured, seq, nowNs())
		s.onEvent(b.Bytes())
		seq++
	}); n != 0 {
		t.Fatalf("stamp + subscriber callback: %v allocations per event", n)
	}
	if s.pubs[7].recv != seq || s.gaps != 0 || s.disorder != 0 || s.stray != 0 {
		t.Fatalf("recv %d of %d, gaps %d, disorder %d, stray %d", s.pubs[7].recv, seq, s.gaps, s.disorder, s.stray)
	}
}

func TestSubscriberCountsGapsAndDisorder(t *testing.T) {
	b, _ := NewBody(220, 1, "x")
	s := &subState{run: &runState{pubs: make([]pubCtl, 2)}, pubs: make([]subPub, 2)}
	for _, seq := range []uint64{0, 1, 2, 5, 6, 4, 7} {
		b.Stamp(PhaseMeasured, seq, 0)
		s.onEvent(b.Bytes())
	}
	b.Stamp(PhaseWarmup, 99, 0)
	s.onEvent(b.Bytes())
	s.onEvent([]byte(`{"not": "ours"}`))
	p := &s.pubs[1]
	if p.recv != 7 || p.next.Load() != 8 || s.gaps != 2 || s.disorder != 1 || s.stray != 1 || !p.warmed.Load() {
		t.Fatalf("recv %d next %d gaps %d disorder %d stray %d warmed %v",
			p.recv, p.next.Load(), s.gaps, s.disorder, s.stray, p.warmed.Load())
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 {
		t.Fatal("empty histogram: nonzero quantile")
	}
	// Every value falls inside its bucket's bounds, and buckets are
	// contiguous.
	for v := uint64(0); v < 1<<20; v += 1 + v/50 {
		lo, hi := histBounds(histIndex(v))
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, histIndex(v), lo, hi)
		}
	}
	for i := 1; i < histBuckets; i++ {
		_, prevHi := histBounds(i - 1)
		lo, _ := histBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
		}
	}
	if histIndex(1<<63-1) != histBuckets-1 {
		t.Fatalf("largest value in bucket %d of %d", histIndex(1<<63-1), histBuckets)
	}

	// 1..100000 µs, uniform; a second histogram merged in doubles the
	// counts without moving the quantiles.
	var h2 Histogram
	for i := 1; i <= 100000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
		h2.Record(time.Duration(i) * time.Microsecond)
	}
	h.Merge(&h2)
	h.Record(-time.Second) // clamped to 0
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.999, 99900 * time.Microsecond}, {1, 100 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.035 || d > 0.035 {
			t.Errorf("q%v = %v, want %v ±3.5%%", c.q, got, c.want)
		}
	}
	if h.Count() != 200001 || h.Max() != 100*time.Millisecond || h.Quantile(0) != 0 {
		t.Errorf("count %d, max %v, q0 %v", h.Count(), h.Max(), h.Quantile(0))
	}
	// Exact below 64 ns.
	var small Histogram
	for range 10 {
		small.Record(37)
	}
	if small.Quantile(0.5) != 37 {
		t.Errorf("small values: p50 %v, want 37ns", small.Quantile(0.5))
	}
}

func TestWorkloads(t *testing.T) {
	names := map[string]bool{}
	for _, w := range append(Workloads(), PayloadSweep()...) {
		if names[w.Name] {
			t.Errorf("duplicate workload %s", w.Name)
		}
		names[w.Name] = true
		if err := w.Validate(); err != nil {
			t.Error(err)
		}
		for p := 0; p < w.Publishers; p++ {
			topic := w.Topic(p, 0)
			for _, pat := range w.Patterns {
				if !trie.Match(pat, topic) {
					t.Errorf("%s: pattern %q does not match topic %q", w.Name, pat, topic)
				}
			}
			if w.IdleSubs == 0 {
				continue
			}
			idle := IdlePatterns(w.IdleSubs)
			shapes := map[string]int{}
			seen := map[string]bool{}
			for _, pat := range idle {
				if trie.Match(pat, topic) {
					t.Errorf("%s: idle pattern %q matches %q", w.Name, pat, topic)
				}
				seen[pat] = true
				switch {
				case strings.HasSuffix(pat, ".>"):
					shapes[">"]++
				case strings.Contains(pat, "*"):
					shapes["*"]++
				default:
					shapes["exact"]++
				}
			}
			if len(seen) != w.IdleSubs || shapes[">"] < w.IdleSubs/4 || shapes["*"] < w.IdleSubs/4 || shapes["exact"] < w.IdleSubs/4 {
				t.Errorf("%s: %d distinct idle patterns, shapes %v", w.Name, len(seen), shapes)
			}
		}
	}
	for _, want := range []string{"W1w", "W2w", "W3w", "W4w", "W1f", "W2f", "W3f", "W4f", "W5-20k", "W5-1k", "W6",
		"W1w-64B", "W1w-220B", "W1w-1KiB", "W1w-16KiB", "W1w-256KiB"} {
		if !names[want] {
			t.Errorf("missing workload %s", want)
		}
	}
	// The closed-loop window stays within busd's default queue bounds
	// (1024 events, 4 MiB) per subscriber, all publishers together.
	for _, w := range append(Workloads(), PayloadSweep()...) {
		win := int(w.window()) * w.Publishers
		if win > 1024 || win*w.BodySize() > 4<<20 {
			t.Errorf("%s: window of %d events of %d bytes", w.Name, win, w.BodySize())
		}
	}
}
