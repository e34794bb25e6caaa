package bridge

import (
	"strconv"

	"github.com/nats-io/nats.go"
)

// Headers every exported message carries. They are the per-message loop
// guard: no bridge keeps state about the topology.
const (
	// HeaderOrigin names the host whose bus the event was published on.
	HeaderOrigin = "Busd-Origin"
	// HeaderHops counts the bridges the event has crossed: 1 when it
	// leaves its own host. A relay that forwards it again adds one.
	HeaderHops = "Busd-Hops"
)

// DefaultMaxHops is the hop limit. No busd bridge exports what any bridge
// imported (the daemon's no-echo rule for bridges), so their messages
// always arrive with 1; the limit stops those that a relay keeping the
// headers passes around.
const DefaultMaxHops = 8

// verdict is what the loop guard says about an incoming message.
type verdict uint8

const (
	accept verdict = iota
	ownOrigin
	tooManyHops
)

// loopGuard judges incoming messages by their headers.
type loopGuard struct {
	host    string
	maxHops int
}

// check reads the origin and hop headers. A message without them comes
// from a plain NATS publisher: it is accepted as zero hops away.
func (g loopGuard) check(h nats.Header) verdict {
	if h == nil {
		return accept
	}
	if o := h[HeaderOrigin]; len(o) > 0 && o[0] == g.host {
		return ownOrigin
	}
	if v := h[HeaderHops]; len(v) > 0 {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 || n > g.maxHops {
			// A malformed count cannot be trusted to stop a loop.
			return tooManyHops
		}
	}
	return accept
}

// exportHeader is the header of every message this bridge exports: its
// events all start here, one hop out.
func exportHeader(host string) nats.Header {
	return nats.Header{HeaderOrigin: {host}, HeaderHops: {"1"}}
}
