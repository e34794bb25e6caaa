package trie

// Match reports whether topic matches pattern under the wildcard rules of
// the package documentation (PROTOCOL.md, "Wildcards"): one pattern, no
// Index. It is the rule the Index applies to all its patterns at once, and
// the one every other matcher of the module (client.Match, the peer
// benchmarks' delivery filters) forwards to. It allocates nothing.
func Match(pattern, topic string) bool {
	for {
		// Both strings hold at least one token here (a string with no
		// dot is one token, possibly empty).
		ptok, prest, pmore := nextToken(pattern)
		if ptok == ">" {
			return true
		}
		ttok, trest, tmore := nextToken(topic)
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

// MatchBytes is Match for a topic in a byte slice (a frame header, a read
// buffer), read in place: nothing retains topic, and nothing is copied.
func MatchBytes(pattern string, topic []byte) bool {
	return Match(pattern, bytesView(topic))
}
