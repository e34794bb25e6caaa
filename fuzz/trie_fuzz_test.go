package fuzz

import (
	"slices"
	"strings"
	"testing"

	"busd/internal/wildcardref"
	"busd/trie"
)

// trieAlphabet holds the tokens fuzzed scripts are built from: the empty
// token, plain literals, both wildcards (which are literals in topics), and a
// literal that merely contains a wildcard character.
var trieAlphabet = []string{"", "a", "b", "*", ">", "ab", "a*"}

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
		// The reference: the wildcard rules as regular expressions,
		// sharing no code with the trie.
		var ref wildcardref.Index
		match := func(topic string) {
			for _, p := range ref.Pairs {
				if got, want := trie.Match(p.Pattern, topic), p.Matches(topic); got != want {
					t.Fatalf("trie.Match(%q, %q) = %v, want %v", p.Pattern, topic, got, want)
				}
			}
			want := ref.Match(topic)
			for i, x := range idx {
				got := slices.Clone(x.Match([]byte(topic)))
				slices.Sort(got)
				if len(got) == 0 {
					got = nil
				}
				if !slices.Equal(got, want) {
					t.Fatalf("index %d: Match(%q) = %v, want %v; pairs %v", i, topic, got, want, ref.Pairs)
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
			sub := int(sb) % 4
			var want bool
			if op%4 == 0 {
				want = ref.Add(pattern, sub)
			} else {
				want = ref.Remove(pattern, sub)
			}
			for i, x := range idx {
				var got bool
				if op%4 == 0 {
					got = x.Add(pattern, sub)
				} else {
					got = x.Remove(pattern, sub)
				}
				if got != want {
					t.Fatalf("index %d: op %d (%q, %d) = %v, want %v", i, op%4, pattern, sub, got, want)
				}
				if x.Len() != len(ref.Pairs) {
					t.Fatalf("index %d: Len = %d, want %d", i, x.Len(), len(ref.Pairs))
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
