package bridge_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"busd/bridge"
	"busd/internal/natstest"
)

// share is the rule set of the example: both hosts run
// "busd bridge --export 'a.>' --import 'a.>'".
func share(pattern string, urls ...string) bridge.Config {
	return bridge.Config{NATS: urls, Rules: []bridge.Rule{
		{Pattern: pattern, Direction: bridge.Export},
		{Pattern: pattern, Direction: bridge.Import},
	}}
}

// bridged waits until every host's daemon shows its bridge with the export
// patterns, and every NATS node knows of the import subscriptions: from
// then on an event published anywhere reaches every host.
func bridged(t *testing.T, c *natstest.Cluster, subject string, hosts ...*host) {
	t.Helper()
	for _, h := range hosts {
		h.waitConn("busd-bridge "+h.name, "a.>")
	}
	c.WaitInterest(t, subject)
}

// publishAll publishes n events on each host: half through the Go client,
// half as a deployed client's frames.
func publishAll(t *testing.T, n int, hosts ...*host) {
	t.Helper()
	for _, h := range hosts {
		pub := h.dial("pub-" + h.name)
		raw := h.rawPublisher()
		for i := range n {
			topic := fmt.Sprintf("a.%s.%d", h.name, i%7)
			if i%2 == 0 {
				if err := pub.PublishRaw(context.Background(), topic, envelope(topic, i)); err != nil {
					t.Fatal(err)
				}
			} else {
				raw.publish(t, topic, envelope(topic, i))
			}
		}
	}
}

// Two hosts share a.> both ways: each event reaches every subscriber of
// both hosts exactly once, its own host's from the daemon, the other's
// through NATS, never again through NATS.
func TestTwoHostsShareBothWays(t *testing.T) {
	c := natstest.RunCluster(t, 3)
	hosts := []*host{newHost(t, "h1"), newHost(t, "h2")}
	var subs []*collector
	for i, h := range hosts {
		s, err := h.dial("sub").Subscribe("a.>")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, collect(t, s))
		runBridge(t, h, share("a.>", c.Nodes[i].URL()), true)
	}
	bridged(t, c, "a.x", hosts...)
	const n = 400
	publishAll(t, n, hosts...)
	for i, s := range subs {
		s.waitExactly(t, "subscriber on "+hosts[i].name, 2*n)
		for _, h := range hosts {
			if got := s.topics[fmt.Sprintf("a.%s.0", h.name)]; got == 0 {
				t.Errorf("subscriber on %s got nothing on a.%s.0", hosts[i].name, h.name)
			}
		}
	}
}

// Three hosts in a triangle, each bridged to its own node: every event
// reaches each of the three subscribers exactly once.
func TestTriangleExactlyOnce(t *testing.T) {
	c := natstest.RunCluster(t, 3)
	hosts := []*host{newHost(t, "h1"), newHost(t, "h2"), newHost(t, "h3")}
	var subs []*collector
	var bridges []*bridge.Bridge
	for i, h := range hosts {
		s, err := h.dial("sub").Subscribe("a.>")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, collect(t, s))
		bridges = append(bridges, runBridge(t, h, share("a.>", c.Nodes[i].URL()), true))
	}
	bridged(t, c, "a.x", hosts...)
	const n = 300
	publishAll(t, n, hosts...)
	for i, s := range subs {
		s.waitExactly(t, "subscriber on "+hosts[i].name, 3*n)
	}
	for i, b := range bridges {
		st := b.Stats()
		if st.Exported != n || st.Imported != 2*n {
			t.Errorf("%s: exported %d imported %d, want %d and %d", hosts[i].name, st.Exported, st.Imported, n, 2*n)
		}
		if st.ImportDropped != (bridge.ImportDrops{}) || st.ExportDropped != (bridge.ExportDrops{}) {
			t.Errorf("%s dropped: %+v %+v", hosts[i].name, st.ExportDropped, st.ImportDropped)
		}
	}
}

// The platform's rules: agents export their traffic under hosts.<id>, the
// master imports every agent's under the local name it had, and sends its
// mutations to the agent they name; each event arrives under the right
// topic, on the right host only.
func TestPlatformPrefixes(t *testing.T) {
	c := natstest.RunCluster(t, 3)
	master, a1, a2 := newHost(t, "master"), newHost(t, "a1"), newHost(t, "a2")
	traffic, err := master.dial("dashboard").Subscribe("decky.*.traffic")
	if err != nil {
		t.Fatal(err)
	}
	dash := collect(t, traffic)
	runBridge(t, master, bridge.Config{NATS: []string{c.Nodes[0].URL()}, Rules: []bridge.Rule{
		{Pattern: "decky.*.traffic", Direction: bridge.Import, RemotePrefix: "hosts.*"},
		{Pattern: "topology.*.mutation.>", Direction: bridge.Export, RemotePrefix: "to"},
	}}, true)
	var agentSubs []*collector
	for i, a := range []*host{a1, a2} {
		s, err := a.dial("mutator").Subscribe("topology.>")
		if err != nil {
			t.Fatal(err)
		}
		agentSubs = append(agentSubs, collect(t, s))
		runBridge(t, a, bridge.Config{NATS: []string{c.Nodes[i+1].URL()}, Rules: []bridge.Rule{
			{Pattern: "decky.*.traffic", Direction: bridge.Export, RemotePrefix: "hosts.{host}"},
			// Each agent imports the mutations of its own topology only.
			{Pattern: "topology." + a.name + ".mutation.>", Direction: bridge.Import, RemotePrefix: "to"},
		}}, true)
		a.waitConn("busd-bridge "+a.name, "decky.*.traffic")
	}
	master.waitConn("busd-bridge master", "topology.*.mutation.>")
	c.WaitInterest(t, "hosts.a1.decky.d1.traffic")
	c.WaitInterest(t, "to.topology.a1.mutation.applied")
	c.WaitInterest(t, "to.topology.a2.mutation.applied")

	ctx := context.Background()
	for i, a := range []*host{a1, a2} {
		topic := fmt.Sprintf("decky.d%d.traffic", i+1)
		if err := a.dial("collector").PublishRaw(ctx, topic, envelope(topic, i)); err != nil {
			t.Fatal(err)
		}
	}
	mut := master.dial("orchestrator")
	for _, topic := range []string{"topology.a1.mutation.applied", "topology.a2.mutation.enqueued", "topology.a2.mutation.applied"} {
		if err := mut.PublishRaw(ctx, topic, envelope(topic, 0)); err != nil {
			t.Fatal(err)
		}
	}
	dash.waitExactly(t, "the master's dashboard", 2)
	agentSubs[0].waitExactly(t, "a1's mutator", 1)
	agentSubs[1].waitExactly(t, "a2's mutator", 2)
	for want, c := range map[string]*collector{
		"decky.d1.traffic": dash, "decky.d2.traffic": dash,
		"topology.a1.mutation.applied": agentSubs[0], "topology.a2.mutation.enqueued": agentSubs[1],
	} {
		c.mu.Lock()
		n := c.topics[want]
		c.mu.Unlock()
		if n != 1 {
			t.Errorf("%s arrived %d times where it belongs", want, n)
		}
	}
}

// Two bridges on one host (here an import-only one beside the usual pair
// of rules): what one imports, the other never exports again, since the
// daemon delivers nothing a bridge publishes to a bridge. Each event still
// arrives twice on that host (both bridges import it: a configuration to
// avoid), but it never comes back, and nothing loops.
func TestSecondBridgeOnAHostCannotLoop(t *testing.T) {
	s := natstest.RunServer(t)
	h1, h2 := newHost(t, "h1"), newHost(t, "h2")
	var subs []*collector
	for _, h := range []*host{h1, h2} {
		sub, err := h.dial("sub").Subscribe("a.>")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, collect(t, sub))
	}
	runBridge(t, h1, share("a.>", s.URL()), true)
	b2 := runBridge(t, h2, share("a.>", s.URL()), true)
	runBridge(t, h2, bridge.Config{HostID: "h2-second", NATS: []string{s.URL()},
		Rules: []bridge.Rule{{Pattern: "a.>", Direction: bridge.Import}}}, true)
	h1.waitConn("busd-bridge h1", "a.>")
	h2.waitConn("busd-bridge h2", "a.>")
	s.WaitInterest(t, "a.x")

	const n = 50
	pub := h1.dial("pub")
	for i := range n {
		if err := pub.PublishRaw(context.Background(), "a.x", numbered("a.x", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "h2's subscriber", 10*time.Second, func() bool { return subs[1].count() >= 2*n })
	time.Sleep(500 * time.Millisecond) // a loop would keep them coming
	if got := subs[1].count(); got != 2*n {
		t.Errorf("h2's subscriber got %d events, want %d (each from both of its bridges)", got, 2*n)
	}
	if got := subs[0].count(); got != n {
		t.Errorf("h1's subscriber got %d events, want its own %d only", got, n)
	}
	if st := b2.Stats(); st.Exported != 0 {
		t.Errorf("h2's bridge exported %d events that another bridge imported", st.Exported)
	}
}
