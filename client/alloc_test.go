//go:build !race

package client

import "testing"

// The relay path allocates nothing per event: a raw subscription gets the
// reader's bytes, and a reused Batch appends into memory it already has.
func TestAllocRawDispatchAndBatch(t *testing.T) {
	c := &Client{}
	var seen int
	s := newRawSubscription([]string{"decky.*.traffic"}, func(topic, body []byte) { seen += len(body) }, nil)
	c.snapshot.Store(&[]*Subscription{s})
	topic, body := []byte("decky.d1.traffic"), []byte(`{"v": 1, "payload": {}}`)
	if n := testing.AllocsPerRun(1000, func() { c.dispatch(topic, body) }); n != 0 {
		t.Errorf("dispatch to a raw subscription: %v allocs per event, want 0", n)
	}
	if seen == 0 {
		t.Fatal("the raw handler never ran")
	}
	var b Batch
	_ = b.Add(topic, body)
	if n := testing.AllocsPerRun(1000, func() {
		b.Reset()
		for range 64 {
			_ = b.Add(topic, body)
		}
	}); n != 0 {
		t.Errorf("Batch.Add into a reused batch: %v allocs, want 0", n)
	}
}
