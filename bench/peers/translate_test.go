package peers

import (
	"strings"
	"testing"

	"busd/trie"
)

func TestNATSSubject(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"decky.d1.state", "decky.d1.state", ""},
		{"decky.*.state", "decky.*.state", ""},
		{"topology.>", "topology.>", ""},
		{">", ">", ""},
		{"a.>.b", "a.>", ""}, // tokens after '>' are ignored by busd
		{"a..b", "", "empty token"},
		{"a.", "", "empty token"},
		{"a b", "", "whitespace"},
	} {
		got, err := NATSSubject(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("NATSSubject(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NATSSubject(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestRedisPattern(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		exact    bool
	}{
		{"decky.d1.state", "decky.d1.state", true},
		{"a?b.c[1]", "a?b.c[1]", true}, // SUBSCRIBE is literal
		{"decky.*.state", "decky.*.state", false},
		{"topology.>", "topology.*", false},
		{">", "*", false},
		{"*", "*", false},
		{"a.>.b", "a.*", false},
		{"a?.*", `a\?.*`, false},
		{`x[1]\.*.>`, `x\[1\]\\.*.*`, false},
	} {
		got, exact := RedisPattern(tc.in)
		if got != tc.want || exact != tc.exact {
			t.Errorf("RedisPattern(%q) = %q, %v; want %q, %v", tc.in, got, exact, tc.want, tc.exact)
		}
	}
}

func TestMQTT(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"decky.d1.state", "decky/d1/state", ""},
		{"decky.*.state", "decky/+/state", ""},
		{"topology.>", "topology/#", ""},
		{">", "#", ""},
		{"*", "+", ""},
		{"a.>.b", "a/#", ""},
		{"a/b.c", "", "reserves"},
		{"a+.c", "", "reserves"},
	} {
		got, err := MQTTFilter(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("MQTTFilter(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("MQTTFilter(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"decky.d1.state", "decky/d1/state"},
		{"a.", "a/"},
	} {
		if got, err := MQTTTopic(tc.in); err != nil || got != tc.want {
			t.Errorf("MQTTTopic(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a/b", "a.#", "a.+"} {
		if _, err := MQTTTopic(bad); err == nil {
			t.Errorf("MQTTTopic(%q): no error", bad)
		}
	}
}

// TestMatchDeliveryFilters: every client's filter gives busd's answer. The
// MQTT client sees topics with '/' separators and translates them back.
func TestMatchDeliveryFilters(t *testing.T) {
	for _, tc := range []struct {
		pat, topic string
		want       bool
	}{
		{"topology.>", "topology.t1.status", true},
		{"topology.>", "topology", false},
		{"a.*", "a.", false},
		{"a.>", "a.", true},
		{"a.*", "a.b", true},
		{"a.*", "a.b.c", false},
		{"a.>.b", "a.x.y", true},
		{">", "x", true},
		{"*", "x", true},
		{"*", "x.y", false},
		{"a..b", "a..b", true},
		{"a.*.b", "a..b", false},
		{"decky.d1.state", "decky.d1.state", true},
		{"decky.d1.state", "decky.d1.stat", false},
		{"decky.d1", "decky.d1.state", false},
	} {
		set, err := newSubSet([]string{tc.pat}, func(p string) (string, error) { return p, nil })
		if err != nil {
			t.Fatal(err)
		}
		if got := set.first([]byte(tc.topic)) == 0; got != tc.want {
			t.Errorf("subSet(%q).first(%q) matched %v, want %v", tc.pat, tc.topic, got, tc.want)
		}
		mt, err := MQTTTopic(tc.topic)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(appendBusdTopic(nil, []byte(mt))); got != tc.topic {
			t.Errorf("MQTT topic %q translates back to %q, want %q", mt, got, tc.topic)
		}
		for _, pats := range [][]string{{tc.pat}, {"zz.never", tc.pat}} { // one pattern, and several
			mset, err := newSubSet(pats, MQTTFilter)
			if err != nil {
				t.Fatal(err)
			}
			s := &mqttSubscriber{set: mset}
			if got := s.deliver([]byte(mt)); got != tc.want {
				t.Errorf("MQTT subscriber %q: deliver(%q) = %v, want %v", pats, mt, got, tc.want)
			}
		}
	}
}

// TestTranslationsAreSupersets: whatever busd delivers, each peer's
// translated subscription delivers too (the client then drops the extra
// ones), checked with each peer's own matching rules on a grid of topics.
func TestTranslationsAreSupersets(t *testing.T) {
	pats := []string{"a.*", "a.>", "a.*.c", "*.b", ">", "*", "a.b", "a.>.z", "*.*.*"}
	topics := []string{"a", "a.b", "a.b.c", "a.x.c", "a.b.c.d", "x.b", "a.", "a..c", "b", "x.y.z"}
	for _, p := range pats {
		glob, exact := RedisPattern(p)
		filter, err := MQTTFilter(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range topics {
			if !trie.Match(p, tp) {
				continue
			}
			if exact && glob != tp || !exact && !globMatch(glob, tp) {
				t.Errorf("redis %q (from %q) misses %q", glob, p, tp)
			}
			mt, _ := MQTTTopic(tp)
			if !matchMQTT(filter, []byte(mt)) {
				t.Errorf("mqtt %q (from %q) misses %q", filter, p, mt)
			}
		}
	}
}

// globMatch is Redis' glob for the subset RedisPattern produces: '*' any
// run of bytes, '\' escapes the next byte.
func globMatch(g, s string) bool {
	if g == "" {
		return s == ""
	}
	switch g[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(g[1:], s[i:]) {
				return true
			}
		}
		return false
	case '\\':
		if len(g) < 2 {
			return false
		}
		g = g[1:]
	}
	return s != "" && s[0] == g[0] && globMatch(g[1:], s[1:])
}

// matchMQTT reports whether an MQTT topic name matches a topic filter with
// MQTT's semantics: '+' is one level (possibly empty), '#' the rest,
// including none ("a/#" matches "a").
func matchMQTT(filter string, topic []byte) bool {
	fi, ti := 0, 0
	for {
		fe := fi
		for fe < len(filter) && filter[fe] != '/' {
			fe++
		}
		f := filter[fi:fe]
		if f == "#" {
			return true
		}
		if ti > len(topic) {
			return false
		}
		te := ti
		for te < len(topic) && topic[te] != '/' {
			te++
		}
		if f != "+" && string(topic[ti:te]) != f {
			return false
		}
		fLast, tLast := fe >= len(filter), te >= len(topic)
		if fLast && tLast {
			return true
		}
		if fLast {
			return false
		}
		if tLast {
			// "a/#" matches "a": only a '#' may remain in the filter.
			return filter[fe+1:] == "#"
		}
		fi, ti = fe+1, te+1
	}
}
