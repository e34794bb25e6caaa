package client

import (
	"context"
	"sync"
)

// Fake is an in-process bus for tests of code that uses Bus. It needs no
// daemon and delivers synchronously: when Publish returns, the event is in
// the queue of every matching subscription.
//
// It applies the daemon's rules: the same topic and pattern checks, the
// same wildcard matching (Match), the same envelope, one bounded
// drop-oldest queue per subscription (WithQueueSize's default, 1024
// events).
//
// Echo: the daemon never returns a connection's own events to it. The Fake
// itself is a hub, not a connection: everything published on it reaches
// every matching subscription made on it, which is what a test usually
// wants (publish with the code under test, observe with Subscribe). To
// reproduce the daemon's no-echo rule, take connections with Conn: what a
// FakeConn publishes reaches every matching subscription except its own.
type Fake struct {
	mu        sync.Mutex
	subs      map[*Subscription]*FakeConn // nil: made on the hub
	published []Event
	closed    bool
	queueSize int
}

var _ Bus = (*Fake)(nil)

// NewFake returns an empty fake bus.
func NewFake() *Fake {
	return &Fake{subs: make(map[*Subscription]*FakeConn), queueSize: DefaultQueueSize}
}

// Publish delivers the event to every matching subscription.
func (f *Fake) Publish(ctx context.Context, topic string, payload any, eventType string) error {
	return f.publish(ctx, nil, topic, payload, eventType)
}

// Subscribe returns a subscription that receives every matching event
// published on the fake or on any of its connections.
func (f *Fake) Subscribe(pattern string) (*Subscription, error) {
	return f.subscribe(nil, pattern)
}

// Close ends every subscription with ErrClosed; later calls fail with
// ErrClosed.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	for s := range f.subs {
		s.end(ErrClosed)
	}
	clear(f.subs)
	return nil
}

// Published returns every event published so far, in order (whether or not
// anyone subscribed).
func (f *Fake) Published() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.published...)
}

// Conn returns a connection to the fake: a Bus whose subscriptions never
// receive what it publishes itself, as with the daemon.
func (f *Fake) Conn() *FakeConn { return &FakeConn{f: f} }

func (f *Fake) publish(ctx context.Context, from *FakeConn, topic string, payload any, eventType string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body, err := buildEnvelope(topic, payload, eventType)
	if err != nil {
		return err
	}
	ev := newEvent(topic, body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || (from != nil && from.closed) {
		return ErrClosed
	}
	f.published = append(f.published, ev)
	for s, owner := range f.subs {
		if from != nil && owner == from {
			continue
		}
		if s.matches(topic) {
			s.push(ev)
		}
	}
	return nil
}

func (f *Fake) subscribe(owner *FakeConn, pattern string) (*Subscription, error) {
	if err := CheckPattern(pattern); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || (owner != nil && owner.closed) {
		return nil, ErrClosed
	}
	s := newSubscription([]string{pattern}, f.queueSize, f.remove)
	f.subs[s] = owner
	return s, nil
}

func (f *Fake) remove(s *Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, s)
}

// FakeConn is one connection to a Fake (see Fake.Conn).
type FakeConn struct {
	f      *Fake
	closed bool // guarded by f.mu
}

var _ Bus = (*FakeConn)(nil)

// Publish delivers the event to every matching subscription of the fake
// except this connection's own.
func (fc *FakeConn) Publish(ctx context.Context, topic string, payload any, eventType string) error {
	return fc.f.publish(ctx, fc, topic, payload, eventType)
}

// Subscribe returns a subscription that receives matching events published
// on the fake or on its other connections.
func (fc *FakeConn) Subscribe(pattern string) (*Subscription, error) {
	return fc.f.subscribe(fc, pattern)
}

// Close ends this connection's subscriptions with ErrClosed.
func (fc *FakeConn) Close() error {
	fc.f.mu.Lock()
	defer fc.f.mu.Unlock()
	fc.closed = true
	for s, owner := range fc.f.subs {
		if owner == fc {
			s.end(ErrClosed)
			delete(fc.f.subs, s)
		}
	}
	return nil
}
