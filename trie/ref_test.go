package trie

import (
	"slices"
	"strings"
)

// refMatch is the wildcard rule of PROTOCOL.md transcribed literally, with
// no shared code with the index, so the two can be compared.
func refMatch(pattern, topic string) bool {
	p := strings.Split(pattern, ".")
	t := strings.Split(topic, ".")
	for i, pt := range p {
		if pt == ">" {
			// At least one topic token (possibly empty) remains here.
			return i < len(t)
		}
		if i >= len(t) {
			return false
		}
		if pt == "*" {
			if t[i] == "" {
				return false
			}
			continue
		}
		if pt != t[i] {
			return false
		}
	}
	return len(p) == len(t)
}

// refNormalize is the reference's notion of pattern identity: the pattern
// truncated after its first ">" token.
func refNormalize(pattern string) string {
	p := strings.Split(pattern, ".")
	for i, pt := range p {
		if pt == ">" {
			return strings.Join(p[:i+1], ".")
		}
	}
	return pattern
}

type refPair struct {
	pattern string
	sub     int
}

// refIndex is a plain list of pairs.
type refIndex struct{ pairs []refPair }

func (r *refIndex) add(pattern string, sub int) bool {
	p := refPair{refNormalize(pattern), sub}
	if slices.Contains(r.pairs, p) {
		return false
	}
	r.pairs = append(r.pairs, p)
	return true
}

func (r *refIndex) remove(pattern string, sub int) bool {
	p := refPair{refNormalize(pattern), sub}
	i := slices.Index(r.pairs, p)
	if i < 0 {
		return false
	}
	r.pairs = slices.Delete(r.pairs, i, i+1)
	return true
}

// match returns the matching subscribers, sorted and deduplicated.
func (r *refIndex) match(topic string) []int {
	var out []int
	for _, p := range r.pairs {
		if refMatch(p.pattern, topic) && !slices.Contains(out, p.sub) {
			out = append(out, p.sub)
		}
	}
	slices.Sort(out)
	return out
}

// sorted returns a sorted copy of a Match result, leaving the shared result
// untouched.
func sorted(subs []int) []int {
	out := slices.Clone(subs)
	slices.Sort(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// hasDup reports whether a Match result lists a subscriber twice.
func hasDup(subs []int) bool {
	s := sorted(subs)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return true
		}
	}
	return false
}
