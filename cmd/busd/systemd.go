package main

// systemd integration: readiness and status notifications, and the
// watchdog.

import (
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

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
