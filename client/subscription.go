package client

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Reasons a subscription's channel is closed, returned by Next and Err.
var (
	// ErrUnsubscribed: Unsubscribe was called.
	ErrUnsubscribed = errors.New("busd: unsubscribed")
	// ErrClosed: the client (or fake bus) was closed.
	ErrClosed = errors.New("busd: client closed")
	// ErrConnectionLost: the connection to the daemon dropped and the
	// client does not reconnect (WithReconnect(0, 0)).
	ErrConnectionLost = errors.New("busd: connection to the daemon lost")

	errNilHandler = errors.New("busd: SubscribeRaw with a nil handler")
)

// DefaultQueueSize is the default bound of each subscription's queue, in
// events: the daemon's own per-connection default.
const DefaultQueueSize = 1024

// Subscription receives the events matching its patterns.
//
// Each subscription has its own bounded queue. When the consumer falls
// behind and the queue is full, the oldest queued event is discarded (and
// counted by Dropped), so a slow consumer never stalls the connection's
// reader or the other subscriptions.
//
// Read events with C or Next, not both at once from different goroutines
// if order matters. When the subscription ends (Unsubscribe, Close, or the
// connection lost for good) the events already queued can still be read;
// then C is closed and Next returns the reason.
type Subscription struct {
	patterns []string
	ch       chan Event
	// raw, when set, receives every matching event instead of ch (which
	// then only signals the end).
	raw     RawHandler
	dropped atomic.Uint64
	// remove detaches the subscription from its bus; nil when there is
	// nothing to detach from.
	remove func(*Subscription)

	mu   sync.Mutex // serializes push against end
	done bool
	err  error
}

func newSubscription(patterns []string, queue int, remove func(*Subscription)) *Subscription {
	if queue < 1 {
		queue = DefaultQueueSize
	}
	return &Subscription{patterns: patterns, ch: make(chan Event, queue), remove: remove}
}

// newRawSubscription is a subscription whose events go to h.
func newRawSubscription(patterns []string, h RawHandler, remove func(*Subscription)) *Subscription {
	return &Subscription{patterns: patterns, ch: make(chan Event), raw: h, remove: remove}
}

// Pattern is the subscription's (first) pattern.
func (s *Subscription) Pattern() string { return s.patterns[0] }

// Patterns are all the subscription's patterns.
func (s *Subscription) Patterns() []string { return append([]string(nil), s.patterns...) }

// C is the channel events arrive on. It is closed when the subscription
// ends, after the events still queued.
func (s *Subscription) C() <-chan Event { return s.ch }

// Next waits for the next event. It returns ctx's error when ctx ends
// first, and the reason (ErrUnsubscribed, ErrClosed, ErrConnectionLost)
// once the subscription has ended and its queue is empty.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	select {
	case ev, ok := <-s.ch:
		if !ok {
			return Event{}, s.Err()
		}
		return ev, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// Dropped is how many events the queue discarded because it was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Err is why the subscription ended, or nil while it is live.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Unsubscribe stops delivery to this subscription. The daemon is told
// (UNSUB) once no other subscription of the client uses the pattern.
// Calling it again does nothing.
func (s *Subscription) Unsubscribe() error {
	if s.remove != nil {
		s.remove(s)
	}
	s.end(ErrUnsubscribed)
	return nil
}

// matches reports whether any of the subscription's patterns matches topic.
func (s *Subscription) matches(topic string) bool {
	for _, p := range s.patterns {
		if Match(p, topic) {
			return true
		}
	}
	return false
}

// push queues ev without blocking, discarding the oldest queued event when
// the queue is full. Pushes to one subscription come from one goroutine at
// a time (the connection's reader, or a fake's publisher under its lock).
func (s *Subscription) push(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	for {
		select {
		case s.ch <- ev:
			return
		default:
		}
		select {
		case <-s.ch:
			s.dropped.Add(1)
		default: // the consumer made room meanwhile
		}
	}
}

// end closes the subscription with reason err, once.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done, s.err = true, err
	close(s.ch)
}

// dedupPatterns returns patterns without repeats, in order.
func dedupPatterns(patterns []string) []string {
	out := make([]string, 0, len(patterns))
	seen := make(map[string]bool, len(patterns))
	for _, p := range patterns {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
