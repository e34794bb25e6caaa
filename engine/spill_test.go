package engine

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"busd/codec"
)

// bufConn behaves like gnet's connection toward a reader that reads only
// when told to: every write is accepted into the outbound buffer, which
// drains only in read.
type bufConn struct {
	fakeConn
	pending, delivered []byte
}

func (b *bufConn) Write(p []byte) (int, error) {
	b.pending = append(b.pending, p...)
	return len(p), nil
}
func (b *bufConn) OutboundBuffered() int { return len(b.pending) }
func (b *bufConn) read() {
	b.delivered = append(b.delivered, b.pending...)
	b.pending = b.pending[:0]
}

// seqBody is an envelope of about 1 KiB carrying sequence number i.
func seqBody(i int) []byte {
	return []byte(fmt.Sprintf(`{"seq": %d, "pad": "%01000d"}`, i, 0))
}

// deliveredSeqs parses EVT frames on t.x carrying seqBody envelopes and
// returns their sequence numbers in delivery order.
func deliveredSeqs(t *testing.T, buf []byte) []int {
	t.Helper()
	var seqs []int
	var f codec.Frame
	for len(buf) > 0 {
		n, _, err := f.Decode(buf)
		if err != nil || n == 0 {
			t.Fatalf("delivered bytes do not parse: n %d, err %v", n, err)
		}
		buf = buf[n:]
		if f.Verb != codec.VerbEVT || string(f.Args) != "t.x" {
			t.Fatalf("unexpected frame %s %s", f.Verb, f.Args)
		}
		var seq int
		if _, err := fmt.Sscanf(string(f.Body), `{"seq": %d,`, &seq); err != nil {
			t.Fatalf("body %q: %v", f.Body[:min(len(f.Body), 40)], err)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

// publishSeqs feeds events 0..total-1 (seqBody) on t.x through p, perBatch
// to a read batch, calling check (if not nil) after each batch with the
// number sent so far.
func publishSeqs(p *pipeline, total, perBatch int, check func(sent int)) {
	for i := 0; i < total; i += perBatch {
		var batch []byte
		for j := i; j < i+perBatch; j++ {
			batch = codec.AppendFrame(batch, codec.VerbPUB, "t.x", seqBody(j))
		}
		p.feed(batch)
		if check != nil {
			check(i + perBatch)
		}
	}
}

// catchUp lets sub's reader read, and the loop retry, until nothing is
// left queued or outbound.
func catchUp(p *pipeline, sub *peer, conn *bufConn) {
	for range 1000 {
		conn.read()
		p.loop.retryBacklog(time.Now().UnixNano())
		if sub.out.queued() == 0 && conn.OutboundBuffered() == 0 {
			break
		}
	}
	conn.read()
}

// A subscriber that falls behind by less than its queue holds loses
// nothing: the events queued before it started spilling, those spilled
// since, all arrive, in publish order.
func TestSpillLosesNothingWithinBounds(t *testing.T) {
	p := newPipeline(t, 1, "t.x")
	sub := p.subs[0]
	conn := &bufConn{}
	p.useConn(sub, conn)
	// About 300 KiB reach the outbound buffer before it passes the
	// high-water mark; the rest, well under RingEvents, waits.
	const total = 700
	publishSeqs(p, total, 20, nil)
	if !sub.out.spilling() {
		t.Fatal("the subscriber is not spilling: the test did not fill its socket")
	}
	catchUp(p, sub, conn)
	seqs := deliveredSeqs(t, conn.delivered)
	for i, seq := range seqs {
		if seq != i {
			t.Fatalf("delivery %d is event %d (of %d delivered, %d published)", i, seq, len(seqs), total)
		}
	}
	if len(seqs) != total || sub.out.drops() != 0 {
		t.Fatalf("%d of %d delivered, %d dropped", len(seqs), total, sub.out.drops())
	}
}

// A subscriber that stops reading gets its events spilled: bounded by the
// queue's bounds, oldest dropped first, and once it reads again it gets
// the rest in publish order, every missing event counted as a drop.
func TestSpillOrderBoundsAndDrops(t *testing.T) {
	p := newPipeline(t, 1, "t.x")
	sub := p.subs[0]
	conn := &bufConn{}
	p.useConn(sub, conn)
	cfg := p.srv.cfg
	const total = 6000
	publishSeqs(p, total, 50, func(sent int) {
		if q := sub.out.queued(); q > cfg.RingEvents {
			t.Fatalf("after %d events: %d queued over a bound of %d", sent, q, cfg.RingEvents)
		}
		if conn.OutboundBuffered() > cfg.HighWater+2*writeBatch { // a direct buffer may go out above the mark, twice a batch
			t.Fatalf("after %d events: %d bytes in the outbound buffer", sent, conn.OutboundBuffered())
		}
	})
	if !sub.out.spilling() {
		t.Fatal("a subscriber that stopped reading is not spilling")
	}
	if c := sub.out.spill.Cap(); c > cfg.RingBytes {
		t.Fatalf("spill buffer of %d bytes over the byte bound %d", c, cfg.RingBytes)
	}
	catchUp(p, sub, conn) // the reader comes back
	if sub.out.queued() != 0 {
		t.Fatalf("%d events still queued after the reader caught up", sub.out.queued())
	}
	if sub.out.spill.Cap() != 0 {
		t.Fatalf("an empty spill still holds %d bytes", sub.out.spill.Cap())
	}
	seqs := deliveredSeqs(t, conn.delivered)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("event %d delivered after %d", seqs[i], seqs[i-1])
		}
	}
	if len(seqs) == 0 || seqs[len(seqs)-1] != total-1 {
		t.Fatalf("the newest event was not delivered (got %d events)", len(seqs))
	}
	if got, want := sub.out.drops(), uint64(total-len(seqs)); got != want {
		t.Fatalf("drops %d, but %d of %d events are missing", got, want, total)
	}
	if sub.out.drops() == 0 {
		t.Fatal("nothing was dropped: the test did not overflow the queue")
	}
	// The newest RingEvents events survive: only the oldest were dropped.
	if tail := seqs[len(seqs)-cfg.RingEvents:]; tail[0] != total-cfg.RingEvents {
		t.Fatalf("the last %d delivered start at %d, want %d", cfg.RingEvents, tail[0], total-cfg.RingEvents)
	}
}

// Publishers on every loop feed a subscriber that reads in fits and
// starts, so it keeps entering and leaving its spill while other loops push
// into its shared queue. Each publisher's events must arrive in order, and
// every event must be either delivered or counted as dropped.
func TestSpillStress(t *testing.T) {
	const publishers, perPublisher = 4, 20000
	e := startServer(t, func(c *Config) { c.Loops = 2; c.RingEvents = 512 })
	sub := e.dial()
	sub.sub("s.*")
	var pubs []net.Conn
	for range publishers {
		pubs = append(pubs, e.dial().conn)
	}
	// The reader: bursts of reading with pauses long enough for the
	// socket and the outbound buffer to fill, until the barrier (below).
	const barrierTopic = "s.end"
	type got struct{ p, seq int }
	var received []got
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		giveUp := time.Now().Add(60 * time.Second)
		for {
			burst := time.Now().Add(2 * time.Millisecond)
			for time.Now().Before(burst) {
				ev, err := sub.next(100 * time.Millisecond)
				if err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() && time.Now().Before(giveUp) {
						continue
					}
					readErr <- fmt.Errorf("before the barrier: %w", err)
					return
				}
				if ev.topic == barrierTopic {
					return
				}
				var g got
				if _, err := fmt.Sscanf(ev.body, `{"p": %d, "seq": %d}`, &g.p, &g.seq); err != nil {
					readErr <- fmt.Errorf("body %q: %v", ev.body, err)
					return
				}
				received = append(received, g)
			}
			time.Sleep(15 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	writeErr := make(chan error, publishers)
	for p, c := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range perPublisher {
				buf = codec.AppendFrame(buf, codec.VerbPUB, "s."+strconv.Itoa(p), []byte(fmt.Sprintf(`{"p": %d, "seq": %d}`, p, i)))
				if len(buf) > 16<<10 || i == perPublisher-1 {
					c.SetWriteDeadline(time.Now().Add(30 * time.Second))
					if _, err := c.Write(buf); err != nil {
						writeErr <- err
						return
					}
					buf = buf[:0]
				}
			}
		}()
	}
	wg.Wait()
	close(writeErr)
	for err := range writeErr {
		t.Fatalf("publisher: %v", err)
	}
	e.sent.Add(publishers * perPublisher)
	e.sync()
	// Once nothing is queued, every event is in gnet's or the kernel's
	// buffer, in order: a barrier published now arrives after all of them.
	e.waitStats("the subscriber's queue to drain", func(st Stats) bool { return st.Queued == 0 })
	pubs[0].SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := pubs[0].Write(codec.AppendFrame(nil, codec.VerbPUB, barrierTopic, []byte(barrierBody))); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	if err := <-readErr; err != nil {
		t.Fatalf("subscriber: %v", err)
	}
	last := make([]int, publishers)
	for i := range last {
		last[i] = -1
	}
	for _, g := range received {
		if g.p < 0 || g.p >= publishers || g.seq <= last[g.p] {
			t.Fatalf("publisher %d's event %d arrived after its event %d", g.p, g.seq, last[g.p])
		}
		last[g.p] = g.seq
	}
	dropped := e.srv.Stats().Dropped
	t.Logf("%d delivered, %d dropped", len(received), dropped)
	if uint64(len(received))+dropped != publishers*perPublisher {
		t.Fatalf("%d delivered + %d dropped != %d published", len(received), dropped, publishers*perPublisher)
	}
	if dropped == 0 {
		t.Fatal("nothing dropped: the reader never fell behind, and the spill was not exercised")
	}
}
