package client

// RawHandler receives one event as the connection's reader decoded it:
// topic is the EVT header's topic and body the event body, both aliasing
// the reader's buffer, valid only until the handler returns (copy what
// must outlive the call).
//
// It runs on the client's reader goroutine, so it must not block: every
// other subscription of the client waits while it runs. A handler that
// needs to do slow work hands the event to its own bounded queue.
type RawHandler func(topic, body []byte)

// SubscribeRaw is SubscribeAny for consumers that move events on rather
// than read them, such as a relay: h is called for each matching event,
// with no copy and no decoding of the envelope, instead of queueing an
// Event. The subscription's channel carries no events; it is closed when
// the subscription ends, like any other's. h may still run once while
// Unsubscribe runs; it never runs after Close returns.
func (c *Client) SubscribeRaw(h RawHandler, patterns ...string) (*Subscription, error) {
	if h == nil {
		return nil, errNilHandler
	}
	return c.subscribe(patterns, h)
}
