// Package bridge carries events between the host bus and NATS, so that
// hosts that each run their own busd share the topics they choose.
//
// A Bridge is a client of both sides, one connection each: of the local
// daemon through busd/client, of NATS through nats.go. It never runs inside
// the daemon, so a sick NATS can only make the bridge buffer, drop and
// count; the daemon's event loop never waits on it.
//
// Export (bus → NATS): one raw subscription on the local connection takes
// every event matching an export rule, maps its topic to a subject and
// queues it in the outbox, a bounded drop-oldest buffer (events, bytes,
// age) that one sender drains into NATS. While NATS is away the outbox
// holds what it can and counts what it drops.
//
// Import (NATS → bus): one NATS subscription per import rule; each message
// is checked (loop, hops, topic, body), mapped to a local topic and batched
// into one write to the daemon. nats.go's per-subscription pending limits
// bound what waits there; what they drop is counted as slow consumption.
//
// Loops are refused per message, with no knowledge of the topology:
//   - the daemon never returns a connection's own events to it, and
//     treats all bridges (codec.IsBridgeName, the HELLO name this bridge
//     sends) as one connection for that rule, so what any bridge imports
//     is never exported again from that host; NATS's NoEcho keeps a
//     bridge's exports from coming back to it;
//   - every exported message carries the origin host's id and a hop count
//     in headers (HeaderOrigin, HeaderHops); an import from the bridge's
//     own host id, or past the hop limit, is dropped and counted.
//
// An event crosses once per rule set: of the rules of one direction, the
// first that matches an event (in the order given) carries it, so
// overlapping rules never duplicate it.
package bridge
