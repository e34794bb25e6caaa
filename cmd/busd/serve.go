package main

// "busd serve": the daemon, as a sequence of named steps (runServe).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"

	"busd/engine"
)

// shutdownTimeout bounds srv.Shutdown after SIGTERM/SIGINT.
const shutdownTimeout = 5 * time.Second

// runServe is the daemon: parse the flags, resolve the socket, make the
// logger, build the engine's configuration, then serve until a signal and
// shut down. Each step is a function below; the exit code says which kind
// of step failed (2 a setting, 1 anything at run time).
func runServe(args []string, env func(string) string, stdout, stderr io.Writer) int {
	o, err := parseServe(args, env, stdout)
	if err != nil {
		return exitCodeFor(err, stderr, "serve")
	}
	if o.version {
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	socket, err := serveSocket(o, env)
	if err != nil {
		fmt.Fprintf(stderr, "busd: %v\n", err)
		return exitFailure
	}
	log := newLogger(stderr, o.logFormat, o.logLevel)
	cfg, nofile := buildConfig(o, socket, env, log)
	srv, err := engine.New(cfg) // validates cfg, once
	if err != nil {
		fmt.Fprintf(stderr, "busd: invalid configuration: %v\n", err)
		return exitUsage
	}
	bi := readBuildInfo()
	logStart(log, cfg, bi, nofile)
	return serveUntilSignal(srv, socket, o.admin(socket, bi.short()), log, stderr)
}

// serveSocket applies the socket rules for the daemon, which creates
// ~/.decnet when it serves there.
func serveSocket(o *serveOptions, env func(string) string) (string, error) {
	src := systemSocketSources(o.socket, env)
	src.Config = o.configSocket
	return resolveSocket(src, true)
}

// admin says how to serve the admin socket of the bus socket socket.
func (o *serveOptions) admin(socket, version string) adminSettings {
	as := adminSettings{mode: fs.FileMode(o.adminMode), version: version}
	as.path, as.explicit = o.adminSocket.resolve(socket)
	return as
}

func newLogger(w io.Writer, format formatValue, level levelValue) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.Level(level)}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// buildConfig turns the options into the engine's configuration for socket:
// the systemd watchdog hook when systemd asks for one, and the connection
// cap lowered to fit the open-files limit (returned for the log).
func buildConfig(o *serveOptions, socket string, env func(string) string, log *slog.Logger) (engine.Config, uint64) {
	cfg := o.config()
	cfg.Socket = socket
	cfg.Logger = log
	if every, ok := watchdogInterval(env); ok {
		// Ping from the engine's ticker: a stuck engine stops pinging and
		// systemd restarts it.
		cfg.OnTick = newWatchdog(every/2, time.Now, func() { notify(log, daemon.SdNotifyWatchdog) })
		// Three ticks per ping period, so that a tick's lateness never
		// delays a ping past the next; each tick wakes every idle loop
		// once, so no more often than that.
		cfg.OnTickEvery = every / 6
		log.Info("systemd watchdog enabled", "timeout", every.String(), "ping_every", (every / 2).String())
	}
	nofile := openFilesLimit(log)
	if fit, lowered := engine.FitMaxConns(cfg.MaxConns, nofile); lowered {
		log.Warn("open-files limit too low for max-conns; lowering max-conns",
			"max_conns", cfg.MaxConns, "effective_max_conns", fit, "nofile", nofile, "reserve", engine.FDReserve)
		cfg.MaxConns = fit
	}
	return cfg, nofile
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

// logStart logs the settings the daemon starts with.
func logStart(log *slog.Logger, cfg engine.Config, bi buildInfo, nofile uint64) {
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
		"max_patterns_per_conn", cfg.MaxPatternsPerConn,
		"max_patterns", cfg.MaxPatterns,
		"max_pending_bytes", cfg.MaxPendingBytes,
		"frame_timeout", cfg.FrameTimeout.String(),
		"release_after", cfg.ReleaseAfterBytes,
	)
}

// serveUntilSignal runs srv until SIGTERM or SIGINT, then shuts it down.
// The admin socket starts once the bus socket serves: the bus socket's
// claim is what tells that another daemon runs, and the admin socket is
// there to look at a bus that runs.
func serveUntilSignal(srv *engine.Server, socket string, as adminSettings, log *slog.Logger, stderr io.Writer) int {
	// Subscribe before Run so that a signal during start-up is not lost.
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigc)

	ready := make(chan struct{})
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(func() { close(ready) }) }()
	select {
	case err := <-runErr:
		return engineStopped(err, socket, stderr)
	case sig := <-sigc:
		return shutdown(srv, runErr, sigc, "signal "+sig.String(), log)
	case <-ready:
	}

	stopAdmin, err := startAdmin(srv, as, log)
	if err != nil {
		fmt.Fprintf(stderr, "busd: %v\n", err)
		shutdown(srv, runErr, sigc, "the admin socket failed", log)
		return exitFailure
	}
	defer stopAdmin()
	log.Info("busd ready", "socket", socket)
	notify(log, daemon.SdNotifyReady+"\nSTATUS=serving "+socket)

	select {
	case err := <-runErr:
		return engineStopped(err, socket, stderr)
	case sig := <-sigc:
		return shutdown(srv, runErr, sigc, "signal "+sig.String(), log)
	}
}

// engineStopped reports why Run returned before any signal.
func engineStopped(err error, socket string, stderr io.Writer) int {
	switch {
	case err == nil:
		// Run only returns nil after Shutdown, which nobody called.
		fmt.Fprintln(stderr, "busd: engine stopped unexpectedly")
	case errors.Is(err, engine.ErrAlreadyRunning):
		fmt.Fprintf(stderr, "busd: another busd is already serving %s\n", socket)
	default:
		fmt.Fprintf(stderr, "busd: %v\n", err)
	}
	return exitFailure
}

// shutdown stops the server (why says what asked for it) and waits for Run
// to return. A signal meanwhile, or Run still running after the timeout,
// ends the wait with a failure exit.
func shutdown(srv *engine.Server, runErr <-chan error, sigc <-chan os.Signal, why string, log *slog.Logger) int {
	log.Info("busd shutting down", "reason", why)
	notify(log, daemon.SdNotifyStopping+"\nSTATUS=shutting down ("+why+")")
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
			log.Error("signal during shutdown; exiting now", "signal", s.String())
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
