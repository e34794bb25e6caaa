package trie

import "slices"

// The reference every result is compared with is busd/internal/wildcardref:
// the wildcard rules as regular expressions, sharing no code with the index.

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
