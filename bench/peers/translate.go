package peers

import (
	"fmt"
	"strings"
)

// Pattern translation from busd syntax ('.'-separated tokens, '*' exactly
// one non-empty token, '>' one or more trailing tokens, tokens after '>'
// ignored) to each peer's own. Where a peer's language cannot say exactly
// what busd means, the translation is the nearest superset and the client
// filters deliveries with busd's matcher (match.go), so every system
// delivers the same events.

// NATSSubject translates a busd pattern (or topic) to a NATS subject.
// The wildcards map one to one; tokens after '>' are dropped (NATS wants '>'
// last). NATS rejects empty tokens in subscriptions, which busd allows as
// literals: such a pattern is an error (the standard workloads use none).
func NATSSubject(pattern string) (string, error) {
	toks := strings.Split(pattern, ".")
	for i, t := range toks {
		if t == "" {
			return "", fmt.Errorf("nats: pattern %q has an empty token, which NATS rejects", pattern)
		}
		if strings.ContainsAny(t, " \t\r\n") {
			return "", fmt.Errorf("nats: pattern %q contains whitespace", pattern)
		}
		if t == ">" {
			return strings.Join(toks[:i+1], "."), nil
		}
	}
	return pattern, nil
}

// RedisPattern translates a busd pattern to a Redis channel (exact=true,
// for SUBSCRIBE) or glob (exact=false, for PSUBSCRIBE). Redis globs have no
// "one token": '*' matches any run of characters, dots included, and the
// empty one. So '*' becomes '*' (a superset: "a.*.c" also matches
// "a.b.x.c" and "a..c"), and a '>' tail becomes "prefix.*" (which also
// matches deeper topics, as '>' does, and "prefix." as '>' does). Glob
// metacharacters in literal tokens are escaped.
func RedisPattern(pattern string) (glob string, exact bool) {
	toks := strings.Split(pattern, ".")
	wild := false
	for i, t := range toks {
		if t == "*" || t == ">" {
			wild = true
			if t == ">" {
				toks = toks[:i+1]
				break
			}
		}
	}
	if !wild {
		return pattern, true
	}
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte('.')
		}
		switch t {
		case "*", ">":
			b.WriteByte('*')
		default:
			for j := 0; j < len(t); j++ {
				switch c := t[j]; c {
				case '*', '?', '[', ']', '\\':
					b.WriteByte('\\')
					b.WriteByte(c)
				default:
					b.WriteByte(c)
				}
			}
		}
	}
	return b.String(), false
}

// MQTTTopic translates a busd topic to an MQTT topic name: '.' becomes the
// level separator '/'. A topic holding '/', '+', '#' or NUL cannot be
// carried faithfully (MQTT would split or refuse it): an error.
func MQTTTopic(topic string) (string, error) {
	if strings.ContainsAny(topic, "/+#\x00") {
		return "", fmt.Errorf("mqtt: topic %q holds a character MQTT reserves", topic)
	}
	return strings.ReplaceAll(topic, ".", "/"), nil
}

// appendBusdTopic appends the busd topic an MQTT topic name was translated
// from: MQTTTopic turns '.' into '/' and refuses topics that hold a '/', so
// turning every '/' back into '.' recovers the topic exactly.
func appendBusdTopic(dst, mqttTopic []byte) []byte {
	n := len(dst)
	dst = append(dst, mqttTopic...)
	for i := n; i < len(dst); i++ {
		if dst[i] == '/' {
			dst[i] = '.'
		}
	}
	return dst
}

// MQTTFilter translates a busd pattern to an MQTT topic filter: '*' → '+',
// a '>' tail → '#', '.' → '/'. Both are supersets of busd's meaning: '+'
// also matches an empty level ("a/+" matches "a/"), and "a/#" also matches
// "a" itself; the client filters those out.
func MQTTFilter(pattern string) (string, error) {
	toks := strings.Split(pattern, ".")
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		switch t {
		case "*":
			out = append(out, "+")
		case ">":
			out = append(out, "#")
			return strings.Join(out, "/"), nil
		default:
			if strings.ContainsAny(t, "/+#\x00") {
				return "", fmt.Errorf("mqtt: pattern %q holds a character MQTT reserves", pattern)
			}
			out = append(out, t)
		}
	}
	return strings.Join(out, "/"), nil
}
