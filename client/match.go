package client

import "strings"

// Match reports whether topic matches pattern under the bus's wildcard
// rules. Both are split on "." into tokens (empty tokens are ordinary
// literals); then, token by token:
//
//   - "*" matches exactly one non-empty topic token;
//   - ">" matches when at least one topic token (possibly empty) remains,
//     and ends the comparison: tokens after it in the pattern are ignored;
//   - any other pattern token matches an identical topic token;
//   - without a ">", pattern and topic have the same number of tokens.
//
// So "topology.>" matches "topology.t1.status" but not "topology", "a.*"
// does not match "a." and "a.>" does.
func Match(pattern, topic string) bool {
	for {
		// Both strings hold at least one token here (a string with no
		// dot is one token, possibly empty).
		ptok, prest, pmore := strings.Cut(pattern, ".")
		if ptok == ">" {
			return true
		}
		ttok, trest, tmore := strings.Cut(topic, ".")
		if ptok == "*" {
			if ttok == "" {
				return false
			}
		} else if ptok != ttok {
			return false
		}
		if !pmore || !tmore {
			return pmore == tmore
		}
		pattern, topic = prest, trest
	}
}
