package engine

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"busd/capture"
	"busd/codec"
)

// readCapture reads every record of a complete capture file (copied).
func readCapture(t *testing.T, path string) (capture.Header, []capture.Record, capture.Footer) {
	t.Helper()
	rd, err := capture.Open(path, capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []capture.Record
	var rec capture.Record
	for {
		err := rd.Next(&rec)
		if err == io.EOF {
			f, _ := rd.Footer()
			return rd.Header(), out, f
		}
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		c := rec
		c.Text, c.Body = bytes.Clone(rec.Text), bytes.Clone(rec.Body)
		out = append(out, c)
	}
}

// connID is the daemon's id of the connection that last said HELLO name.
func connID(t *testing.T, s *Server, name string) uint64 {
	t.Helper()
	for _, c := range s.Connections() {
		if c.Name == name {
			return c.ID
		}
	}
	t.Fatalf("no connection named %q", name)
	return 0
}

// A capture sees every frame a client sends and every connection's life,
// from the daemon's side: connections and subscriptions that predate it
// are in the header, PUBs are recorded as published (even those nobody
// receives), a hostile close and a slow subscriber's stall and drops too.
func TestCaptureRecordsTheDaemonsTraffic(t *testing.T) {
	env := startServer(t, func(c *Config) {
		c.Loops = 2
		c.RingEvents, c.HighWater = 16, 4096
	})
	dash := env.dial()
	dash.send(codec.VerbHELLO, "dashboard", "")
	dash.sub(">")
	dashID := connID(t, env.srv, "dashboard")

	path := filepath.Join(t.TempDir(), "c.buscap")
	if _, err := env.srv.StartCapture(capture.Options{Path: path, Host: "test", LaneBytes: 4 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.srv.StartCapture(capture.Options{Path: path + "2"}); err != ErrCaptureRunning {
		t.Fatalf("a second capture: %v, want ErrCaptureRunning", err)
	}

	pub := env.dial()
	pub.send(codec.VerbHELLO, "collector", "")
	sub := env.dial()
	sub.send(codec.VerbHELLO, "correlator", "")
	sub.sub("decky.*.state")
	slow := env.dial() // never reads: stalls, then drops
	slow.send(codec.VerbHELLO, "slow", "")
	slow.sub("bulk.>")
	env.sync()
	pubID, subID, slowID := connID(t, env.srv, "collector"), connID(t, env.srv, "correlator"), connID(t, env.srv, "slow")

	const events = 10 // fewer than RingEvents: the subscriber loses none
	for i := range events {
		pub.send(codec.VerbPUB, fmt.Sprintf("decky.d%d.state", i%3), envelope(i))
	}
	pub.send(codec.VerbPUB, "nobody.listens", "")
	for i := range events {
		sub.expect(fmt.Sprintf("decky.d%d.state", i%3), envelope(i))
	}
	big := `{"pad": "` + strings.Repeat("x", 8000) + `"}`
	for range 200 {
		pub.send(codec.VerbPUB, "bulk.data", big)
	}
	env.sync()
	sub.send(codec.VerbUNSUB, "decky.*.state", "")
	sub.send(codec.VerbBYE, "", "")
	sub.expectClosed(5 * time.Second)
	hostile := env.dial()
	hostile.raw([]byte("NOPE\n\x00\x00\x00\x00"))
	hostile.expectClosed(5 * time.Second)
	env.sync()
	// What the slow subscriber's loop noticed reaches the lanes when its
	// backlog is retried; give the ticker a few rounds.
	deadline := time.Now().Add(5 * time.Second)
	for env.srv.Stats().Dropped == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}

	st, ok := env.srv.StopCapture()
	if !ok || st.Running || st.Reason != "stopped" || st.Error != "" {
		t.Fatalf("status %+v", st)
	}
	h, recs, foot := readCapture(t, path)
	if len(h.Conns) != 1 || h.Conns[0].Conn != dashID || h.Conns[0].Name != "dashboard" || fmt.Sprint(h.Conns[0].Patterns) != "[>]" {
		t.Errorf("header conns %+v, want the dashboard and its >", h.Conns)
	}

	byConn := map[uint64][]string{}
	var pubBodies []string
	stalled, dropped := false, uint64(0)
	var hostileClose *capture.Record
	for i := range recs {
		r := &recs[i]
		switch r.Kind {
		case capture.KindPub:
			if r.Conn == pubID && !strings.HasPrefix(string(r.Text), "bulk.") {
				pubBodies = append(pubBodies, string(r.Text)+" "+string(r.Body))
			}
			continue
		case capture.KindOut:
			if r.Conn == slowID {
				stalled = stalled || r.State == capture.OutStalled
				dropped = max(dropped, r.Drops)
			}
			continue
		case capture.KindClose:
			if r.ProtocolError {
				hostileClose = r
			}
		}
		byConn[r.Conn] = append(byConn[r.Conn], r.Kind.String()+" "+string(r.Text))
	}
	if len(pubBodies) != events+1 {
		t.Fatalf("%d PUBs of the collector recorded, want %d", len(pubBodies), events+1)
	}
	for i := range events {
		if want := fmt.Sprintf("decky.d%d.state %s", i%3, envelope(i)); pubBodies[i] != want {
			t.Errorf("PUB %d recorded as %q, want %q", i, pubBodies[i], want)
		}
	}
	if pubBodies[events] != "nobody.listens " {
		t.Errorf("the unheard PUB recorded as %q", pubBodies[events])
	}
	if got := fmt.Sprint(byConn[subID]); got != "[open  hello correlator sub decky.*.state unsub decky.*.state bye  close ]" {
		t.Errorf("the subscriber's records: %s", got)
	}
	if got := fmt.Sprint(byConn[pubID]); got != "[open  hello collector]" {
		t.Errorf("the publisher's records: %s", got)
	}
	if hostileClose == nil {
		t.Error("no close with a protocol error recorded for the hostile connection")
	}
	if !stalled || dropped == 0 {
		t.Errorf("slow subscriber: stalled %v, drops %d recorded; want a stall and drops", stalled, dropped)
	}
	if foot.DaemonDrops == 0 || st.DaemonDrops == 0 {
		t.Errorf("daemon drops: footer %d, status %d; want both > 0", foot.DaemonDrops, st.DaemonDrops)
	}
	if foot.Publishes != st.Publishes || foot.Records != st.Records || st.RecorderDrops != 0 {
		t.Errorf("footer %+v and status %+v disagree (or the recorder dropped)", foot, st)
	}
	if again, _ := env.srv.CaptureStatus(); again.ID != st.ID || again.Running {
		t.Errorf("status after the end: %+v", again)
	}
}

// Shape mode keeps sizes, not bodies; topic filters keep only matching
// PUBs and every subscription.
func TestCaptureShapeAndFilter(t *testing.T) {
	env := startServer(t, nil)
	path := filepath.Join(t.TempDir(), "c.buscap")
	if _, err := env.srv.StartCapture(capture.Options{Path: path, Payload: capture.PayloadShape, Topics: []string{"decky.>"}}); err != nil {
		t.Fatal(err)
	}
	w := env.dial()
	w.send(codec.VerbSUB, "system.>", "")
	w.send(codec.VerbPUB, "decky.d1.state", envelope(1))
	w.send(codec.VerbPUB, "system.log", envelope(2))
	env.sync()
	env.srv.StopCapture()
	h, recs, _ := readCapture(t, path)
	if h.Payload != capture.PayloadShape || fmt.Sprint(h.Topics) != "[decky.>]" {
		t.Errorf("header: payload %v, topics %v", h.Payload, h.Topics)
	}
	var got []string
	for _, r := range recs {
		if r.Kind == capture.KindPub || r.Kind == capture.KindSub {
			got = append(got, fmt.Sprintf("%s %s %d %q", r.Kind, r.Text, r.Size, r.Body))
		}
	}
	want := fmt.Sprintf(`[sub system.> 0 "" pub decky.d1.state %d ""]`, len(envelope(1)))
	if fmt.Sprint(got) != want {
		t.Errorf("records %v, want %s", got, want)
	}
}

// A daemon that shuts down while a capture runs ends it first: the file is
// complete, with every connection's close. (The check is a cleanup
// registered before the daemon's, so it runs after the harness has shut
// the daemon down.)
func TestCaptureEndsAtShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.buscap")
	t.Cleanup(func() {
		_, recs, foot := readCapture(t, path)
		if foot.Reason != "stopped" {
			t.Errorf("footer reason %q", foot.Reason)
		}
		if n := len(recs); n == 0 || recs[n-1].Kind != capture.KindClose {
			t.Errorf("the last record is not the connection's close: %+v", recs)
		}
	})
	env := startServer(t, nil)
	if _, err := env.srv.StartCapture(capture.Options{Path: path}); err != nil {
		t.Fatal(err)
	}
	w := env.dial()
	w.send(codec.VerbHELLO, "last", "")
	env.sync()
}
