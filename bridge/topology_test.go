package bridge_test

import (
	"context"
	"fmt"
	"testing"

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
