package bridge_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"busd/bridge"
	"busd/internal/natstest"
)

// What the bridge refuses to carry is dropped, counted by cause, and
// never reaches the bus: its own host's messages, those past the hop
// limit, bodies the bus would refuse, subjects with no bus topic, and
// local topics with no NATS subject.
func TestRefusedMessagesCounted(t *testing.T) {
	s := natstest.RunServer(t)
	h := newHost(t, "h1")
	sub, err := h.dial("sub").Subscribe("in.>")
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, sub)
	b := runBridge(t, h, bridge.Config{NATS: []string{s.URL()}, MaxHops: 3, Rules: []bridge.Rule{
		{Pattern: "in.>", Direction: bridge.Import},
		{Pattern: "out.>", Direction: bridge.Export},
	}}, true)
	h.waitConn("busd-bridge h1", "out.>")
	s.WaitInterest(t, "in.x")
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	send := func(subject string, hdr nats.Header, body string) {
		t.Helper()
		if err := nc.PublishMsg(&nats.Msg{Subject: subject, Header: hdr, Data: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	ok := string(numbered("in.ok", 1))
	send("in.loop", nats.Header{bridge.HeaderOrigin: {"h1"}, bridge.HeaderHops: {"1"}}, ok)
	send("in.hops", nats.Header{bridge.HeaderOrigin: {"h9"}, bridge.HeaderHops: {"4"}}, ok)
	send("in.badhops", nats.Header{bridge.HeaderOrigin: {"h9"}, bridge.HeaderHops: {"many"}}, ok)
	send("in.body", nil, `not json`)
	send("in.body", nil, `[1, 2]`)
	send("in.caf\xc3\xa9", nil, ok)
	send("in.ok", nats.Header{bridge.HeaderOrigin: {"h9"}, bridge.HeaderHops: {"3"}}, ok)
	send("in.plain", nil, string(numbered("in.plain", 2))) // a NATS publisher, no headers
	send("in.empty", nil, "")                              // an empty body is a valid event
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the imports", 10*time.Second, func() bool {
		st := b.Stats()
		return st.Imported == 3 && st.ImportDropped.InvalidTopic == 1
	})
	got.waitExactly(t, "the local subscriber", 3)
	want := bridge.ImportDrops{Loop: 1, Hops: 2, InvalidBody: 2, InvalidTopic: 1}
	if st := b.Stats(); st.ImportDropped != want {
		t.Errorf("import drops %+v, want %+v", st.ImportDropped, want)
	}

	// Local topics NATS cannot carry.
	pub := h.dial("pub")
	for _, topic := range []string{"out..x", "out.", "out.*.x"} {
		if err := pub.PublishRaw(context.Background(), topic, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "export drops", 10*time.Second, func() bool { return b.Stats().ExportDropped.InvalidSubject == 3 })
}

// The bridge announces its NATS connection on the local bus, and serves
// its state on its admin socket.
func TestStateEventsAndAdmin(t *testing.T) {
	s := natstest.RunServer(t)
	h := newHost(t, "h1")
	events, err := h.dial("watch").Subscribe(bridge.StateTopic)
	if err != nil {
		t.Fatal(err)
	}
	b := runBridge(t, h, bridge.Config{NATS: []string{s.URL()}, Rules: exportRule}, true)
	next := func() map[string]any {
		t.Helper()
		select {
		case ev := <-events.C():
			var p map[string]any
			if err := json.Unmarshal(ev.Payload, &p); err != nil || ev.Type != "bus.bridge" {
				t.Fatalf("state event %s: %v", ev.Body, err)
			}
			return p
		case <-time.After(10 * time.Second):
			t.Fatal("no state event")
		}
		return nil
	}
	if p := next(); p["nats"] != "up" || p["host_id"] != "h1" {
		t.Errorf("first event %v", p)
	}
	s.Shutdown()
	if p := next(); p["nats"] != "down" {
		t.Errorf("after the server stopped: %v", p)
	}
	s.Restart()
	if p := next(); p["nats"] != "up" || p["reconnects"] != float64(1) {
		t.Errorf("after the server came back: %v", p)
	}

	path := filepath.Join(t.TempDir(), "bridge.admin")
	a, err := bridge.ListenAdmin(path, b, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve()
	defer a.Shutdown(context.Background())
	hc := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	res, err := hc.Get("http://bridge/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		"busd_bridge_nats_up 1", "busd_bridge_bus_up 1", "busd_bridge_reconnects_total 1",
		`busd_bridge_dropped_total{direction="export",cause="buffer_full"} 0`,
		`busd_bridge_dropped_total{direction="import",cause="slow_consumer"} 0`,
		"busd_bridge_buffered_events 0", "process_cpu_seconds_total",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	res, err = hc.Get("http://bridge/statsz")
	if err != nil {
		t.Fatal(err)
	}
	var st bridge.Stats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || st.HostID != "h1" || st.NATS != "connected" {
		t.Errorf("/statsz: %+v %v", st, err)
	}
	res.Body.Close()
}

// A bridge that cannot keep up with an import: NATS's client drops beyond
// the pending limit, and every message is either imported or counted as
// slow consumption, none unaccounted for.
func TestSlowImportCounted(t *testing.T) {
	s := natstest.RunServer(t)
	h := newHost(t, "h1")
	b := runBridge(t, h, bridge.Config{NATS: []string{s.URL()}, ImportPendingMsgs: 1, ImportPendingBytes: 1 << 20,
		Rules: []bridge.Rule{{Pattern: "in.>", Direction: bridge.Import}}}, true)
	s.WaitInterest(t, "in.x")
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const n = 20000
	body := numbered("in.x", 0)
	for range n {
		if err := nc.Publish("in.x", body); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every message accounted for", 20*time.Second, func() bool {
		st := b.Stats()
		return st.Imported+st.ImportDropped.SlowConsumer == n
	})
	st := b.Stats()
	t.Logf("%d imported, %d dropped as slow consumption", st.Imported, st.ImportDropped.SlowConsumer)
	if st.ImportDropped.SlowConsumer == 0 {
		t.Error("a pending limit of one message never dropped anything: the test did not exercise slow consumption")
	}
}
