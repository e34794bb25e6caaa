package replay

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"busd/capture"
	"busd/capture/inspect"
	"busd/codec"
)

// The round trip: a scripted workload runs through a real daemon that
// records it; the file is inspected, replayed into a second daemon that
// records the replay, and the two captures and what the subscribers got
// are compared. Events per topic and deliveries per subscriber and topic
// must be equal; the replay's PUB rate and duration within
// roundTripTolerance of the original's.
const roundTripTolerance = 0.15

func TestRoundTrip(t *testing.T) {
	srvA, sockA := startServer(t)
	fileA := filepath.Join(t.TempDir(), "a.buscap")
	if _, err := srvA.StartCapture(capture.Options{Path: fileA}); err != nil {
		t.Fatal(err)
	}
	live := runScriptedWorkload(t, sockA)
	stA, _ := srvA.StopCapture()
	if stA.RecorderDrops != 0 {
		t.Fatalf("the recorder dropped %d records of a light workload", stA.RecorderDrops)
	}
	sumA := inspectFile(t, fileA)
	if !sumA.Complete || sumA.Publishes != live.published {
		t.Fatalf("capture A: complete %v, %d PUBs; the workload sent %d", sumA.Complete, sumA.Publishes, live.published)
	}
	if !maps.Equal(sumA.Topics, live.topics) {
		t.Fatalf("capture A topics %v, the workload sent %v", sumA.Topics, live.topics)
	}
	if sumA.Deliveries != live.total() {
		t.Errorf("capture A asks for %d deliveries, the subscribers got %d", sumA.Deliveries, live.total())
	}

	srvB, sockB := startServer(t)
	fileB := filepath.Join(t.TempDir(), "b.buscap")
	if _, err := srvB.StartCapture(capture.Options{Path: fileB}); err != nil {
		t.Fatal(err)
	}
	rep := runReplay(t, readBytes(t, fileA), Options{Socket: sockB, Speed: 1})
	srvB.StopCapture()
	if !rep.Lossless || rep.Received != live.total() || rep.Unexpected != 0 {
		t.Fatalf("replay: lossless %v, received %d of %d (unexpected %d); the live subscribers got %d",
			rep.Lossless, rep.Received, rep.Expected, rep.Unexpected, live.total())
	}
	for _, c := range rep.Conns {
		want := live.received[c.Name]
		if !maps.Equal(c.Topics, want) {
			t.Errorf("replayed %s got %v, live it got %v", c.Name, c.Topics, want)
		}
	}

	sumB := inspectFile(t, fileB)
	topicsB := maps.Clone(sumB.Topics)
	maps.DeleteFunc(topicsB, func(topic string, _ uint64) bool { return strings.HasPrefix(topic, "_replay.") })
	if !maps.Equal(topicsB, sumA.Topics) {
		t.Errorf("capture B (the replay) topics %v, capture A %v", topicsB, sumA.Topics)
	}
	within := func(what string, a, b float64) {
		if d := (b - a) / a; d > roundTripTolerance || d < -roundTripTolerance {
			t.Errorf("%s: replay %.3g against %.3g recorded, %+.0f%% (tolerance ±%.0f%%)", what, b, a, 100*d, 100*roundTripTolerance)
		}
	}
	spanA, spanB := spanOf(t, fileA, "_replay."), spanOf(t, fileB, "_replay.")
	t.Logf("recorded %d PUBs over %.3fs (%.0f/s), replayed over %.3fs at %.0f/s; %d deliveries both ways",
		sumA.Publishes, spanA, sumA.PubRate.Mean, spanB, rep.PubRate, rep.Received)
	within("PUB rate", sumA.PubRate.Mean, rep.PubRate)
	within("first-to-last PUB span", spanA, spanB)
}

// liveCounts is what the scripted workload sent and its subscribers got.
type liveCounts struct {
	published uint64
	topics    map[string]uint64            // topic → PUBs sent
	received  map[string]map[string]uint64 // subscriber name → topic → events
}

func (l liveCounts) total() (n uint64) {
	for _, m := range l.received {
		for _, c := range m {
			n += c
		}
	}
	return n
}

// runScriptedWorkload is a small platform host for about a second: a
// dashboard on >, a correlator that both subscribes and publishes (it
// never gets its own events), an agent on one topology, a collector
// publishing traffic in bursts on an absolute schedule, a mutator.
func runScriptedWorkload(t *testing.T, socket string) liveCounts {
	t.Helper()
	type sub struct {
		name     string
		patterns []string
	}
	subs := []sub{
		{"dashboard", []string{">"}},
		{"correlator", []string{"decky.*.traffic", "attacker.observed"}},
		{"agent", []string{"topology.t1.>"}},
	}
	live := liveCounts{topics: map[string]uint64{}, received: map[string]map[string]uint64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	conns := map[string]net.Conn{}
	for _, s := range subs {
		c := dialRaw(t, socket, s.name)
		for _, p := range s.patterns {
			writeFrame(t, c, codec.VerbSUB, p, nil)
		}
		conns[s.name] = c
		live.received[s.name] = map[string]uint64{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bufio.NewReader(c)
			for {
				topic, err := readEvent(r)
				if err != nil {
					return
				}
				mu.Lock()
				live.received[s.name][topic]++
				mu.Unlock()
			}
		}()
	}
	// Let the subscriptions land before anything is published: the
	// capture records them first, so the replay orders them the same.
	time.Sleep(100 * time.Millisecond)
	collector := dialRaw(t, socket, "collector")
	mutator := dialRaw(t, socket, "mutator")
	correlator := conns["correlator"]
	body := func(i int) []byte {
		return fmt.Appendf(nil, `{"v":1,"payload":{"n":%d,"pad":"%s"}}`, i, strings.Repeat("x", i%200))
	}
	pub := func(c net.Conn, topic string, i int) {
		writeFrame(t, c, codec.VerbPUB, topic, body(i))
		live.published++
		live.topics[topic]++
	}
	start := time.Now()
	for i := range 400 {
		// Bursts of 20 every 50ms: 400 events/s over a second.
		if i%20 == 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i/20) * 50 * time.Millisecond)))
		}
		pub(collector, fmt.Sprintf("decky.d%d.traffic", i%4), i)
		if i%40 == 0 {
			pub(correlator, "attacker.observed", i)
		}
		if i%100 == 0 {
			pub(mutator, fmt.Sprintf("topology.t%d.mutation.applied", 1+i/100%2), i)
		}
	}
	// Wait until every subscriber has what it is owed.
	want := map[string]uint64{"dashboard": live.published}
	for topic, n := range live.topics {
		if strings.HasPrefix(topic, "decky.") {
			want["correlator"] += n
		}
		if strings.HasPrefix(topic, "topology.t1.") {
			want["agent"] += n
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		done := true
		for name, n := range want {
			var got uint64
			for _, c := range live.received[name] {
				got += c
			}
			done = done && got == n
		}
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live subscribers did not get what they were owed: %v, want %v", live.received, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range []net.Conn{collector, mutator, conns["dashboard"], conns["correlator"], conns["agent"]} {
		c.Close()
	}
	wg.Wait()
	return live
}

func dialRaw(t *testing.T, socket, name string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	writeFrame(t, c, codec.VerbHELLO, name, nil)
	return c
}

func writeFrame(t *testing.T, c net.Conn, verb codec.Verb, args string, body []byte) {
	t.Helper()
	if _, err := c.Write(codec.AppendFrame(nil, verb, args, body)); err != nil {
		t.Fatal(err)
	}
}

// readEvent reads one EVT frame and returns its topic.
func readEvent(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", err
	}
	size := int(n[0])<<24 | int(n[1])<<16 | int(n[2])<<8 | int(n[3])
	if _, err := r.Discard(size); err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimPrefix(line, "EVT "), "\n"), nil
}

func inspectFile(t *testing.T, path string) *inspect.Summary {
	t.Helper()
	rd, err := capture.Open(path, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	s, err := inspect.Analyze(rd)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	rd, err := capture.Open(path, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rd.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// spanOf is the time from a capture's first PUB to its last, in seconds,
// leaving out topics with the given prefix.
func spanOf(t *testing.T, path, skip string) float64 {
	t.Helper()
	rd, err := capture.Open(path, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var rec capture.Record
	first, last := int64(-1), int64(0)
	for rd.Next(&rec) == nil {
		if rec.Kind != capture.KindPub || bytes.HasPrefix(rec.Text, []byte(skip)) {
			continue
		}
		if first < 0 {
			first = rec.Time
		}
		last = rec.Time
	}
	return float64(last-first) / 1e9
}
