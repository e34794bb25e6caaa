package replay

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"busd/capture"
	"busd/codec"
)

// pass is one replay of the file: its connections, opened and closed as
// the capture's were, and its schedule. One goroutine runs it; mu guards
// only the list of connections, which the context's cancellation and the
// progress line read from other goroutines.
type pass struct {
	run     *runner
	aud     *audience
	live    map[uint64][]*conn // open recorded connections: the recorded one, then its copies
	dirty   []*conn            // connections with unwritten frames, in the order they got them
	pending []*conn            // subscribers waiting for a barrier
	sync    *conn              // publishes the barrier events
	base    time.Time          // wall time of capture time t0
	end     time.Time          // when the schedule's last frame was written
	// completed: the pass reached the end of its capture time, not an
	// interruption.
	completed bool
	err       error // the first write error

	mu  sync.Mutex
	all []*conn
}

func newPass(r *runner) *pass {
	return &pass{run: r, aud: newAudience(), live: map[uint64][]*conn{}}
}

// replay runs the pass. Its schedule starts at base, or once the
// connections open at the file's start are set up if that is later. It
// returns early, without error, when ctx ends.
func (p *pass) replay(ctx context.Context, base time.Time) error {
	defer p.closeAll()
	stop := context.AfterFunc(ctx, p.unblock)
	defer stop()
	r := p.run
	rd, err := r.open()
	if err != nil {
		return err
	}
	defer rd.Close()

	nc, err := dialConn(r.opts.Socket)
	if err != nil {
		return err
	}
	p.sync = &conn{plan: &connPlan{name: "replay-barrier"}, nc: nc}
	p.track(p.sync)
	p.send(p.sync, appendControl(nil, codec.VerbHELLO, []byte(p.sync.plan.name)))
	for _, hc := range rd.Header().Conns {
		name := hc.Name
		if name == "" {
			name = "replay-" + strconv.FormatUint(hc.Conn, 10)
		}
		if err := p.open(hc.Conn, name, hc.Patterns); err != nil {
			return err
		}
	}
	if !p.barrier(ctx) {
		return p.err
	}
	p.base = base
	if now := time.Now(); now.After(base) {
		p.base = now
	}
	r.passStart.Store(p.base.UnixNano())

	done := ctx.Done()
	limit := r.plan.t0 + int64(r.plan.span)
	var rec capture.Record
	for {
		err := rd.Next(&rec)
		if errors.Is(err, io.EOF) || errors.Is(err, capture.ErrTruncated) {
			break
		}
		if err != nil {
			return err
		}
		if rec.Time > limit {
			break
		}
		now := time.Now()
		var due time.Time
		if !r.max {
			due = p.base.Add(time.Duration(float64(rec.Time-r.plan.t0) / r.opts.Speed))
			if now.Before(due) {
				if err := p.flushAll(); err != nil {
					return err
				}
				if !sleepCtx(ctx, due.Sub(now)) {
					break
				}
				now = time.Now()
			}
		}
		r.position.Store(rec.Time - r.plan.t0)
		if err := p.apply(ctx, &rec, now, due); err != nil {
			return err
		}
		select {
		case <-done:
			p.end = time.Now()
			return nil
		default:
		}
	}
	if err := p.flushAll(); err != nil {
		return err
	}
	p.end, p.completed = time.Now(), true
	p.settle()
	return p.err
}

// apply sends what one record says. now is when it is sent, due when the
// schedule wanted it.
func (p *pass) apply(ctx context.Context, rec *capture.Record, now, due time.Time) error {
	r := p.run
	switch rec.Kind {
	case capture.KindOpen:
		if p.live[rec.Conn] == nil {
			return p.openLate(rec.Conn)
		}
	case capture.KindHello:
		c, err := p.recorded(rec.Conn)
		if err != nil {
			return err
		}
		p.send(c, appendControl(c.buf, codec.VerbHELLO, rec.Text))
	case capture.KindSub:
		c, err := p.recorded(rec.Conn)
		if err != nil {
			return err
		}
		p.aud.sub(rec.Conn, string(rec.Text))
		p.send(c, appendControl(c.buf, codec.VerbSUB, rec.Text))
		p.wantBarrier(c)
	case capture.KindUnsub:
		c, err := p.recorded(rec.Conn)
		if err != nil {
			return err
		}
		// What the pattern still owed must arrive before it goes, and
		// the daemon must have dropped it before the next event.
		if !p.waitOwed(ctx, c) {
			return p.err
		}
		p.aud.unsub(rec.Conn, string(rec.Text))
		p.send(c, appendControl(c.buf, codec.VerbUNSUB, rec.Text))
		p.wantBarrier(c)
	case capture.KindPub:
		if !r.opts.wantsTopic(rec.Text) {
			return nil
		}
		if len(p.pending) > 0 && !p.barrier(ctx) {
			return p.err
		}
		cs, err := p.copies(rec.Conn)
		if err != nil {
			return err
		}
		if counted(rec.Text) {
			for _, to := range p.aud.match(rec.Text) {
				if t := p.live[to]; t != nil {
					t[0].expected += copiesReaching(to, rec.Conn, r.opts.Scale)
				}
			}
		}
		for _, c := range cs {
			p.send(c, appendPub(c.buf, rec.Text, rec.Body, rec.Size, r.plan.shape))
		}
		r.sent.Add(uint64(len(cs)))
		if !r.max {
			r.recordLag(now.Sub(due))
		}
	case capture.KindBye:
		cs := p.live[rec.Conn]
		if cs == nil {
			return nil
		}
		if !p.waitOwed(ctx, cs[0]) {
			return p.err
		}
		for _, c := range cs {
			p.send(c, appendControl(c.buf, codec.VerbBYE, nil))
		}
	case capture.KindClose:
		cs := p.live[rec.Conn]
		if cs == nil {
			return nil
		}
		if !p.waitOwed(ctx, cs[0]) {
			return p.err
		}
		if err := p.flushAll(); err != nil {
			return err
		}
		for _, c := range cs {
			c.close()
		}
		delete(p.live, rec.Conn)
		p.aud.close(rec.Conn)
	}
	return p.err
}

// recorded is the recorded connection id, opened now if the file did not
// show its opening.
func (p *pass) recorded(id uint64) (*conn, error) {
	cs, err := p.copies(id)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func (p *pass) copies(id uint64) ([]*conn, error) {
	if cs := p.live[id]; cs != nil {
		return cs, nil
	}
	if err := p.openLate(id); err != nil {
		return nil, err
	}
	return p.live[id], nil
}

// openLate opens a connection the capture saw open after its start. It
// is named by its HELLO record when it has one (sent when it comes).
func (p *pass) openLate(id uint64) error {
	cp := p.run.plan.conn(id)
	name := ""
	if !cp.named {
		name = cp.name
	}
	return p.open(id, name, nil)
}

// open dials a recorded connection and its copies, names them (unless
// name is empty: the recorded HELLO follows) and subscribes the recorded
// one to patterns.
func (p *pass) open(id uint64, name string, patterns []string) error {
	r := p.run
	cp := r.plan.conn(id)
	n := 1
	if cp.publishes {
		n = r.opts.Scale
	}
	cs := make([]*conn, n)
	for i := range cs {
		nc, err := dialConn(r.opts.Socket)
		if err != nil {
			return err
		}
		c := &conn{plan: cp, copy: i, nc: nc}
		if i == 0 && cp.subscribes {
			c.rd = newReader(id)
			go c.rd.run(nc, cp.pace.BytesPerSecond())
		}
		p.track(c)
		cs[i] = c
		if i > 0 || name != "" {
			hello := name
			if i > 0 {
				hello = c.name()
			}
			p.send(c, appendControl(c.buf, codec.VerbHELLO, []byte(hello)))
		}
	}
	p.live[id] = cs
	for _, pat := range patterns {
		p.aud.sub(id, pat)
		p.send(cs[0], appendControl(cs[0].buf, codec.VerbSUB, []byte(pat)))
	}
	if len(patterns) > 0 {
		p.wantBarrier(cs[0])
	}
	return nil
}

// wantBarrier queues a subscriber for the next barrier (a connection
// with no reader has no pattern that could matter).
func (p *pass) wantBarrier(c *conn) {
	if c.rd == nil {
		return
	}
	for _, q := range p.pending {
		if q == c {
			return
		}
	}
	p.pending = append(p.pending, c)
}

// send replaces c's buffer by buf (c.buf with frames appended) and writes
// it out if it has grown large.
func (p *pass) send(c *conn, buf []byte) {
	c.buf = buf
	if !c.dirty {
		c.dirty = true
		p.dirty = append(p.dirty, c)
	}
	if len(c.buf) >= flushAt {
		if err := c.flush(); err != nil && p.err == nil {
			p.err = err
		}
	}
}

// flushAll writes every buffered frame, connection by connection in the
// order they got their first unwritten frame.
func (p *pass) flushAll() error {
	for _, c := range p.dirty {
		c.dirty = false
		if err := c.flush(); err != nil && p.err == nil {
			p.err = err
		}
	}
	p.dirty = p.dirty[:0]
	return p.err
}

func (p *pass) track(c *conn) {
	p.mu.Lock()
	p.all = append(p.all, c)
	p.mu.Unlock()
}

// unblock ends writes stuck on a daemon that stopped reading, once the
// replay is cancelled. Reads go on: the report still counts what arrives.
func (p *pass) unblock() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.all {
		c.nc.SetWriteDeadline(time.Unix(1, 0))
	}
}

// close closes a connection; its reader ends once what it has taken is
// counted.
func (c *conn) close() {
	if c.closed {
		return
	}
	c.closed = true
	c.nc.Close()
	if c.rd != nil {
		close(c.rd.stop)
	}
}

// closeAll closes every connection and waits for the readers.
func (p *pass) closeAll() {
	p.mu.Lock()
	all := p.all
	p.mu.Unlock()
	for _, c := range all {
		c.close()
	}
	for _, c := range all {
		if c.rd != nil {
			<-c.rd.done
		}
	}
}

// owedPoll is how often a wait for deliveries looks at the counters.
const owedPoll = time.Millisecond

// waitOwed waits until c received (or was told it lost) every delivery
// owed to it so far, or until nothing arrived for the settle period. False
// if ctx ended or a write failed.
func (p *pass) waitOwed(ctx context.Context, c *conn) bool {
	if c.rd == nil {
		return true
	}
	if p.flushAll() != nil {
		return false
	}
	start := time.Now()
	for c.rd.delivered.Load()+c.rd.drops.Load() < c.expected {
		last := time.Unix(0, c.rd.lastArrival.Load())
		if last.Before(start) {
			last = start
		}
		if time.Since(last) > p.run.opts.Settle {
			return true
		}
		if !sleepCtx(ctx, owedPoll) {
			return false
		}
	}
	return true
}

// settleCap bounds the final wait in settle periods: a subscriber reading
// at a slow recorded pace may have a long backlog.
const settleCap = 20

// settle waits, at the end of the schedule, until every subscriber has
// what it was owed or nothing has arrived for the settle period.
func (p *pass) settle() {
	start := time.Now()
	deadline := start.Add(settleCap * p.run.opts.Settle)
	for time.Now().Before(deadline) {
		owed := false
		last := start
		for _, cs := range p.live {
			c := cs[0]
			if c.rd == nil {
				continue
			}
			if c.rd.delivered.Load()+c.rd.drops.Load() < c.expected {
				owed = true
			}
			if t := time.Unix(0, c.rd.lastArrival.Load()); t.After(last) {
				last = t
			}
		}
		if !owed || time.Since(last) > p.run.opts.Settle {
			return
		}
		time.Sleep(owedPoll)
	}
}
