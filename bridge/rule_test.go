package bridge

import (
	"errors"
	"strings"
	"testing"
)

func TestRouteMapping(t *testing.T) {
	cases := []struct {
		rule           Rule
		topic, subject string
	}{
		{Rule{Pattern: "a.>"}, "a.b.c", "a.b.c"},
		{Rule{Pattern: "decky.*.traffic", RemotePrefix: "hosts.{host}"}, "decky.d1.traffic", "hosts.h1.decky.d1.traffic"},
		{Rule{Pattern: "x.>", LocalPrefix: "remote", RemotePrefix: "site"}, "remote.x.y", "site.x.y"},
		{Rule{Pattern: ">", LocalPrefix: "from.nats"}, "from.nats.a", "a"},
	}
	for _, c := range cases {
		r := c.rule.expand("h1")
		r.Direction = Both
		if err := r.check(); err != nil {
			t.Fatalf("%+v: %v", c.rule, err)
		}
		rt := newRoute(r)
		if !rt.matchesLocal(c.topic) || !rt.matchesRemote(c.subject) {
			t.Errorf("%v does not match %s / %s", r, c.topic, c.subject)
		}
		got, ok := rt.appendSubject([]byte("junk"), []byte(c.topic))
		if !ok || string(got) != "junk"+c.subject {
			t.Errorf("%v: subject of %s = %q %v, want %s", r, c.topic, got, ok, c.subject)
		}
		back, ok := rt.appendTopic(nil, []byte(c.subject))
		if !ok || string(back) != c.topic {
			t.Errorf("%v: topic of %s = %q %v, want %s", r, c.subject, back, ok, c.topic)
		}
	}
}

// An import under a "*" prefix strips the prefix's tokens, whatever they
// hold: every host's events arrive under their own names.
func TestImportWildcardPrefix(t *testing.T) {
	r := Rule{Pattern: "decky.*.traffic", Direction: Import, RemotePrefix: "hosts.*"}
	if err := r.check(); err != nil {
		t.Fatal(err)
	}
	rt := newRoute(r)
	for _, s := range []string{"hosts.h1.decky.d1.traffic", "hosts.longer-host.decky.d1.traffic"} {
		if !rt.matchesRemote(s) {
			t.Fatalf("%s not matched", s)
		}
		if got, ok := rt.appendTopic(nil, []byte(s)); !ok || string(got) != "decky.d1.traffic" {
			t.Errorf("%s → %q %v", s, got, ok)
		}
	}
}

// Topics that NATS cannot carry are refused when mapped, subjects that the
// bus cannot carry likewise.
func TestMappingRefusesWhatTheOtherSideCannotCarry(t *testing.T) {
	rt := newRoute(Rule{Pattern: ">", Direction: Both})
	for _, topic := range []string{"a..b", "a.", "a.*.b", "a.>", ".a"} {
		if _, ok := rt.appendSubject(nil, []byte(topic)); ok {
			t.Errorf("topic %q became a subject", topic)
		}
	}
	for _, subj := range []string{"caf\xc3\xa9.x", "a.\x01"} {
		if _, ok := rt.appendTopic(nil, []byte(subj)); ok {
			t.Errorf("subject %q became a topic", subj)
		}
	}
	if _, ok := rt.appendTopic(nil, []byte(strings.Repeat("a", maxTopic+1))); ok {
		t.Error("an over-long subject became a topic")
	}
}

func TestBadRulesRefused(t *testing.T) {
	cases := []struct {
		rule Rule
		want string
	}{
		{Rule{Pattern: "", Direction: Export}, "empty pattern"},
		{Rule{Pattern: "a..b", Direction: Export}, "empty token"},
		{Rule{Pattern: "a.>.b", Direction: Export}, `">" must be the last token`},
		{Rule{Pattern: "a.b*", Direction: Export}, "wildcards are whole tokens"},
		{Rule{Pattern: "a b", Direction: Export}, "printable ASCII"},
		{Rule{Pattern: "a", Direction: Export, RemotePrefix: "hosts.*"}, "export needs a literal prefix"},
		{Rule{Pattern: "a", Direction: Both, RemotePrefix: "hosts.*"}, "export needs a literal prefix"},
		{Rule{Pattern: "a", Direction: Import, LocalPrefix: "x.*"}, "wildcards are not allowed"},
		{Rule{Pattern: "a", Direction: Import, LocalPrefix: "x."}, "empty token"},
		{Rule{Pattern: "a", Direction: Import, RemotePrefix: "{site}"}, "unknown placeholder"},
		{Rule{Pattern: "a"}, "no direction"},
	}
	for _, c := range cases {
		_, err := compileRules([]Rule{c.rule}, "h1")
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one saying %q", c.rule, err, c.want)
		}
	}
	if _, err := compileRules(nil, "h1"); err == nil {
		t.Error("no rules accepted")
	}
}

// Of overlapping rules the first carries an event, once.
func TestFirstRuleWins(t *testing.T) {
	rs, err := compileRules([]Rule{
		{Pattern: "a.b", Direction: Both, RemotePrefix: "first"},
		{Pattern: "a.>", Direction: Both, RemotePrefix: "second"},
	}, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if rt := rs.exportFor("a.b"); rt == nil || rt.RemotePrefix != "first" {
		t.Errorf("a.b exported by %+v", rt)
	}
	if rt := rs.exportFor("a.c"); rt == nil || rt.RemotePrefix != "second" {
		t.Errorf("a.c exported by %+v", rt)
	}
	if rs.exportFor("b") != nil {
		t.Error("b exported")
	}
	// Import: each route has its own NATS subscription; a subject under
	// both is taken by the first only.
	if !rs.importOwner(0, "first.a.b") || !rs.importOwner(1, "second.a.b") {
		t.Error("each route owns its own subjects")
	}
	rs2, _ := compileRules([]Rule{{Pattern: "a.*", Direction: Import}, {Pattern: "a.>", Direction: Import}}, "h1")
	if rs2.importOwner(1, "a.b") || !rs2.importOwner(1, "a.b.c") || !rs2.importOwner(0, "a.b") {
		t.Error("a subject under two import routes must be imported by the first only")
	}
}

func TestHostID(t *testing.T) {
	for _, bad := range []string{"", "a.b", "a b", "*", ">", "{host}"} {
		if checkHostID(bad) == nil {
			t.Errorf("host id %q accepted", bad)
		}
	}
	if err := checkHostID(DefaultHostID()); err != nil {
		t.Errorf("the default host id: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"nats://u:secret@h:4222": "nats://u:xxxxx@h:4222",
		"nats://tok3n@h:4222":    "nats://xxxxx@h:4222",
		"tls://h:4222":           "tls://h:4222",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%s) = %s, want %s", in, got, want)
		}
	}
}
