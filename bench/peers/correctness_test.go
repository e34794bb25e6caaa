package peers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"busd/bench/load"
)

// peerSystems are the systems this module implements.
func peerSystems() []load.System {
	return []load.System{&NATS{}, &Redis{}, &Mosquitto{}}
}

// startOrFail starts sys, failing (not skipping) when its binary is missing.
func startOrFail(tb testing.TB, sys load.System) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sys.Start(ctx); err != nil {
		if errors.Is(err, ErrMissingBinary) {
			tb.Fatalf("%s: %v (bench/peers/run.sh installs it)", sys.Name(), err)
		}
		tb.Fatalf("%s: start: %v", sys.Name(), err)
	}
	tb.Cleanup(func() { sys.Stop() })
}

func event(i int, topic string) []byte {
	return fmt.Appendf(nil, `{"v": 1, "id": "%032x", "topic": %q, "type": "state", "ts": 1764190000.123456, "payload": {"state": "running", "n": %d}}`, i, topic, i)
}

// TestClosedLoop: one publisher, one subscriber, 1000 events, each
// published only once the previous one arrived; none may be lost, and the
// bodies arrive byte for byte.
func TestClosedLoop(t *testing.T) {
	for _, sys := range peerSystems() {
		t.Run(sys.Name(), func(t *testing.T) {
			startOrFail(t, sys)
			got := make(chan []byte, 1)
			sub, err := sys.NewSubscriber([]string{"decky.*.state"}, func(b []byte) {
				got <- append([]byte(nil), b...)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := sub.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			pub, err := sys.NewPublisher()
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			deadline := time.After(20 * time.Second)
			for i := 0; i < 1000; i++ {
				topic := fmt.Sprintf("decky.d%d.state", i%7)
				body := event(i, topic)
				if err := pub.Publish(topic, body); err != nil {
					t.Fatal(err)
				}
				if err := pub.Flush(); err != nil {
					t.Fatal(err)
				}
				select {
				case b := <-got:
					if string(b) != string(body) {
						t.Fatalf("event %d: got %q, want %q", i, b, body)
					}
				case <-deadline:
					t.Fatalf("event %d not delivered", i)
				}
			}
		})
	}
}

// TestOverlapAndLooseMatches: a subscriber whose patterns overlap, on a
// peer whose wildcards are looser than busd's, still sees exactly the
// events busd would deliver, once each.
func TestOverlapAndLooseMatches(t *testing.T) {
	patterns := []string{"a.>", "a.*", "a.b", "x.*.z", "x.*.z", "q.>.ignored"}
	topics := []struct {
		topic string
		want  bool
	}{
		{"a.b", true},      // three patterns match
		{"a.c", true},      // two
		{"a.c.d", true},    // one
		{"a", false},       // MQTT's a/# would match
		{"x.y.z", true},    // duplicated pattern
		{"x.y.w.z", false}, // Redis' x.*.z would match
		{"b.x", false},
		{"q.r", true},
		{"q.r.s", true},
		{"q", false},
	}
	for _, sys := range peerSystems() {
		t.Run(sys.Name(), func(t *testing.T) {
			startOrFail(t, sys)
			var mu sync.Mutex
			counts := map[string]int{}
			end := make(chan struct{})
			sub, err := sys.NewSubscriber(patterns, func(b []byte) {
				mu.Lock()
				defer mu.Unlock()
				counts[string(b)]++
				if string(b) == "{}" {
					close(end)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := sub.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			pub, err := sys.NewPublisher()
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			for i, tc := range topics {
				if err := pub.Publish(tc.topic, event(i, tc.topic)); err != nil {
					t.Fatal(err)
				}
			}
			pub.Publish("a.end", []byte("{}"))
			if err := pub.Flush(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-end:
			case <-time.After(10 * time.Second):
				t.Fatal("end marker not delivered")
			}
			mu.Lock()
			defer mu.Unlock()
			for i, tc := range topics {
				n := counts[string(event(i, tc.topic))]
				want := 0
				if tc.want {
					want = 1
				}
				if n != want {
					t.Errorf("%s: delivered %d times, want %d", tc.topic, n, want)
				}
			}
			if counts["{}"] != 1 {
				t.Errorf("end marker delivered %d times", counts["{}"])
			}
		})
	}
}
