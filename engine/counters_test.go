package engine

import (
	"testing"
	"time"

	"busd/codec"
)

// Every delivered event is counted once, whichever path it took to the
// socket (straight from the publisher's batch or through the queue).
func TestEventsOutCountsEveryDelivery(t *testing.T) {
	e := startServer(t, nil)
	sub, pub := e.dial(), e.dial()
	sub.sub("a.>")
	const n = 500
	for i := range n {
		pub.send(codec.VerbPUB, "a.x", envelope(i))
		if i%7 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	for i := range n {
		sub.expect("a.x", envelope(i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.Stats().EventsOut != n {
		if time.Now().After(deadline) {
			t.Fatalf("EventsOut = %d, want %d", e.srv.Stats().EventsOut, n)
		}
		time.Sleep(time.Millisecond)
	}
	if c := e.srv.Connections(); len(c) != 2 || c[0].Delivered+c[1].Delivered != n {
		t.Fatalf("per-connection delivered: %+v", c)
	}
}
