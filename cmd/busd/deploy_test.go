package main

// The files under deploy/ are used as they are by operators: the example
// bridge configuration must pass --check, and the systemd units must be
// ones systemd takes, naming the variables the commands read.

import (
	"bufio"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"busd/internal/natstest"
)

func readDeployFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// masterMarker starts the commented master rules of bridge.toml.example.
const masterMarker = "# ---- master ----\n"

// exampleConfigs splits bridge.toml.example into the agent's configuration
// (the file as it is) and the master's: the file's settings with the
// commented rules after masterMarker instead of the agent's.
func exampleConfigs(t *testing.T) (agent, master string) {
	t.Helper()
	agent = readDeployFile(t, "bridge.toml.example")
	rules := strings.Index(agent, "\n[[rule]]\n")
	marker := strings.Index(agent, masterMarker)
	if rules < 0 || marker < rules {
		t.Fatalf("bridge.toml.example: want the agent's [[rule]] tables, then %q", masterMarker)
	}
	var b strings.Builder
	b.WriteString(agent[:rules+1])
	sc := bufio.NewScanner(strings.NewReader(agent[marker+len(masterMarker):]))
	for sc.Scan() {
		// "#key = value" and "#[[rule]]" are the commented rules; "# ..."
		// is prose.
		if l := sc.Text(); len(l) > 1 && l[0] == '#' && l[1] != ' ' {
			b.WriteString(l[1:] + "\n")
		}
	}
	return agent, b.String()
}

// Both roles of the example configuration pass --check with the rules
// its comments describe. Its certificate paths are under /etc/busd, so
// flags (which win over the file) name real ones.
func TestBridgeConfigExample(t *testing.T) {
	certs := natstest.NewCerts(t, t.TempDir())
	agent, master := exampleConfigs(t)
	for _, tc := range []struct {
		role, text string
		want       []string
	}{
		{"agent", agent, []string{
			"export bus decky.*.traffic → nats hosts.agent-17.decky.*.traffic",
			"export bus attacker.observed → nats hosts.agent-17.attacker.observed",
			"import nats topology.*.mutation.> → bus topology.*.mutation.>",
		}},
		{"master", master, []string{
			"export bus topology.*.mutation.> → nats topology.*.mutation.>",
			"import nats hosts.*.> → bus >",
		}},
	} {
		config := writeBridgeConfig(t, tc.text)
		code, stdout, stderr, _ := bridgeCheck(t, nil, "--config", config, "--host-id", "agent-17",
			"--tls-ca", certs.CAFile, "--tls-cert", certs.ClientCert, "--tls-key", certs.ClientKey)
		if code != 0 {
			t.Errorf("%s: --check: exit %d, stderr %q\n%s", tc.role, code, stderr, tc.text)
			continue
		}
		if got := ruleLines(stdout); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: rules\n got %q\nwant %q", tc.role, got, tc.want)
		}
		if !strings.Contains(stdout, "nats:     tls://nats1.example:4222, tls://nats2.example:4222\n") {
			t.Errorf("%s: servers not from the file:\n%s", tc.role, stdout)
		}
	}
}

// unitEnv returns the unit's Environment= settings, commented out or not.
func unitEnv(unit string) map[string]string {
	env := map[string]string{}
	re := regexp.MustCompile(`(?m)^#?Environment=([A-Z_]+)=(.*)$`)
	for _, m := range re.FindAllStringSubmatch(unit, -1) {
		env[m[1]] = m[2]
	}
	return env
}

// busd-bridge.service names every variable the bridge reads, and no other,
// with values the bridge takes; its admin socket is in its own runtime
// directory; it is restarted unless the configuration is bad.
func TestBridgeUnit(t *testing.T) {
	unit := readDeployFile(t, "busd-bridge.service")
	env := unitEnv(unit)
	known := map[string]bool{bridgeConfigEnv: true, socketEnv: true}
	for _, v := range bridgeEnv {
		known[v] = true
	}
	for v := range known {
		if _, ok := env[v]; !ok {
			t.Errorf("busd-bridge.service has no Environment=%s line", v)
		}
	}
	for v := range env {
		if !known[v] {
			t.Errorf("busd-bridge.service sets %s, which busd bridge does not read", v)
		}
	}
	// Every value shown parses (whether the files exist, the configuration
	// file's among them, is --check's business, on the host).
	values := maps.Clone(env)
	delete(values, bridgeConfigEnv)
	if _, err := parseBridge(nil, mapEnv(values), io.Discard); err != nil {
		t.Errorf("the unit's values: %v", err)
	}

	for _, line := range []string{
		"Type=notify",
		"ExecStart=/usr/local/bin/busd bridge",
		"RestartPreventExitStatus=" + itoa(exitUsage),
		"Environment=" + bridgeConfigEnv + "=/etc/busd/bridge.toml",
		"After=busd.service",
		"User=decnet",
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `$`).MatchString(unit) {
			t.Errorf("busd-bridge.service lacks the line %q", line)
		}
	}
	if m := regexp.MustCompile(`(?m)^RuntimeDirectory=(.+)$`).FindStringSubmatch(unit); m == nil ||
		filepath.Dir(env["BUSD_BRIDGE_ADMIN_SOCKET"]) != "/run/"+m[1] {
		t.Errorf("the admin socket %q is not in the unit's RuntimeDirectory (%v)", env["BUSD_BRIDGE_ADMIN_SOCKET"], m)
	}
	if regexp.MustCompile(`(?m)^PrivateNetwork=yes`).MatchString(unit) {
		t.Error("busd-bridge.service has no network: it needs TCP to NATS")
	}
	if m := regexp.MustCompile(`(?m)^RestrictAddressFamilies=(.*)$`).FindStringSubmatch(unit); m == nil ||
		!reflect.DeepEqual(strings.Fields(m[1]), []string{"AF_UNIX", "AF_INET", "AF_INET6"}) {
		t.Errorf("RestrictAddressFamilies %v, want AF_UNIX AF_INET AF_INET6", m)
	}
}

// systemd takes both units without a warning.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: cannot verify the units")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	dir := t.TempDir()
	for _, name := range []string{"busd.service", "busd-bridge.service"} {
		// verify checks that ExecStart's binary exists: the one just built.
		unit := strings.ReplaceAll(readDeployFile(t, name), "/usr/local/bin/busd", busdBin)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", path).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
}
