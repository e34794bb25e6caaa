package capture

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testRecorder is a recorder with its lanes and clock but no file, for the
// tap and the lanes alone.
func testRecorder(lanes, laneBytes int, payload Payload) *Recorder {
	r := &Recorder{opts: Options{Payload: payload}, start: time.Now()}
	for range lanes {
		r.lanes = append(r.lanes, newLane(laneBytes))
	}
	return r
}

// drainLane reads every entry of ln as records (copied).
func drainLane(ln *lane, payload Payload) []Record {
	var out []Record
	for e := ln.peek(); e != nil; e = ln.peek() {
		var rec Record
		decodeEntry(e, &rec, payload)
		rec.Text = bytes.Clone(rec.Text)
		rec.Body = bytes.Clone(rec.Body)
		out = append(out, rec)
		ln.release(e)
	}
	return out
}

func TestTapRecordsEveryKind(t *testing.T) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		t.Run(payload.String(), func(t *testing.T) {
			r := testRecorder(1, 1<<16, payload)
			r.Opened(0, 7, 1234, 1000)
			r.Hello(0, r.Now(), 7, []byte("collector"))
			r.Sub(0, r.Now(), 7, []byte("decky.>"))
			r.Pub(0, r.Now(), 7, []byte("decky.d1.state"), []byte(`{"v":1}`))
			r.Pub(0, r.Now(), 7, []byte("decky.d1.state"), nil)
			r.Unsub(0, r.Now(), 7, []byte("decky.>"))
			r.Out(0, 7, OutStalled, 10, 2000, 3)
			r.Bye(0, r.Now(), 7)
			r.Closed(0, 7, 5, true)
			got := drainLane(r.lanes[0], payload)
			want := []Record{
				{Kind: KindOpen, Conn: 7, PID: 1234, UID: 1000},
				{Kind: KindHello, Conn: 7, Text: []byte("collector")},
				{Kind: KindSub, Conn: 7, Text: []byte("decky.>")},
				{Kind: KindPub, Conn: 7, Text: []byte("decky.d1.state"), Size: 7, Body: []byte(`{"v":1}`)},
				{Kind: KindPub, Conn: 7, Text: []byte("decky.d1.state")},
				{Kind: KindUnsub, Conn: 7, Text: []byte("decky.>")},
				{Kind: KindOut, Conn: 7, State: OutStalled, EventsOut: 10, BytesOut: 2000, Drops: 3},
				{Kind: KindBye, Conn: 7},
				{Kind: KindClose, Conn: 7, Drops: 5, ProtocolError: true},
			}
			if payload == PayloadShape {
				want[3].Body = nil
			}
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d: %+v", len(got), len(want), got)
			}
			var last int64
			for i := range want {
				g := got[i]
				if g.Time < last {
					t.Errorf("record %d: time %d before %d", i, g.Time, last)
				}
				last = g.Time
				g.Time = 0
				if fmt.Sprintf("%+v", normalizeRecord(g)) != fmt.Sprintf("%+v", normalizeRecord(want[i])) {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, g, want[i])
				}
			}
		})
	}
}

// normalizeRecord makes empty and nil byte slices print alike.
func normalizeRecord(r Record) Record {
	if len(r.Text) == 0 {
		r.Text = nil
	}
	if len(r.Body) == 0 {
		r.Body = nil
	}
	return r
}

func TestTapTopicFilter(t *testing.T) {
	r := testRecorder(1, 1<<16, PayloadFull)
	r.topics = []string{"decky.*.state", "system.>"}
	for _, topic := range []string{"decky.d1.state", "decky.d1.traffic", "system.log", "attacker.observed"} {
		r.Pub(0, r.Now(), 1, []byte(topic), []byte("{}"))
	}
	r.Sub(0, r.Now(), 1, []byte("anything")) // never filtered
	var topics []string
	for _, rec := range drainLane(r.lanes[0], PayloadFull) {
		topics = append(topics, rec.Kind.String()+":"+string(rec.Text))
	}
	want := "[pub:decky.d1.state pub:system.log sub:anything]"
	if fmt.Sprint(topics) != want {
		t.Errorf("kept %v, want %s", topics, want)
	}
}

// A full lane drops records, counts them, and marks the gap where it is:
// right before the next record that fits.
func TestLaneMarksGap(t *testing.T) {
	r := testRecorder(1, 4096, PayloadFull)
	ln := r.lanes[0]
	body := bytes.Repeat([]byte("x"), 900)
	published := 0
	for range 10 {
		r.Pub(0, r.Now(), 1, []byte("t"), body)
		published++
	}
	dropped := ln.dropped.Load()
	if dropped == 0 {
		t.Fatal("a 4 KiB lane took ten 900-byte events")
	}
	first := drainLane(ln, PayloadFull)
	if uint64(len(first))+dropped != uint64(published) {
		t.Fatalf("%d kept + %d dropped != %d published", len(first), dropped, published)
	}
	r.Sub(0, r.Now(), 1, []byte("after.gap"))
	rest := drainLane(ln, PayloadFull)
	if len(rest) != 2 || rest[0].Kind != KindGap || rest[0].Count != dropped || rest[1].Kind != KindSub {
		t.Fatalf("after the drain: %+v, want a gap of %d then the SUB", rest, dropped)
	}
	if ln.gap != 0 {
		t.Errorf("gap %d still pending after it was written", ln.gap)
	}
}

// Entries never wrap: one that would cross the end of the buffer starts
// again at its beginning, after a padding entry the reader skips.
func TestLaneWrapsWithPadding(t *testing.T) {
	r := testRecorder(1, 4096, PayloadFull)
	ln := r.lanes[0]
	for i := range 200 {
		body := bytes.Repeat([]byte("y"), 50+i%300)
		r.Pub(0, r.Now(), uint64(i), []byte("wrap.topic"), body)
		recs := drainLane(ln, PayloadFull)
		if len(recs) != 1 || recs[0].Conn != uint64(i) || !bytes.Equal(recs[0].Body, body) {
			t.Fatalf("round %d: %+v", i, recs)
		}
	}
	if ln.dropped.Load() != 0 {
		t.Errorf("dropped %d with the lane drained each time", ln.dropped.Load())
	}
}

// TestLaneStress: one producer per lane against a consumer draining them
// all, as the event loops and the writer goroutine do; run under -race.
// Every record is either read, in its producer's order, or counted as
// dropped, and the gaps read (with the one still pending at the end) add up
// to the drops.
func TestLaneStress(t *testing.T) {
	const producers, perProducer = 4, 20000
	r := testRecorder(producers, 1<<14, PayloadFull)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body [64]byte
			for i := range perProducer {
				r.Pub(p, r.Now(), uint64(i), []byte("stress"), body[:i%64])
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	next := make([]uint64, producers)
	gaps := make([]uint64, producers)
	var rec Record
	drain := func() {
		for p, ln := range r.lanes {
			for e := ln.peek(); e != nil; e = ln.peek() {
				decodeEntry(e, &rec, PayloadFull)
				switch rec.Kind {
				case KindGap:
					gaps[p] += rec.Count
					next[p] += rec.Count
				case KindPub:
					if rec.Conn != next[p] || len(rec.Body) != int(rec.Conn%64) {
						t.Fatalf("lane %d: record %d (%d bytes), want %d", p, rec.Conn, len(rec.Body), next[p])
					}
					next[p]++
				}
				ln.release(e)
			}
		}
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		drain() // after done: the last round, nothing is being written
	}
	for p, ln := range r.lanes {
		if next[p]+ln.gap != perProducer {
			t.Errorf("lane %d: accounted for %d+%d of %d records", p, next[p], ln.gap, perProducer)
		}
		if gaps[p]+ln.gap != ln.dropped.Load() {
			t.Errorf("lane %d: gaps say %d+%d dropped, the counter %d", p, gaps[p], ln.gap, ln.dropped.Load())
		}
	}
}
