package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"busd/client"
	"busd/codec"
	"busd/internal/ratelog"
)

// Bridge carries events between one bus and NATS (see the package doc).
type Bridge struct {
	cfg   Config
	rules rules
	guard loopGuard
	log   *slog.Logger
	warn  ratelog.Log // per-event warnings a peer can trigger at will
	start time.Time   // the clock of outbox entries
	c     counters
	out   *outbox
	in    *importer

	bus      atomic.Pointer[client.Client]
	nc       atomic.Pointer[nats.Conn]
	natsSubs []*nats.Subscription // import subscriptions, set before Run's ready

	// stopping is set once Run is asked to stop: disconnections are then
	// expected.
	stopping atomic.Bool
	// failMu guards when a failed connection attempt was last logged at
	// warning level (zero: not since the connection was last up).
	failMu        sync.Mutex
	lastFailureAt time.Time

	// exportScratch is the subject buffer of exportEvent, which runs only
	// on the bus client's reader goroutine.
	exportScratch []byte
}

// New checks cfg and compiles its rules; nothing is connected yet.
func New(cfg Config) (*Bridge, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	rs, err := compileRules(cfg.Rules, cfg.HostID)
	if err != nil {
		return nil, err
	}
	b := &Bridge{
		cfg:   cfg,
		rules: rs,
		guard: loopGuard{host: cfg.HostID, maxHops: cfg.MaxHops},
		log:   cfg.Logger,
		start: time.Now(),
		out:   newOutbox(cfg.BufferEvents, cfg.BufferBytes),
	}
	b.warn.Logger = cfg.Logger
	b.in = newImporter(b)
	return b, nil
}

// Describe prints the effective rules, one per line.
func (b *Bridge) Describe(w interface{ Write([]byte) (int, error) }) { b.rules.describe(w) }

// Run connects to the bus and to NATS and bridges until ctx ends. It
// returns nil then, or an error if the bridge could not start (a
// configuration that only connecting reveals, such as unreadable
// certificates). ready, if not nil, is called once both sides are set up:
// the bus connected, NATS connected or being retried.
//
// The bus must be reachable once for Run to start (it waits for it,
// retrying with backoff); after that the client rides out daemon
// restarts, and NATS may come and go at any time.
func (b *Bridge) Run(ctx context.Context, ready func()) error {
	bus, err := b.dialBus(ctx)
	if err != nil {
		return err
	}
	defer bus.Close()
	b.bus.Store(bus)

	opts, err := b.natsOptions()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(b.cfg.serverList(), opts...)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	b.nc.Store(nc)
	if !nc.IsConnected() {
		b.log.Warn("nats unreachable; retrying", "servers", b.cfg.Servers())
	}

	for i := range b.rules.imports {
		sub, err := nc.Subscribe(b.rules.imports[i].remote, func(m *nats.Msg) { b.in.handle(i, m) })
		if err != nil {
			return fmt.Errorf("nats subscribe %s: %w", b.rules.imports[i].remote, err)
		}
		if err := sub.SetPendingLimits(b.cfg.ImportPendingMsgs, b.cfg.ImportPendingBytes); err != nil {
			return fmt.Errorf("nats subscribe %s: %w", b.rules.imports[i].remote, err)
		}
		b.natsSubs = append(b.natsSubs, sub)
	}

	// Events exported before the sender starts wait in the outbox; nothing
	// below can fail, so no goroutine outlives an early return.
	var exports *client.Subscription
	if pats := b.rules.localPatterns(); len(pats) > 0 {
		if exports, err = bus.SubscribeRaw(b.exportEvent, pats...); err != nil {
			return fmt.Errorf("bus subscribe: %w", err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.in.run(ctx, bus) }()
	go func() { defer wg.Done(); b.sendLoop(ctx, nc) }()
	b.log.Info("bridge running", "host_id", b.cfg.HostID, "exports", len(b.rules.exports), "imports", len(b.rules.imports))
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	b.stopping.Store(true)

	// Stop taking new events, send what is queued while NATS is there,
	// then close both sides.
	if exports != nil {
		exports.Unsubscribe()
	}
	for _, s := range b.natsSubs {
		_ = s.Unsubscribe()
	}
	wg.Wait()
	if nc.IsConnected() {
		_ = nc.FlushTimeout(2 * time.Second)
	}
	b.log.Info("bridge stopped")
	return nil
}

// dialBus connects to the daemon, retrying with backoff until ctx ends: a
// bridge started before its daemon waits for it.
func (b *Bridge) dialBus(ctx context.Context) (*client.Client, error) {
	delay := b.cfg.ReconnectMin
	for attempt := 1; ; attempt++ {
		bus, err := client.Dial(ctx, b.cfg.Socket,
			client.WithName(codec.BridgeName+" "+b.cfg.HostID),
			client.WithReconnect(b.cfg.ReconnectMin, b.cfg.ReconnectMax),
			client.WithLogger(b.log))
		if err == nil {
			return bus, nil
		}
		if attempt == 1 {
			b.log.Warn("bus unreachable; retrying", "err", err)
		}
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, b.cfg.ReconnectMax)
	}
}

// now is the outbox's clock: nanoseconds since the bridge was made.
func (b *Bridge) now() int64 { return int64(time.Since(b.start)) }

// exportEvent is the raw handler of the export subscription, on the bus
// client's reader goroutine: map, check, queue; never wait.
func (b *Bridge) exportEvent(topic, body []byte) {
	rt := b.rules.exportFor(bytesString(topic))
	if rt == nil {
		return
	}
	subj, ok := rt.appendSubject(b.exportScratch[:0], topic)
	b.exportScratch = subj
	if !ok {
		b.c.exportDrops[dropExportInvalidSubject].Add(1)
		b.warn.Warn("export dropped: topic is not a valid NATS subject", "topic", string(topic))
		return
	}
	dropped, tooLarge := b.out.push(subj, body, b.now())
	if tooLarge {
		b.c.exportDrops[dropExportTooLarge].Add(1)
		return
	}
	if dropped > 0 {
		b.c.exportDrops[dropExportFull].Add(uint64(dropped))
	}
}

// sendLoop drains the outbox into NATS whenever there is work and NATS is
// connected; it runs until ctx ends, then sends what is left if it can.
func (b *Bridge) sendLoop(ctx context.Context, nc *nats.Conn) {
	var batch outBatch
	msg := nats.Msg{Header: exportHeader(b.cfg.HostID)}
	maxAge := int64(b.cfg.BufferAge)
	for {
		select {
		case <-b.out.wake:
		case <-ctx.Done():
			if nc.IsConnected() {
				b.sendAll(nc, &batch, &msg, maxAge)
			}
			return
		}
		if nc.IsConnected() {
			b.sendAll(nc, &batch, &msg, maxAge)
		}
	}
}

// sendAll sends every queued entry, until the outbox is empty or NATS
// fails; unsent entries go back to the outbox.
func (b *Bridge) sendAll(nc *nats.Conn, batch *outBatch, msg *nats.Msg, maxAge int64) {
	for {
		b.out.take(batch)
		if batch.live() == 0 {
			return
		}
		now := b.now()
		for i := batch.head; i < len(batch.ents); i++ {
			e := batch.ents[i]
			if now-e.at > maxAge {
				b.c.exportDrops[dropExportTooOld].Add(1)
				continue
			}
			// nats.go copies the subject and data into its write buffer
			// before PublishMsg returns, so views of the batch suffice.
			msg.Subject = bytesString(batch.subject(e))
			msg.Data = batch.body(e)
			err := nc.PublishMsg(msg)
			switch {
			case err == nil:
				b.c.exported.Add(1)
			case errors.Is(err, nats.ErrMaxPayload):
				b.c.exportDrops[dropExportTooLarge].Add(1)
			default:
				if d := b.out.requeue(batch, i); d > 0 {
					b.c.exportDrops[dropExportFull].Add(uint64(d))
				}
				return
			}
		}
	}
}

// Stats is a snapshot of the bridge's state and counters.
func (b *Bridge) Stats() Stats {
	st := Stats{
		HostID:        b.cfg.HostID,
		NATS:          "connecting",
		Bus:           "connecting",
		Reconnects:    b.c.reconnects.Load(),
		Exported:      b.c.exported.Load(),
		Imported:      b.c.imported.Load(),
		ExportDropped: b.c.exportDropsSnapshot(),
		ImportDropped: b.c.importDropsSnapshot(),
	}
	st.BufferedEvents, st.BufferedBytes = b.out.len()
	if nc := b.nc.Load(); nc != nil {
		st.NATS = natsState(nc.Status())
		if nc.IsConnected() {
			st.NATSServer = nc.ConnectedUrlRedacted()
		}
		for _, s := range b.natsSubs {
			if d, err := s.Dropped(); err == nil {
				st.ImportDropped.SlowConsumer += uint64(d)
			}
		}
	}
	if bus := b.bus.Load(); bus != nil {
		st.Bus = "reconnecting"
		if bus.Connected() {
			st.Bus = "connected"
		}
	}
	return st
}

func natsState(s nats.Status) string {
	switch s {
	case nats.CONNECTED:
		return "connected"
	case nats.RECONNECTING, nats.DISCONNECTED:
		return "reconnecting"
	case nats.CONNECTING:
		return "connecting"
	case nats.CLOSED:
		return "closed"
	}
	return "draining"
}

// Config is the bridge's configuration, defaults filled in.
func (b *Bridge) Config() Config { return b.cfg }

// CheckFiles reads what the connection would read (CA, certificate and
// key, credentials, nkey seed), so that a bad path or file is reported at
// start (and by --check) rather than as endless failed reconnections.
func (b *Bridge) CheckFiles() error {
	opts, err := b.natsOptions()
	if err != nil {
		return err
	}
	o := nats.GetDefaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return errorf("%v", err)
		}
	}
	if o.UserJWT != nil {
		if _, err := o.UserJWT(); err != nil {
			return errorf("credentials %s: %v", b.cfg.CredsFile, err)
		}
	}
	return nil
}
