package trie

import "strings"

// normalize returns the part of pattern that matching actually looks at:
// everything up to and including the first ">" token. Tokens after a ">" are
// ignored by the matching rules, so "a.>.b" and "a.>" are the same
// subscription; normalizing on both Add and Remove keeps the two paths
// symmetric, and keys pairs by what they match rather than how they were
// spelled.
func normalize(pattern string) string {
	rest := pattern
	off := 0
	for {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			return pattern
		}
		if rest[:i] == ">" {
			return pattern[:off+i]
		}
		off += i + 1
		rest = rest[i+1:]
	}
}

// nextToken splits off the first token of s. more reports whether s had a
// separator, i.e. whether at least one further (possibly empty) token follows
// in rest.
func nextToken(s string) (tok, rest string, more bool) {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
