package bridge

import (
	"fmt"
	"strings"

	"busd/trie"
)

// Direction says which way a rule carries events.
type Direction uint8

const (
	// Export carries local events to NATS.
	Export Direction = 1 << iota
	// Import carries NATS messages to the local bus.
	Import
	// Both is Export and Import.
	Both = Export | Import
)

func (d Direction) String() string {
	switch d {
	case Export:
		return "export"
	case Import:
		return "import"
	case Both:
		return "both"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// ParseDirection reads "export" ("out"), "import" ("in") or "both".
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(s) {
	case "export", "out":
		return Export, nil
	case "import", "in":
		return Import, nil
	case "both":
		return Both, nil
	}
	return 0, errorf("direction %q: want export, import or both", s)
}

// Rule maps the topics matching one pattern between the bus and NATS, in
// the spirit of a Mosquitto bridge's "topic pattern direction local-prefix
// remote-prefix":
//
//	local topic  = LocalPrefix  . T
//	NATS subject = RemotePrefix . T      (T matches Pattern)
//
// so export subscribes to LocalPrefix.Pattern on the bus and publishes
// RemotePrefix.T, and import subscribes to RemotePrefix.Pattern on NATS and
// publishes LocalPrefix.T. Without prefixes a topic keeps its name.
//
// Prefixes are whole tokens, written without the joining dot. "{host}" in
// a prefix stands for the bridge's host id. An import's remote prefix may
// hold "*" tokens ("hosts.*" imports every host's events, the host token
// stripped); an export's remote prefix and every local prefix are literal.
type Rule struct {
	Pattern      string
	Direction    Direction
	LocalPrefix  string
	RemotePrefix string
}

// String is the rule as --check prints it.
func (r Rule) String() string {
	var b strings.Builder
	if r.Direction&Export != 0 {
		fmt.Fprintf(&b, "export bus %s → nats %s", r.LocalPattern(), r.RemotePattern())
	}
	if r.Direction&Import != 0 {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "import nats %s → bus %s", r.RemotePattern(), r.LocalPattern())
	}
	return b.String()
}

// LocalPattern is the pattern on the bus side.
func (r Rule) LocalPattern() string { return join(r.LocalPrefix, r.Pattern) }

// RemotePattern is the pattern on the NATS side.
func (r Rule) RemotePattern() string { return join(r.RemotePrefix, r.Pattern) }

// expand returns r with "{host}" replaced by host in its prefixes.
func (r Rule) expand(host string) Rule {
	r.LocalPrefix = strings.ReplaceAll(r.LocalPrefix, "{host}", host)
	r.RemotePrefix = strings.ReplaceAll(r.RemotePrefix, "{host}", host)
	return r
}

// check validates an expanded rule.
func (r Rule) check() error {
	if r.Direction == 0 || r.Direction&^Both != 0 {
		return errorf("no direction (want export, import or both)")
	}
	if err := checkPattern(r.Pattern); err != nil {
		return err
	}
	if err := checkPrefix("local prefix", r.LocalPrefix, false); err != nil {
		return err
	}
	wild := r.Direction == Import
	if err := checkPrefix("remote prefix", r.RemotePrefix, wild); err != nil {
		if !wild && strings.Contains(r.RemotePrefix, "*") {
			return errorf("remote prefix %q: an export needs a literal prefix (a \"*\" prefix is for imports only)", r.RemotePrefix)
		}
		return err
	}
	if strings.Contains(r.LocalPrefix+r.RemotePrefix, "{") {
		return errorf("unknown placeholder in a prefix (only {host} is known)")
	}
	if n := len(r.LocalPattern()); n > maxTopic {
		return errorf("local pattern longer than %d bytes", maxTopic)
	}
	return nil
}

// route is a checked rule ready for the hot path: the mapping of one
// topic or subject to the other side is an append into the caller's
// buffer, with no allocation.
type route struct {
	Rule
	local, remote string // LocalPattern and RemotePattern
	// localSkip and remoteSkip are the byte lengths to cut from a topic or
	// subject to reach T (the prefix and its dot); remoteTokens is the
	// remote prefix's token count, used instead when it holds wildcards.
	localSkip, remoteSkip int
	remoteTokens          int
	remoteWild            bool
}

func newRoute(r Rule) route {
	rt := route{Rule: r, local: r.LocalPattern(), remote: r.RemotePattern()}
	if r.LocalPrefix != "" {
		rt.localSkip = len(r.LocalPrefix) + 1
	}
	if r.RemotePrefix != "" {
		rt.remoteSkip = len(r.RemotePrefix) + 1
		rt.remoteTokens = strings.Count(r.RemotePrefix, ".") + 1
		rt.remoteWild = strings.Contains(r.RemotePrefix, "*")
	}
	return rt
}

// matchesLocal reports whether the bus topic falls under this rule.
func (rt *route) matchesLocal(topic string) bool { return trie.Match(rt.local, topic) }

// matchesRemote reports whether the NATS subject falls under this rule.
func (rt *route) matchesRemote(subject string) bool { return trie.Match(rt.remote, subject) }

// appendSubject appends the NATS subject for a bus topic that matches the
// rule; ok is false when the result is not a valid subject.
func (rt *route) appendSubject(dst, topic []byte) (out []byte, ok bool) {
	t := topic[rt.localSkip:]
	start := len(dst)
	if rt.RemotePrefix != "" {
		dst = append(dst, rt.RemotePrefix...)
		dst = append(dst, '.')
	}
	dst = append(dst, t...)
	return dst, validSubject(dst[start:])
}

// appendTopic appends the bus topic for a NATS subject that matches the
// rule; ok is false when the result is not a valid bus topic.
func (rt *route) appendTopic(dst, subject []byte) (out []byte, ok bool) {
	var t []byte
	if rt.remoteWild {
		var more bool
		if t, more = skipTokens(subject, rt.remoteTokens); !more {
			return dst, false
		}
	} else {
		t = subject[rt.remoteSkip:]
	}
	start := len(dst)
	if rt.LocalPrefix != "" {
		dst = append(dst, rt.LocalPrefix...)
		dst = append(dst, '.')
	}
	dst = append(dst, t...)
	return dst, validTopic(dst[start:])
}
