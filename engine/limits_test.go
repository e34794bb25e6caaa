package engine

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"busd/codec"
)

// refusal is the payload of a system.bus.refused notice.
type refusal struct {
	Pattern string `json:"pattern"`
	Reason  string `json:"reason"`
	Limit   int    `json:"limit"`
	Refused uint64 `json:"refused"`
}

// expectRefusal reads the next event, which must be a refusal notice, and
// returns its payload.
func (w *wire) expectRefusal() refusal {
	w.t.Helper()
	ev, err := w.next(5 * time.Second)
	if err != nil {
		w.t.Fatalf("waiting for a refusal notice: %v", err)
	}
	var env struct {
		Type    string  `json:"type"`
		Topic   string  `json:"topic"`
		Payload refusal `json:"payload"`
	}
	if ev.topic != string(refusedTopic) {
		w.t.Fatalf("got %s %s, want a refusal notice", ev.topic, ev.body)
	}
	if err := json.Unmarshal([]byte(ev.body), &env); err != nil || env.Type != "bus.refused" || env.Topic != string(refusedTopic) {
		w.t.Fatalf("refusal notice %s: %v", ev.body, err)
	}
	return env.Payload
}

// A connection over its pattern limit keeps its connection and the patterns
// it has; the extra SUBs are refused, counted and noticed; a duplicate SUB
// does not count; an UNSUB makes room. A healthy pair beside it is served
// throughout.
func TestPatternLimitPerConnection(t *testing.T) {
	const limit = 5
	e := startServer(t, func(c *Config) { c.MaxPatternsPerConn = limit })
	sub, pub := e.dial(), e.dial()
	sub.sub("healthy")

	greedy := e.dial()
	// The notice topic is one of its patterns: it asked for notices.
	greedy.sub(string(refusedTopic), "p.1", "p.2", "p.3", "p.4")
	greedy.sub("p.1", "p.2") // duplicates: still 5 patterns
	if st := e.srv.Stats(); st.SubsRefusedConnLimit != 0 || st.Subscriptions != 6 {
		t.Fatalf("at the limit: refused %d, subscriptions %d; want 0 and 6", st.SubsRefusedConnLimit, st.Subscriptions)
	}
	greedy.sub("p.5")
	r := greedy.expectRefusal()
	if r.Pattern != "p.5" || r.Reason != refusedPerConn || r.Limit != limit || r.Refused != 1 {
		t.Errorf("notice %+v, want pattern p.5, reason %s, limit %d, refused 1", r, refusedPerConn, limit)
	}
	// More refusals within refusalEvery are counted, not noticed.
	greedy.sub("p.6", "p.7")
	if st := e.srv.Stats(); st.SubsRefusedConnLimit != 3 || st.SubsRefusedTotalLimit != 0 || st.Subscriptions != 6 || st.ProtocolErrors != 0 {
		t.Fatalf("over the limit: %+v", st)
	}
	for _, c := range e.srv.Connections() {
		if want := map[int]uint64{5: 3}[len(c.Patterns)]; c.RefusedSubs != want {
			t.Errorf("connection with %d patterns: %d refused SUBs, want %d", len(c.Patterns), c.RefusedSubs, want)
		}
	}
	healthyExchange(pub, sub, "healthy", 20)

	// The connection is still served on the patterns it has, not the others.
	for _, topic := range []string{"p.6", "p.7", "p.1"} {
		pub.send(codec.VerbPUB, topic, envelope(1))
	}
	greedy.expect("p.1", envelope(1))

	// UNSUB makes room for one more.
	greedy.send(codec.VerbUNSUB, "p.1", "")
	greedy.sub("p.6")
	pub.send(codec.VerbPUB, "p.6", envelope(2))
	greedy.expect("p.6", envelope(2))
	if st := e.srv.Stats(); st.SubsRefusedConnLimit != 3 || st.Subscriptions != 6 {
		t.Fatalf("after UNSUB and SUB: refused %d, subscriptions %d; want 3 and 6", st.SubsRefusedConnLimit, st.Subscriptions)
	}
	greedy.expectBarrier(pub, "p.6")
}

// A client that does not ask for notices sees nothing new when its SUB is
// refused: the deployed clients' reader meets no unexpected event.
func TestPatternRefusalWithoutNotice(t *testing.T) {
	e := startServer(t, func(c *Config) { c.MaxPatternsPerConn = 2 })
	w, pub := e.dial(), e.dial()
	w.sub("a", "b", "c")
	pub.send(codec.VerbPUB, string(refusedTopic), envelope(0)) // reaches no one
	pub.send(codec.VerbPUB, "c", envelope(1))
	pub.send(codec.VerbPUB, "b", envelope(2))
	w.expect("b", envelope(2))
	w.expectBarrier(pub, "b")
	if st := e.srv.Stats(); st.SubsRefusedConnLimit != 1 {
		t.Fatalf("refused %d, want 1", st.SubsRefusedConnLimit)
	}
}

// The total limit counts every connection's patterns; a connection that
// leaves gives its patterns back.
func TestPatternLimitTotal(t *testing.T) {
	const limit = 6
	e := startServer(t, func(c *Config) { c.MaxPatterns = limit })
	sub, pub := e.dial(), e.dial()
	sub.sub("healthy")

	first := e.dial()
	first.sub("f.1", "f.2", "f.3", "f.4")
	second := e.dial()
	second.sub(string(refusedTopic), "s.1") // the sixth pattern, and the seventh
	r := second.expectRefusal()
	if r.Pattern != "s.1" || r.Reason != refusedTotal || r.Limit != limit {
		t.Errorf("notice %+v, want pattern s.1, reason %s, limit %d", r, refusedTotal, limit)
	}
	st := e.srv.Stats()
	if st.SubsRefusedTotalLimit != 1 || st.SubsRefusedConnLimit != 0 || st.Subscriptions != limit {
		t.Fatalf("at the total limit: %+v", st)
	}
	healthyExchange(pub, sub, "healthy", 20)

	first.conn.Close()
	e.waitStats("the first connection to leave", func(st Stats) bool { return st.Connections == 3 })
	second.sub("s.1", "s.2", "s.3", "s.4")
	pub.send(codec.VerbPUB, "s.4", envelope(4))
	second.expect("s.4", envelope(4))
	if st := e.srv.Stats(); st.SubsRefusedTotalLimit != 1 || st.Subscriptions != 6 {
		t.Fatalf("after the first left: refused %d, subscriptions %d; want 1 and 6", st.SubsRefusedTotalLimit, st.Subscriptions)
	}
	second.sub("s.5")
	if st := e.srv.Stats(); st.SubsRefusedTotalLimit != 2 {
		t.Fatalf("refused %d, want 2", st.SubsRefusedTotalLimit)
	}
	healthyExchange(pub, sub, "healthy", 20)
}

// The count behind the total limit follows every way a pattern goes: SUB,
// duplicate SUB, refused SUB, UNSUB of a known and an unknown pattern, and
// close, from many connections at once.
func TestPatternCountFollowsSubscriptions(t *testing.T) {
	e := startServer(t, func(c *Config) { c.MaxPatternsPerConn = 8; c.Loops = 2 })
	var ws []*wire
	for i := range 8 {
		w := e.dial()
		for j := range 12 {
			w.send(codec.VerbSUB, fmt.Sprintf("c%d.p%d", i, j), "")
			w.send(codec.VerbSUB, fmt.Sprintf("c%d.p%d", i, j/2), "")
		}
		w.send(codec.VerbUNSUB, fmt.Sprintf("c%d.p1", i), "")
		w.send(codec.VerbUNSUB, "never.subscribed", "")
		ws = append(ws, w)
	}
	e.sync()
	if n, st := e.srv.limits.patterns.Load(), e.srv.Stats(); n != 8*7 || st.Subscriptions != 8*7 {
		t.Fatalf("pattern count %d, index pairs %d; want %d", n, st.Subscriptions, 8*7)
	}
	for _, w := range ws[:5] {
		w.conn.Close()
	}
	e.waitStats("five connections to leave", func(st Stats) bool { return st.Connections == 3 })
	if n := e.srv.limits.patterns.Load(); n != 3*7 {
		t.Fatalf("pattern count %d after five left, want %d", n, 3*7)
	}
}

func TestLimitsConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"negative patterns per connection", func(c *Config) { c.MaxPatternsPerConn = -1 }},
		{"negative patterns", func(c *Config) { c.MaxPatterns = -1 }},
		{"negative pending bytes", func(c *Config) { c.MaxPendingBytes = -1 }},
		{"budget below one largest frame", func(c *Config) { c.MaxPendingBytes = codec.MaxEventFrame - 1 }},
		{"negative frame timeout", func(c *Config) { c.FrameTimeout = -time.Second }},
		{"negative release threshold", func(c *Config) { c.ReleaseAfterBytes = -1 }},
	} {
		cfg := testConfig("/tmp/x.sock")
		tc.set(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	cfg := testConfig("/tmp/x.sock")
	cfg.MaxPatternsPerConn, cfg.MaxPatterns, cfg.MaxPendingBytes, cfg.FrameTimeout, cfg.ReleaseAfterBytes = 0, 0, 0, 0, 0
	if err := cfg.Validate(); err != nil {
		t.Errorf("every limit off: %v", err)
	}
	cfg.MaxPendingBytes = codec.MaxEventFrame
	if err := cfg.Validate(); err != nil {
		t.Errorf("budget of one largest frame: %v", err)
	}
}
