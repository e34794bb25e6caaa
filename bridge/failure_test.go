package bridge_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"busd/bridge"
	"busd/internal/natstest"
)

// numbered is an envelope whose id encodes i, so that a receiver can tell
// which events arrived.
func numbered(topic string, i int) []byte {
	return fmt.Appendf(nil, `{"v": 1, "id": "%032x", "topic": %q, "type": "t", "ts": 1, "payload": {}}`, i, topic)
}

func idOf(i int) string { return fmt.Sprintf("%032x", i) }

// observer is a plain NATS subscriber that reconnects quickly.
func observer(t *testing.T, url, subject string, opts ...nats.Option) (*nats.Conn, *atomic.Int64, func(int) bool) {
	t.Helper()
	opts = append(opts, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond), nats.RetryOnFailedConnect(true))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	var n atomic.Int64
	seen := make(map[string]bool)
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) {
		<-mu
		i := strings.Index(string(m.Data), `"id": "`)
		if i >= 0 {
			seen[string(m.Data[i+7:i+39])] = true
		}
		mu <- struct{}{}
		n.Add(1)
	}); err != nil {
		t.Fatal(err)
	}
	has := func(i int) bool {
		<-mu
		defer func() { mu <- struct{}{} }()
		return seen[idOf(i)]
	}
	return nc, &n, has
}

// A NATS node killed mid-stream: the bridge fails over to another listed
// node and events keep flowing; what was lost in the switch is measured
// and reported.
func TestNodeKilledMidStream(t *testing.T) {
	c := natstest.RunCluster(t, 3)
	h1 := newHost(t, "h1")
	b := runBridge(t, h1, bridge.Config{NATS: []string{c.Nodes[0].URL(), c.Nodes[1].URL()},
		Rules: []bridge.Rule{{Pattern: "a.>", Direction: bridge.Export}}}, true)
	h1.waitConn("busd-bridge h1", "a.>")
	_, got, has := observer(t, c.Nodes[2].URL(), "a.>")
	c.WaitInterest(t, "a.x")

	victim := c.Nodes[0]
	if strings.Contains(b.Stats().NATSServer, strings.TrimPrefix(c.Nodes[1].URL(), "nats://")) {
		victim = c.Nodes[1]
	}
	pub := h1.dial("pub")
	const n, killAt = 3000, 1000
	var resumedAt int
	for i := range n {
		if i == killAt {
			victim.Shutdown()
		}
		if i > killAt && resumedAt == 0 && b.Stats().NATS == "connected" {
			resumedAt = i
		}
		if err := pub.PublishRaw(context.Background(), "a.x", numbered("a.x", i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "the bridge to reconnect", 10*time.Second, func() bool { return b.Stats().NATS == "connected" })
	waitFor(t, "the last event", 10*time.Second, func() bool { return has(n - 1) })
	time.Sleep(200 * time.Millisecond)
	st := b.Stats()
	lost := n - int(got.Load())
	// Lost: handed to nats.go (exported) but in its buffers or the
	// socket when the node died; the rest waited in the outbox.
	t.Logf("node killed after %d of %d events: %d lost (%.2f%%); exported %d, reconnects %d, connected again by event %d",
		killAt, n, lost, 100*float64(lost)/n, st.Exported, st.Reconnects, resumedAt)
	if st.Reconnects < 1 {
		t.Errorf("reconnects %d, want at least 1", st.Reconnects)
	}
	for i := max(resumedAt, killAt) + 50; i < n; i++ {
		if !has(i) {
			t.Fatalf("event %d, published after the failover, never arrived", i)
		}
	}
	if lost > n/10 {
		t.Errorf("lost %d of %d events in a failover", lost, n)
	}
}

// NATS down when the bridge starts, then back: the outbox holds the newest
// BufferEvents events, drops the older ones (counted), and delivers what it
// holds once NATS is up.
func TestNATSDownAtStartThenBack(t *testing.T) {
	s := natstest.RunServer(t)
	_, got, has := observer(t, s.URL(), "a.>")
	s.Shutdown()
	h1 := newHost(t, "h1")
	// A slow reconnect keeps the bridge away until the observer is back.
	b := runBridge(t, h1, bridge.Config{NATS: []string{s.URL()}, BufferEvents: 100,
		ReconnectMin: 2 * time.Second, ReconnectMax: 2 * time.Second,
		Rules: []bridge.Rule{{Pattern: "a.>", Direction: bridge.Export}}}, false)
	h1.waitConn("busd-bridge h1", "a.>")
	pub := h1.dial("pub")
	const n = 300
	for i := range n {
		if err := pub.PublishRaw(context.Background(), "a.x", numbered("a.x", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the outbox to fill", 10*time.Second, func() bool {
		st := b.Stats()
		return st.BufferedEvents == 100 && st.ExportDropped.Full == n-100
	})
	if st := b.Stats(); st.NATS == "connected" || st.Exported != 0 {
		t.Fatalf("with NATS down: %+v", st)
	}
	s.Restart()
	s.WaitInterest(t, "a.x")
	if b.Stats().NATS == "connected" {
		t.Fatal("the bridge reconnected before the observer: the test cannot tell what was delivered")
	}
	waitFor(t, "the buffered events", 15*time.Second, func() bool { return got.Load() == 100 })
	for i := n - 100; i < n; i++ {
		if !has(i) {
			t.Errorf("buffered event %d not delivered", i)
		}
	}
	st := b.Stats()
	if st.Exported != 100 || st.BufferedEvents != 0 || st.ExportDropped.Full != n-100 {
		t.Errorf("after NATS came back: %+v", st)
	}
}

// Events that waited longer than the age bound are dropped, not sent late.
func TestBufferAgeBound(t *testing.T) {
	s := natstest.RunServer(t)
	h1 := newHost(t, "h1")
	b := runBridge(t, h1, bridge.Config{NATS: []string{s.URL()}, BufferAge: 200 * time.Millisecond,
		Rules: []bridge.Rule{{Pattern: "a.>", Direction: bridge.Export}}}, true)
	h1.waitConn("busd-bridge h1", "a.>")
	s.Shutdown()
	waitFor(t, "the bridge to notice", 10*time.Second, func() bool { return b.Stats().NATS != "connected" })
	pub := h1.dial("pub")
	for i := range 50 {
		_ = pub.PublishRaw(context.Background(), "a.x", numbered("a.x", i))
	}
	waitFor(t, "the outbox", 5*time.Second, func() bool { return b.Stats().BufferedEvents == 50 })
	time.Sleep(400 * time.Millisecond)
	s.Restart()
	waitFor(t, "the stale events dropped", 10*time.Second, func() bool { return b.Stats().ExportDropped.TooOld == 50 })
	if st := b.Stats(); st.Exported != 0 {
		t.Errorf("exported %d stale events", st.Exported)
	}
}

// The daemon restarted under the bridge: the bridge's client reconnects
// and subscribes again, and events cross both ways as before. Imports that
// arrive while the daemon is down are counted as dropped.
func TestBusRestartedUnderBridge(t *testing.T) {
	s := natstest.RunServer(t)
	h1, h2 := newHost(t, "h1"), newHost(t, "h2")
	sub1, err := h1.dial("sub").Subscribe("a.>")
	if err != nil {
		t.Fatal(err)
	}
	sub2, err := h2.dial("sub").Subscribe("a.>")
	if err != nil {
		t.Fatal(err)
	}
	b1 := runBridge(t, h1, share("a.>", s.URL()), true)
	runBridge(t, h2, share("a.>", s.URL()), true)
	h2.waitConn("busd-bridge h2", "a.>")

	h1.stop()
	waitFor(t, "the bridge to see the bus go", 10*time.Second, func() bool { return b1.Stats().Bus != "connected" })
	pub2 := h2.dial("pub")
	for i := range 10 {
		_ = pub2.PublishRaw(context.Background(), "a.lost", numbered("a.lost", 1000+i))
	}
	waitFor(t, "imports while the bus is down counted", 10*time.Second, func() bool { return b1.Stats().ImportDropped.BusUnavailable == 10 })

	h1.start()
	h1.waitConn("busd-bridge h1", "a.>")
	h1.waitConn("sub", "a.>")
	s.WaitInterest(t, "a.x")
	c1, c2 := collect(t, sub1), collect(t, sub2)
	pub1 := h1.dial("pub")
	const n = 100
	for i := range n {
		if err := pub1.PublishRaw(context.Background(), "a.one", numbered("a.one", i)); err != nil {
			t.Fatal(err)
		}
		if err := pub2.PublishRaw(context.Background(), "a.two", numbered("a.two", n+i)); err != nil {
			t.Fatal(err)
		}
	}
	c1.waitExactly(t, "subscriber on h1", 2*n)
	c2.waitExactly(t, "subscriber on h2", 2*n+10) // and its own host's a.lost
}
