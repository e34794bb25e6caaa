package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	// Logger receives the engine's and gnet's logs.
	Logger *slog.Logger
	// OnTick, if set, runs on ticks of the engine's ticker (at least every
	// 100ms) while every event loop is alive: each loop must have run a
	// task the ticker gave it within the last 5 seconds. A stuck loop
	// stops the calls, which makes this the place for a systemd watchdog
	// ping.
	OnTick func()
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
	}
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.Socket == "":
		return errors.New("socket path is empty")
	case c.RingEvents < 1:
		return fmt.Errorf("ring events %d: must be at least 1", c.RingEvents)
	case c.RingBytes < codec.MaxEventFrame:
		return fmt.Errorf("ring bytes %d: must hold at least one largest event (%d bytes)", c.RingBytes, codec.MaxEventFrame)
	case c.HighWater < 4096:
		return fmt.Errorf("high-water mark %d: must be at least 4096", c.HighWater)
	case c.Loops < 1:
		return fmt.Errorf("event loops %d: must be at least 1", c.Loops)
	case c.MaxConns < 1:
		return fmt.Errorf("max connections %d: must be at least 1", c.MaxConns)
	case c.Heartbeat < 0:
		return fmt.Errorf("heartbeat %v: must not be negative", c.Heartbeat)
	case c.Logger == nil:
		return errors.New("logger is nil")
	}
	return nil
}
