package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// clientTimeout bounds every connection attempt and every wait for a
// message in these tests: none may hang on a server that never answers.
const clientTimeout = 2 * time.Second

// dial connects once, without reconnecting: a refusal must surface as the
// error, not as retries.
func dial(url string, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.Timeout(clientTimeout), nats.MaxReconnects(0)}, opts...)
	return nats.Connect(url, opts...)
}

// connect is dial for a connection the test needs, closed when it ends.
func connect(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := dial(url, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// refused asserts that a connection attempt fails, and closes the
// connection if it did not.
func refused(t *testing.T, url string, opts ...nats.Option) error {
	t.Helper()
	nc, err := dial(url, opts...)
	if err == nil {
		nc.Close()
		t.Fatalf("connect %s: accepted, want refused", url)
	}
	return err
}

// roundTrip subscribes through sub, waits for the interest to reach the
// servers, publishes through pub and checks the message arrives intact.
func roundTrip(t *testing.T, waitInterest func(testing.TB, string), sub, pub *nats.Conn, subject string) {
	t.Helper()
	s, err := sub.SubscribeSync(subject)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer s.Unsubscribe()
	if err := sub.FlushTimeout(clientTimeout); err != nil {
		t.Fatalf("flush subscriber: %v", err)
	}
	waitInterest(t, subject)
	want := "payload for " + subject
	if err := pub.Publish(subject, []byte(want)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := pub.FlushTimeout(clientTimeout); err != nil {
		t.Fatalf("flush publisher: %v", err)
	}
	msg, err := s.NextMsg(clientTimeout)
	if err != nil {
		t.Fatalf("receive on %s: %v", subject, err)
	}
	if string(msg.Data) != want {
		t.Fatalf("received %q, want %q", msg.Data, want)
	}
}
