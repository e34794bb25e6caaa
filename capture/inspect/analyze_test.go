package inspect

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"busd/capture"
)

func scriptHeader() capture.Header {
	return capture.Header{
		Host:        "host-a",
		BusdVersion: "1.2.3",
		Start:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Payload:     capture.PayloadFull,
		Topics:      []string{"a.>", "x.*", "z"},
		Sequence:    1,
		Conns: []capture.Conn{
			{Conn: 1, Name: "alpha", Patterns: []string{"a.>"}, Drops: 5},
			// Two patterns that both match a.b: its events count once.
			{Conn: 2, Name: "beta", Patterns: []string{"a.b", "a.*"}},
		},
	}
}

// scripted is a file whose every figure is worked out by hand in
// TestAnalyzeScripted. Times are in tenths of a second.
func scripted(t *testing.T) *script {
	ds := func(n int64) int64 { return n * sec / 10 }
	s := newScript(t, scriptHeader())
	s.add(open(ds(1), 3)).
		add(text(capture.KindHello, ds(2), 3, "pubber")).
		add(text(capture.KindSub, ds(3), 3, "a.b")).
		// To 1 (a.>) and 2 (a.b and a.*), not to its publisher 3 (a.b).
		add(pub(ds(5), 3, "a.b", 10)).
		flush().
		// To 2 (a.*); not to its publisher 1 (a.>).
		add(pub(ds(12), 1, "a.c", 100)).
		// To nobody.
		add(pub(ds(14), 3, "x.y", 1000)).
		add(gap(ds(15), 7)).
		add(out(ds(16), 2, capture.OutStalled, 10, 1000, 0)).
		// 2000 bytes read in half a second.
		add(out(ds(21), 2, capture.OutResumed, 20, 3000, 2)).
		add(text(capture.KindUnsub, ds(22), 2, "a.*")).
		flush().
		// To 2 and 3 (a.b each).
		add(pub(ds(23), 1, "a.b", 10)).
		// To nobody any more: 2 dropped a.*, so a.c's cached receivers
		// are stale.
		add(pub(ds(24), 1, "a.c", 3000)).
		add(closed(ds(25), 1, 9, false)).
		add(open(ds(26), 4)).
		add(text(capture.KindSub, ds(27), 4, ">")).
		add(closed(ds(28), 4, 0, true)).
		flush().
		// To 2 (a.b); 1 has closed. Then second 4 is quiet.
		add(pub(ds(35), 3, "a.b", 10)).
		add(out(ds(36), 2, capture.OutStalled, 30, 4000, 3)).
		// In the trailing fraction of a second: counted, but not in the
		// per-second rate. To nobody.
		add(pub(ds(51), 2, "z", 0))
	return s
}

func TestAnalyzeScripted(t *testing.T) {
	b := scripted(t).close(52*sec/10, "stopped")
	s, err := analyze(t, b)
	if err != nil {
		t.Fatal(err)
	}
	want := &Summary{
		Host:         "host-a",
		BusdVersion:  "1.2.3",
		Start:        time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Payload:      "full",
		TopicFilters: []string{"a.>", "x.*", "z"},
		Sequence:     1,
		Complete:     true,
		EndReason:    "stopped",
		Chunks:       4,
		DurationNs:   52 * sec / 10,
		Records:      19,
		Kinds: map[string]uint64{"open": 2, "hello": 1, "sub": 2, "unsub": 1, "pub": 7,
			"gap": 1, "out": 3, "close": 2},
		Publishes: 7,
		BodyBytes: 10 + 100 + 1000 + 10 + 3000 + 10 + 0,
		// Seconds 0-4 hold 1, 2, 2, 1 and 0 PUBs; sorted 0 1 1 2 2, the
		// median is the 3rd, the p99 the 5th.
		PubRate:    Rate{Seconds: 5, Mean: 7 / 5.2, Min: 0, Median: 1, P99: 2, Max: 2},
		Topics:     map[string]uint64{"a.b": 3, "a.c": 2, "x.y": 1, "z": 1},
		TopicBytes: map[string]uint64{"a.b": 30, "a.c": 3100, "x.y": 1000, "z": 0},
		// 0 10 10 10 100 1000 3000: p50 is the 4th, p90 and p99 the 7th.
		BodySizes: Sizes{Count: 7, Min: 0, P50: 10, P90: 3000, P99: 3000, Max: 3000, Buckets: []SizeBucket{
			{0, 0, 1}, {8, 15, 3}, {64, 127, 1}, {512, 1023, 1}, {2048, 4095, 1}}},
		// 1 and 3 tie on PUBs: by connection.
		Publishers: []Publisher{
			{Conn: 1, Name: "alpha", Publishes: 3, Bytes: 3110, Topics: 2},
			{Conn: 3, Name: "pubber", Publishes: 3, Bytes: 1020, Topics: 2},
			{Conn: 2, Name: "beta", Publishes: 1, Bytes: 0, Topics: 1},
		},
		// a.b: 2 at 0.5s, 2 and 3 at 2.3s, 2 at 3.5s. a.*: 2 at 0.5s
		// and 1.2s. Their 7 matches are 6 deliveries: at 0.5s, 2 got one
		// event through both.
		Subscriptions: []Subscription{
			{Pattern: ">", Subscribers: 1, Deliveries: 0},
			{Pattern: "a.*", Subscribers: 1, Deliveries: 2},
			{Pattern: "a.>", Subscribers: 1, Deliveries: 1},
			{Pattern: "a.b", Subscribers: 2, Deliveries: 4},
		},
		Deliveries: 2 + 1 + 0 + 2 + 0 + 1 + 0,
		Drops: Drops{Recorder: 7, Gaps: 1, Daemon: 4 + 3, ByConn: []ConnDrops{
			{Conn: 1, Name: "alpha", Drops: 9 - 5}, // it had dropped 5 before the file
			{Conn: 2, Name: "beta", Drops: 3},
		}},
		SlowReaders: []SlowReader{{Conn: 2, Name: "beta", Stalls: 2, Stalled: true,
			BytesPerSecond: 4000, Drops: 3, Deliveries: 4}},
		Connections: Churn{AtStart: 2, Opens: 2, Closes: 2, ProtocolErrors: 1, AtEnd: 2},
	}
	if math.Abs(s.PubRate.Mean-want.PubRate.Mean) < 1e-9 {
		s.PubRate.Mean = want.PubRate.Mean
	}
	if !reflect.DeepEqual(s, want) {
		got, _ := json.MarshalIndent(s, "", " ")
		exp, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("summary:\n got %s\nwant %s", got, exp)
	}

	byEvents := s.TopTopics(2, false)
	if len(byEvents) != 2 || byEvents[0].Topic != "a.b" || byEvents[1].Topic != "a.c" {
		t.Errorf("top topics by events: %+v", byEvents)
	}
	// x.y and z tie on PUBs; x.y has more bytes.
	byEvents = s.TopTopics(10, false)
	if len(byEvents) != 4 || byEvents[2].Topic != "x.y" || byEvents[3].Topic != "z" {
		t.Errorf("top topics by events: %+v", byEvents)
	}
	byBytes := s.TopTopics(3, true)
	if len(byBytes) != 3 || byBytes[0].Topic != "a.c" || byBytes[1].Topic != "x.y" || byBytes[2].Topic != "a.b" {
		t.Errorf("top topics by bytes: %+v", byBytes)
	}
}

// A file cut inside its third chunk: the analysis covers the first two,
// and is not an error.
func TestAnalyzeTruncated(t *testing.T) {
	sc := scripted(t)
	b := sc.close(52*sec/10, "stopped")
	cut := b[:sc.ends[1]+(sc.ends[2]-sc.ends[1])/2]
	s, err := analyze(t, cut)
	if err != nil {
		t.Fatalf("a truncated file: %v", err)
	}
	if s.Complete || s.Cut == nil || s.Cut.Reason != "truncated" || s.Cut.Chunks != 2 ||
		s.Cut.LastNs != 22*sec/10 || !errorsIsTruncated(s.Cut.Error) {
		t.Fatalf("complete %v, cut %+v", s.Complete, s.Cut)
	}
	// The first two chunks: records to the UNSUB at 2.2s.
	if s.Records != 10 || s.Publishes != 3 || s.Deliveries != 3 || s.Chunks != 2 ||
		s.DurationNs != 22*sec/10 || s.Drops.Recorder != 7 || s.Drops.Daemon != 2 {
		t.Errorf("records %d, publishes %d, deliveries %d, chunks %d, duration %d, drops %+v",
			s.Records, s.Publishes, s.Deliveries, s.Chunks, s.DurationNs, s.Drops)
	}
	// Seconds 0 and 1 (1 and 2 PUBs); the 0.2s after them are left out.
	if s.PubRate.Seconds != 2 || s.PubRate.Min != 1 || s.PubRate.Max != 2 || s.PubRate.Median != 1 {
		t.Errorf("rate %+v", s.PubRate)
	}
	if !reflect.DeepEqual(s.Topics, map[string]uint64{"a.b": 1, "a.c": 1, "x.y": 1}) {
		t.Errorf("topics %v", s.Topics)
	}
}

func errorsIsTruncated(msg string) bool {
	return len(msg) > 0 && msg[:len(capture.ErrTruncated.Error())] == capture.ErrTruncated.Error()
}

// A file with a header and no complete chunk: nothing but the header.
func TestAnalyzeHeaderOnly(t *testing.T) {
	sc := newScript(t, scriptHeader())
	headerLen := sc.buf.Len()
	sc.add(pub(1, 3, "a.b", 10))
	b := sc.close(2, "stopped")
	s, err := analyze(t, b[:headerLen+3])
	if err != nil {
		t.Fatal(err)
	}
	if s.Complete || s.Cut == nil || s.Cut.Chunks != 0 || s.Records != 0 || s.DurationNs != 0 ||
		s.Host != "host-a" || s.Connections.AtStart != 2 || s.Connections.AtEnd != 2 {
		t.Errorf("%+v cut %+v", s, s.Cut)
	}
}

// A damaged chunk after good ones: the records before it, and the error.
func TestAnalyzeCorrupt(t *testing.T) {
	sc := scripted(t)
	b := sc.close(52*sec/10, "stopped")
	// Flip a byte inside the second chunk's frame.
	b[sc.ends[0]+(sc.ends[1]-sc.ends[0])/2] ^= 0xff
	s, err := analyze(t, b)
	if !errors.Is(err, capture.ErrCorrupt) {
		t.Fatalf("err %v", err)
	}
	if s.Complete || s.Cut == nil || s.Cut.Reason != "corrupt" || s.Cut.Chunks != 1 || s.Records != 4 || s.Deliveries != 2 {
		t.Errorf("records %d, deliveries %d, cut %+v", s.Records, s.Deliveries, s.Cut)
	}
}

// The match cache must agree with matching every PUB afresh, whatever the
// order of subscriptions and PUBs.
func TestDeliveriesAgreeWithoutCache(t *testing.T) {
	topics := []string{"a.b", "a.c", "a.b.c", "x", "a."}
	patterns := []string{"a.>", "a.*", "a.b", ">", "x", "*.c"}
	sc := newScript(t, capture.Header{Payload: capture.PayloadShape, Sequence: 1,
		Conns: []capture.Conn{{Conn: 1, Patterns: []string{"a.*"}}}})
	want := uint64(0)
	wantByPattern := map[string]uint64{}
	subs := map[uint64]map[string]bool{1: {"a.*": true}}
	rng := uint64(12345)
	next := func(n int) int {
		rng = rng*6364136223846793005 + 1442695040888963407
		return int(rng>>33) % n
	}
	for i := range 2000 {
		conn := uint64(1 + next(4))
		now := int64(i) * 1000
		switch next(5) {
		case 0:
			p := patterns[next(len(patterns))]
			sc.add(text(capture.KindSub, now, conn, p))
			if subs[conn] == nil {
				subs[conn] = map[string]bool{}
			}
			subs[conn][p] = true
		case 1:
			p := patterns[next(len(patterns))]
			sc.add(text(capture.KindUnsub, now, conn, p))
			delete(subs[conn], p)
		default:
			topic := topics[next(len(topics))]
			sc.add(capture.Record{Kind: capture.KindPub, Time: now, Conn: conn, Text: []byte(topic), Size: 5})
			for c, ps := range subs {
				if c == conn {
					continue
				}
				matched := false
				for p := range ps {
					if matchRef(p, topic) {
						wantByPattern[p]++
						matched = true
					}
				}
				if matched {
					want++
				}
			}
		}
	}
	s, err := analyze(t, sc.close(3e6, "stopped"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Deliveries != want || want == 0 {
		t.Errorf("deliveries %d, want %d", s.Deliveries, want)
	}
	for _, sub := range s.Subscriptions {
		if sub.Deliveries != wantByPattern[sub.Pattern] {
			t.Errorf("pattern %s: %d deliveries, want %d", sub.Pattern, sub.Deliveries, wantByPattern[sub.Pattern])
		}
	}
	if len(s.Subscriptions) != len(patterns) {
		t.Errorf("%d patterns in the summary", len(s.Subscriptions))
	}
}

// matchRef is the wildcard rule of PROTOCOL.md for the test's patterns,
// written out independently of the trie.
func matchRef(pattern, topic string) bool {
	switch pattern {
	case ">":
		return true
	case "a.>":
		return len(topic) >= 2 && topic[:2] == "a." // a.> matches a. (an empty last token)
	case "a.*":
		return len(topic) > 2 && topic[:2] == "a." && !containsDot(topic[2:])
	case "*.c":
		i := indexDot(topic)
		return i > 0 && topic[i+1:] == "c"
	}
	return pattern == topic
}

func containsDot(s string) bool { return indexDot(s) >= 0 }

func indexDot(s string) int {
	for i := range len(s) {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// failingReader fails once its bytes are read, as a disk may.
type failingReader struct{ data []byte }

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, errors.New("input/output error")
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A read error after good chunks is neither a truncation nor damage: the
// records before it, and the error.
func TestAnalyzeReadError(t *testing.T) {
	sc := scripted(t)
	b := sc.close(52*sec/10, "stopped")
	r, err := capture.NewReader(&failingReader{data: b[:sc.ends[0]]}, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := Analyze(r)
	if err == nil || errors.Is(err, capture.ErrTruncated) || errors.Is(err, capture.ErrCorrupt) {
		t.Fatalf("err %v", err)
	}
	if s.Cut == nil || s.Cut.Reason != "unreadable" || s.Records != 4 || s.Complete {
		t.Errorf("records %d, cut %+v", s.Records, s.Cut)
	}
}
