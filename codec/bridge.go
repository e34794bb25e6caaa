package codec

import "bytes"

// BridgeName is the HELLO name of a bridge to another bus: busd bridge
// sends "busd-bridge <host id>". The daemon treats the connections so
// named (IsBridgeName) as one no-echo group: an event published by one
// bridge is delivered to no bridge, as an event is never returned to its
// own connection. So an event that a bridge imported onto a host's bus
// never leaves that host again through any bridge, which keeps loops out
// of any topology of hosts and bridges (README, "Loops"). Deployed
// clients never use the name.
const BridgeName = "busd-bridge"

// IsBridgeName reports whether a HELLO name is a bridge's: BridgeName
// alone or followed by a space and anything.
func IsBridgeName(name []byte) bool {
	rest, ok := bytes.CutPrefix(name, []byte(BridgeName))
	return ok && (len(rest) == 0 || rest[0] == ' ')
}
