package fuzz

import (
	"slices"
	"strings"
	"testing"

	"busd/trie"
)

// trieAlphabet holds the tokens fuzzed scripts are built from: the empty
// token, plain literals, both wildcards (which are literals in topics), and a
// literal that merely contains a wildcard character.
var trieAlphabet = []string{"", "a", "b", "*", ">", "ab", "a*"}

// trieRefMatch is PROTOCOL.md's wildcard rule, written independently of the
// trie package.
func trieRefMatch(pattern, topic string) bool {
	p := strings.Split(pattern, ".")
	t := strings.Split(topic, ".")
	for i, pt := range p {
		if pt == ">" {
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

// trieRefKey is the pattern as the index identifies it: tokens after the
// first ">" do not change what it matches, so they do not make a new pair.
func trieRefKey(pattern string) string {
	p := strings.Split(pattern, ".")
	if i := slices.Index(p, ">"); i >= 0 {
		return strings.Join(p[:i+1], ".")
	}
	return pattern
}

type trieRefPair struct {
	pattern string
	sub     int
}

// trieScript decodes fuzz bytes into operations.
type trieScript struct{ data []byte }

func (s *trieScript) next() (byte, bool) {
	if len(s.data) == 0 {
		return 0, false
	}
	b := s.data[0]
	s.data = s.data[1:]
	return b, true
}

func (s *trieScript) tokens() (string, bool) {
	b, ok := s.next()
	if !ok {
		return "", false
	}
	toks := make([]string, 1+int(b)%5)
	for i := range toks {
		if b, ok = s.next(); !ok {
			return "", false
		}
		toks[i] = trieAlphabet[int(b)%len(trieAlphabet)]
	}
	return strings.Join(toks, "."), true
}

func FuzzTrie(f *testing.F) {
	// An op byte (0 add, 1 remove, 2-3 match); for add and remove a
	// subscriber byte; then a byte giving 1+b%5 tokens, and one index into
	// trieAlphabet per token.
	f.Add([]byte{0, 1, 0, 1, 2, 0, 1})                               // add "a"; match "a"
	f.Add([]byte{0, 1, 1, 1, 4, 2, 1, 1, 0})                         // add "a.>"; match "a."
	f.Add([]byte{0, 2, 1, 1, 3, 2, 1, 1, 0})                         // add "a.*"; match "a."
	f.Add([]byte{0, 1, 2, 1, 4, 2, 1, 1, 1, 1, 4, 2, 1, 1, 2})       // add "a.>.b"; remove "a.>"; match "a.b"
	f.Add([]byte{0, 0, 0, 3, 2, 0, 4, 2, 0, 3})                      // add "*"; match ">", "*"
	f.Add([]byte{0, 3, 2, 0, 0, 0, 2, 2, 0, 0, 0, 2, 1, 0, 0})       // add ".."; match "..", "."
	f.Add([]byte{0, 1, 0, 4, 0, 2, 3, 1, 6, 2, 1, 6, 5, 2, 0, 6})    // ">" and literal "a*"
	f.Add([]byte{0, 1, 2, 0, 0, 0, 2, 0, 0, 1, 0, 2, 0, 2, 0, 0, 0}) // empty tokens, re-add
	f.Fuzz(func(t *testing.T, data []byte) {
		idx := []*trie.Index[int]{
			trie.New[int](),
			trie.New[int](trie.WithCacheSize(3)),
			trie.New[int](trie.WithCacheSize(0)),
		}
		var ref []trieRefPair
		match := func(topic string) {
			var want []int
			for _, p := range ref {
				if trieRefMatch(p.pattern, topic) && !slices.Contains(want, p.sub) {
					want = append(want, p.sub)
				}
			}
			slices.Sort(want)
			for i, x := range idx {
				got := slices.Clone(x.Match([]byte(topic)))
				slices.Sort(got)
				if len(got) == 0 {
					got = nil
				}
				if !slices.Equal(got, want) {
					t.Fatalf("index %d: Match(%q) = %v, want %v; pairs %v", i, topic, got, want, ref)
				}
			}
		}
		s := &trieScript{data: data}
		for {
			op, ok := s.next()
			if !ok {
				break
			}
			if op%4 >= 2 {
				topic, ok := s.tokens()
				if !ok {
					break
				}
				match(topic)
				continue
			}
			sb, ok := s.next()
			if !ok {
				break
			}
			pattern, ok := s.tokens()
			if !ok {
				break
			}
			p := trieRefPair{trieRefKey(pattern), int(sb) % 4}
			at := slices.Index(ref, p)
			var want bool
			if op%4 == 0 {
				if want = at < 0; want {
					ref = append(ref, p)
				}
			} else {
				if want = at >= 0; want {
					ref = slices.Delete(ref, at, at+1)
				}
			}
			for i, x := range idx {
				var got bool
				if op%4 == 0 {
					got = x.Add(pattern, p.sub)
				} else {
					got = x.Remove(pattern, p.sub)
				}
				if got != want {
					t.Fatalf("index %d: op %d (%q, %d) = %v, want %v", i, op%4, pattern, p.sub, got, want)
				}
				if x.Len() != len(ref) {
					t.Fatalf("index %d: Len = %d, want %d", i, x.Len(), len(ref))
				}
			}
		}
		// Finish with every topic of up to two tokens.
		for _, a := range trieAlphabet {
			match(a)
			for _, b := range trieAlphabet {
				match(a + "." + b)
			}
		}
	})
}
