package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRawAndBatchRoundTrip: a batch arrives in order, every event once, at
// a raw subscription that sees the daemon's bytes (topic and body verbatim)
// and at a queued one beside it on the same client.
func TestRawAndBatchRoundTrip(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	sub := dial(t, d.path, "sub")
	pub := dial(t, d.path, "pub")

	var mu sync.Mutex
	var got []string
	raw, err := sub.SubscribeRaw(func(topic, body []byte) {
		mu.Lock()
		got = append(got, string(topic)+" "+string(body))
		mu.Unlock()
	}, "r.>")
	if err != nil {
		t.Fatal(err)
	}
	queued, err := sub.Subscribe("r.*")
	if err != nil {
		t.Fatal(err)
	}
	d.waitPatterns("sub", "r.*", "r.>")

	var b Batch
	const n = 500
	var want []string
	for i := range n {
		topic := fmt.Sprintf("r.%d.x", i)
		if i%2 == 0 {
			topic = fmt.Sprintf("r.%d", i)
		}
		body := fmt.Sprintf(`{"i": %d}`, i)
		if err := b.Add([]byte(topic), []byte(body)); err != nil {
			t.Fatal(err)
		}
		want = append(want, topic+" "+body)
	}
	if b.Len() != n || b.Size() == 0 {
		t.Fatalf("batch len %d size %d", b.Len(), b.Size())
	}
	if err := pub.PublishBatch(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 2 {
		ev := next(t, queued)
		if w := fmt.Sprintf("r.%d", i); ev.Topic != w {
			t.Fatalf("queued got %s, want %s", ev.Topic, w)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		k := len(got)
		mu.Unlock()
		if k >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("raw handler got %d events, want %d", len(got), n)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("raw event %d: %q, want %q", i, got[i], want[i])
		}
	}
	if err := raw.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-raw.C(); ok {
		t.Error("a raw subscription's channel carried an event")
	}
	if !errors.Is(raw.Err(), ErrUnsubscribed) {
		t.Errorf("raw.Err() = %v", raw.Err())
	}
}

// TestBatchRefusesBadEvents: Add checks each event as PublishRaw does, and
// a refused event leaves the batch as it was.
func TestBatchRefusesBadEvents(t *testing.T) {
	var b Batch
	if err := b.Add([]byte("ok"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	size := b.Size()
	for _, c := range []struct {
		topic, body string
		want        error
	}{
		{"", `{}`, ErrInvalidTopic},
		{"a b", `{}`, ErrInvalidTopic},
		{"a", `[1]`, ErrInvalidPayload},
		{"a", `{"a": 1} {}`, ErrInvalidPayload},
		{"a", `{"a": "` + string(make([]byte, 1<<20)) + `"}`, ErrTooLarge},
	} {
		if err := b.Add([]byte(c.topic), []byte(c.body)); !errors.Is(err, c.want) {
			t.Errorf("Add(%.20q, %.20q) = %v, want %v", c.topic, c.body, err, c.want)
		}
	}
	if b.Len() != 1 || b.Size() != size {
		t.Errorf("a refused event changed the batch: len %d size %d", b.Len(), b.Size())
	}
	b.Reset()
	if b.Len() != 0 || b.Size() != 0 {
		t.Errorf("after Reset: len %d size %d", b.Len(), b.Size())
	}
}

// TestPublishBatchNotConnected: a client between connections refuses the
// batch at once.
func TestPublishBatchNotConnected(t *testing.T) {
	d := startDaemon(t, tempSocket(t))
	c := dial(t, d.path, "pub", WithReconnect(time.Hour, time.Hour))
	d.stop()
	var b Batch
	_ = b.Add([]byte("a"), nil)
	waitFor(t, "the client to notice", func() bool { return !c.Connected() })
	if err := c.PublishBatch(context.Background(), &b); !errors.Is(err, ErrNotConnected) {
		t.Errorf("PublishBatch while disconnected = %v, want ErrNotConnected", err)
	}
}
