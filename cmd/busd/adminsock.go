package main

// The admin socket, from the daemon's side (serving it) and the client's
// ("busd stats" finding it).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"busd/admin"
	"busd/engine"
)

const (
	// adminSocketEnv names the admin socket for "busd serve" and "busd stats".
	adminSocketEnv = "BUSD_ADMIN_SOCKET"
	// adminSuffix makes the default admin socket path from the bus socket's.
	adminSuffix = ".admin"
	// adminOff, as the admin socket's path, turns it off; so does an empty
	// flag or configuration value (an empty variable counts as unset).
	adminOff = "off"
	// adminStopTimeout bounds the admin server's shutdown.
	adminStopTimeout = 2 * time.Second
)

// adminSocketValue is --admin-socket: a path, off, or not set (the default
// beside the bus socket). A socket really named "off" is written "./off".
type adminSocketValue struct {
	path string
	set  bool
}

func (a *adminSocketValue) String() string { return a.path }
func (a *adminSocketValue) Type() string   { return "path" }

func (a *adminSocketValue) Set(s string) error {
	a.path, a.set = s, true
	return nil
}

// resolve returns the admin socket's path for the bus socket busSocket ("" when
// turned off) and whether it was configured rather than defaulted.
func (a *adminSocketValue) resolve(busSocket string) (path string, explicit bool) {
	return a.resolveBeside(busSocket, adminSuffix)
}

// resolveBeside is resolve with the default path busSocket+suffix.
func (a *adminSocketValue) resolveBeside(busSocket, suffix string) (path string, explicit bool) {
	switch {
	case !a.set:
		return busSocket + suffix, false
	case a.path == "" || a.path == adminOff:
		return "", true
	}
	return a.path, true
}

// adminSettings say how the daemon serves its admin socket.
type adminSettings struct {
	path string // "" when off
	// explicit: the path was configured. An explicit admin socket that
	// cannot be served stops the daemon (exit 1); the default one only
	// logs a warning, as the bus is what matters.
	explicit bool
	mode     fs.FileMode
	version  string
}

// startAdmin serves the admin socket until the returned function is
// called. It returns an error only for an explicit admin socket.
func startAdmin(srv *engine.Server, as adminSettings, log *slog.Logger) (stop func(), err error) {
	if as.path == "" {
		log.Info("admin socket off")
		return func() {}, nil
	}
	// TYPE and HELP for the Go runtime and process metrics too.
	metrics.ExposeMetadata(true)
	a, err := admin.Listen(srv, admin.Options{Path: as.path, Mode: as.mode, Logger: log, Version: as.version})
	if errors.Is(err, admin.ErrInUse) {
		err = fmt.Errorf("another server answers on the admin socket %s", as.path)
	}
	if err != nil && !as.explicit {
		log.Warn("default admin socket not served; serving the bus without it (set --admin-socket to a path that works, or to off)",
			"admin_socket", as.path, "err", err)
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve() }()
	log.Info("admin socket listening", "admin_socket", as.path, "mode", fmt.Sprintf("%#o", uint32(as.mode)))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminStopTimeout)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			log.Warn("admin socket shutdown", "err", err)
		}
		if err := <-served; err != nil {
			log.Warn("admin socket stopped with an error", "err", err)
		}
	}, nil
}
