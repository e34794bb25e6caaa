package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"

	"busd/admin"
	"busd/engine"
)

const (
	// shutdownTimeout bounds srv.Shutdown after SIGTERM/SIGINT.
	shutdownTimeout = 5 * time.Second
)

// serveOptions are the daemon's settings after flags and environment.
type serveOptions struct {
	socket       string
	group        string
	heartbeat    durationValue
	ringEvents   intValue
	ringBytes    sizeValue
	highWater    sizeValue
	loops        intValue
	maxConns     intValue
	validateJSON boolValue
	logLevel     levelValue
	logFormat    formatValue
	adminSocket  string
	adminMode    modeValue
	version      bool
}

// serveEnv maps each daemon flag to its environment variable. --socket's
// variable (DECNET_BUS_SOCKET) is applied by the socket rules instead.
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
}

// serveHelpEnv is serveEnv plus the socket variable, for the help text.
func serveHelpEnv() map[string]string {
	m := map[string]string{"socket": socketEnv}
	for k, v := range serveEnv {
		m[k] = v
	}
	return m
}

// parseServe reads the daemon's flags and environment.
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
	}
	fs := flag.NewFlagSet("busd serve", flag.ContinueOnError)
	fs.StringVar(&o.socket, "socket", "", socketUsage)
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
	fs.StringVar(&o.adminSocket, "admin-socket", "", "serve /metrics, /connz, /subsz, /statsz and /debug/pprof/ over HTTP on a second UNIX socket at this `path` (off when empty)")
	fs.Var(&o.adminMode, "admin-mode", "file `mode` of the admin socket, octal")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	err := parseFlags(fs, serveEnv, serveHelpEnv(), args, env, stdout, "busd [serve] [flags]")
	if o.version && !errors.Is(err, flag.ErrHelp) {
		return o, nil // --version needs nothing else to be valid
	}
	if err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
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
	return cfg
}

func newLogger(w io.Writer, format formatValue, level levelValue) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.Level(level)}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runServe(args []string, env func(string) string, stdout, stderr io.Writer) int {
	o, err := parseServe(args, env, stdout)
	if err != nil {
		return exitCodeFor(err, stderr, "serve")
	}
	if o.version {
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	log := newLogger(stderr, o.logFormat, o.logLevel)

	socket, err := resolveSocket(systemSocketSources(o.socket, env), true)
	if err != nil {
		fmt.Fprintf(stderr, "busd: %v\n", err)
		return exitFailure
	}

	cfg := o.config()
	cfg.Socket = socket
	cfg.Logger = log
	if every, ok := watchdogInterval(env); ok {
		// Ping from the engine's ticker: a stuck engine stops pinging and
		// systemd restarts it.
		cfg.OnTick = newWatchdog(every/2, time.Now, func() { notify(log, daemon.SdNotifyWatchdog) })
		log.Info("systemd watchdog enabled", "timeout", every.String(), "ping_every", (every / 2).String())
	}
	nofile := openFilesLimit(log)
	if fit, lowered := engine.FitMaxConns(cfg.MaxConns, nofile); lowered {
		log.Warn("open-files limit too low for max-conns; lowering max-conns",
			"max_conns", cfg.MaxConns, "effective_max_conns", fit, "nofile", nofile, "reserve", engine.FDReserve)
		cfg.MaxConns = fit
	}

	bi := readBuildInfo()
	log.Info("busd starting",
		"version", bi.short(),
		"socket", cfg.Socket,
		"pid", os.Getpid(),
		"loops", cfg.Loops,
		"ring_events", cfg.RingEvents,
		"ring_bytes", cfg.RingBytes,
		"high_water", cfg.HighWater,
		"max_conns", cfg.MaxConns,
		"heartbeat", cfg.Heartbeat.String(),
		"validate_json", cfg.ValidateJSON,
		"group", cfg.Group,
		"nofile", nofile,
	)

	srv, err := engine.New(cfg) // validates cfg, once
	if err != nil {
		fmt.Fprintf(stderr, "busd: invalid configuration: %v\n", err)
		return exitUsage
	}
	if o.adminSocket != "" {
		stopAdmin, err := startAdmin(srv, o, bi.short(), log)
		if err != nil {
			fmt.Fprintf(stderr, "busd: %v\n", err)
			return exitFailure
		}
		defer stopAdmin()
	}

	// Subscribe before Run so that a signal during start-up is not lost.
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigc)

	ready := func() {
		log.Info("busd ready", "socket", cfg.Socket)
		notify(log, daemon.SdNotifyReady+"\nSTATUS=serving "+cfg.Socket)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ready) }()

	select {
	case err := <-runErr:
		if err == nil {
			// Run only returns nil after Shutdown, which nobody called.
			fmt.Fprintln(stderr, "busd: engine stopped unexpectedly")
			return exitFailure
		}
		if errors.Is(err, engine.ErrAlreadyRunning) {
			fmt.Fprintf(stderr, "busd: another busd is already serving %s\n", cfg.Socket)
			return exitFailure
		}
		fmt.Fprintf(stderr, "busd: %v\n", err)
		return exitFailure
	case sig := <-sigc:
		return shutdown(srv, runErr, sigc, sig, log)
	}
}

// shutdown stops the server after sig and waits for Run to return. A second
// signal, or Run still running after the timeout, ends the wait with a
// failure exit.
func shutdown(srv *engine.Server, runErr <-chan error, sigc <-chan os.Signal, sig os.Signal, log *slog.Logger) int {
	log.Info("busd shutting down", "signal", sig.String())
	notify(log, daemon.SdNotifyStopping+"\nSTATUS=shutting down ("+sig.String()+")")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutErr := make(chan error, 1)
	go func() { shutErr <- srv.Shutdown(ctx) }()

	code := exitOK
	var shutDone, runDone bool
	deadline := time.NewTimer(shutdownTimeout + time.Second)
	defer deadline.Stop()
	for !shutDone || !runDone {
		select {
		case err := <-shutErr:
			shutDone = true
			if err != nil {
				log.Error("shutdown failed", "err", err)
				code = exitFailure
			}
		case err := <-runErr:
			runDone = true
			if err != nil {
				log.Error("engine stopped with an error", "err", err)
				code = exitFailure
			}
		case s := <-sigc:
			log.Error("second signal during shutdown; exiting now", "signal", s.String())
			return exitFailure
		case <-deadline.C:
			log.Error("shutdown did not finish in time", "timeout", shutdownTimeout)
			return exitFailure
		}
	}
	if code == exitOK {
		log.Info("busd stopped")
	}
	return code
}

// startAdmin serves the admin socket until the returned function is called.
func startAdmin(srv *engine.Server, o *serveOptions, version string, log *slog.Logger) (func(), error) {
	// TYPE and HELP for the Go runtime and process metrics too.
	metrics.ExposeMetadata(true)
	a, err := admin.Listen(srv, admin.Options{
		Path:    o.adminSocket,
		Mode:    fs.FileMode(o.adminMode),
		Logger:  log,
		Version: version,
	})
	if errors.Is(err, admin.ErrInUse) {
		return nil, fmt.Errorf("another server answers on the admin socket %s", o.adminSocket)
	}
	if err != nil {
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve() }()
	log.Info("admin socket listening", "admin_socket", o.adminSocket, "mode", o.adminMode.String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			log.Warn("admin socket shutdown", "err", err)
		}
		if err := <-served; err != nil {
			log.Warn("admin socket stopped with an error", "err", err)
		}
	}, nil
}

// watchdogInterval reads systemd's watchdog settings from env, as
// sd_watchdog_enabled(3) does: WATCHDOG_USEC > 0, and WATCHDOG_PID, when
// set, naming this process.
func watchdogInterval(env func(string) string) (time.Duration, bool) {
	usec, err := strconv.ParseInt(env("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if p := env("WATCHDOG_PID"); p != "" {
		if pid, err := strconv.Atoi(p); err != nil || pid != os.Getpid() {
			return 0, false
		}
	}
	return time.Duration(usec) * time.Microsecond, true
}

// newWatchdog returns an OnTick hook that calls ping at most once per
// every. It runs on the engine's ticker goroutine only.
func newWatchdog(every time.Duration, now func() time.Time, ping func()) func() {
	var last time.Time
	return func() {
		t := now()
		if !last.IsZero() && t.Sub(last) < every {
			return
		}
		last = t
		ping()
	}
}

// notify sends state to systemd; it does nothing without NOTIFY_SOCKET.
func notify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify failed", "err", err)
	}
}

// openFilesLimit is the soft RLIMIT_NOFILE. It is read, not raised: since
// Go 1.19 the runtime itself raises the soft limit (to the hard limit less
// one) when the process starts, on Linux, so there is nothing left to lift.
// If that raise failed (a hard limit above fs.nr_open, a seccomp filter),
// raising again here would fail the same way.
func openFilesLimit(log *slog.Logger) uint64 {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open-files limit", "err", err)
		return math.MaxUint64
	}
	return lim.Cur
}
