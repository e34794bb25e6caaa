package bridge

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// natsOptions are the NATS connection's options. What they guarantee:
//   - the bridge never gives up: infinite reconnects, a first connection
//     that is retried like any other, and auth errors retried too (the
//     library's default stops after the same auth error twice, which would
//     turn a credentials rotation into an outage);
//   - the delay between passes over the server list doubles up to a bound,
//     with jitter, so that many bridges do not reconnect in lockstep;
//   - nats.go buffers nothing while disconnected: the outbox does, with
//     bounds and counts the library's buffer lacks;
//   - NoEcho: NATS never returns the bridge's own messages to it;
//   - certificates, CA and credentials are files read on every connection.
func (b *Bridge) natsOptions() ([]nats.Option, error) {
	c := &b.cfg
	opts := []nats.Option{
		nats.Name("busd-bridge " + c.HostID),
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.IgnoreAuthErrorAbort(),
		nats.ReconnectBufSize(-1),
		nats.CustomReconnectDelay(backoff(c.ReconnectMin, c.ReconnectMax)),
		nats.PingInterval(c.PingInterval),
		nats.MaxPingsOutstanding(2),
		nats.Timeout(c.ConnectTimeout),
		// Subjects are checked when they are mapped (tokens.go).
		nats.SkipSubjectValidation(),
		nats.ConnectHandler(b.natsUp),
		nats.ReconnectHandler(b.natsUp),
		nats.DisconnectErrHandler(b.natsDown),
		nats.ErrorHandler(b.natsError),
		nats.ReconnectErrHandler(b.natsReconnectFailed),
	}
	if c.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if c.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.NKeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeyFile)
		if err != nil {
			return nil, errorf("nkey %s: %v", c.NKeyFile, err)
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// backoff is the delay after the n-th full pass over the server list
// failed: min doubling up to max, then a random half to all of it.
func backoff(lo, hi time.Duration) nats.ReconnectDelayHandler {
	return func(attempts int) time.Duration {
		d := lo
		for i := 1; i < attempts && d < hi; i++ {
			d *= 2
		}
		d = min(d, hi)
		return d/2 + rand.N(d/2+1)
	}
}

// serverList is the configured URLs as nats.Connect takes them.
func (c *Config) serverList() string { return strings.Join(c.NATS, ",") }
