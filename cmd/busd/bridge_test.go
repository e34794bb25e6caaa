package main

// "busd bridge" in-process: --check's report of the effective
// configuration, where each setting comes from (flag, variable, file), the
// refusals of a bad configuration, and -h. Nothing here connects anywhere:
// --check stops before the bridge runs.

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"busd/bridge"
)

// bridgeCheck runs "busd bridge --check --socket <temp>/bus.sock args...".
func bridgeCheck(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr, socket string) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "bus.sock")
	code, stdout, stderr = runCmd(t, env, append([]string{"bridge", "--check", "--socket", socket}, args...)...)
	return code, stdout, stderr, socket
}

// ruleLines are --check's rule lines, in the order printed, with the
// padding squeezed: "export bus a.> → nats hosts.h1.a.>".
func ruleLines(stdout string) []string {
	_, rules, ok := strings.Cut(stdout, "rules (the first that matches an event carries it):\n")
	if !ok {
		return nil
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(rules), "\n") {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}

// writeBridgeConfig writes a bridge configuration file and returns its path.
func writeBridgeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bridge.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// --check prints the host id, the servers without their secrets, the
// admin socket and the rules with {host} expanded: the command line's
// first, then the file's, each side in the order given.
func TestBridgeCheckPrintsEffectiveConfiguration(t *testing.T) {
	config := writeBridgeConfig(t, `
[[rule]]
pattern = "attacker.observed"
direction = "export"
remote-prefix = "hosts.{host}"

[[rule]]
pattern = "decky.>"
direction = "both"
local-prefix = "fleet.{host}"
remote-prefix = "fleet"

[[rule]]
pattern = "traffic"
direction = "import"
local-prefix = "remote"
remote-prefix = "hosts.*.decky.*"
`)
	code, stdout, stderr, socket := bridgeCheck(t, nil,
		"--nats", "nats://alice:s3cr3t-pw@n1.example:4222,tls://t0ken-secret@n2.example:4443",
		"--host-id", "web1",
		"--export", "decky.*.traffic", "--export", "system.>",
		"--import", "topology.*.mutation.>",
		"--remote-prefix", "hosts.{host}",
		"--config", config)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, secret := range []string{"s3cr3t-pw", "t0ken-secret"} {
		if strings.Contains(stdout, secret) {
			t.Errorf("--check printed the secret %q:\n%s", secret, stdout)
		}
	}
	for _, want := range []string{
		"configuration OK\n",
		"host id:  web1\n",
		"bus:      " + socket + "\n",
		"nats:     nats://alice:xxxxx@n1.example:4222, tls://xxxxx@n2.example:4443\n",
		"admin:    " + socket + ".bridge.admin\n",
		"max hops: 8\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--check lacks %q:\n%s", want, stdout)
		}
	}
	want := []string{
		"export bus decky.*.traffic → nats hosts.web1.decky.*.traffic",
		"export bus system.> → nats hosts.web1.system.>",
		"export bus attacker.observed → nats hosts.web1.attacker.observed",
		"export bus fleet.web1.decky.> → nats fleet.decky.>",
		"import nats hosts.web1.topology.*.mutation.> → bus topology.*.mutation.>",
		"import nats fleet.decky.> → bus fleet.web1.decky.>",
		"import nats hosts.*.decky.*.traffic → bus remote.traffic",
	}
	if got := ruleLines(stdout); !reflect.DeepEqual(got, want) {
		t.Errorf("rules:\n got %q\nwant %q\n%s", got, want, stdout)
	}

	// One direction only: --check says what does not cross.
	code, stdout, stderr, _ = bridgeCheck(t, nil, "--nats", "nats://127.0.0.1:4222", "--host-id", "h", "--export", "a.>", "--admin-socket", "off")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "admin:    off\n") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	if got, want := ruleLines(stdout), []string{"export bus a.> → nats a.>", "(nothing is imported)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rules %q, want %q", got, want)
	}
}

// The variables stand in for absent flags, lists comma-separated, and a
// flag beats its variable.
func TestBridgeEnvAndFlags(t *testing.T) {
	env := map[string]string{
		"BUSD_BRIDGE_NATS":          "nats://env1:4222, nats://env2:4222",
		"BUSD_BRIDGE_EXPORT":        "a.>, b.*,",
		"BUSD_BRIDGE_IMPORT":        "c.>",
		"BUSD_BRIDGE_HOST_ID":       "envhost",
		"BUSD_BRIDGE_REMOTE_PREFIX": "hosts.{host}",
	}
	code, stdout, stderr, _ := bridgeCheck(t, env)
	if code != 0 || stderr != "" {
		t.Fatalf("from the environment: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "host id:  envhost\n") || !strings.Contains(stdout, "nats:     nats://env1:4222, nats://env2:4222\n") {
		t.Errorf("from the environment:\n%s", stdout)
	}
	want := []string{
		"export bus a.> → nats hosts.envhost.a.>",
		"export bus b.* → nats hosts.envhost.b.*",
		"import nats hosts.envhost.c.> → bus c.>",
	}
	if got := ruleLines(stdout); !reflect.DeepEqual(got, want) {
		t.Errorf("rules from the environment:\n got %q\nwant %q", got, want)
	}

	code, stdout, stderr, _ = bridgeCheck(t, env, "--nats", "nats://flag:4222", "--export", "x.>", "--host-id", "flaghost", "--remote-prefix", "")
	if code != 0 || stderr != "" {
		t.Fatalf("flags over the environment: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "host id:  flaghost\n") || !strings.Contains(stdout, "nats:     nats://flag:4222\n") || strings.Contains(stdout, "env1") {
		t.Errorf("flags over the environment:\n%s", stdout)
	}
	// --export replaces BUSD_BRIDGE_EXPORT; BUSD_BRIDGE_IMPORT, with no
	// flag over it, still counts; an empty --remote-prefix is given, so
	// the variable's prefix is not used.
	want = []string{"export bus x.> → nats x.>", "import nats c.> → bus c.>"}
	if got := ruleLines(stdout); !reflect.DeepEqual(got, want) {
		t.Errorf("rules with flags over the environment:\n got %q\nwant %q", got, want)
	}
}

// bridgeSettings holds one non-default value for every setting that has a
// variable, as a flag, the variable and the file key would take it.
var bridgeSettings = map[string]string{
	"nats":                "nats://a:4222,nats://b:4222",
	"host-id":             "h7",
	"export":              "a.>,b.*",
	"import":              "c.>",
	"local-prefix":        "loc",
	"remote-prefix":       "hosts.{host}",
	"tls-ca":              "/etc/busd/ca.pem",
	"tls-cert":            "/etc/busd/bridge.pem",
	"tls-key":             "/etc/busd/bridge-key.pem",
	"creds":               "/etc/busd/bridge.creds",
	"nkey":                "/etc/busd/bridge.nk",
	"buffer-events":       "500",
	"buffer-bytes":        "2MiB",
	"buffer-age":          "30s",
	"max-hops":            "3",
	"reconnect-max":       "4s",
	"ping-interval":       "2s",
	"import-pending-msgs": "1000",
	"admin-socket":        "/run/x/bridge.admin",
	"log-level":           "debug",
	"log-format":          "json",
}

// Every setting reaches the bridge's configuration the same way from a
// flag, its variable or the configuration file.
func TestBridgeEverySettingFromEachSource(t *testing.T) {
	if len(bridgeSettings) != len(bridgeEnv) {
		t.Fatalf("bridgeSettings covers %d settings, bridgeEnv has %d: give the new ones a value", len(bridgeSettings), len(bridgeEnv))
	}
	names := make([]string, 0, len(bridgeSettings))
	for name := range bridgeSettings {
		names = append(names, name)
	}
	sort.Strings(names)
	var args []string
	env := map[string]string{}
	var file strings.Builder
	for _, name := range names {
		v := bridgeSettings[name]
		args = append(args, "--"+name, v)
		if bridgeEnv[name] == "" {
			t.Fatalf("--%s has no variable", name)
		}
		env[bridgeEnv[name]] = v
		switch name {
		case "nats", "export", "import": // lists, as TOML arrays
			fmt.Fprintf(&file, "%s = [\"%s\"]\n", name, strings.ReplaceAll(v, ",", `", "`))
		case "buffer-events", "max-hops": // numbers, as TOML integers
			fmt.Fprintf(&file, "%s = %s\n", name, v)
		default:
			fmt.Fprintf(&file, "%s = %q\n", name, v)
		}
	}
	fileText := file.String()
	config := writeBridgeConfig(t, fileText)

	want := bridge.DefaultConfig()
	want.Socket = "/s/bus.sock"
	want.NATS = []string{"nats://a:4222", "nats://b:4222"}
	want.HostID = "h7"
	want.Rules = []bridge.Rule{
		{Pattern: "a.>", Direction: bridge.Export, LocalPrefix: "loc", RemotePrefix: "hosts.{host}"},
		{Pattern: "b.*", Direction: bridge.Export, LocalPrefix: "loc", RemotePrefix: "hosts.{host}"},
		{Pattern: "c.>", Direction: bridge.Import, LocalPrefix: "loc", RemotePrefix: "hosts.{host}"},
	}
	want.CAFile, want.CertFile, want.KeyFile = "/etc/busd/ca.pem", "/etc/busd/bridge.pem", "/etc/busd/bridge-key.pem"
	want.CredsFile, want.NKeyFile = "/etc/busd/bridge.creds", "/etc/busd/bridge.nk"
	want.BufferEvents, want.BufferBytes, want.BufferAge = 500, 2<<20, 30*time.Second
	want.MaxHops = 3
	want.ReconnectMax = 4 * time.Second
	want.PingInterval = 2 * time.Second
	want.ImportPendingMsgs = 1000

	for _, src := range []struct {
		what string
		args []string
		env  map[string]string
	}{
		{"flags", args, nil},
		{"variables", nil, env},
		{"file", []string{"--config", config}, nil},
		{"file from BUSD_BRIDGE_CONFIG", nil, map[string]string{"BUSD_BRIDGE_CONFIG": config}},
	} {
		o, err := parseBridge(src.args, mapEnv(src.env), io.Discard)
		if err != nil {
			t.Errorf("%s: %v\n%s", src.what, err, fileText)
			continue
		}
		got := o.config("/s/bus.sock", nil)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", src.what, got, want)
		}
		if path, explicit := o.adminSocket.resolveBeside("/s/bus.sock", bridgeAdminSuffix); path != "/run/x/bridge.admin" || !explicit {
			t.Errorf("%s: admin socket %q (explicit %v)", src.what, path, explicit)
		}
		if slog.Level(o.logLevel) != slog.LevelDebug || o.logFormat != "json" {
			t.Errorf("%s: log level %v, format %q", src.what, slog.Level(o.logLevel), o.logFormat)
		}
	}
}

// flag > variable > file > default, setting by setting; the file's
// [[rule]]s come after the rules of --export/--import or their variables
// whatever those came from.
func TestBridgeConfigFilePrecedence(t *testing.T) {
	config := writeBridgeConfig(t, `
nats = ["nats://a:4222", "nats://b:4222"]
host-id = "filehost"
export = ["file.export.>"]
max-hops = 5
buffer-age = "1m"

[[rule]]
pattern = "rule.>"
direction = "import"
`)
	env := map[string]string{"BUSD_BRIDGE_CONFIG": config, "BUSD_BRIDGE_HOST_ID": "envhost", "BUSD_BRIDGE_MAX_HOPS": "4"}
	o, err := parseBridge([]string{"--max-hops", "2"}, mapEnv(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.config("/s/bus.sock", nil)
	if c.MaxHops != 2 || c.HostID != "envhost" || c.BufferAge != time.Minute || c.BufferEvents != bridge.DefaultBufferEvents ||
		!reflect.DeepEqual(c.NATS, []string{"nats://a:4222", "nats://b:4222"}) {
		t.Errorf("max hops %d (flag 2), host id %q (variable envhost), buffer age %v (file 1m), buffer events %d (default), nats %q (file)",
			c.MaxHops, c.HostID, c.BufferAge, c.BufferEvents, c.NATS)
	}

	code, stdout, stderr, _ := bridgeCheck(t, map[string]string{"BUSD_BRIDGE_CONFIG": config})
	if code != 0 || stderr != "" || !strings.Contains(stdout, "host id:  filehost\n") || !strings.Contains(stdout, "nats:     nats://a:4222, nats://b:4222\n") {
		t.Fatalf("file alone: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	if got, want := ruleLines(stdout), []string{"export bus file.export.> → nats file.export.>", "import nats rule.> → bus rule.>"}; !reflect.DeepEqual(got, want) {
		t.Errorf("file alone: rules %q, want %q", got, want)
	}
	code, stdout, _, _ = bridgeCheck(t, map[string]string{"BUSD_BRIDGE_CONFIG": config, "BUSD_BRIDGE_EXPORT": "env.>"}, "--import", "flag.>")
	want := []string{"export bus env.> → nats env.>", "import nats flag.> → bus flag.>", "import nats rule.> → bus rule.>"}
	if got := ruleLines(stdout); code != 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("variable and flag over the file: exit %d, rules %q, want %q", code, got, want)
	}
}

// A configuration the bridge cannot run is refused with exit 2 and one
// line that says what is wrong and where, before anything connects.
func TestBridgeBadConfigurationExit2(t *testing.T) {
	dir := t.TempDir()
	missingCA := filepath.Join(dir, "missing-ca.pem")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := func(text string) string {
		return writeBridgeConfig(t, "nats = [\"nats://127.0.0.1:4222\"]\n"+text)
	}
	nats := []string{"--nats", "nats://alice:s3cr3t-pw@127.0.0.1:4222"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the one line on stderr
	}{
		{"empty token", append(nats, "--export", "a..b"), nil, []string{"rule 1", "a..b", "empty token"}},
		{"> not last", append(nats, "--export", "x", "--import", "a.>.b"), nil, []string{"rule 2", "import a.>.b", `">" must be the last token`}},
		{"wildcard in a token", append(nats, "--export", "a.b*"), nil, []string{"a.b*", "wildcards are whole tokens"}},
		{"wildcard remote prefix on export", append(nats, "--export", "a.>", "--remote-prefix", "hosts.*"), nil, []string{"rule 1", "export a.>", "hosts.*", "literal prefix"}},
		{"wildcard local prefix", append(nats, "--import", "a.>", "--local-prefix", "x.*"), nil, []string{"rule 1", "local prefix", "x.*"}},
		{"unknown placeholder", append(nats, "--export", "a.>", "--remote-prefix", "hosts.{hots}"), nil, []string{"rule 1", "placeholder", "{host}"}},
		{"empty token from the variable", nats, map[string]string{"BUSD_BRIDGE_EXPORT": "ok.>,bad..topic"}, []string{"rule 2", "bad..topic", "empty token"}},
		{"unknown key in a [[rule]]", []string{"--config", file("[[rule]]\npattern = \"a.>\"\ndirection = \"export\"\n\n[[rule]]\npattern = \"b.>\"\ndirection = \"import\"\nlocl-prefix = \"x\"\n")},
			nil, []string{"[[rule]] 2", `"b.>"`, `unknown setting "locl-prefix"`, "local-prefix"}},
		{"bad direction", []string{"--config", file("[[rule]]\npattern = \"a.>\"\ndirection = \"sideways\"\n")}, nil, []string{"[[rule]] 1", `"a.>"`, "sideways", "export, import or both"}},
		{"no direction", []string{"--config", file("[[rule]]\npattern = \"a.>\"\n")}, nil, []string{"[[rule]] 1", `"a.>"`, "no direction"}},
		{"no pattern", []string{"--config", file("[[rule]]\ndirection = \"both\"\n")}, nil, []string{"[[rule]] 1", "no pattern"}},
		{"bad pattern in a [[rule]]", []string{"--export", "x", "--config", file("[[rule]]\npattern = \"a..b\"\ndirection = \"both\"\n")}, nil, []string{"rule 2", "a..b", "empty token"}},
		{"missing --nats", []string{"--export", "a.>"}, nil, []string{"no NATS server", "--nats"}},
		{"bad scheme", []string{"--nats", "http://bob:s3cr3t-pw@127.0.0.1:4222", "--export", "a"}, nil, []string{"http://bob:xxxxx@127.0.0.1:4222", "nats:// or tls://"}},
		{"no rules", nats, nil, []string{"no rules", "--export", "--import"}},
		{"no rules but blanks", append(nats, "--export", " , "), nil, []string{"no rules"}},
		{"unreadable --tls-ca", append(nats, "--export", "a", "--tls-ca", missingCA), nil, []string{missingCA}},
		{"--tls-ca not a certificate", append(nats, "--export", "a", "--tls-ca", garbage), nil, []string{garbage}},
		{"--tls-cert without --tls-key", append(nats, "--export", "a", "--tls-cert", garbage), nil, []string{"--tls-cert", "--tls-key"}},
		{"--tls-key without --tls-cert", append(nats, "--export", "a", "--tls-key", garbage), nil, []string{"--tls-cert", "--tls-key"}},
		{"--creds and --nkey", append(nats, "--export", "a", "--creds", garbage, "--nkey", garbage), nil, []string{"--creds", "--nkey"}},
		{"host id with a dot", append(nats, "--export", "a", "--host-id", "web1.example"), nil, []string{`host id "web1.example"`, "one token"}},
		{"host id from the variable", append(nats, "--export", "a"), map[string]string{"BUSD_BRIDGE_HOST_ID": "a*"}, []string{`host id "a*"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr, _ := bridgeCheck(t, tc.env, tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stdout %q, stderr %q", code, stdout, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.HasPrefix(stderr, "busd bridge: invalid configuration: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr %q, want one line \"busd bridge: invalid configuration: ...\"", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
			if strings.Contains(stderr, "s3cr3t-pw") {
				t.Errorf("stderr %q repeats the password", stderr)
			}
		})
	}
}

// What is not the configuration's content, such as a bad flag value or a
// file that is not TOML, is a usage error: exit 2, naming the flag or file.
func TestBridgeUsageErrorsExit2(t *testing.T) {
	notTOML := writeBridgeConfig(t, "nats = \n")
	unknown := writeBridgeConfig(t, "nats = [\"nats://127.0.0.1:4222\"]\nexprot = [\"a.>\"]\n")
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"--buffer-events", "0"}, nil, []string{"--buffer-events"}},
		{nil, map[string]string{"BUSD_BRIDGE_BUFFER_AGE": "soon"}, []string{"BUSD_BRIDGE_BUFFER_AGE", "soon"}},
		{[]string{"--config", notTOML}, nil, []string{notTOML, "line 1"}},
		{[]string{"--config", unknown}, nil, []string{unknown, `unknown setting "exprot"`}},
		{nil, map[string]string{"BUSD_BRIDGE_CONFIG": filepath.Join(t.TempDir(), "missing.toml")}, []string{"missing.toml"}},
		{[]string{"extra"}, nil, []string{"unexpected argument", "extra"}},
	} {
		code, _, stderr := runCmd(t, tc.env, append([]string{"bridge", "--check", "--socket", "/s/bus.sock", "--nats", "nats://127.0.0.1:4222", "--export", "a"}, tc.args...)...)
		if code != 2 {
			t.Errorf("%v %v: exit %d, want 2 (stderr %q)", tc.args, tc.env, code, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v %v: stderr %q does not mention %q", tc.args, tc.env, stderr, w)
			}
		}
	}
}

// -h lists every flag with its variable.
func TestBridgeHelp(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil, "bridge", "-h")
	if code != 0 || stderr != "" {
		t.Fatalf("bridge -h: exit %d, stderr %q", code, stderr)
	}
	vars := map[string]string{"config": bridgeConfigEnv, "socket": socketEnv}
	for name, v := range bridgeEnv {
		vars[name] = v
	}
	flag := regexp.MustCompile(`(?m)^  --([a-z-]+)(?: [a-zA-Z]+)?\n    \t(.*)$`)
	listed := map[string]bool{}
	for _, m := range flag.FindAllStringSubmatch(stdout, -1) {
		name, text := m[1], m[2]
		listed[name] = true
		v, ok := vars[name]
		switch {
		case name == "check":
			if strings.Contains(text, "(env ") {
				t.Errorf("--check has a variable: %q", text)
			}
		case !ok:
			t.Errorf("--%s is in -h but has no variable", name)
		case !strings.Contains(text, "(env "+v+";") && !strings.Contains(text, "(env "+v+")"):
			t.Errorf("--%s: help %q does not name %s", name, text, v)
		}
	}
	for name := range vars {
		if !listed[name] {
			t.Errorf("--%s is not in -h:\n%s", name, stdout)
		}
	}
	if !listed["check"] {
		t.Errorf("--check is not in -h")
	}
	for _, w := range []string{"default <socket>.bridge.admin", "default 100000", "default the hostname up to its first dot"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("-h lacks %q", w)
		}
	}
	if strings.Contains(stdout, "default []") {
		t.Errorf("-h shows an empty list as a default:\n%s", stdout)
	}
}
