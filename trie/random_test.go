package trie

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"busd/internal/wildcardref"
)

// alphabet is small on purpose: random patterns and topics built from it
// collide often, and it contains every token with a special meaning.
var alphabet = []string{"", "a", "b", "*", ">", "ab"}

func randTokens(r *rand.Rand, maxTokens int) string {
	n := 1 + r.IntN(maxTokens)
	toks := make([]string, n)
	for i := range toks {
		toks[i] = alphabet[r.IntN(len(alphabet))]
	}
	return strings.Join(toks, ".")
}

// allTopics lists every topic of up to maxTokens tokens over alphabet.
func allTopics(maxTokens int) []string {
	level := slices.Clone(alphabet)
	out := slices.Clone(level)
	for range maxTokens - 1 {
		var next []string
		for _, prefix := range level {
			for _, tok := range alphabet {
				next = append(next, prefix+"."+tok)
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

func checkAgainstRef(t *testing.T, x *Index[int], ref *wildcardref.Index, topics []string, step int) {
	t.Helper()
	for _, topic := range topics {
		got := x.Match([]byte(topic))
		if hasDup(got) {
			t.Fatalf("step %d topic %q: duplicates in %v", step, topic, got)
		}
		if want := ref.Match(topic); !slices.Equal(sorted(got), want) {
			t.Fatalf("step %d topic %q: got %v, want %v (pairs %v)", step, topic, sorted(got), want, ref.Pairs)
		}
	}
	if x.Len() != len(ref.Pairs) {
		t.Fatalf("step %d: Len = %d, want %d", step, x.Len(), len(ref.Pairs))
	}
}

func TestAllTopics(t *testing.T) {
	topics := allTopics(3)
	if len(topics) != 6+36+216 {
		t.Fatalf("allTopics(3) has %d topics", len(topics))
	}
	seen := map[string]bool{}
	for _, s := range topics {
		if seen[s] {
			t.Fatalf("duplicate topic %q", s)
		}
		seen[s] = true
	}
}

// TestRandomDifferential runs random add/remove scripts and compares every
// topic of up to four tokens with the reference after each step.
func TestRandomDifferential(t *testing.T) {
	topics := allTopics(4)
	scripts, steps := 40, 120
	if testing.Short() {
		scripts, steps = 8, 60
	}
	for _, size := range []int{0, DefaultCacheSize, 7} {
		for seed := range scripts {
			r := rand.New(rand.NewPCG(uint64(seed), uint64(size)))
			x := New[int](WithCacheSize(size))
			var ref wildcardref.Index
			for step := range steps {
				pattern := randTokens(r, 4)
				sub := r.IntN(4)
				// Remove mostly what is there, so the trie also shrinks.
				if len(ref.Pairs) > 0 && r.IntN(3) == 0 {
					p := ref.Pairs[r.IntN(len(ref.Pairs))]
					pattern, sub = p.Pattern, p.Sub
					if r.IntN(2) == 0 && strings.HasSuffix(pattern, ">") {
						pattern += ".b" // another spelling of the same pattern
					}
				}
				if r.IntN(2) == 0 {
					if got, want := x.Add(pattern, sub), ref.Add(pattern, sub); got != want {
						t.Fatalf("seed %d step %d: Add(%q, %d) = %v, want %v", seed, step, pattern, sub, got, want)
					}
				} else {
					if got, want := x.Remove(pattern, sub), ref.Remove(pattern, sub); got != want {
						t.Fatalf("seed %d step %d: Remove(%q, %d) = %v, want %v", seed, step, pattern, sub, got, want)
					}
				}
				// Checking a sample keeps the test fast; the last step
				// checks everything.
				sample := topics
				if step != steps-1 {
					sample = make([]string, 40)
					for i := range sample {
						sample[i] = topics[r.IntN(len(topics))]
					}
				}
				checkAgainstRef(t, x, &ref, sample, step)
			}
			for _, p := range slices.Clone(ref.Pairs) {
				x.Remove(p.Pattern, p.Sub)
			}
			if !x.root.empty() || x.Len() != 0 {
				t.Fatalf("seed %d: index not empty after removing every pair", seed)
			}
		}
	}
}
