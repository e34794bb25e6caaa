package main

// "busd bridge": run the bridge (or check its configuration) until a
// signal. See bridgeflags.go for its settings and busd/bridge for what it
// does.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"

	"github.com/VictoriaMetrics/metrics"
	"github.com/coreos/go-systemd/v22/daemon"

	"busd/bridge"
)

func runBridge(args []string, env func(string) string, stdout, stderr io.Writer) int {
	o, err := parseBridge(args, env, stdout)
	if errors.Is(err, bridge.ErrConfig) {
		fmt.Fprintf(stderr, "busd bridge: invalid configuration: %v\n", err)
		return exitUsage
	}
	if err != nil {
		return exitCodeFor(err, stderr, "bridge")
	}
	src := systemSocketSources(o.socket, env)
	src.Config = o.configSocket
	socket, err := resolveSocket(src, false)
	if err != nil {
		fmt.Fprintf(stderr, "busd bridge: %v\n", err)
		return exitFailure
	}
	log := newLogger(stderr, o.logFormat, o.logLevel)
	b, err := bridge.New(o.config(socket, log))
	if err == nil {
		err = b.CheckFiles()
	}
	if err != nil {
		fmt.Fprintf(stderr, "busd bridge: invalid configuration: %v\n", err)
		return exitUsage
	}
	adminPath, adminExplicit := o.adminSocket.resolveBeside(socket, bridgeAdminSuffix)
	if o.check {
		printBridgeCheck(stdout, b, socket, adminPath)
		return exitOK
	}
	return bridgeUntilSignal(b, adminPath, adminExplicit, log, stderr)
}

// printBridgeCheck prints the effective configuration, secrets left out.
func printBridgeCheck(w io.Writer, b *bridge.Bridge, socket, adminPath string) {
	c := b.Config()
	fmt.Fprintln(w, "configuration OK")
	fmt.Fprintf(w, "host id:  %s\n", c.HostID)
	fmt.Fprintf(w, "bus:      %s\n", socket)
	fmt.Fprintf(w, "nats:     %s\n", strings.Join(c.Servers(), ", "))
	var sec []string
	if c.CAFile != "" {
		sec = append(sec, "CA "+c.CAFile)
	}
	if c.CertFile != "" {
		sec = append(sec, "client certificate "+c.CertFile)
	}
	if c.CredsFile != "" {
		sec = append(sec, "credentials "+c.CredsFile)
	}
	if c.NKeyFile != "" {
		sec = append(sec, "nkey "+c.NKeyFile)
	}
	if len(sec) > 0 {
		fmt.Fprintf(w, "security: %s\n", strings.Join(sec, ", "))
	}
	fmt.Fprintf(w, "buffer:   %d events, %s, %v\n", c.BufferEvents, formatSize(c.BufferBytes), c.BufferAge)
	fmt.Fprintf(w, "max hops: %d\n", c.MaxHops)
	if adminPath == "" {
		adminPath = "off"
	}
	fmt.Fprintf(w, "admin:    %s\n", adminPath)
	fmt.Fprintln(w, "rules (the first that matches an event carries it):")
	b.Describe(&indent{w})
}

// indent prefixes every line with two spaces.
type indent struct{ w io.Writer }

func (i *indent) Write(p []byte) (int, error) {
	s := strings.ReplaceAll(strings.TrimSuffix(string(p), "\n"), "\n", "\n  ")
	_, err := io.WriteString(i.w, "  "+s+"\n")
	return len(p), err
}

// bridgeUntilSignal runs the bridge and its admin socket until SIGTERM or
// SIGINT.
func bridgeUntilSignal(b *bridge.Bridge, adminPath string, adminExplicit bool, log *slog.Logger, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ready := make(chan struct{})
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(ctx, func() { close(ready) }) }()
	select {
	case err := <-runErr:
		return bridgeStopped(err, stderr)
	case <-ready:
	}
	stopAdmin, err := startBridgeAdmin(b, adminPath, adminExplicit, log)
	if err != nil {
		fmt.Fprintf(stderr, "busd bridge: %v\n", err)
		stop()
		<-runErr
		return exitFailure
	}
	defer stopAdmin()
	notify(log, daemon.SdNotifyReady+"\nSTATUS=bridging")
	err = <-runErr
	notify(log, daemon.SdNotifyStopping)
	return bridgeStopped(err, stderr)
}

func bridgeStopped(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, context.Canceled) {
		return exitOK
	}
	fmt.Fprintf(stderr, "busd bridge: %v\n", err)
	if errors.Is(err, bridge.ErrConfig) {
		return exitUsage
	}
	return exitFailure
}

// startBridgeAdmin serves the bridge's admin socket; only an explicit one
// that fails is an error.
func startBridgeAdmin(b *bridge.Bridge, path string, explicit bool, log *slog.Logger) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	metrics.ExposeMetadata(true)
	a, err := bridge.ListenAdmin(path, b, readBuildInfo().short(), log)
	if err != nil && !explicit {
		log.Warn("default admin socket not served; bridging without it", "admin_socket", path, "err", err)
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	go func() { _ = a.Serve() }()
	log.Info("admin socket listening", "admin_socket", path)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminStopTimeout)
		defer cancel()
		_ = a.Shutdown(ctx)
	}, nil
}
