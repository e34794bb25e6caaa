package engine

import (
	"testing"

	"busd/codec"
)

// Bridges (HELLO names that codec.IsBridgeName accepts) are one
// no-echo group: what one publishes reaches every other connection but no
// bridge, so an event imported onto the bus never leaves through another
// bridge; what anyone else publishes reaches the bridges as usual.
func TestBridgesAreOneNoEchoGroup(t *testing.T) {
	e := startServer(t, nil)
	b1, b2, app, pub := e.dial(), e.dial(), e.dial(), e.dial()
	b1.send(codec.VerbHELLO, codec.BridgeName+" h1", "")
	b2.send(codec.VerbHELLO, codec.BridgeName, "")
	app.send(codec.VerbHELLO, "busd-bridged-looking-but-not-quite", "") // a different name
	for _, w := range []*wire{b1, b2, app} {
		w.sub("a.>")
	}

	// From a bridge: the application gets it, the other bridge does not.
	b1.send(codec.VerbPUB, "a.imported", envelope(1))
	app.expect("a.imported", envelope(1))
	b2.expectBarrier(pub, "a.barrier1")
	app.expect("a.barrier1", barrierBody)
	b1.expect("a.barrier1", barrierBody)

	// From anyone else: every bridge gets it.
	pub.send(codec.VerbPUB, "a.local", envelope(2))
	for _, w := range []*wire{b1, b2, app} {
		w.expect("a.local", envelope(2))
	}

	// A connection that stops calling itself a bridge leaves the group.
	b2.send(codec.VerbHELLO, "renamed", "")
	b2.sync()
	b1.send(codec.VerbPUB, "a.imported", envelope(3))
	b2.expect("a.imported", envelope(3))
	app.expect("a.imported", envelope(3))
}
