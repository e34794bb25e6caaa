package bridge

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
)

// StateTopic is the local topic on which the bridge announces that its
// NATS connection went up or down.
const StateTopic = "system.bus.bridge"

// statePayload is the payload of a StateTopic event (type "bus.bridge").
type statePayload struct {
	HostID     string `json:"host_id"`
	NATS       string `json:"nats"` // "up" or "down"
	Server     string `json:"server,omitempty"`
	Error      string `json:"error,omitempty"`
	Reconnects uint64 `json:"reconnects"`
}

// natsUp is nats.go's (re)connect callback.
func (b *Bridge) natsUp(nc *nats.Conn) {
	if nc.Reconnects > 0 {
		b.c.reconnects.Store(nc.Reconnects)
	}
	b.failMu.Lock()
	b.lastFailureAt = time.Time{}
	b.failMu.Unlock()
	server := nc.ConnectedUrlRedacted()
	b.log.Info("nats connected", "server", server, "reconnects", nc.Reconnects)
	b.announce(statePayload{HostID: b.cfg.HostID, NATS: "up", Server: server, Reconnects: b.c.reconnects.Load()})
	b.out.signal() // what was queued meanwhile can leave now
}

// natsDown is nats.go's disconnect callback.
func (b *Bridge) natsDown(nc *nats.Conn, err error) {
	p := statePayload{HostID: b.cfg.HostID, NATS: "down", Reconnects: b.c.reconnects.Load()}
	if err != nil {
		p.Error = err.Error()
	}
	if b.stopping.Load() {
		b.log.Info("nats connection closed")
	} else {
		b.log.Warn("nats disconnected; reconnecting", "err", err)
	}
	b.announce(p)
}

// failureLogEvery is how often a failure that keeps recurring is logged
// again at warning level.
const failureLogEvery = time.Minute

// natsReconnectFailed logs why a connection attempt failed: the first
// failure since the connection was last up, and one a minute after that,
// at warning level (an operator must see "certificate required" or
// "authorization violation"), the others at debug level (a server down
// for an hour means thousands of attempts).
func (b *Bridge) natsReconnectFailed(nc *nats.Conn, err error) {
	b.failMu.Lock()
	loud := b.lastFailureAt.IsZero() || time.Since(b.lastFailureAt) >= failureLogEvery
	if loud {
		b.lastFailureAt = time.Now()
	}
	b.failMu.Unlock()
	if loud {
		b.log.Warn("nats connection attempt failed; retrying (logged again in a minute if it goes on)", "err", err)
		return
	}
	b.log.Debug("nats connection attempt failed", "err", err)
}

// natsError is nats.go's asynchronous error callback: slow consumption
// (counted by the subscriptions themselves), permission errors.
func (b *Bridge) natsError(nc *nats.Conn, sub *nats.Subscription, err error) {
	subject := ""
	if sub != nil {
		subject = sub.Subject
	}
	if err == nats.ErrSlowConsumer {
		b.warn.Warn("import falling behind: NATS client dropping messages", "subject", subject)
		return
	}
	b.warn.Warn("nats error", "subject", subject, "err", err)
}

// announce publishes a StateTopic event on the bus, best effort: with the
// bus down there is nobody to tell.
func (b *Bridge) announce(p statePayload) {
	bus := b.bus.Load()
	if bus == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := bus.Publish(ctx, StateTopic, p, "bus.bridge"); err != nil {
		b.log.Debug("bridge state event not published", "err", err)
	}
}
