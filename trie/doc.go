// Package trie is busd's subscription index: it maps a topic to the set of
// subscribers whose patterns match it, following the wildcard rules of the
// wire contract (PROTOCOL.md, "Wildcards").
//
// Topics and patterns are split on '.' into tokens; empty tokens are ordinary
// literals. A pattern token "*" matches exactly one non-empty topic token; a
// pattern token ">" matches when at least one topic token (possibly empty)
// remains, and ends the comparison, so tokens after it are ignored; any other
// pattern token matches an identical topic token. Without ">", pattern and
// topic have the same number of tokens. In a topic, "*" and ">" are plain
// literals.
//
// The empty string is one empty token, both as a pattern and as a topic; the
// wire layer refuses empty patterns and topics before they get here.
//
// Match (and MatchBytes) apply these rules to one pattern; an Index applies
// them to all its patterns at once. They are the module's one statement of
// the rules: the client and the peer benchmarks call Match, and the tests
// compare both with busd/internal/wildcardref, which states the rules as
// regular expressions.
package trie
