package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a configuration file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "busd.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const fullConfig = `
# every daemon setting, as the README documents them
socket = "/c/bus.sock"
group = "cfg"
heartbeat = 5            # seconds
ring-events = 55
ring-bytes = "16MiB"
high-water = 8192
loops = 3
max-conns = 300
validate-json = false
log-level = "warn"
log-format = "json"
admin-socket = "/c/admin.sock"
admin-mode = "0640"
`

func TestServeConfigFile(t *testing.T) {
	path := writeConfig(t, fullConfig)
	for _, how := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--config", path}, nil},
		{nil, map[string]string{"BUSD_CONFIG": path}},
		{[]string{"--config=" + path}, map[string]string{"BUSD_CONFIG": "/nonexistent.toml"}}, // the flag wins
	} {
		o, err := parseServe(how.args, mapEnv(how.env), io.Discard)
		if err != nil {
			t.Fatalf("%v %v: %v", how.args, how.env, err)
		}
		c := o.config()
		if c.Group != "cfg" || c.Heartbeat != 5*time.Second || c.RingEvents != 55 || c.RingBytes != 16<<20 ||
			c.HighWater != 8192 || c.Loops != 3 || c.MaxConns != 300 || c.ValidateJSON ||
			o.logLevel.String() != "warn" || o.logFormat != "json" || o.adminSocket.path != "/c/admin.sock" ||
			o.adminMode != 0o640 || o.configSocket != "/c/bus.sock" || o.socket != "" {
			t.Errorf("%v %v: from the file: %+v / %+v", how.args, how.env, c, o)
		}
	}
}

// flag > environment > configuration file > default, setting by setting.
func TestServeConfigFilePrecedence(t *testing.T) {
	path := writeConfig(t, "loops = 3\nring-events = 55\nheartbeat = 0.5\n")
	env := map[string]string{"BUSD_CONFIG": path, "BUSD_RING_EVENTS": "66", "BUSD_LOOPS": "4"}
	o, err := parseServe([]string{"--loops", "5"}, mapEnv(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.loops.n != 5 || o.ringEvents.n != 66 || time.Duration(o.heartbeat) != 500*time.Millisecond || o.maxConns.n != 4096 {
		t.Errorf("loops %d (flag 5), ring-events %d (env 66), heartbeat %v (file 0.5s), max-conns %d (default 4096)",
			o.loops.n, o.ringEvents.n, time.Duration(o.heartbeat), o.maxConns.n)
	}
	// A bad value in the file behind a good variable is never read.
	path = writeConfig(t, "loops = \"many\"\n")
	if o, err := parseServe([]string{"--config", path}, mapEnv(map[string]string{"BUSD_LOOPS": "2"}), io.Discard); err != nil || o.loops.n != 2 {
		t.Errorf("shadowed bad file value: %+v, %v", o, err)
	}
}

// The file's socket comes after DECNET_BUS_SOCKET and before the default
// directories.
func TestConfigFileSocket(t *testing.T) {
	src := socketSources{
		Config:   "/c/bus.sock",
		RunDir:   t.TempDir(),
		Home:     func() (string, error) { return t.TempDir(), nil },
		Writable: func(string) bool { return true },
	}
	if got, _ := resolveSocket(src, false); got != "/c/bus.sock" {
		t.Errorf("file over the run directory: %q", got)
	}
	src.Env = "/e/bus.sock"
	if got, _ := resolveSocket(src, false); got != "/e/bus.sock" {
		t.Errorf("variable over the file: %q", got)
	}
	src.Flag = "/f/bus.sock"
	if got, _ := resolveSocket(src, false); got != "/f/bus.sock" {
		t.Errorf("flag over the variable: %q", got)
	}
}

func TestConfigFileErrorsExit2(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.toml")
	tests := []struct {
		text string   // "" for a missing file
		want []string // substrings of stderr
	}{
		{"", []string{"configuration file", missing}},
		{"loops = \n", []string{"configuration file", "line 1"}},
		{"rign-bytes = \"8MiB\"\n", []string{"unknown setting", "rign-bytes"}},
		{"version = true\n", []string{"unknown setting", "version"}},
		{"config = \"/x\"\n", []string{"unknown setting", "config"}},
		{"ring-bytes = \"4MB\"\n", []string{"ring-bytes", "4MB", "busd.toml"}},
		{"admin-mode = 600.5\n", []string{"admin-mode", "600.5"}},
		{"loops = [1, 2]\n", []string{"loops", "must be a list of strings"}},
		{"[loops]\nn = 1\n", []string{"loops", "must be a string, a number, a boolean or a list of strings"}},
	}
	for _, tc := range tests {
		path := missing
		if tc.text != "" {
			path = writeConfig(t, tc.text)
		}
		for _, how := range []struct {
			args []string
			env  map[string]string
		}{
			{[]string{"--config", path}, nil},
			{nil, map[string]string{"BUSD_CONFIG": path}},
		} {
			code, _, stderr := runCmd(t, how.env, how.args...)
			if code != 2 {
				t.Errorf("%q: exit %d, want 2 (stderr %q)", tc.text, code, stderr)
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%q: stderr %q does not mention %q", tc.text, stderr, w)
				}
			}
		}
	}
}

func TestSingleDashLongFlags(t *testing.T) {
	fs := flagSetWithType()
	fs.Bool("raw", false, "")
	for _, tc := range []struct{ in, want []string }{
		{[]string{"-type", "t", "a"}, []string{"--type", "t", "a"}},
		{[]string{"-type=t", "-raw", "-help"}, []string{"--type=t", "--raw", "--help"}},
		{[]string{"--type", "-raw", "-raw"}, []string{"--type", "-raw", "--raw"}}, // a value is left alone
		{[]string{"-type", "-raw"}, []string{"--type", "-raw"}},
		{[]string{"a", "--", "-raw"}, []string{"a", "--", "-raw"}},
		{[]string{"-x", "-1", "-", "-ty"}, []string{"-x", "-1", "-", "-ty"}}, // not long flags
	} {
		if got := singleDashLongFlags(fs, tc.in); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}
