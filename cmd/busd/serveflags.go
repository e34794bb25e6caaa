package main

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"busd/admin"
	"busd/engine"
)

// serveOptions are the daemon's settings after the command line, the
// environment and the configuration file.
type serveOptions struct {
	configPath string // --config or BUSD_CONFIG; "" for none
	// socket is --socket; configSocket is the configuration file's socket.
	// Both go to the socket rules (socket.go), which put DECNET_BUS_SOCKET
	// between them.
	socket, configSocket string
	group                string
	heartbeat            durationValue
	ringEvents           intValue
	ringBytes            sizeValue
	highWater            sizeValue
	loops                intValue
	maxConns             intValue
	validateJSON         boolValue
	logLevel             levelValue
	logFormat            formatValue
	adminSocket          adminSocketValue
	adminMode            modeValue
	// The limits (README "Limits"); 0 turns each off.
	maxPatternsPerConn intValue
	maxPatterns        intValue
	maxPendingBytes    sizeValue
	frameTimeout       durationValue
	releaseAfter       sizeValue
	version            bool
}

// serveSocketUsage documents the daemon's --socket, whose rules also look
// at the configuration file.
const serveSocketUsage = "UNIX socket `path`; without it: $" + socketEnv + ", else the configuration file's socket, else " +
	defaultRunDir + "/" + socketName + " when that directory exists and is writable, else ~/" + homeDirName + "/" + socketName

// configEnv names the configuration file when --config is not given.
const configEnv = "BUSD_CONFIG"

// serveEnv maps each daemon flag that the environment and the
// configuration file may set to its environment variable. --socket's
// variable (DECNET_BUS_SOCKET) is applied by the socket rules instead, and
// --config's before the file is read.
var serveEnv = map[string]string{
	"group":         "BUSD_GROUP",
	"heartbeat":     "BUSD_HEARTBEAT",
	"ring-events":   "BUSD_RING_EVENTS",
	"ring-bytes":    "BUSD_RING_BYTES",
	"high-water":    "BUSD_HIGH_WATER",
	"loops":         "BUSD_LOOPS",
	"max-conns":     "BUSD_MAX_CONNS",
	"validate-json": "BUSD_VALIDATE_JSON",
	"log-level":     "BUSD_LOG_LEVEL",
	"log-format":    "BUSD_LOG_FORMAT",
	"admin-socket":  adminSocketEnv,
	"admin-mode":    "BUSD_ADMIN_MODE",

	"max-patterns-per-conn": "BUSD_MAX_PATTERNS_PER_CONN",
	"max-patterns":          "BUSD_MAX_PATTERNS",
	"max-pending-bytes":     "BUSD_MAX_PENDING_BYTES",
	"frame-timeout":         "BUSD_FRAME_TIMEOUT",
	"release-after":         "BUSD_RELEASE_AFTER",
}

// serveHelpEnv is serveEnv plus the variables applied by other rules, for
// the help text.
func serveHelpEnv() map[string]string {
	m := map[string]string{"socket": socketEnv, "config": configEnv}
	for k, v := range serveEnv {
		m[k] = v
	}
	return m
}

// configFileKey says which keys the configuration file may hold: the
// settings of serveEnv, and the socket.
func configFileKey(key string) bool {
	_, ok := serveEnv[key]
	return ok || key == "socket"
}

// parseServe reads the daemon's settings: the command line, then for each
// setting not given there its environment variable, then the configuration
// file, else the default.
func parseServe(args []string, env func(string) string, stdout io.Writer) (*serveOptions, error) {
	d := engine.DefaultConfig()
	o := &serveOptions{
		group:        d.Group,
		heartbeat:    durationValue(d.Heartbeat),
		ringEvents:   intValue{n: d.RingEvents, min: engine.MinRingEvents},
		ringBytes:    sizeValue{n: d.RingBytes, min: engine.MinRingBytes},
		highWater:    sizeValue{n: d.HighWater, min: engine.MinHighWater},
		loops:        intValue{n: d.Loops, min: engine.MinLoops},
		maxConns:     intValue{n: d.MaxConns, min: engine.MinMaxConns},
		validateJSON: boolValue(d.ValidateJSON),
		logLevel:     levelValue(slog.LevelInfo),
		logFormat:    "text",
		adminMode:    modeValue(admin.DefaultMode),

		maxPatternsPerConn: intValue{n: d.MaxPatternsPerConn},
		maxPatterns:        intValue{n: d.MaxPatterns},
		maxPendingBytes:    sizeValue{n: d.MaxPendingBytes},
		frameTimeout:       durationValue(d.FrameTimeout),
		releaseAfter:       sizeValue{n: d.ReleaseAfterBytes},
	}
	cl := newCommandLine("busd serve", "busd [serve] [flags]", serveEnv, serveHelpEnv())
	fs := cl.fs
	fs.StringVar(&o.configPath, "config", "", "configuration `file` (TOML: one key per flag, e.g. ring-bytes = \"8MiB\")")
	fs.StringVar(&o.socket, "socket", "", serveSocketUsage)
	fs.StringVar(&o.group, "group", o.group, "`group` given to the socket file, best effort")
	fs.Var(&o.heartbeat, "heartbeat", "system.bus.health `period`: a duration (10s, 500ms) or seconds; 0 disables")
	fs.Var(&o.ringEvents, "ring-events", "per-subscriber queue bound in `events`")
	fs.Var(&o.ringBytes, "ring-bytes", "per-subscriber queue bound in `bytes` (suffixes KiB, MiB, GiB)")
	fs.Var(&o.highWater, "high-water", "per-subscriber `bytes` handed to the kernel before queueing (suffixes KiB, MiB)")
	fs.Var(&o.loops, "loops", "`number` of event loops")
	fs.Var(&o.maxConns, "max-conns", "`maximum` concurrent client connections (lowered to fit the open-files limit)")
	fs.Var(&o.validateJSON, "validate-json", "check that every non-empty PUB body is one JSON object")
	fs.Var(&o.logLevel, "log-level", "log `level`: debug, info, warn or error")
	fs.Var(&o.logFormat, "log-format", "log `format`: text or json")
	fs.Var(&o.adminSocket, "admin-socket", "serve /metrics, /connz, /subsz, /statsz and /debug/pprof/ over HTTP on a second UNIX socket at this `path`; off (or empty) turns it off")
	fs.Lookup("admin-socket").DefValue = "<socket>" + adminSuffix
	fs.Var(&o.adminMode, "admin-mode", "file `mode` of the admin socket, octal")
	fs.Var(&o.maxPatternsPerConn, "max-patterns-per-conn", "subscription `patterns` one connection may hold; a SUB over it is refused (0: no limit)")
	fs.Var(&o.maxPatterns, "max-patterns", "subscription `patterns` all connections together may hold; a SUB over it is refused (0: no limit)")
	fs.Var(&o.maxPendingBytes, "max-pending-bytes", "`bytes` all connections may hold in unfinished frames; over it the longest-waiting one is closed (0: no limit)")
	fs.Var(&o.frameTimeout, "frame-timeout", "a frame still unfinished this long (a `duration`) after it began closes its connection (0: never)")
	fs.Var(&o.releaseAfter, "release-after", "once bursts have freed this many `bytes`, hand the memory back to the OS (0: never)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	positional, err := cl.parseArgs(args, stdout)
	if err == nil {
		err = o.fill(cl, env)
	}
	if o.version && !errors.Is(err, pflag.ErrHelp) {
		return o, nil // --version needs nothing else to be valid
	}
	if err != nil {
		return nil, err
	}
	if len(positional) > 0 {
		return nil, usageErrorf("unexpected argument %q", positional[0])
	}
	return o, nil
}

// fill completes the options from the environment and the configuration
// file once the command line is parsed.
func (o *serveOptions) fill(cl *commandLine, env func(string) string) error {
	if !cl.fs.Changed("config") {
		o.configPath = env(configEnv)
	}
	var file *configFile
	if o.configPath != "" {
		var err error
		if file, err = loadConfigFile(o.configPath, configFileKey); err != nil {
			return &usageError{err.Error()}
		}
	}
	o.configSocket, _ = file.value("socket")
	return cl.fill(env, file)
}

// config turns the options into an engine configuration (Socket and Logger
// are filled by the caller).
func (o *serveOptions) config() engine.Config {
	cfg := engine.DefaultConfig()
	cfg.Group = o.group
	cfg.Heartbeat = time.Duration(o.heartbeat)
	cfg.RingEvents = o.ringEvents.n
	cfg.RingBytes = o.ringBytes.n
	cfg.HighWater = o.highWater.n
	cfg.Loops = o.loops.n
	cfg.MaxConns = o.maxConns.n
	cfg.ValidateJSON = bool(o.validateJSON)
	cfg.MaxPatternsPerConn = o.maxPatternsPerConn.n
	cfg.MaxPatterns = o.maxPatterns.n
	cfg.MaxPendingBytes = o.maxPendingBytes.n
	cfg.FrameTimeout = time.Duration(o.frameTimeout)
	cfg.ReleaseAfterBytes = o.releaseAfter.n
	return cfg
}
