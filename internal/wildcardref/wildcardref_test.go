package wildcardref

import "testing"

// The examples of PROTOCOL.md, "Wildcards", and one case per clause.
func TestProtocolExamples(t *testing.T) {
	for _, c := range []struct {
		pattern, topic string
		want           bool
	}{
		{"topology.>", "topology.t1.status", true},
		{"topology.>", "topology", false},
		{"a.*", "a.", false},
		{"a.>", "a.", true},
		{"a..b", "a..b", true}, // empty tokens are literals
		{"a..b", "a.x.b", false},
		{"*", "x", true},
		{"*", "", false},
		{"*", "x.y", false},
		{">", "", true},        // the empty topic is one empty token
		{"a.>.b", "a.x", true}, // tokens after ">" are ignored
		{"a.b", "a.b.c", false},
		{"a.b.c", "a.b", false},
		{"a.*", "a.*", true}, // "*" in a topic is a literal
		{"a.b", "a.*", false},
		{"a+b", "a+b", true}, // regexp syntax in a literal is quoted
		{"a+b", "aab", false},
		{"(", "(", true},
	} {
		if got := Match(c.pattern, c.topic); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v (expression %s)", c.pattern, c.topic, got, c.want, Compile(c.pattern))
		}
	}
}

func TestIndex(t *testing.T) {
	var x Index
	if !x.Add("a.>", 1) || x.Add("a.>.b", 1) || !x.Add("a.>", 2) || !x.Add("a.*", 1) {
		t.Fatal("Add must report new pairs, and take a.>.b for a.>")
	}
	if got := x.Match("a.b"); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("Match(a.b) = %v, want [1 2]: sorted, each subscriber once", got)
	}
	if got := x.Match("b"); got != nil {
		t.Fatalf("Match(b) = %v, want nil", got)
	}
	if !x.Remove("a.>.zz", 1) || x.Remove("a.>", 1) || len(x.Pairs) != 2 {
		t.Fatalf("Remove must take any spelling, once; pairs left %v", x.Pairs)
	}
}
