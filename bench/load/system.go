// Package load is the end-to-end load generator: workloads W1–W6 driven
// over real sockets against busd or, through the same interfaces, against
// peer brokers (see bench/peers, a separate module).
package load

import "context"

// System is one broker under test. Each workload gets a fresh server
// process (Start … Stop), so that its CPU time and RSS can be read from
// /proc and nothing a previous workload left behind (patterns, buffers)
// skews the next.
type System interface {
	// Name identifies the system in reports: "busd", "nats", "redis",
	// "mosquitto", "raw".
	Name() string
	// Start launches a fresh server process and returns once it accepts
	// clients.
	Start(ctx context.Context) error
	// Stop ends the server process and removes what Start created.
	Stop() error
	// ServerPID is the server process, for CPU and RSS accounting.
	ServerPID() int
	// NewPublisher connects a publisher.
	NewPublisher() (Publisher, error)
	// NewSubscriber connects one subscriber connection holding every
	// pattern (busd syntax: '*' one non-empty token, '>' the tail; a
	// system translates it to its own). onEvent is called for each event
	// with its body, from the subscriber's own goroutine; body is valid only
	// during the call. The subscriber reads until Close.
	NewSubscriber(patterns []string, onEvent func(body []byte)) (Subscriber, error)
}

// Publisher sends events. Publish buffers; Flush writes what is buffered.
// A publisher is used by one goroutine.
type Publisher interface {
	Publish(topic string, body []byte) error
	Flush() error
	Close() error
}

// Subscriber is a connection receiving events; Ready returns once every
// pattern is registered on the server (so no event published afterwards
// can be missed), Close stops it.
//
// Run reads the counts that onEvent keeps after Close returns, so Close
// must return only once the subscriber's goroutine has stopped: onEvent is
// never called after Close returns.
type Subscriber interface {
	Ready(ctx context.Context) error
	Close() error
}
