package bridge

import (
	"fmt"
	"io"
)

// rules is a checked rule set, split by direction, in the order given:
// for each event the first matching route of its direction carries it.
type rules struct {
	exports []route
	imports []route
}

// compileRules expands "{host}" and checks every rule. A rule that both
// exports and imports is a route on each side.
func compileRules(in []Rule, host string) (rules, error) {
	var rs rules
	if len(in) == 0 {
		return rs, errorf("no rules: give at least one --export or --import")
	}
	for i, r := range in {
		r = r.expand(host)
		if err := r.check(); err != nil {
			return rules{}, errorf("rule %d (%s %s): %v", i+1, r.Direction, r.Pattern, err)
		}
		if r.Direction&Export != 0 {
			rs.exports = append(rs.exports, newRoute(r))
		}
		if r.Direction&Import != 0 {
			rs.imports = append(rs.imports, newRoute(r))
		}
	}
	return rs, nil
}

// exportFor is the first export route matching a bus topic, or nil.
func (rs *rules) exportFor(topic string) *route {
	for i := range rs.exports {
		if rs.exports[i].matchesLocal(topic) {
			return &rs.exports[i]
		}
	}
	return nil
}

// importOwner reports whether import route i is the first one matching
// subject: each import route has its own NATS subscription, so a subject
// under two routes arrives twice, and only the first route imports it.
func (rs *rules) importOwner(i int, subject string) bool {
	for j := 0; j < i; j++ {
		if rs.imports[j].matchesRemote(subject) {
			return false
		}
	}
	return true
}

// localPatterns are the bus patterns the export side subscribes to.
func (rs *rules) localPatterns() []string {
	out := make([]string, 0, len(rs.exports))
	for _, r := range rs.exports {
		out = append(out, r.local)
	}
	return out
}

// describe prints the effective rules, one per line, as --check shows them.
func (rs *rules) describe(w io.Writer) {
	for _, r := range rs.exports {
		fmt.Fprintf(w, "export  bus %-30s → nats %s\n", r.local, r.remote)
	}
	for _, r := range rs.imports {
		fmt.Fprintf(w, "import  nats %-29s → bus %s\n", r.remote, r.local)
	}
	if len(rs.exports) == 0 {
		fmt.Fprintln(w, "(nothing is exported)")
	}
	if len(rs.imports) == 0 {
		fmt.Fprintln(w, "(nothing is imported)")
	}
}
