package main

// "busd bridge": its settings, from the command line, the environment and
// the configuration file (flag, then variable, then file, then default, as
// for the daemon), and its rules: --export/--import (or their variables)
// first, then the file's [[rule]] tables, in order.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"busd/bridge"
)

const bridgeSynopsis = `busd bridge [--socket PATH] --nats URL[,URL...] [--host-id ID]
            [--export PATTERN]... [--import PATTERN]... [--admin-socket A] [--check]

Carries events between this host's bus and NATS. --export PATTERN publishes
the local events matching PATTERN to NATS; --import PATTERN publishes the
NATS messages matching it on the local bus. A topic keeps its name on the
other side unless --local-prefix or --remote-prefix (or a [[rule]]'s own
prefixes in the --config file) say otherwise; "{host}" in a prefix is the
host id. --check validates the configuration, prints the effective rules
and exits.`

// bridgeConfigEnv names the bridge's configuration file when --config is
// not given.
const bridgeConfigEnv = "BUSD_BRIDGE_CONFIG"

// bridgeAdminSuffix makes the bridge's default admin socket path.
const bridgeAdminSuffix = ".bridge.admin"

var bridgeEnv = map[string]string{
	"nats":                "BUSD_BRIDGE_NATS",
	"host-id":             "BUSD_BRIDGE_HOST_ID",
	"export":              "BUSD_BRIDGE_EXPORT",
	"import":              "BUSD_BRIDGE_IMPORT",
	"local-prefix":        "BUSD_BRIDGE_LOCAL_PREFIX",
	"remote-prefix":       "BUSD_BRIDGE_REMOTE_PREFIX",
	"tls-ca":              "BUSD_BRIDGE_TLS_CA",
	"tls-cert":            "BUSD_BRIDGE_TLS_CERT",
	"tls-key":             "BUSD_BRIDGE_TLS_KEY",
	"creds":               "BUSD_BRIDGE_CREDS",
	"nkey":                "BUSD_BRIDGE_NKEY",
	"buffer-events":       "BUSD_BRIDGE_BUFFER_EVENTS",
	"buffer-bytes":        "BUSD_BRIDGE_BUFFER_BYTES",
	"buffer-age":          "BUSD_BRIDGE_BUFFER_AGE",
	"max-hops":            "BUSD_BRIDGE_MAX_HOPS",
	"reconnect-max":       "BUSD_BRIDGE_RECONNECT_MAX",
	"ping-interval":       "BUSD_BRIDGE_PING_INTERVAL",
	"import-pending-msgs": "BUSD_BRIDGE_IMPORT_PENDING_MSGS",
	"admin-socket":        "BUSD_BRIDGE_ADMIN_SOCKET",
	"log-level":           "BUSD_BRIDGE_LOG_LEVEL",
	"log-format":          "BUSD_BRIDGE_LOG_FORMAT",
}

// bridgeOptions are the bridge's settings once parsed.
type bridgeOptions struct {
	configPath                string
	socket, configSocket      string
	nats                      []string
	hostID                    string
	exports, imports          []string
	localPrefix, remotePrefix string
	caFile, certFile, keyFile string
	credsFile, nkeyFile       string
	bufferEvents              intValue
	bufferBytes               sizeValue
	bufferAge                 durationValue
	maxHops                   intValue
	reconnectMax              durationValue
	pingInterval              durationValue
	importPendingMsgs         intValue
	adminSocket               adminSocketValue
	logLevel                  levelValue
	logFormat                 formatValue
	check                     bool
	fileRules                 []bridge.Rule
}

// ruleTable is one [[rule]] of the configuration file.
type ruleTable struct {
	Pattern      string `toml:"pattern"`
	Direction    string `toml:"direction"`
	LocalPrefix  string `toml:"local-prefix"`
	RemotePrefix string `toml:"remote-prefix"`
}

func parseBridge(args []string, env func(string) string, stdout io.Writer) (*bridgeOptions, error) {
	d := bridge.DefaultConfig()
	o := &bridgeOptions{
		hostID:            d.HostID,
		bufferEvents:      intValue{n: d.BufferEvents, min: 1},
		bufferBytes:       sizeValue{n: d.BufferBytes, min: 1<<20 + 4096},
		bufferAge:         durationValue(d.BufferAge),
		maxHops:           intValue{n: d.MaxHops, min: 1},
		reconnectMax:      durationValue(d.ReconnectMax),
		pingInterval:      durationValue(d.PingInterval),
		importPendingMsgs: intValue{n: d.ImportPendingMsgs, min: 1},
		logLevel:          levelValue(slog.LevelInfo),
		logFormat:         "text",
	}
	helpEnv := map[string]string{"socket": socketEnv, "config": bridgeConfigEnv}
	for k, v := range bridgeEnv {
		helpEnv[k] = v
	}
	cl := newCommandLine("busd bridge", bridgeSynopsis, bridgeEnv, helpEnv)
	fs := cl.fs
	fs.StringVar(&o.configPath, "config", "", "configuration `file` (TOML: keys named like the flags, and [[rule]] tables)")
	fs.StringVar(&o.socket, "socket", "", socketUsage)
	fs.StringSliceVar(&o.nats, "nats", nil, "NATS server `URLs`, comma-separated or repeated (nats://host:port, tls://host:port)")
	fs.StringVar(&o.hostID, "host-id", o.hostID, "this host's `id` in exported messages and in {host}")
	// What the default is made of, rather than what it is on the machine
	// that prints the help.
	fs.Lookup("host-id").DefValue = "the hostname up to its first dot"
	fs.StringSliceVar(&o.exports, "export", nil, "export the local events matching `pattern` (repeatable)")
	fs.StringSliceVar(&o.imports, "import", nil, "import the NATS messages matching `pattern` (repeatable)")
	fs.StringVar(&o.localPrefix, "local-prefix", "", "`tokens` before the local topics of --export/--import rules")
	fs.StringVar(&o.remotePrefix, "remote-prefix", "", "`tokens` before the NATS subjects of --export/--import rules; {host} is the host id")
	fs.StringVar(&o.caFile, "tls-ca", "", "PEM `file` of the CAs that verify the NATS servers")
	fs.StringVar(&o.certFile, "tls-cert", "", "client certificate `file` (PEM) for mutual TLS; re-read on every connection")
	fs.StringVar(&o.keyFile, "tls-key", "", "client key `file` (PEM) for mutual TLS; re-read on every connection")
	fs.StringVar(&o.credsFile, "creds", "", "NATS credentials `file`; re-read on every connection")
	fs.StringVar(&o.nkeyFile, "nkey", "", "NATS nkey seed `file`")
	fs.Var(&o.bufferEvents, "buffer-events", "exported `events` held while NATS is away (the oldest dropped beyond)")
	fs.Var(&o.bufferBytes, "buffer-bytes", "exported `bytes` held while NATS is away (suffixes KiB, MiB)")
	fs.Var(&o.bufferAge, "buffer-age", "exported events older than this `duration` are dropped, not sent late")
	fs.Var(&o.maxHops, "max-hops", "imported messages that crossed more bridges than this `number` are dropped")
	fs.Var(&o.reconnectMax, "reconnect-max", "longest `duration` between two rounds of NATS reconnection attempts (with jitter)")
	fs.Var(&o.pingInterval, "ping-interval", "how often an idle NATS connection is checked (a `duration`)")
	fs.Var(&o.importPendingMsgs, "import-pending-msgs", "`messages` NATS may hold per import rule while the bridge catches up; beyond, they are dropped as slow consumption")
	fs.Var(&o.adminSocket, "admin-socket", "serve /metrics and /statsz over HTTP on this UNIX socket `path`; off turns it off")
	fs.Lookup("admin-socket").DefValue = "<socket>" + bridgeAdminSuffix
	for _, name := range []string{"nats", "export", "import"} {
		fs.Lookup(name).DefValue = "" // none, rather than pflag's "[]"
	}
	fs.Var(&o.logLevel, "log-level", "log `level`: debug, info, warn or error")
	fs.Var(&o.logFormat, "log-format", "log `format`: text or json")
	fs.BoolVar(&o.check, "check", false, "validate the configuration, print the effective rules and exit")
	positional, err := cl.parseArgs(args, stdout)
	if err != nil {
		return nil, err
	}
	if len(positional) > 0 {
		return nil, usageErrorf("unexpected argument %q", positional[0])
	}
	if !fs.Changed("config") {
		o.configPath = env(bridgeConfigEnv)
	}
	var file *configFile
	if o.configPath != "" {
		known := func(k string) bool { _, ok := bridgeEnv[k]; return ok || k == "socket" }
		if file, err = loadConfigFile(o.configPath, known, "rule"); err != nil {
			return nil, &usageError{err.Error()}
		}
		if o.fileRules, err = loadRuleTables(o.configPath); err != nil {
			if errors.Is(err, bridge.ErrConfig) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
	}
	o.configSocket, _ = file.value("socket")
	if err := cl.fill(env, file); err != nil {
		return nil, err
	}
	return o, nil
}

// ruleKeys are the settings a [[rule]] table may hold.
var ruleKeys = []string{"pattern", "direction", "local-prefix", "remote-prefix"}

// ruleTableError is a [[rule]] table the bridge cannot take. It is
// reported like bridge.New's refusals (errors.Is bridge.ErrConfig: one
// "invalid configuration" line, exit 2), naming the table, since a bad rule
// is the same mistake whether it was written in the file or on the command
// line.
type ruleTableError struct{ msg string }

func (e *ruleTableError) Error() string        { return e.msg }
func (e *ruleTableError) Is(target error) bool { return target == bridge.ErrConfig }

// loadRuleTables reads the [[rule]] tables of the configuration file.
func loadRuleTables(path string) ([]bridge.Rule, error) {
	var doc struct {
		Rule []ruleTable `toml:"rule"`
	}
	if _, err := toml.DecodeFile(path, &doc); err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	// The tables again, untyped, to name the one holding an unknown key:
	// toml's undecoded keys do not say which table of an array they are in.
	var raw struct {
		Rule []map[string]any `toml:"rule"`
	}
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	rules := make([]bridge.Rule, 0, len(doc.Rule))
	for i, t := range doc.Rule {
		bad := func(format string, args ...any) error {
			return &ruleTableError{fmt.Sprintf("configuration file %s: [[rule]] %d (%q): ", path, i+1, t.Pattern) + fmt.Sprintf(format, args...)}
		}
		keys := make([]string, 0, len(raw.Rule[i]))
		for k := range raw.Rule[i] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !slices.Contains(ruleKeys, k) {
				return nil, bad("unknown setting %q (known: %s)", k, strings.Join(ruleKeys, ", "))
			}
		}
		if t.Pattern == "" {
			return nil, bad("no pattern")
		}
		if t.Direction == "" {
			return nil, bad("no direction: want export, import or both")
		}
		dir, err := bridge.ParseDirection(t.Direction)
		if err != nil {
			return nil, bad("%v", err)
		}
		rules = append(rules, bridge.Rule{Pattern: t.Pattern, Direction: dir, LocalPrefix: t.LocalPrefix, RemotePrefix: t.RemotePrefix})
	}
	return rules, nil
}

// config is the bridge's configuration for the bus socket socket.
func (o *bridgeOptions) config(socket string, log *slog.Logger) bridge.Config {
	c := bridge.DefaultConfig()
	c.Socket = socket
	c.NATS = trimAll(o.nats)
	c.HostID = o.hostID
	for _, p := range trimAll(o.exports) {
		c.Rules = append(c.Rules, bridge.Rule{Pattern: p, Direction: bridge.Export, LocalPrefix: o.localPrefix, RemotePrefix: o.remotePrefix})
	}
	for _, p := range trimAll(o.imports) {
		c.Rules = append(c.Rules, bridge.Rule{Pattern: p, Direction: bridge.Import, LocalPrefix: o.localPrefix, RemotePrefix: o.remotePrefix})
	}
	c.Rules = append(c.Rules, o.fileRules...)
	c.CAFile, c.CertFile, c.KeyFile = o.caFile, o.certFile, o.keyFile
	c.CredsFile, c.NKeyFile = o.credsFile, o.nkeyFile
	c.BufferEvents = o.bufferEvents.n
	c.BufferBytes = o.bufferBytes.n
	c.BufferAge = time.Duration(o.bufferAge)
	c.MaxHops = o.maxHops.n
	c.ReconnectMax = time.Duration(o.reconnectMax)
	c.ReconnectMin = min(c.ReconnectMin, c.ReconnectMax)
	c.PingInterval = time.Duration(o.pingInterval)
	c.ImportPendingMsgs = o.importPendingMsgs.n
	c.Logger = log
	return c
}

// trimAll drops blanks around and between list items ("a, b,").
func trimAll(list []string) []string {
	out := list[:0:0]
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
