package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"busd/capture"
	"busd/capture/inspect"
)

const committed = "../captures/platform.buscap"

// readAll is a capture's header and records, Text and Body copied.
func readAll(t *testing.T, rd *capture.Reader) (capture.Header, []capture.Record) {
	t.Helper()
	defer rd.Close()
	var recs []capture.Record
	var r capture.Record
	for {
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c := r
		c.Text, c.Body = slices.Clone(r.Text), slices.Clone(r.Body)
		recs = append(recs, c)
	}
	return rd.Header(), recs
}

func generated(t *testing.T, cfg config) (capture.Header, []capture.Record) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := generate(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	rd, err := capture.NewReader(&buf, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return readAll(t, rd)
}

func sameRecords(t *testing.T, what string, a, b []capture.Record) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d records against %d", what, len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind != y.Kind || x.Time != y.Time || x.Conn != y.Conn || !bytes.Equal(x.Text, y.Text) || x.Size != y.Size ||
			x.State != y.State || x.BytesOut != y.BytesOut || x.EventsOut != y.EventsOut || x.Drops != y.Drops {
			t.Fatalf("%s: record %d differs: %+v against %+v", what, i, x, y)
		}
	}
}

// The committed capture is what the generator writes with its defaults:
// a change to the generator must regenerate it (go generate ./bench/capgen).
func TestCommittedCaptureIsRegenerated(t *testing.T) {
	rd, err := capture.Open(committed, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantH, want := readAll(t, rd)
	gotH, got := generated(t, defaultConfig())
	if !gotH.Start.Equal(wantH.Start) || len(gotH.Conns) != len(wantH.Conns) {
		t.Fatalf("header %+v, committed %+v", gotH, wantH)
	}
	sameRecords(t, "regenerated against committed", got, want)
}

func TestSameSeedSameRecords(t *testing.T) {
	cfg := config{Seed: 7, Duration: 5 * time.Second, Topologies: 1, Deckies: 3}
	_, a := generated(t, cfg)
	_, b := generated(t, cfg)
	sameRecords(t, "two runs of one seed", a, b)
	cfg.Seed = 8
	_, c := generated(t, cfg)
	if len(c) == len(a) && slices.EqualFunc(a, c, func(x, y capture.Record) bool { return x.Time == y.Time }) {
		t.Fatal("another seed gave the same records")
	}
}

// The committed capture has the platform's shape.
func TestCommittedCaptureShape(t *testing.T) {
	rd, err := capture.Open(committed, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	s, err := inspect.Analyze(rd)
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	if !s.Complete || s.Payload != "shape" || time.Duration(s.DurationNs) != cfg.Duration {
		t.Fatalf("complete %v, payload %s, duration %v", s.Complete, s.Payload, time.Duration(s.DurationNs))
	}
	if fi, err := os.Stat(committed); err != nil || fi.Size() > 2<<20 {
		t.Fatalf("committed file: %v, over 2 MiB or unreadable", err)
	}
	p := newPlatform(cfg)
	for _, ds := range p.deckies {
		states := uint64(0)
		for _, d := range ds {
			if s.Topics["decky."+d+".traffic"] == 0 {
				t.Errorf("decky %s: no traffic", d)
			}
			states += s.Topics["decky."+d+".state"]
		}
		// Rare: a few per decky over the capture.
		if states == 0 || states > uint64(len(ds))*uint64(cfg.Duration/stateMean)*3 {
			t.Errorf("deckies %v: %d state changes", ds, states)
		}
	}
	for topo := range cfg.Topologies {
		id := topologyID(topo)
		if s.Topics["topology."+id+".status"] == 0 || s.Topics["topology."+id+".mutation.enqueued"] == 0 ||
			s.Topics["topology."+id+".mutation.applied"] == 0 {
			t.Errorf("topology %s: no status or mutations", id)
		}
	}
	for _, topic := range []string{"attacker.observed", "system.log"} {
		if s.Topics[topic] == 0 {
			t.Errorf("no %s events", topic)
		}
	}
	// Traffic dominates; mutations are rare.
	traffic, mutations := uint64(0), uint64(0)
	for topic, n := range s.Topics {
		if filepath.Ext(topic) == ".traffic" {
			traffic += n
		}
		if m, _ := filepath.Match("topology.*.mutation.*", topic); m {
			mutations += n
		}
	}
	if traffic < s.Publishes*9/10 || mutations == 0 || mutations > s.Publishes/1000 {
		t.Errorf("traffic %d, mutations %d of %d publishes", traffic, mutations, s.Publishes)
	}
	// A few thousand events per second on average, in bursts.
	if s.PubRate.Mean < 2000 || s.PubRate.Mean > 5000 || s.PubRate.Max < 2*s.PubRate.Median {
		t.Errorf("pub rate %+v: not a few thousand per second in bursts", s.PubRate)
	}
	if s.BodySizes.Min < 150 || s.BodySizes.Max > 1500 || s.BodySizes.P90 < 2*s.BodySizes.Min {
		t.Errorf("body sizes %+v", s.BodySizes)
	}
	// The dashboard and the archiver see every event.
	patterns := map[string]inspect.Subscription{}
	for _, sub := range s.Subscriptions {
		patterns[sub.Pattern] = sub
	}
	if all := patterns[">"]; all.Subscribers != 2 || all.Deliveries != 2*s.Publishes {
		t.Errorf("pattern >: %+v for %d publishes", all, s.Publishes)
	}
	for _, pat := range []string{"decky.*.traffic", "attacker.observed", "topology.*.mutation.>", "system.bus.health"} {
		if patterns[pat].Subscribers == 0 {
			t.Errorf("nobody subscribes to %s", pat)
		}
	}
	// Two slow readers, read at their pace, with drops.
	if len(s.SlowReaders) != 2 {
		t.Fatalf("slow readers %+v", s.SlowReaders)
	}
	for _, sr := range s.SlowReaders {
		pace := p.archiver.pace
		if sr.Name == p.siem.name {
			pace = p.siem.pace
		}
		if sr.BytesPerSecond < 0.95*pace || sr.BytesPerSecond > 1.05*pace || sr.Drops == 0 || sr.Stalls < 2 {
			t.Errorf("slow reader %+v: pace not %.0f, or no drops", sr, pace)
		}
	}
	if s.Connections.Opens != 1 || s.Connections.Closes != 1 {
		t.Errorf("connections %+v: the operator's busd sub did not come and go", s.Connections)
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"--duration", "0s"}, &stderr); code != 2 {
		t.Errorf("--duration 0s: exit %d", code)
	}
	out := filepath.Join(t.TempDir(), "small.buscap")
	if code := run([]string{"--duration", "2s", "--topologies", "1", "--deckies", "2", "--out", out}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	rd, err := capture.Open(out, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, recs := readAll(t, rd)
	if len(recs) == 0 || h.Payload != capture.PayloadShape {
		t.Fatalf("%d records, payload %v", len(recs), h.Payload)
	}
}
