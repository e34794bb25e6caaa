package replay

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"busd/capture"
	"busd/trie"
)

// mixedScript is about a second of traffic: two subscribers open from the
// start with different patterns, one publisher, a subscriber that opens
// at 300ms and one that closes at 700ms. want is each subscriber's
// deliveries per topic, worked out here from the script rather than by
// the code under test.
func mixedScript(payload capture.Payload) (s *script, want map[string]map[string]uint64) {
	s = newScript(payload,
		capture.Conn{Conn: 1, Name: "sub-a", Patterns: []string{"a.>"}},
		capture.Conn{Conn: 2, Name: "sub-x", Patterns: []string{"*.x"}},
		capture.Conn{Conn: 3, Name: "pub"},
	)
	want = map[string]map[string]uint64{"sub-a": {}, "sub-x": {}, "late": {}}
	topics := []string{"a.x", "a.y", "b.x", "c.z"}
	late := false
	for i := range 100 {
		at := ms(10 * i)
		if i == 30 {
			s.open(at, 4)
			s.text(at, capture.KindHello, 4, "late")
			s.text(at, capture.KindSub, 4, "c.>")
			late = true
		}
		if i == 70 {
			s.add(capture.Record{Kind: capture.KindBye, Time: at, Conn: 2})
			s.close(at, 2)
		}
		topic := topics[i%len(topics)]
		body := fmt.Appendf(nil, `{"n": %d, "pad": "%s"}`, i, strings.Repeat("p", i))
		s.pub(at, 3, topic, body)
		if trie.Match("a.>", topic) {
			want["sub-a"][topic]++
		}
		if i < 70 && trie.Match("*.x", topic) {
			want["sub-x"][topic]++
		}
		if late && trie.Match("c.>", topic) {
			want["late"][topic]++
		}
	}
	return s, want
}

func checkDeliveries(t *testing.T, rep *Report, want map[string]map[string]uint64) {
	t.Helper()
	t.Logf("\n%v", rep)
	if !rep.Lossless || rep.Missing != 0 || rep.DaemonDrops != 0 || rep.Received != rep.Expected || rep.Unexpected != 0 {
		t.Fatalf("not every delivery arrived:\n%v", rep)
	}
	if rep.PubsSent != 100 {
		t.Errorf("PUBs sent %d, want 100", rep.PubsSent)
	}
	got := map[string]map[string]uint64{}
	var total uint64
	for _, c := range rep.Conns {
		got[c.Name] = c.Topics
		if c.Received != c.Expected {
			t.Errorf("%s: received %d of %d", c.Name, c.Received, c.Expected)
		}
		total += c.Received
	}
	for name, topics := range want {
		if !maps.Equal(got[name], topics) {
			t.Errorf("%s received %v, want %v", name, got[name], topics)
		}
	}
	var wantTotal uint64
	for _, topics := range want {
		for _, n := range topics {
			wantTotal += n
		}
	}
	if total != wantTotal || rep.Expected != wantTotal {
		t.Errorf("deliveries %d, expected by the replay %d, by the script %d", total, rep.Expected, wantTotal)
	}
}

func TestReplayMaxSpeed(t *testing.T) {
	sock := startDaemon(t)
	s, want := mixedScript(capture.PayloadFull)
	rep := runReplay(t, s.file(t, ms(1000)), Options{Socket: sock})
	checkDeliveries(t, rep, want)
	if !rep.MaxSpeed || rep.Lag.Measured {
		t.Errorf("speed max should have no schedule: %+v", rep.Lag)
	}
	if rep.RecordedSeconds != 1 || rep.RecordedPubRate != 100 {
		t.Errorf("recorded %vs at %v PUB/s, want 1s at 100", rep.RecordedSeconds, rep.RecordedPubRate)
	}
	if rep.DaemonPID == 0 || rep.CPUError != "" {
		t.Errorf("no daemon CPU: pid %d, %s", rep.DaemonPID, rep.CPUError)
	}
}

func TestReplayShapeMaxSpeed(t *testing.T) {
	sock := startDaemon(t)
	s, want := mixedScript(capture.PayloadShape)
	rep := runReplay(t, s.file(t, ms(1000)), Options{Socket: sock})
	checkDeliveries(t, rep, want)
	if rep.Payload != "shape" {
		t.Errorf("payload %q", rep.Payload)
	}
}

func TestReplayRecordedPace(t *testing.T) {
	sock := startDaemon(t)
	s, want := mixedScript(capture.PayloadFull)
	rep := runReplay(t, s.file(t, ms(1000)), Options{Socket: sock, Speed: 1})
	checkDeliveries(t, rep, want)
	if !rep.Lag.Measured || rep.Lag.Count != 100 || rep.Lag.Max < rep.Lag.P99 || rep.Lag.P99 < rep.Lag.P50 {
		t.Errorf("lag stats: %+v", rep.Lag)
	}
	if rep.WallSeconds < 0.95 {
		t.Errorf("a second of capture at speed 1 took %.3fs", rep.WallSeconds)
	}
}

// Scale copies the publisher: every subscriber gets K times its events,
// and the topic filter keeps only the matching PUBs.
func TestReplayScaleAndTopics(t *testing.T) {
	sock := startDaemon(t)
	s, want := mixedScript(capture.PayloadFull)
	rep := runReplay(t, s.file(t, ms(1000)), Options{Socket: sock, Scale: 3, Topics: []string{"a.*"}})
	for name, topics := range want {
		for topic, n := range topics {
			if trie.Match("a.*", topic) {
				topics[topic] = 3 * n
			} else {
				delete(topics, topic)
			}
		}
		want[name] = topics
	}
	for _, c := range rep.Conns {
		if !maps.Equal(c.Topics, want[c.Name]) {
			t.Errorf("%s received %v, want %v", c.Name, c.Topics, want[c.Name])
		}
	}
	if !rep.Lossless || rep.PubsSent != 3*50 {
		t.Errorf("lossless %v, PUBs sent %d (want 150)\n%v", rep.Lossless, rep.PubsSent, rep)
	}
}
