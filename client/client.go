// Package client is the Go client of busd, the host bus daemon.
//
// A Client holds one connection to the daemon's UNIX socket. Every
// Subscription of a client shares that connection and its one reader
// goroutine, which hands each incoming event to every local subscription
// whose pattern matches it (the wildcard rules are those of the daemon, see
// Match). Each subscription has its own bounded drop-oldest queue.
//
// Delivery is at-most-once, as on the bus itself. The daemon never returns a
// connection's own events to it, so a Client's subscriptions never see what
// the same Client publishes; use two clients (or the fake's Conn) for that.
//
// When the connection drops (the daemon restarts), the client reconnects
// with an exponential backoff, sends HELLO again and re-subscribes every
// live pattern. Events published by others in the meantime are lost;
// Publish fails with ErrNotConnected until the connection is back.
//
// For tests of code that uses the bus, NewFake is an in-process bus with the
// same semantics and Nop a bus that does nothing; both implement Bus.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"busd/codec"
)

// Bus is what code that publishes and subscribes needs. *Client, the fake
// from NewFake and Nop implement it.
type Bus interface {
	// Publish sends one event on topic: payload (anything encoding/json
	// accepts, or a json.RawMessage; nil is {}) in a fresh envelope of the
	// given type.
	Publish(ctx context.Context, topic string, payload any, eventType string) error
	// Subscribe starts receiving the events whose topic matches pattern.
	Subscribe(pattern string) (*Subscription, error)
	// Close ends every subscription and releases the bus.
	Close() error
}

var _ Bus = (*Client)(nil)

// ErrNotConnected is returned by Publish while the client is between two
// connections (or after the connection was lost for good).
var ErrNotConnected = errors.New("busd: not connected to the daemon")

const (
	dialTimeout = 5 * time.Second
	// ctlTimeout bounds writes of HELLO, SUB, UNSUB and BYE.
	ctlTimeout = 5 * time.Second
	// byeTimeout bounds how long Close waits for the daemon to close the
	// connection after BYE (which tells that everything sent was read).
	byeTimeout = 2 * time.Second
	// readBufSize is the reader's initial buffer; it grows for larger
	// frames and shrinks back when idle.
	readBufSize = 64 << 10
)

// Option configures Dial.
type Option func(*options)

type options struct {
	name         string
	queueSize    int
	reconnectMin time.Duration
	reconnectMax time.Duration
	logger       *slog.Logger
}

func defaultOptions() options {
	return options{
		name:         filepath.Base(os.Args[0]),
		queueSize:    DefaultQueueSize,
		reconnectMin: 100 * time.Millisecond,
		reconnectMax: 5 * time.Second,
	}
}

// WithName sets the name sent in HELLO, which the daemon shows in its logs
// and stats. The default is the program's file name.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithQueueSize bounds each subscription's queue, in events (default 1024).
// When a queue is full the oldest event is dropped.
func WithQueueSize(n int) Option { return func(o *options) { o.queueSize = n } }

// WithReconnect sets the reconnection backoff: the first retry waits about
// min, each next one twice as long up to max, each with random jitter
// (between half and all of the delay). The default is 100ms..5s.
// WithReconnect(0, 0) disables reconnection: when the connection drops,
// every subscription ends with ErrConnectionLost.
func WithReconnect(min, max time.Duration) Option {
	return func(o *options) { o.reconnectMin, o.reconnectMax = min, max }
}

// WithLogger sets where the client logs connection losses and reconnects
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Client is a connection to the daemon. It is safe for concurrent use.
type Client struct {
	path string
	o    options
	log  *slog.Logger

	// smu guards the subscription registry and the life-cycle flags. Lock
	// order: smu before wmu.
	smu      sync.Mutex
	subs     map[*Subscription]struct{}
	patterns map[string]int // live pattern → subscriptions using it
	closed   bool
	lost     bool // the connection dropped and reconnection is off
	// snapshot is the subscription list the reader dispatches to, replaced
	// under smu on every change.
	snapshot atomic.Pointer[[]*Subscription]

	// wmu serializes writes and guards conn and wbuf.
	wmu  sync.Mutex
	conn net.Conn // nil while disconnected
	wbuf []byte

	connected atomic.Bool
	// life ends when Close is called (kill); stop is its Done channel.
	life      context.Context
	kill      context.CancelFunc
	stop      <-chan struct{}
	done      chan struct{} // closed when the reader goroutine exits
	closeOnce sync.Once
}

// Dial connects to the daemon at socketPath and says HELLO. ctx bounds the
// first connection only. The error of a failed first connection wraps the
// system's (errors.Is(err, fs.ErrPermission), syscall.ECONNREFUSED,
// fs.ErrNotExist work on it).
func Dial(ctx context.Context, socketPath string, opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.queueSize < 1 {
		return nil, fmt.Errorf("busd: queue size %d: must be at least 1", o.queueSize)
	}
	if o.reconnectMin > 0 && o.reconnectMax < o.reconnectMin {
		o.reconnectMax = o.reconnectMin
	}
	o.name = sanitizeName(o.name)
	if o.logger == nil {
		o.logger = slog.Default()
	}
	c := &Client{
		path:     socketPath,
		o:        o,
		log:      o.logger.With("socket", socketPath),
		subs:     make(map[*Subscription]struct{}),
		patterns: make(map[string]int),
		done:     make(chan struct{}),
	}
	c.life, c.kill = context.WithCancel(context.Background())
	c.stop = c.life.Done()
	conn, err := c.connect(ctx)
	if err != nil {
		c.kill()
		return nil, err
	}
	go c.run(conn)
	return c, nil
}

// sanitizeName keeps the HELLO name one printable-ASCII header line.
func sanitizeName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c < ' ' || c >= 0x7f {
			b[i] = '_'
		}
	}
	if len(b) > 256 {
		b = b[:256]
	}
	return string(b)
}

// Connected reports whether the client currently has a connection.
func (c *Client) Connected() bool { return c.connected.Load() }

// connect dials, says HELLO, re-subscribes every live pattern and installs
// the connection.
func (c *Client) connect(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return nil, fmt.Errorf("busd: cannot connect to %s: %w", c.path, err)
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.closed {
		conn.Close()
		return nil, ErrClosed
	}
	buf := codec.AppendFrame(nil, codec.VerbHELLO, c.o.name, nil)
	pats := make([]string, 0, len(c.patterns))
	for p := range c.patterns {
		pats = append(pats, p)
	}
	sort.Strings(pats)
	for _, p := range pats {
		buf = codec.AppendFrame(buf, codec.VerbSUB, p, nil)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// Connected before the write: once the daemon has read the HELLO and
	// the SUBs, Connected must already say so. Writers wait on wmu, so
	// none uses conn before the HELLO is written.
	c.conn = conn
	c.connected.Store(true)
	_ = conn.SetWriteDeadline(time.Now().Add(ctlTimeout))
	if _, err := conn.Write(buf); err != nil {
		c.conn = nil
		c.connected.Store(false)
		conn.Close()
		return nil, fmt.Errorf("busd: hello to %s: %w", c.path, err)
	}
	_ = conn.SetWriteDeadline(time.Time{})
	return conn, nil
}

// run is the reader goroutine: it reads conn until it fails, then
// reconnects (or gives up), for the client's whole life.
func (c *Client) run(conn net.Conn) {
	defer close(c.done)
	for {
		err := c.read(conn)
		c.detach(conn)
		select {
		case <-c.stop:
			return
		default:
		}
		if c.o.reconnectMin <= 0 {
			c.log.Warn("busd connection lost", "err", err)
			c.giveUp()
			return
		}
		c.log.Warn("busd connection lost; reconnecting", "err", err)
		if conn = c.reconnect(); conn == nil {
			return
		}
		c.log.Info("busd connection restored")
	}
}

// detach forgets conn (if it is still the current one) and closes it.
func (c *Client) detach(conn net.Conn) {
	c.wmu.Lock()
	if c.conn == conn {
		c.conn = nil
		c.connected.Store(false)
	}
	c.wmu.Unlock()
	conn.Close()
}

// giveUp ends every subscription after a connection loss without
// reconnection.
func (c *Client) giveUp() {
	c.smu.Lock()
	c.lost = true
	subs := c.takeSubsLocked()
	c.smu.Unlock()
	for _, s := range subs {
		s.end(ErrConnectionLost)
	}
}

// takeSubsLocked empties the registry and returns what it held.
func (c *Client) takeSubsLocked() []*Subscription {
	subs := make([]*Subscription, 0, len(c.subs))
	for s := range c.subs {
		subs = append(subs, s)
	}
	clear(c.subs)
	clear(c.patterns)
	c.snapshot.Store(nil)
	return subs
}

// reconnect retries with backoff until it is connected (the connection) or
// the client is closed (nil).
func (c *Client) reconnect() net.Conn {
	delay := c.o.reconnectMin
	for attempt := 1; ; attempt++ {
		wait := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-c.stop:
			t.Stop()
			return nil
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.life, dialTimeout)
		conn, err := c.connect(ctx)
		cancel()
		if err == nil {
			return conn
		}
		if errors.Is(err, ErrClosed) {
			return nil
		}
		c.log.Debug("busd reconnect failed", "attempt", attempt, "err", err)
		delay = min(delay*2, c.o.reconnectMax)
	}
}

// read dispatches every EVT from conn until the connection fails or the
// daemon says BYE.
func (c *Client) read(conn net.Conn) error {
	fr := frameReader{r: conn, buf: make([]byte, readBufSize)}
	for {
		f, err := fr.next()
		if err != nil {
			return err
		}
		switch f.Verb {
		case codec.VerbEVT:
			c.dispatch(f.Args, f.Body)
		case codec.VerbBYE:
			return errors.New("the daemon said BYE")
		}
	}
}

// dispatch hands one event to every matching subscription: raw handlers
// get the reader's bytes; for the others the topic and body are copied
// (and decoded) once, only if some subscription wants them.
func (c *Client) dispatch(topicB, body []byte) {
	p := c.snapshot.Load()
	if p == nil {
		return
	}
	var ev Event
	decoded := false
	topic := bytesString(topicB) // cloned below before it outlives this call
	for _, s := range *p {
		if !s.matches(topic) {
			continue
		}
		if s.raw != nil {
			s.raw(topicB, body)
			continue
		}
		if !decoded {
			ev = newEvent(string(topicB), append([]byte(nil), body...))
			decoded = true
		}
		s.push(ev)
	}
}

// Publish sends one event: payload (nil is {}, a json.RawMessage is sent as
// is, anything else is encoded with encoding/json) in a fresh envelope
// {"v": 1, "id", "topic", "type", "ts", "payload"}. It returns once the
// frame is written to the socket; delivery is fire-and-forget. It fails at
// once with ErrNotConnected while disconnected, and honours ctx while
// writing.
func (c *Client) Publish(ctx context.Context, topic string, payload any, eventType string) error {
	body, err := buildEnvelope(topic, payload, eventType)
	if err != nil {
		return err
	}
	return c.publish(ctx, topic, body)
}

// PublishRaw sends body verbatim as the event body: it must be empty or
// exactly one JSON object (normally an envelope built by the caller).
func (c *Client) PublishRaw(ctx context.Context, topic string, body []byte) error {
	if err := CheckTopic(topic); err != nil {
		return err
	}
	if err := checkRawBody(body); err != nil {
		return err
	}
	return c.publish(ctx, topic, body)
}

func (c *Client) publish(ctx context.Context, topic string, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = codec.AppendFrame(c.wbuf[:0], codec.VerbPUB, topic, body)
	err := c.writeLocked(ctx, c.wbuf, func() string { return "publish " + topic })
	if cap(c.wbuf) > readBufSize {
		c.wbuf = nil // do not keep a large event's buffer
	}
	return err
}

// writeLocked writes frames with one write, wmu held: ErrNotConnected at
// once while disconnected (ErrClosed once closed), and ctx honoured while
// writing. A failed write drops the connection, since a partial frame
// would corrupt the stream (the reader notices and reconnects); its error
// is named by what, called only then.
func (c *Client) writeLocked(ctx context.Context, frames []byte, what func() string) error {
	conn := c.conn
	if conn == nil {
		if c.isClosed() {
			return ErrClosed
		}
		return ErrNotConnected
	}
	if err := writeCtx(ctx, conn, frames); err != nil {
		conn.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("busd: %s: %w", what(), ctxErr)
		}
		return fmt.Errorf("busd: %s: %w", what(), err)
	}
	return nil
}

func (c *Client) isClosed() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// writeCtx writes b to conn, giving up when ctx ends.
func writeCtx(ctx context.Context, conn net.Conn, b []byte) error {
	if ctx.Done() == nil {
		_, err := conn.Write(b)
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
		defer conn.SetWriteDeadline(time.Time{})
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = conn.SetWriteDeadline(time.Unix(1, 0))
		close(fired)
	})
	_, err := conn.Write(b)
	if !stop() {
		<-fired
	}
	return err
}

// writeCtl writes a control frame (SUB, UNSUB, BYE) if connected. Errors
// drop the connection, which reconnecting repairs (and re-subscribes).
// Called with smu held.
func (c *Client) writeCtl(verb codec.Verb, args string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.conn == nil {
		return
	}
	c.wbuf = codec.AppendFrame(c.wbuf[:0], verb, args, nil)
	_ = c.conn.SetWriteDeadline(time.Now().Add(ctlTimeout))
	_, err := c.conn.Write(c.wbuf)
	_ = c.conn.SetWriteDeadline(time.Time{})
	if err != nil {
		c.log.Debug("busd control frame failed", "verb", verb.String(), "err", err)
		c.conn.Close()
	}
}

// Subscribe starts receiving events whose topic matches pattern (see
// Match). While the client is reconnecting the pattern is recorded and sent
// once the connection is back.
func (c *Client) Subscribe(pattern string) (*Subscription, error) {
	return c.SubscribeAny(pattern)
}

// SubscribeAny is Subscribe with several patterns: the subscription gets
// each matching event once, however many of its patterns match.
func (c *Client) SubscribeAny(patterns ...string) (*Subscription, error) {
	return c.subscribe(patterns, nil)
}

// subscribe registers a subscription to patterns: a queued one, or one
// whose events go to raw.
func (c *Client) subscribe(patterns []string, raw RawHandler) (*Subscription, error) {
	if len(patterns) == 0 {
		return nil, fmt.Errorf("%w: no pattern", ErrInvalidTopic)
	}
	for _, p := range patterns {
		if err := CheckPattern(p); err != nil {
			return nil, err
		}
	}
	var s *Subscription
	if raw != nil {
		s = newRawSubscription(dedupPatterns(patterns), raw, c.remove)
	} else {
		s = newSubscription(dedupPatterns(patterns), c.o.queueSize, c.remove)
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.lost:
		return nil, ErrConnectionLost
	}
	c.subs[s] = struct{}{}
	c.storeSnapshotLocked()
	for _, p := range s.patterns {
		c.patterns[p]++
		if c.patterns[p] == 1 {
			c.writeCtl(codec.VerbSUB, p)
		}
	}
	return s, nil
}

// remove takes s out of the registry, telling the daemon about patterns
// no longer used.
func (c *Client) remove(s *Subscription) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if _, ok := c.subs[s]; !ok {
		return
	}
	delete(c.subs, s)
	c.storeSnapshotLocked()
	for _, p := range s.patterns {
		c.patterns[p]--
		if c.patterns[p] <= 0 {
			delete(c.patterns, p)
			c.writeCtl(codec.VerbUNSUB, p)
		}
	}
}

func (c *Client) storeSnapshotLocked() {
	list := make([]*Subscription, 0, len(c.subs))
	for s := range c.subs {
		list = append(list, s)
	}
	c.snapshot.Store(&list)
}

// Close says BYE, waits briefly for the daemon to close the connection (so
// that everything published was read), and ends every subscription with
// ErrClosed. It is safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.smu.Lock()
		c.closed = true
		subs := c.takeSubsLocked()
		c.smu.Unlock()
		c.kill()

		c.wmu.Lock()
		conn := c.conn
		if conn != nil {
			_ = conn.SetWriteDeadline(time.Now().Add(ctlTimeout))
			_, _ = conn.Write(codec.AppendFrame(nil, codec.VerbBYE, "", nil))
			if uc, ok := conn.(*net.UnixConn); ok {
				_ = uc.CloseWrite()
			}
			// The reader returns on the daemon's close or at this deadline.
			_ = conn.SetReadDeadline(time.Now().Add(byeTimeout))
		}
		c.wmu.Unlock()
		<-c.done
		for _, s := range subs {
			s.end(ErrClosed)
		}
	})
	return nil
}

// frameReader decodes frames from a stream. The returned frame, and the
// buffer bytes it aliases, are valid until the next call.
type frameReader struct {
	r          io.Reader
	buf        []byte
	start, end int
	frame      codec.Frame
}

func (fr *frameReader) next() (*codec.Frame, error) {
	for {
		if fr.end > fr.start {
			n, need, err := fr.frame.Decode(fr.buf[fr.start:fr.end])
			if err != nil {
				return nil, fmt.Errorf("bad frame from the daemon: %w", err)
			}
			if n > 0 {
				fr.start += n
				return &fr.frame, nil
			}
			// Incomplete: move the partial frame to the front, make room.
			fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
			fr.start = 0
			if need > len(fr.buf) {
				nb := make([]byte, need)
				copy(nb, fr.buf[:fr.end])
				fr.buf = nb
			}
		} else {
			fr.start, fr.end = 0, 0
			if len(fr.buf) > readBufSize {
				fr.buf = make([]byte, readBufSize)
			}
		}
		m, err := fr.r.Read(fr.buf[fr.end:])
		fr.end += m
		if err != nil && m == 0 {
			if errors.Is(err, io.EOF) && fr.end > fr.start {
				return nil, errors.New("the daemon closed the connection in the middle of a frame")
			}
			return nil, err
		}
	}
}
