package client

import (
	"context"
	"sync"
)

// Nop returns a bus that does nothing: Publish checks its arguments and
// discards the event, subscriptions never receive anything (they end on
// Unsubscribe or Close). For programs run without a bus.
func Nop() Bus { return &nopBus{subs: make(map[*Subscription]struct{})} }

type nopBus struct {
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
}

func (n *nopBus) Publish(ctx context.Context, topic string, payload any, eventType string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := buildEnvelope(topic, payload, eventType)
	return err
}

func (n *nopBus) Subscribe(pattern string) (*Subscription, error) {
	if err := CheckPattern(pattern); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, ErrClosed
	}
	s := newSubscription([]string{pattern}, 1, n.remove)
	n.subs[s] = struct{}{}
	return s, nil
}

func (n *nopBus) remove(s *Subscription) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.subs, s)
}

func (n *nopBus) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	for s := range n.subs {
		s.end(ErrClosed)
	}
	clear(n.subs)
	return nil
}
