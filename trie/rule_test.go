package trie

import (
	"testing"

	"busd/internal/wildcardref"
)

// TestMatchRule holds the standalone matcher to the same cases as the index.
func TestMatchRule(t *testing.T) {
	for _, c := range matchCases {
		if got := Match(c.pattern, c.topic); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.topic, got, c.want)
		}
		if got := MatchBytes(c.pattern, []byte(c.topic)); got != c.want {
			t.Errorf("MatchBytes(%q, %q) = %v, want %v", c.pattern, c.topic, got, c.want)
		}
	}
}

// TestMatchRuleAgainstReference compares the standalone matcher with the
// reference on every pattern and topic of up to three tokens.
func TestMatchRuleAgainstReference(t *testing.T) {
	all := allTopics(3)
	for _, p := range all {
		ref := wildcardref.Compile(p)
		for _, topic := range all {
			if got, want := Match(p, topic), ref.Match(topic); got != want {
				t.Fatalf("Match(%q, %q) = %v, reference says %v", p, topic, got, want)
			}
		}
	}
}
