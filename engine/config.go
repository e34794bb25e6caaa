package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sys/unix"

	"busd/codec"
)

// Config is everything the engine needs; cmd/busd fills it from flags and the
// environment. The zero value is not usable: start from DefaultConfig.
type Config struct {
	// Socket is the resolved UNIX socket path (see cmd/busd for the rules).
	Socket string
	// Group is given to the socket file before it appears at its path,
	// best effort (engine/sockfile).
	Group string
	// SocketMode is the socket file's mode, in place before it appears at
	// its path.
	SocketMode uint32
	// Heartbeat is the period of system.bus.health events; 0 disables them.
	Heartbeat time.Duration
	// RingEvents and RingBytes bound each subscriber's queue.
	RingEvents int
	RingBytes  int
	// HighWater bounds what is handed to the kernel/gnet per subscriber; the
	// ring holds the rest.
	HighWater int
	// Loops is the number of gnet event loops.
	Loops int
	// MaxConns caps concurrent client connections; extra ones are closed at
	// once and counted.
	MaxConns int
	// ValidateJSON checks that every non-empty PUB body is one JSON object.
	ValidateJSON bool
	// What one connection, or all of them, may make the daemon hold
	// (limits.go, pending.go); 0 turns a limit off.
	//
	// MaxPatternsPerConn and MaxPatterns bound the subscription patterns
	// of one connection and of all connections together; a SUB over either
	// is refused and the connection stays open.
	MaxPatternsPerConn int
	MaxPatterns        int
	// MaxPendingBytes bounds the bytes all connections hold in frames they
	// have not finished sending; over it, the connections whose frames
	// have waited longest are closed until the rest fits.
	MaxPendingBytes int
	// FrameTimeout closes, as a protocol error, a connection whose frame
	// (header or body) is still unfinished this long after it began.
	FrameTimeout time.Duration
	// ReleaseAfterBytes: once bursts have freed this many bytes (unfinished
	// frames of connections that closed, subscriptions removed), the
	// engine hands the free memory back to the operating system
	// (release.go).
	ReleaseAfterBytes int
	// Logger receives the engine's and gnet's logs.
	Logger *slog.Logger
	// OnTick, if set, runs on the engine's ticker at least every
	// OnTickEvery while every event loop is alive: each loop gets a task
	// every OnTickEvery and must have run one within the last
	// max(5 s, 3 × OnTickEvery). A stuck loop stops the calls, which makes
	// this the place for a systemd watchdog ping.
	OnTick func()
	// OnTickEvery is how often OnTick must run (0: every second). Each
	// period wakes every idle loop once: the longest period the watchdog
	// allows keeps an idle daemon idle.
	OnTickEvery time.Duration
}

// DefaultConfig is the configuration busd runs with when nothing is set.
func DefaultConfig() Config {
	return Config{
		Group:        "decnet",
		SocketMode:   0o660,
		Heartbeat:    10 * time.Second,
		RingEvents:   1024,
		RingBytes:    4 << 20,
		HighWater:    256 << 10,
		Loops:        1,
		MaxConns:     4096,
		ValidateJSON: true,
		Logger:       slog.Default(),
		// The limits' defaults are far above what the platform's workers
		// use (tens of patterns each; events of a few hundred bytes,
		// rarely the 1 MiB largest body) and far below what hurts a host.
		// A distinct pattern costs a few hundred bytes of live heap, a
		// pattern as long as a header allows a few KiB
		// (BenchmarkSubscriptionMemory), so 10,000 patterns on one
		// connection stay within tens of MiB, and 100,000 in all within a
		// few hundred MiB even at the longest. The pending budget lets 64
		// largest frames arrive at once. A healthy client sends a 1 MiB
		// frame in milliseconds over a local socket; the frame timeout
		// leaves a loaded host, or a client whose event loop stalls for
		// seconds, a wide margin, and still frees a stalled connection
		// within the minute. A release after a burst costs two garbage
		// collections of a heap that the burst has just left: worth it
		// once a few times the idle daemon's footprint was freed.
		// bench/decisions/limits.md has the figures.
		MaxPatternsPerConn: 10_000,
		MaxPatterns:        100_000,
		MaxPendingBytes:    64 << 20,
		FrameTimeout:       30 * time.Second,
		ReleaseAfterBytes:  16 << 20,
	}
}

// The bounds of the settings. Validate checks them, and cmd/busd's flags
// check the same constants while parsing, so that a bad value is refused
// naming the flag or variable it came from.
const (
	MinRingEvents = 1
	// MinRingBytes: a queue must hold at least one largest event.
	MinRingBytes = codec.MaxEventFrame
	MinHighWater = 4 << 10
	MinLoops     = 1
	MinMaxConns  = 1
)

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.Socket == "":
		return errors.New("socket path is empty")
	case c.RingEvents < MinRingEvents:
		return fmt.Errorf("ring events %d: must be at least %d", c.RingEvents, MinRingEvents)
	case c.RingBytes < MinRingBytes:
		return fmt.Errorf("ring bytes %d: must hold at least one largest event (%d bytes)", c.RingBytes, MinRingBytes)
	case c.HighWater < MinHighWater:
		return fmt.Errorf("high-water mark %d: must be at least %d", c.HighWater, MinHighWater)
	case c.Loops < MinLoops:
		return fmt.Errorf("event loops %d: must be at least %d", c.Loops, MinLoops)
	case c.MaxConns < MinMaxConns:
		return fmt.Errorf("max connections %d: must be at least %d", c.MaxConns, MinMaxConns)
	case c.Heartbeat < 0:
		return fmt.Errorf("heartbeat %v: must not be negative", c.Heartbeat)
	case c.OnTickEvery < 0:
		return fmt.Errorf("tick period %v: must not be negative", c.OnTickEvery)
	case c.Logger == nil:
		return errors.New("logger is nil")
	}
	return c.validateLimits()
}

// The open-files budget. gnet stops its whole engine when accept fails with
// EMFILE, and a connection the daemon cannot refuse in time waits in the
// backlog, so connections must never exhaust the soft RLIMIT_NOFILE.
const (
	// fdHeadroom is how many descriptors under the soft limit a connection
	// may not take (nearFileLimit, checked at every accept): room for the
	// accept loop (an accepted connection and gnet's duplicate of it) and
	// the daemon's own files, so that a flood is refused at once instead
	// of waiting in the backlog for descriptors.
	fdHeadroom = 16
	// ownFDs is a budget for the descriptors the daemon holds besides
	// connections: listeners, lock files, an epoll and an eventfd per
	// loop, logs, sd_notify. TestHardeningFloodUnderLowFileLimit logs how
	// many an idle daemon holds.
	ownFDs = 48
	// FDReserve is how many descriptors under the soft limit the
	// connection cap leaves free (FitMaxConns). It covers the daemon's own
	// descriptors and fdHeadroom, so that MaxConns, not the limit, is what
	// refuses the connections of a flood.
	FDReserve = ownFDs + fdHeadroom
)

// FitMaxConns returns the connection cap that leaves FDReserve descriptors
// free under the soft open-files limit nofile, and whether it had to lower
// maxConns to do so.
func FitMaxConns(maxConns int, nofile uint64) (int, bool) {
	if nofile == unix.RLIM_INFINITY || nofile >= uint64(maxConns)+FDReserve {
		return maxConns, false
	}
	fit := 1
	if nofile > FDReserve+1 {
		fit = int(nofile - FDReserve)
	}
	return fit, true
}
