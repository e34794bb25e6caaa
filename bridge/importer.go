package bridge

import (
	"context"
	"errors"
	"sync"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go"

	"busd/client"
	"busd/codec"
)

// maxImportBatch bounds the bytes waiting for the next write to the bus:
// past it the NATS handlers wait for the writer, and what then piles up in
// nats.go is bounded by the subscriptions' pending limits, which drop and
// count (slow consumption) rather than grow.
const maxImportBatch = 4 << 20

// finalSendTimeout bounds the last write to the bus when the bridge
// stops: a daemon that no longer reads must not hold the shutdown.
const finalSendTimeout = 2 * time.Second

// importer moves NATS messages onto the bus. Each import route's NATS
// subscription calls handle on its own goroutine; they append to one
// batch, and one writer sends the batch to the daemon with one write, so a
// burst costs one system call, not one per message.
type importer struct {
	b       *Bridge
	mu      sync.Mutex
	room    *sync.Cond // signalled when the writer takes the batch
	filling *client.Batch
	closed  bool
	wake    chan struct{}
	// scratch holds each route's topic buffer: a route's handler runs on
	// one goroutine at a time (nats.go's per-subscription delivery).
	scratch [][]byte
}

func newImporter(b *Bridge) *importer {
	im := &importer{
		b:       b,
		filling: new(client.Batch),
		wake:    make(chan struct{}, 1),
		scratch: make([][]byte, len(b.rules.imports)),
	}
	im.room = sync.NewCond(&im.mu)
	return im
}

// handle is route i's NATS message handler.
func (im *importer) handle(i int, m *nats.Msg) {
	b := im.b
	switch b.guard.check(m.Header) {
	case ownOrigin:
		b.c.importDrops[dropImportLoop].Add(1)
		return
	case tooManyHops:
		b.c.importDrops[dropImportHops].Add(1)
		return
	}
	if !b.rules.importOwner(i, m.Subject) {
		return // an earlier route's subscription imports it
	}
	if len(m.Data) > codec.MaxBody {
		b.c.importDrops[dropImportTooLarge].Add(1)
		b.warn.Warn("import dropped: body over the bus's 1 MiB limit", "subject", m.Subject, "bytes", len(m.Data))
		return
	}
	rt := &b.rules.imports[i]
	topic, ok := rt.appendTopic(im.scratch[i][:0], stringBytes(m.Subject))
	im.scratch[i] = topic
	if !ok {
		b.c.importDrops[dropImportInvalidTopic].Add(1)
		b.warn.Warn("import dropped: subject maps to no valid bus topic", "subject", m.Subject)
		return
	}
	im.mu.Lock()
	for im.filling.Size() >= maxImportBatch && !im.closed {
		im.room.Wait()
	}
	err := im.filling.Add(topic, m.Data)
	im.mu.Unlock()
	if err != nil {
		if errors.Is(err, client.ErrTooLarge) {
			b.c.importDrops[dropImportTooLarge].Add(1)
		} else {
			b.c.importDrops[dropImportInvalidBody].Add(1)
		}
		b.warn.Warn("import dropped: the bus would refuse it", "subject", m.Subject, "err", err)
		return
	}
	select {
	case im.wake <- struct{}{}:
	default:
	}
}

// run is the writer: it sends each batch to the bus until ctx ends, then
// sends what is left once.
func (im *importer) run(ctx context.Context, bus *client.Client) {
	spare := new(client.Batch)
	for {
		select {
		case <-im.wake:
		case <-ctx.Done():
			im.mu.Lock()
			im.closed = true
			im.room.Broadcast()
			im.mu.Unlock()
			spare = im.swap(spare)
			last, cancel := context.WithTimeout(context.Background(), finalSendTimeout)
			im.send(last, bus, spare)
			cancel()
			return
		}
		spare = im.swap(spare)
		im.send(ctx, bus, spare)
	}
}

// swap takes the filling batch and leaves the emptied spare in its place.
func (im *importer) swap(spare *client.Batch) *client.Batch {
	spare.Reset()
	im.mu.Lock()
	full := im.filling
	im.filling = spare
	im.room.Broadcast()
	im.mu.Unlock()
	return full
}

func (im *importer) send(ctx context.Context, bus *client.Client, batch *client.Batch) {
	n := batch.Len()
	if n == 0 {
		return
	}
	if err := bus.PublishBatch(ctx, batch); err != nil {
		im.b.c.importDrops[dropImportBusUnavailable].Add(uint64(n))
		im.b.warn.Warn("import dropped: the bus is unavailable", "events", n, "err", err)
		return
	}
	im.b.c.imported.Add(uint64(n))
}

// stringBytes views s as bytes without copying, for reading only while s
// is in use.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// bytesString views b as a string without copying; valid while b is
// neither modified nor reused.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
