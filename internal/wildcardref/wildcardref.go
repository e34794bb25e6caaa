// Package wildcardref is the reference that busd's wildcard matchers are
// tested against: the rules of PROTOCOL.md, "Wildcards", stated a second
// way. Each pattern is translated into a regular expression over the whole
// topic, so the reference shares neither code nor structure with the token
// walks it checks (trie.Match and the trie.Index). Only tests import it.
package wildcardref

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Pattern is a busd pattern translated into a regular expression.
type Pattern struct {
	re *regexp.Regexp
}

// Compile translates pattern, token by token, from PROTOCOL.md's wording:
//
//   - "*", one non-empty topic token: one or more bytes that are not '.';
//   - ">", at least one topic token (possibly empty) left, tokens after it
//     ignored: any bytes at all, possibly none (what is left of the topic
//     is then one or more tokens whatever it holds), and the translation
//     stops there;
//   - any other token, an identical topic token: the token itself, quoted;
//
// joined by a literal '.' and anchored at both ends, which makes the token
// counts of pattern and topic equal when there is no ">".
func Compile(pattern string) Pattern {
	var expr strings.Builder
	expr.WriteString(`\A`)
	for i, tok := range strings.Split(pattern, ".") {
		if i > 0 {
			expr.WriteString(`\.`)
		}
		if tok == ">" {
			expr.WriteString(`(?s:.*)`)
			break
		}
		if tok == "*" {
			expr.WriteString(`[^.]+`)
			continue
		}
		expr.WriteString(regexp.QuoteMeta(tok))
	}
	expr.WriteString(`\z`)
	return Pattern{regexp.MustCompile(expr.String())}
}

// Match reports whether topic matches the pattern.
func (p Pattern) Match(topic string) bool { return p.re.MatchString(topic) }

// String is the regular expression. Two spellings of one pattern (such as
// "a.>" and "a.>.b", which the rules make equivalent) translate to the same
// one, so it also serves as the pattern's identity as a subscription.
func (p Pattern) String() string { return p.re.String() }

// Match compiles pattern and matches topic: for tables of cases; loops over
// many topics compile once.
func Match(pattern, topic string) bool { return Compile(pattern).Match(topic) }

// Pair is one subscription: Pattern as it was first spelled, and the
// subscriber.
type Pair struct {
	Pattern string
	Sub     int
	rule    Pattern
}

// Matches reports whether the pair's pattern matches topic.
func (p Pair) Matches(topic string) bool { return p.rule.Match(topic) }

func (p Pair) String() string { return fmt.Sprintf("%s→%d", p.Pattern, p.Sub) }

// Index is the reference subscription index: a plain list of pairs, each
// matched on its own. The zero Index is empty and ready to use.
type Index struct {
	Pairs []Pair
}

// find returns the position of the pair of sub whose pattern has the given
// identity, or -1.
func (x *Index) find(rule Pattern, sub int) int {
	return slices.IndexFunc(x.Pairs, func(p Pair) bool {
		return p.Sub == sub && p.rule.String() == rule.String()
	})
}

// Add records the pair and reports whether it is new: false when sub
// already holds a pattern with the same identity (see Pattern.String).
func (x *Index) Add(pattern string, sub int) bool {
	rule := Compile(pattern)
	if x.find(rule, sub) >= 0 {
		return false
	}
	x.Pairs = append(x.Pairs, Pair{Pattern: pattern, Sub: sub, rule: rule})
	return true
}

// Remove deletes the pair, under any spelling of its pattern; it reports
// whether it was there.
func (x *Index) Remove(pattern string, sub int) bool {
	i := x.find(Compile(pattern), sub)
	if i < 0 {
		return false
	}
	x.Pairs = slices.Delete(x.Pairs, i, i+1)
	return true
}

// Match returns the subscribers with a pattern matching topic, sorted, each
// once; nil when there is none.
func (x *Index) Match(topic string) []int {
	var subs []int
	for _, p := range x.Pairs {
		if p.Matches(topic) {
			subs = append(subs, p.Sub)
		}
	}
	slices.Sort(subs)
	return slices.Compact(subs)
}
