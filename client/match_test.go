package client

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, topic string
		want           bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a.b", "a.b", true},
		{"a.b", "a", false},
		{"a", "a.b", false},
		{"a.b.c", "a.b", false},
		{"*", "a", true},
		{"*", "", false},
		{"*", "a.b", false},
		{"a.*", "a.b", true},
		{"a.*", "a.", false}, // the second token is empty
		{"a.*", "a", false},
		{"a.*", "a.b.c", false},
		{"*.b", "a.b", true},
		{"*.b", ".b", false},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a..c", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{">", "", true}, // one empty token remains
		{"a.>", "a.b", true},
		{"a.>", "a.b.c", true},
		{"a.>", "a.", true}, // the empty token counts
		{"a.>", "a", false},
		{"a.>", "b.c", false},
		{"a.>.b", "a.x", true}, // tokens after ">" are ignored
		{"a.>.b", "a.x.y.z", true},
		{"topology.>", "topology.t1.status", true},
		{"topology.>", "topology", false},
		{"decky.*.state", "decky.d1.state", true},
		{"decky.*.state", "decky.d1.traffic", false},
		{"system.*.health", "system.bus.health", true},
		{"a..b", "a..b", true}, // empty tokens are literals
		{"a..b", "a.x.b", false},
		{"a.", "a.", true},
		{"a.", "a", false},
		{".", ".", true},
		{"*.*", ".", false},
		{"a*", "ab", false}, // wildcards are whole tokens only
		{"a*", "a*", true},
		{"a>", "a>", true},
		{"a.>x", "a.b", false},
		{"a.*", "a.*", true},
	}
	for _, tc := range tests {
		if got := Match(tc.pattern, tc.topic); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.topic, got, tc.want)
		}
	}
}

func TestMatchAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Match("a.*.c.>", "a.b.c.d.e") }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}
