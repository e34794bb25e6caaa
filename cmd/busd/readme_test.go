package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeSection is the text of the README section titled title, up to the
// next section.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## "+title+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", title)
	}
	s = s[i+len(title)+5:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// The README's flags table is the daemon's: every row names a flag, its
// variable and its default as "busd serve" has them, and every flag has a
// row.
func TestReadmeFlagsTable(t *testing.T) {
	row := regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\| *(?:`([A-Z_]+)`)? *\\| *([^|]*?) *\\|")
	rows := row.FindAllStringSubmatch(readmeSection(t, "Flags"), -1)
	if len(rows) < 10 {
		t.Fatalf("only %d rows in the README's flags table", len(rows))
	}
	var help strings.Builder
	if code := run([]string{"serve", "-h"}, mapEnv(nil), &help, io.Discard); code != 0 {
		t.Fatalf("serve -h: exit %d", code)
	}
	documented := map[string]bool{}
	for _, r := range rows {
		name, env, def := r[1], r[2], strings.TrimSpace(r[3])
		documented[name] = true
		if env != "" && serveHelpEnv()[name] != env {
			t.Errorf("--%s: README says %s, the daemon reads %q", name, env, serveHelpEnv()[name])
		}
		if !strings.Contains(help.String(), "--"+name) {
			t.Errorf("--%s is in the README but not in serve -h", name)
		}
		if d, ok := strings.CutPrefix(def, "`"); ok {
			d = strings.TrimSuffix(d, "`")
			if !strings.Contains(help.String(), "default "+d) {
				t.Errorf("--%s: README default %s is not in serve -h", name, d)
			}
		}
	}
	for _, f := range regexp.MustCompile(`(?m)^  --([a-z-]+)`).FindAllStringSubmatch(help.String(), -1) {
		if !documented[f[1]] {
			t.Errorf("--%s is not in the README's flags table", f[1])
		}
	}
}

// The configuration file example in the README is one the daemon takes.
func TestReadmeConfigExample(t *testing.T) {
	sec := readmeSection(t, "Flags")
	i := strings.Index(sec, "```toml\n")
	if i < 0 {
		t.Fatal("no TOML example in the README's Flags section")
	}
	example := sec[i+len("```toml\n"):]
	example = example[:strings.Index(example, "```")]
	path := writeConfig(t, example)
	o, err := parseServe([]string{"--config", path}, mapEnv(nil), io.Discard)
	if err != nil {
		t.Fatalf("the README's example: %v\n%s", err, example)
	}
	if o.configSocket == "" {
		t.Errorf("the example sets no socket: %+v", o)
	}
}

// The README's table of busd bridge flags is the command's: every row
// names flags and variables as "busd bridge" has them, and every flag of
// "busd bridge -h" has a row.
func TestReadmeBridgeFlagsTable(t *testing.T) {
	section := readmeSection(t, "Bridging hosts over NATS")
	row := regexp.MustCompile("(?m)^\\| (`--[a-z-]+[^|]*)\\|([^|]*)\\|")
	flagRe, varRe := regexp.MustCompile("`--([a-z-]+)"), regexp.MustCompile("`([A-Z_]+)`")
	var help strings.Builder
	if code := run([]string{"bridge", "-h"}, mapEnv(nil), &help, io.Discard); code != 0 {
		t.Fatalf("bridge -h: exit %d", code)
	}
	known := map[string]string{"socket": socketEnv, "config": bridgeConfigEnv}
	for k, v := range bridgeEnv {
		known[k] = v
	}
	documented := map[string]bool{}
	rows := row.FindAllStringSubmatch(section, -1)
	if len(rows) < 15 {
		t.Fatalf("only %d rows in the README's bridge flags table", len(rows))
	}
	for _, r := range rows {
		flags, vars := flagRe.FindAllStringSubmatch(r[1], -1), varRe.FindAllStringSubmatch(r[2], -1)
		for i, f := range flags {
			name := f[1]
			documented[name] = true
			if !strings.Contains(help.String(), "  --"+name) {
				t.Errorf("--%s is in the README but not in bridge -h", name)
			}
			if len(vars) == len(flags) && known[name] != vars[i][1] {
				t.Errorf("--%s: README says %s, the bridge reads %q", name, vars[i][1], known[name])
			}
		}
	}
	for _, f := range regexp.MustCompile(`(?m)^  --([a-z-]+)`).FindAllStringSubmatch(help.String(), -1) {
		if !documented[f[1]] {
			t.Errorf("--%s is not in the README's bridge flags table", f[1])
		}
	}
}
