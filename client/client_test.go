package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"busd/codec"
)

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestPublishSubscribeRoundTrip(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	sub := dial(t, d.path, "sub")
	pub := dial(t, d.path, "pub")
	s, err := sub.Subscribe("decky.*.state")
	if err != nil {
		t.Fatal(err)
	}
	d.waitPatterns("sub", "decky.*.state")

	before := time.Now()
	if err := pub.Publish(context.Background(), "decky.d1.state", map[string]string{"state": "running"}, "state"); err != nil {
		t.Fatal(err)
	}
	ev := next(t, s)
	if ev.Topic != "decky.d1.state" || ev.V != 1 || ev.Type != "state" || !hexID.MatchString(ev.ID) {
		t.Errorf("event %+v", ev)
	}
	if string(ev.Payload) != `{"state":"running"}` {
		t.Errorf("payload %s", ev.Payload)
	}
	if ts := ev.Time(); ts.Before(before.Add(-time.Millisecond)) || ts.After(time.Now().Add(time.Millisecond)) {
		t.Errorf("ts %v (%f) not around now", ts, ev.TS)
	}
	var body map[string]any
	if err := json.Unmarshal(ev.Body, &body); err != nil || body["topic"] != "decky.d1.state" {
		t.Errorf("body %s: %v", ev.Body, err)
	}
	if !strings.HasPrefix(string(ev.Body), `{"v": 1, "id": "`) {
		t.Errorf("body %s does not follow the envelope layout", ev.Body)
	}

	// A raw payload is sent as is; nil is {}.
	if err := pub.Publish(context.Background(), "decky.d2.state", json.RawMessage(`[1, 2]`), ""); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); string(ev.Payload) != `[1, 2]` || ev.Type != "" {
		t.Errorf("raw payload: %+v", ev)
	}
	if err := pub.Publish(context.Background(), "decky.d3.state", nil, "t"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); string(ev.Payload) != `{}` {
		t.Errorf("nil payload: %s", ev.Payload)
	}

	// A body that is not an envelope still arrives, undecoded.
	if err := pub.PublishRaw(context.Background(), "decky.d4.state", []byte(`{"hello": "world"}`)); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); string(ev.Body) != `{"hello": "world"}` || ev.V != 0 || ev.ID != "" || ev.Payload != nil {
		t.Errorf("non-envelope: %+v", ev)
	}

	// Not matching: nothing.
	if err := pub.Publish(context.Background(), "decky.d1.traffic", nil, ""); err != nil {
		t.Fatal(err)
	}
	nextIsBarrier(t, pub, "decky.barrier.state", s)
}

func TestNoSelfEcho(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	c := dial(t, d.path, "both")
	other := dial(t, d.path, "other")
	s, _ := c.Subscribe("a.>")
	seen, _ := other.Subscribe("a.>")
	d.waitPatterns("both", "a.>")
	d.waitPatterns("other", "a.>")
	if err := c.Publish(context.Background(), "a.b", nil, "mine"); err != nil {
		t.Fatal(err)
	}
	// Once other has "mine", the daemon has handed it to every connection
	// it was going to: "theirs", published after, is a barrier behind it
	// on c's connection.
	if ev := next(t, seen); ev.Type != "mine" {
		t.Fatalf("other got %q, want mine", ev.Type)
	}
	if err := other.Publish(context.Background(), "a.b", nil, "theirs"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); ev.Type != "theirs" {
		t.Errorf("got %q first: a client must not receive its own events", ev.Type)
	}
}

func TestWildcardDispatchOnOneConnection(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	c := dial(t, d.path, "sub")
	pub := dial(t, d.path, "pub")
	tail, _ := c.Subscribe("a.>")
	star, _ := c.Subscribe("a.*.c")
	multi, err := c.SubscribeAny("x.y", "a.b.c", "a.*.c")
	if err != nil {
		t.Fatal(err)
	}
	d.waitPatterns("sub", "a.>", "a.*.c", "x.y", "a.b.c")
	n := 0
	for _, ci := range d.srv.Connections() {
		if ci.Name == "sub" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d connections named sub, want 1: subscriptions share one", n)
	}
	for _, topic := range []string{"a.b.c", "a.x", "b.c", "a.", "x.y"} {
		if err := pub.Publish(context.Background(), topic, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"a.b.c", "a.x", "a."} {
		if ev := next(t, tail); ev.Topic != want {
			t.Errorf("a.> got %q, want %q", ev.Topic, want)
		}
	}
	if ev := next(t, star); ev.Topic != "a.b.c" {
		t.Errorf("a.*.c got %q", ev.Topic)
	}
	// Two of multi's patterns match a.b.c: it still gets it once.
	for _, want := range []string{"a.b.c", "x.y"} {
		if ev := next(t, multi); ev.Topic != want {
			t.Errorf("multi got %q, want %q", ev.Topic, want)
		}
	}
	nextIsBarrier(t, pub, "a.barrier.c", tail, star, multi)
}

func TestUnsubscribe(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	c := dial(t, d.path, "sub")
	pub := dial(t, d.path, "pub")
	a, _ := c.Subscribe("x.>")
	b, _ := c.Subscribe("x.>")
	other, _ := c.Subscribe("y")
	d.waitPatterns("sub", "x.>", "y")

	if err := a.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	a.Unsubscribe() // twice is fine
	if _, err := a.Next(context.Background()); !errors.Is(err, ErrUnsubscribed) {
		t.Errorf("Next after Unsubscribe: %v", err)
	}
	if _, ok := <-a.C(); ok {
		t.Error("C still open")
	}
	// b still uses x.>: the daemon keeps it.
	pub.Publish(context.Background(), "x.1", nil, "")
	if ev := next(t, b); ev.Topic != "x.1" {
		t.Errorf("b got %q", ev.Topic)
	}
	d.waitPatterns("sub", "x.>", "y")

	b.Unsubscribe()
	d.waitPatterns("sub", "y") // the last user of x.> is gone: UNSUB sent
	other.Unsubscribe()
	d.waitPatterns("sub")
	if err := b.Err(); !errors.Is(err, ErrUnsubscribed) {
		t.Errorf("Err = %v", err)
	}
}

func TestQueueOverflowDropsOldest(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	c := dial(t, d.path, "slow", WithQueueSize(4))
	pub := dial(t, d.path, "pub")
	s, _ := c.Subscribe("seq")
	d.waitPatterns("slow", "seq")
	for i := range 10 {
		if err := pub.Publish(context.Background(), "seq", map[string]int{"n": i}, ""); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "6 drops", func() bool { return s.Dropped() == 6 })
	for want := 6; want < 10; want++ {
		var p struct{ N int }
		ev := next(t, s)
		if err := json.Unmarshal(ev.Payload, &p); err != nil || p.N != want {
			t.Errorf("got %s, want n=%d", ev.Payload, want)
		}
	}
	nextIsBarrier(t, pub, "seq", s)
	if s.Dropped() != 6 {
		t.Errorf("Dropped = %d", s.Dropped())
	}
}

func TestReconnectResubscribes(t *testing.T) {
	path := tempSocket(t)
	d1 := startDaemon(t, path)
	c := dial(t, path, "sub", WithReconnect(10*time.Millisecond, 100*time.Millisecond))
	s, _ := c.Subscribe("r.>")
	d1.waitPatterns("sub", "r.>")

	d1.stop()
	waitFor(t, "the client to notice", func() bool { return !c.Connected() })
	if err := c.Publish(context.Background(), "r.x", nil, ""); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Publish while disconnected: %v", err)
	}
	// Subscribing while disconnected is recorded and sent later.
	s2, err := c.Subscribe("q")
	if err != nil {
		t.Fatal(err)
	}

	d2 := startDaemon(t, path)
	d2.waitPatterns("sub", "r.>", "q")
	if !c.Connected() {
		t.Error("not Connected after the daemon came back")
	}
	pub := dial(t, path, "pub")
	pub.Publish(context.Background(), "r.1", nil, "")
	pub.Publish(context.Background(), "q", nil, "")
	if ev := next(t, s); ev.Topic != "r.1" {
		t.Errorf("after reconnect got %q", ev.Topic)
	}
	if ev := next(t, s2); ev.Topic != "q" {
		t.Errorf("after reconnect got %q", ev.Topic)
	}
	// And the client publishes again.
	ps, _ := pub.Subscribe("back")
	d2.waitPatterns("pub", "back")
	if err := c.Publish(context.Background(), "back", nil, ""); err != nil {
		t.Fatal(err)
	}
	next(t, ps)
}

func TestNoReconnect(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	c := dial(t, d.path, "sub", WithReconnect(0, 0))
	s, _ := c.Subscribe(">")
	d.waitPatterns("sub", ">")
	d.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("Next after the daemon left: %v", err)
	}
	if _, err := c.Subscribe("x"); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("Subscribe after the loss: %v", err)
	}
	if err := c.Publish(context.Background(), "x", nil, ""); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Publish after the loss: %v", err)
	}
}

func TestClose(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	sub := dial(t, d.path, "sub")
	s, _ := sub.Subscribe("c.>")
	d.waitPatterns("sub", "c.>")

	// Everything published before Close reaches the daemon: Close waits
	// for the daemon to answer BYE.
	pub := dial(t, d.path, "pub")
	const n = 200
	for i := range n {
		if err := pub.Publish(context.Background(), "c.x", map[string]int{"n": i}, ""); err != nil {
			t.Fatal(err)
		}
	}
	pub.Close()
	pub.Close() // twice is fine
	for range n {
		next(t, s)
	}
	if err := pub.Publish(context.Background(), "c.x", nil, ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if _, err := pub.Subscribe("c.x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}

	sub.Close()
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	waitFor(t, "the daemon to see both leave", func() bool { return len(d.srv.Connections()) == 0 })
	if st := d.srv.Stats(); st.ProtocolErrors != 0 {
		t.Errorf("protocol errors: %d", st.ProtocolErrors)
	}
}

func TestConcurrentPublish(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	sub := dial(t, d.path, "sub", WithQueueSize(4096))
	pub := dial(t, d.path, "pub")
	s, _ := sub.Subscribe("p.*")
	d.waitPatterns("sub", "p.*")
	const workers, each = 8, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := pub.Publish(context.Background(), fmt.Sprintf("p.%d", w), map[string]int{"i": i}, ""); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	last := map[string]int{}
	for range workers * each {
		ev := next(t, s)
		var p struct{ I int }
		json.Unmarshal(ev.Payload, &p)
		if prev, ok := last[ev.Topic]; ok && p.I != prev+1 {
			t.Fatalf("%s: %d after %d: one publisher's events must stay in order", ev.Topic, p.I, prev)
		}
		last[ev.Topic] = p.I
	}
	if s.Dropped() != 0 || d.srv.Stats().ProtocolErrors != 0 {
		t.Errorf("dropped %d, protocol errors %d", s.Dropped(), d.srv.Stats().ProtocolErrors)
	}
}

func TestPublishContext(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	c := dial(t, d.path, "pub")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Publish(ctx, "a", nil, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Publish(ctx, "a", nil, ""); err != nil {
		t.Errorf("with deadline: %v", err)
	}
}

func TestDialErrors(t *testing.T) {
	path := tempSocket(t)
	_, err := Dial(context.Background(), path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("no socket: %v", err)
	}
	if _, err := Dial(context.Background(), path, WithQueueSize(0)); err == nil {
		t.Error("queue size 0 accepted")
	}
	_ = syscall.ECONNREFUSED
}

func TestArgumentErrors(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	c := dial(t, d.path, "c")
	ctx := context.Background()
	for _, topic := range []string{"", "a b", "a\nb", "caf\u00e9", strings.Repeat("x", codec.MaxHeader)} {
		if err := c.Publish(ctx, topic, nil, ""); !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("topic %.20q: %v", topic, err)
		}
		if _, err := c.Subscribe(topic); !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("pattern %.20q: %v", topic, err)
		}
	}
	if _, err := c.SubscribeAny(); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("no patterns: %v", err)
	}
	for _, p := range []any{math.NaN(), json.RawMessage(`{`), json.RawMessage("\"\xff\""), func() {}} {
		if err := c.Publish(ctx, "a", p, ""); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("payload %#v: %v", p, err)
		}
	}
	if err := c.Publish(ctx, "a", strings.Repeat("x", codec.MaxBody), ""); !errors.Is(err, ErrTooLarge) {
		t.Errorf("large payload: %v", err)
	}
	// Deeper than the daemon's nesting limit, though encoding/json takes it.
	tooDeep := strings.Repeat(`{"a":`, codec.MaxJSONDepth) + "{}" + strings.Repeat("}", codec.MaxJSONDepth)
	for _, b := range []string{"[]", "{} {}", "  ", "{\"a\":\"\xff\"}", tooDeep} {
		if err := c.PublishRaw(ctx, "a", []byte(b)); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("raw body %.40q: %v", b, err)
		}
	}
	for _, b := range []string{"", " {} \n", `{"a": [1, {"b": null}]}`} {
		if err := c.PublishRaw(ctx, "a", []byte(b)); err != nil {
			t.Errorf("raw body %q: %v", b, err)
		}
	}
	// The connection survived all of it.
	if st := d.srv.Stats(); st.ProtocolErrors != 0 {
		t.Errorf("protocol errors: %d", st.ProtocolErrors)
	}
}

func TestEventDecoding(t *testing.T) {
	ev := newEvent("a", []byte(`{"v": 1, "id": "0123456789abcdef0123456789abcdef", "type": "x", "ts": 1764190000.123456, "payload": {"k": [1]}}`))
	if ev.V != 1 || ev.ID != "0123456789abcdef0123456789abcdef" || ev.Type != "x" || string(ev.Payload) != `{"k": [1]}` {
		t.Errorf("%+v", ev)
	}
	if got, want := ev.Time(), time.Unix(1764190000, 123456000); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
	for _, body := range []string{"", "not json", `[1]`, `{"v": "one"}`} {
		ev := newEvent("a", []byte(body))
		if string(ev.Body) != body || ev.Topic != "a" {
			t.Errorf("%q: %+v", body, ev)
		}
	}
	if !(Event{}).Time().IsZero() {
		t.Error("zero TS must give the zero time")
	}
}

func TestAppendEnvelope(t *testing.T) {
	b := AppendEnvelope(nil, `a."b`, "caf\u00e9 \"q\"", time.Unix(1764190000, 5000), []byte(`{"x":1}`))
	var env map[string]any
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if env["topic"] != `a."b` || env["type"] != "caf\u00e9 \"q\"" || env["v"] != 1.0 || !hexID.MatchString(env["id"].(string)) {
		t.Errorf("%s", b)
	}
	if !strings.Contains(string(b), `"ts": 1764190000.000005,`) {
		t.Errorf("ts not in microseconds: %s", b)
	}
}
