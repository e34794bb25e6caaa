package bridge

import "strings"

// Topics, subjects and patterns are "."-separated tokens on both sides;
// "*" matches one token and ">" the rest, on both sides. They differ at the
// edges: a bus topic may hold empty tokens ("a..b", "a.") and literal "*"
// or ">" tokens, which are not valid NATS subjects; a NATS subject may hold
// any byte but whitespace, while a bus topic is printable ASCII. The checks
// below are where an event that cannot cross is refused (and counted).

// validSubject reports whether b can be published on NATS: non-empty
// tokens, none of them a wildcard, no whitespace or control bytes.
func validSubject(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != '.' {
			if c := b[i]; c <= ' ' || c == 0x7f {
				return false
			}
			continue
		}
		tok := b[start:i]
		if len(tok) == 0 || (len(tok) == 1 && (tok[0] == '*' || tok[0] == '>')) {
			return false
		}
		start = i + 1
	}
	return true
}

// maxTopic is the longest topic whose PUB header fits the bus's 4096-byte
// header limit.
const maxTopic = 4096 - len("UNSUB \n")

// validTopic reports whether b can be published on the bus: printable
// ASCII without spaces, within the header limit.
func validTopic(b []byte) bool {
	if len(b) == 0 || len(b) > maxTopic {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// checkPattern refuses a pattern that does not mean the same on both
// sides: it must be valid NATS (non-empty tokens, ">" only last) and a
// valid bus pattern (printable ASCII without spaces).
func checkPattern(p string) error {
	if p == "" {
		return errorf("empty pattern")
	}
	if !validTopic([]byte(p)) {
		return errorf("pattern %q: only printable ASCII without spaces is allowed", p)
	}
	toks := strings.Split(p, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return errorf("pattern %q has an empty token, which NATS subjects cannot have", p)
		case t == ">" && i != len(toks)-1:
			return errorf("pattern %q: \">\" must be the last token", p)
		case len(t) > 1 && strings.ContainsAny(t, "*>"):
			return errorf("pattern %q: a token holds a wildcard among other characters (%q); wildcards are whole tokens", p, t)
		}
	}
	return nil
}

// checkPrefix refuses a prefix that is not a run of whole literal tokens
// (or, where wildcards are allowed, "*" tokens).
func checkPrefix(what, p string, wildcards bool) error {
	if p == "" {
		return nil
	}
	if !validTopic([]byte(p)) {
		return errorf("%s %q: only printable ASCII without spaces is allowed", what, p)
	}
	for _, t := range strings.Split(p, ".") {
		switch {
		case t == "":
			return errorf("%s %q has an empty token (write it without leading, trailing or double dots)", what, p)
		case t == "*" && wildcards:
		case strings.ContainsAny(t, "*>"):
			if wildcards {
				return errorf("%s %q: only \"*\" tokens may be wildcards here", what, p)
			}
			return errorf("%s %q: wildcards are not allowed here", what, p)
		}
	}
	return nil
}

// join is prefix.rest, or rest alone without a prefix.
func join(prefix, rest string) string {
	if prefix == "" {
		return rest
	}
	return prefix + "." + rest
}

// skipTokens returns b after its first n tokens and their dots; ok is false
// when b has no more than n tokens.
func skipTokens(b []byte, n int) (rest []byte, ok bool) {
	for ; n > 0; n-- {
		i := indexDot(b)
		if i < 0 {
			return nil, false
		}
		b = b[i+1:]
	}
	return b, true
}

func indexDot(b []byte) int {
	for i, c := range b {
		if c == '.' {
			return i
		}
	}
	return -1
}
