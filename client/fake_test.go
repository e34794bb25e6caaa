package client

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestFakeHubDeliversToAll(t *testing.T) {
	f := NewFake()
	defer f.Close()
	ctx := context.Background()
	tail, _ := f.Subscribe("topology.>")
	star, _ := f.Subscribe("topology.*.status")
	if err := f.Publish(ctx, "topology.t1.status", map[string]string{"s": "ok"}, "status"); err != nil {
		t.Fatal(err)
	}
	f.Publish(ctx, "topology", nil, "") // matches neither
	for _, s := range []*Subscription{tail, star} {
		ev := next(t, s)
		if ev.Topic != "topology.t1.status" || ev.Type != "status" || ev.V != 1 || !hexID.MatchString(ev.ID) || string(ev.Payload) != `{"s":"ok"}` {
			t.Errorf("%q: %+v", s.Pattern(), ev)
		}
		queueEmpty(t, s)
	}
	if got := f.Published(); len(got) != 2 || got[1].Topic != "topology" {
		t.Errorf("Published: %+v", got)
	}
}

func TestFakeConnNoEcho(t *testing.T) {
	f := NewFake()
	a, b := f.Conn(), f.Conn()
	ctx := context.Background()
	sa, _ := a.Subscribe("x")
	sb, _ := b.Subscribe("x")
	hub, _ := f.Subscribe("x")
	a.Publish(ctx, "x", nil, "from-a")
	if ev := next(t, sb); ev.Type != "from-a" {
		t.Errorf("b got %+v", ev)
	}
	if ev := next(t, hub); ev.Type != "from-a" {
		t.Errorf("hub got %+v", ev)
	}
	queueEmpty(t, sa) // never its own

	a.Close()
	if _, err := sa.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("after Conn.Close: %v", err)
	}
	if err := a.Publish(ctx, "x", nil, ""); !errors.Is(err, ErrClosed) {
		t.Errorf("publish on a closed conn: %v", err)
	}
	b.Publish(ctx, "x", nil, "from-b")
	if ev := next(t, hub); ev.Type != "from-b" {
		t.Errorf("hub got %+v", ev)
	}
	f.Close()
	if _, err := sb.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := f.Subscribe("x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
}

func TestFakeOverflowAndUnsubscribe(t *testing.T) {
	f := NewFake()
	f.queueSize = 3
	s, _ := f.Subscribe(">")
	for i := range 5 {
		f.Publish(context.Background(), "n", map[string]int{"n": i}, "")
	}
	if s.Dropped() != 2 {
		t.Errorf("Dropped = %d", s.Dropped())
	}
	for want := 2; want < 5; want++ {
		var p struct{ N int }
		json.Unmarshal(next(t, s).Payload, &p)
		if p.N != want {
			t.Errorf("got %d, want %d", p.N, want)
		}
	}
	s.Unsubscribe()
	f.Publish(context.Background(), "n", nil, "")
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrUnsubscribed) {
		t.Errorf("after Unsubscribe: %v", err)
	}
	if err := f.Publish(context.Background(), "bad topic", nil, ""); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("bad topic: %v", err)
	}
	if _, err := f.Subscribe(""); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("empty pattern: %v", err)
	}
}

func TestNop(t *testing.T) {
	b := Nop()
	ctx := context.Background()
	if err := b.Publish(ctx, "a", map[string]int{"x": 1}, ""); err != nil {
		t.Error(err)
	}
	if err := b.Publish(ctx, "", nil, ""); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("bad topic: %v", err)
	}
	s, err := b.Subscribe(">")
	if err != nil {
		t.Fatal(err)
	}
	queueEmpty(t, s)
	b.Close()
	if _, err := s.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
