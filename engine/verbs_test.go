package engine

import (
	"encoding/json"
	"testing"
	"time"

	"busd/codec"
)

func TestPubReachesOtherConnectionsOnly(t *testing.T) {
	e := startServer(t, nil)
	a, b := e.dial(), e.dial()
	a.sub("decky.>")
	b.sub("decky.>")
	a.send(codec.VerbPUB, "decky.d1.state", envelope(1))
	b.expect("decky.d1.state", envelope(1))
	a.expectBarrier(b, "decky.barrier") // no self-echo before it
}

func TestSecondConnectionOfSameProcessReceives(t *testing.T) {
	e := startServer(t, nil)
	pub, sub := e.dial(), e.dial()
	pub.sub("x")
	sub.sub("x")
	pub.send(codec.VerbPUB, "x", `{}`)
	sub.expect("x", `{}`)
	pub.expectBarrier(sub, "x") // no self-echo before it
}

func TestHelloRecordsName(t *testing.T) {
	e := startServer(t, nil)
	w := e.dial()
	w.send(codec.VerbHELLO, "  collector-1  ", "")
	w.sync()
	var names []string
	e.srv.clients.Range(func(_ uint64, cl *peer) bool {
		names = append(names, cl.name)
		return true
	})
	if len(names) != 1 || names[0] != "collector-1" {
		t.Fatalf("names = %q, want [collector-1] (args trimmed)", names)
	}
}

func TestBodiesOfControlVerbsAreIgnored(t *testing.T) {
	e := startServer(t, nil)
	sub, pub := e.dial(), e.dial()
	sub.sub("barrier")
	sub.send(codec.VerbHELLO, "n", "not json at all")
	sub.send(codec.VerbSUB, "a.b", "ignored body")
	sub.sync()
	pub.send(codec.VerbPUB, "a.b", `{"k": 1}`)
	sub.expect("a.b", `{"k": 1}`)
	sub.send(codec.VerbUNSUB, "a.b", "\xff\xfe")
	sub.sync()
	pub.send(codec.VerbPUB, "a.b", `{"k": 2}`)
	sub.expectBarrier(pub, "barrier")
}

func TestDuplicateSubDeliversOnce(t *testing.T) {
	e := startServer(t, nil)
	sub, pub := e.dial(), e.dial()
	sub.sub("a.b", "a.b", "a.*", "a.>", ">")
	pub.send(codec.VerbPUB, "a.b", `{"n": 1}`)
	pub.send(codec.VerbPUB, "a.c", `{"n": 2}`)
	sub.expect("a.b", `{"n": 1}`)
	sub.expect("a.c", `{"n": 2}`)
	sub.expectBarrier(pub, "barrier") // matched by ">": no second copy before it
}

func TestUnsubStopsDelivery(t *testing.T) {
	e := startServer(t, nil)
	sub, pub := e.dial(), e.dial()
	sub.sub("a.*", "a.b", "barrier")
	sub.send(codec.VerbUNSUB, "a.*", "")
	sub.send(codec.VerbUNSUB, "never.subscribed", "") // not an error
	sub.sync()
	pub.send(codec.VerbPUB, "a.c", `{}`)
	pub.send(codec.VerbPUB, "a.b", `{"still": true}`)
	sub.expect("a.b", `{"still": true}`)
	sub.send(codec.VerbUNSUB, "a.b", "")
	sub.sync()
	pub.send(codec.VerbPUB, "a.b", `{}`)
	sub.expectBarrier(pub, "barrier")
}

func TestByeClosesConnection(t *testing.T) {
	e := startServer(t, nil)
	w := e.dial()
	w.send(codec.VerbBYE, "", "")
	w.expectClosed(5 * time.Second)
	if n := e.srv.Stats().ProtocolErrors; n != 0 {
		t.Fatalf("BYE counted as %d protocol errors", n)
	}
}

func TestEmptyBodyGetsAnEnvelope(t *testing.T) {
	e := startServer(t, nil)
	sub, pub := e.dial(), e.dial()
	sub.sub("ping.\"q\"")
	pub.send(codec.VerbPUB, "ping.\"q\"", "")
	ev, err := sub.next(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		V       int            `json:"v"`
		ID      string         `json:"id"`
		Topic   string         `json:"topic"`
		Type    *string        `json:"type"`
		TS      float64        `json:"ts"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal([]byte(ev.body), &env); err != nil {
		t.Fatalf("body %q: %v", ev.body, err)
	}
	if env.V != 1 || len(env.ID) != 32 || env.Topic != `ping."q"` || env.Type == nil || env.Payload == nil ||
		time.Since(time.Unix(int64(env.TS), 0)) > time.Minute {
		t.Fatalf("bad envelope %s", ev.body)
	}
}

func TestProtocolErrorsCloseTheConnection(t *testing.T) {
	cases := []struct {
		name  string
		frame []byte
	}{
		{"SUB empty pattern", codec.AppendFrame(nil, codec.VerbSUB, "", nil)},
		{"SUB blank pattern", []byte("SUB   \n\x00\x00\x00\x00")},
		{"PUB empty topic", codec.AppendFrame(nil, codec.VerbPUB, "", []byte(`{}`))},
		{"PUB array body", codec.AppendFrame(nil, codec.VerbPUB, "t", []byte(`[1]`))},
		{"PUB two objects", codec.AppendFrame(nil, codec.VerbPUB, "t", []byte(`{}{}`))},
		{"PUB invalid utf8 in string", codec.AppendFrame(nil, codec.VerbPUB, "t", []byte("{\"a\": \"\xff\"}"))},
		{"PUB NaN", codec.AppendFrame(nil, codec.VerbPUB, "t", []byte(`{"a": NaN}`))},
		{"EVT from client", codec.AppendFrame(nil, codec.VerbEVT, "t", []byte(`{}`))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := startServer(t, nil)
			sub, pub := e.dial(), e.dial()
			sub.sub("t")
			bad := e.dial()
			bad.sub("t")
			bad.raw(tc.frame)
			bad.expectClosed(5 * time.Second)
			pub.send(codec.VerbPUB, "t", `{"ok": 1}`)
			sub.expect("t", `{"ok": 1}`)
			if n := e.srv.Stats().ProtocolErrors; n != 1 {
				t.Fatalf("protocol errors = %d, want 1", n)
			}
		})
	}
}
