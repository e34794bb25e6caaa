package bridge

import (
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is a bridge's whole configuration.
type Config struct {
	// Socket is the local daemon's bus socket.
	Socket string
	// NATS are the servers' URLs (nats:// or tls://); the bridge fails
	// over between them.
	NATS []string
	// HostID names this host in exported messages' origin header and in
	// "{host}" in prefixes. Default: the hostname up to its first dot.
	HostID string
	// Rules say what crosses, in order (see Rule).
	Rules []Rule

	// CAFile is the PEM bundle that verifies the servers' certificates;
	// CertFile and KeyFile are this bridge's client certificate (mutual
	// TLS). They are read again on every (re)connection, so rotated files
	// need no restart.
	CAFile, CertFile, KeyFile string
	// CredsFile is a NATS credentials file (user JWT and nkey seed);
	// NKeyFile an nkey seed file. Both are read again on every connection.
	CredsFile, NKeyFile string

	// BufferEvents, BufferBytes and BufferAge bound the outbox, which holds
	// exported events while NATS cannot take them; the oldest are dropped
	// first, and those older than BufferAge are dropped when sent.
	BufferEvents int
	BufferBytes  int
	BufferAge    time.Duration
	// ImportPending bounds, in messages and bytes, what NATS's client may
	// hold per import subscription while the bridge catches up; beyond it
	// messages are dropped and counted as slow consumption.
	ImportPendingMsgs  int
	ImportPendingBytes int
	// MaxHops is the hop limit of imported messages.
	MaxHops int

	// ReconnectMin and ReconnectMax bound the delay between two passes over
	// the NATS server list: it doubles from min to max, each with jitter.
	// The bridge never stops reconnecting.
	ReconnectMin, ReconnectMax time.Duration
	// PingInterval is how often an idle NATS connection is checked; two
	// missed answers count as a lost connection.
	PingInterval time.Duration
	// ConnectTimeout bounds one connection attempt.
	ConnectTimeout time.Duration

	// Logger receives the bridge's logs (default slog.Default()).
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultBufferEvents       = 100_000
	DefaultBufferBytes        = 64 << 20
	DefaultBufferAge          = 5 * time.Minute
	DefaultImportPendingMsgs  = 65_536
	DefaultImportPendingBytes = 64 << 20
	DefaultReconnectMin       = 250 * time.Millisecond
	DefaultReconnectMax       = 10 * time.Second
	DefaultPingInterval       = 5 * time.Second
	DefaultConnectTimeout     = 2 * time.Second
)

// DefaultConfig is a Config with every default set and no servers or rules.
func DefaultConfig() Config {
	return Config{
		HostID:             DefaultHostID(),
		BufferEvents:       DefaultBufferEvents,
		BufferBytes:        DefaultBufferBytes,
		BufferAge:          DefaultBufferAge,
		ImportPendingMsgs:  DefaultImportPendingMsgs,
		ImportPendingBytes: DefaultImportPendingBytes,
		MaxHops:            DefaultMaxHops,
		ReconnectMin:       DefaultReconnectMin,
		ReconnectMax:       DefaultReconnectMax,
		PingInterval:       DefaultPingInterval,
		ConnectTimeout:     DefaultConnectTimeout,
	}
}

// DefaultHostID is the hostname up to its first dot ("web1" for
// "web1.example.com"): one token, so that it fits a subject prefix.
func DefaultHostID() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}

// check validates everything but the rules (compileRules does those).
func (c *Config) check() error {
	if c.Socket == "" {
		return errorf("no bus socket")
	}
	if len(c.NATS) == 0 {
		return errorf("no NATS server: give --nats URL[,URL...]")
	}
	for _, u := range c.NATS {
		if err := checkServerURL(u); err != nil {
			return err
		}
	}
	if err := checkHostID(c.HostID); err != nil {
		return err
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errorf("a client certificate needs both --tls-cert and --tls-key")
	}
	if c.CredsFile != "" && c.NKeyFile != "" {
		return errorf("--creds and --nkey are exclusive: a credentials file already holds an nkey seed")
	}
	switch {
	case c.BufferEvents < 1:
		return errorf("buffer events %d: must be at least 1", c.BufferEvents)
	case c.BufferBytes < 1<<20+4096:
		return errorf("buffer bytes %d: must hold at least one 1 MiB event", c.BufferBytes)
	case c.BufferAge <= 0:
		return errorf("buffer age %v: must be positive", c.BufferAge)
	case c.ImportPendingMsgs < 1 || c.ImportPendingBytes < 1<<20:
		return errorf("import pending limits %d messages, %d bytes: need at least 1 message and 1 MiB", c.ImportPendingMsgs, c.ImportPendingBytes)
	case c.MaxHops < 1:
		return errorf("max hops %d: must be at least 1", c.MaxHops)
	case c.ReconnectMin <= 0 || c.ReconnectMax < c.ReconnectMin:
		return errorf("reconnect delays %v..%v: need 0 < min <= max", c.ReconnectMin, c.ReconnectMax)
	case c.PingInterval <= 0 || c.ConnectTimeout <= 0:
		return errorf("ping interval and connect timeout must be positive")
	}
	return nil
}

// checkHostID: one NATS token, printable ASCII.
func checkHostID(id string) error {
	if id == "" || !validTopic([]byte(id)) || strings.ContainsAny(id, ".*>{}") {
		return errorf("host id %q: must be one token (printable ASCII, no spaces, dots, wildcards or braces)", id)
	}
	return nil
}

// checkServerURL accepts nats://, tls:// (and what nats.go reads as
// nats://: host:port). The error never repeats a password.
func checkServerURL(s string) error {
	raw := s
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return errorf("NATS server %q is not a URL", Redact(raw))
	}
	switch u.Scheme {
	case "nats", "tls":
	default:
		return errorf("NATS server %s: scheme %q (want nats:// or tls://)", Redact(raw), u.Scheme)
	}
	if u.Host == "" {
		return errorf("NATS server %s has no host", Redact(raw))
	}
	return nil
}

// Redact is a server URL fit for logs: a password or token in it is
// replaced by "xxxxx".
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return "xxxxx@" + s[i+1:]
		}
		return s
	}
	if _, ok := u.User.Password(); ok {
		return u.Redacted()
	}
	u.User = url.User("xxxxx") // a bare token
	return u.String()
}

// Servers are the configured servers, credentials redacted.
func (c *Config) Servers() []string {
	out := make([]string, len(c.NATS))
	for i, s := range c.NATS {
		out[i] = Redact(s)
	}
	return out
}
