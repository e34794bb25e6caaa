package client

import "busd/trie"

// Match reports whether topic matches pattern under the bus's wildcard
// rules (PROTOCOL.md, "Wildcards"): both are split on "." into tokens, "*"
// matches exactly one non-empty topic token, ">" matches one or more
// remaining tokens (possibly empty ones) and ends the comparison, any other
// token matches itself. So "topology.>" matches "topology.t1.status" but not
// "topology", "a.*" does not match "a." and "a.>" does.
//
// It is trie.Match, the daemon's own rule, so a local subscription sees
// exactly the events the daemon routes to its pattern. It allocates nothing.
func Match(pattern, topic string) bool { return trie.Match(pattern, topic) }
