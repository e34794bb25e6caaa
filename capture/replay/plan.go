package replay

import (
	"errors"
	"io"
	"slices"
	"strconv"
	"time"

	"busd/capture"
)

// plan is what the pre-pass learns from the whole file before anything is
// sent: how long the replay is, how much it sends, what each connection
// is owed, and how fast each subscriber read.
type plan struct {
	header capture.Header
	shape  bool
	t0     int64         // capture Time of the file's start
	span   time.Duration // the capture time replayed (the Window, or the file's length)
	length time.Duration // the file's whole length
	pubs   uint64        // recorded PUBs replayed in one pass (before Scale)
	conns  map[uint64]*connPlan
	// truncated: the file was cut short; the replay covers its complete
	// chunks.
	truncated bool
}

// connPlan is one recorded connection.
type connPlan struct {
	id         uint64
	name       string // recorded HELLO name, or replay-<id>
	named      bool   // a HELLO record names it: the schedule sends that one
	initial    bool   // open when the file starts
	publishes  bool   // sends at least one replayed PUB: Scale copies it
	subscribes bool   // has a pattern at some point: it gets a reader
	pace       capture.Pace
	expected   uint64 // deliveries owed to it in one pass
}

// readPlan runs the pre-pass. A file cut short is planned up to its last
// complete chunk; any other read error is the file's fault and ends it.
func readPlan(open func() (*capture.Reader, error), opts *Options) (*plan, error) {
	rd, err := open()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	h := rd.Header()
	p := &plan{header: h, shape: h.Payload == capture.PayloadShape, t0: h.Offset, conns: map[uint64]*connPlan{}}
	aud := newAudience()
	for _, c := range h.Conns {
		cp := p.conn(c.Conn)
		cp.initial = true
		if c.Name != "" {
			cp.name = c.Name
		}
		for _, pat := range c.Patterns {
			aud.sub(c.Conn, pat)
			cp.subscribes = true
		}
	}
	limit := int64(-1)
	if opts.Window > 0 {
		limit = p.t0 + int64(opts.Window)
	}
	last := p.t0
	var rec capture.Record
	for {
		err := rd.Next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, capture.ErrTruncated) {
			p.truncated = true
			break
		}
		if err != nil {
			return nil, err
		}
		last = max(last, rec.Time)
		if rec.Kind == capture.KindGap {
			continue
		}
		cp := p.conn(rec.Conn)
		cp.pace.Observe(&rec) // the whole file: more stalls, a better estimate
		if limit >= 0 && rec.Time > limit {
			continue
		}
		switch rec.Kind {
		case capture.KindHello:
			if !cp.named {
				cp.name, cp.named = string(rec.Text), true
			}
		case capture.KindSub:
			aud.sub(rec.Conn, string(rec.Text))
			cp.subscribes = true
		case capture.KindUnsub:
			aud.unsub(rec.Conn, string(rec.Text))
		case capture.KindClose:
			aud.close(rec.Conn)
		case capture.KindPub:
			if !opts.wantsTopic(rec.Text) {
				continue
			}
			p.pubs++
			cp.publishes = true
			if !counted(rec.Text) {
				continue
			}
			for _, to := range aud.match(rec.Text) {
				p.conn(to).expected += copiesReaching(to, rec.Conn, opts.Scale)
			}
		}
	}
	end := last
	if f, ok := rd.Footer(); ok && f.End > end {
		end = f.End
	}
	p.length = time.Duration(end - p.t0)
	p.span = p.length
	if opts.Window > 0 && opts.Window < p.span {
		p.span = opts.Window
	}
	return p, nil
}

// conn is the connection's plan, created on first sight (a connection
// seen without an OPEN record is opened when first seen).
func (p *plan) conn(id uint64) *connPlan {
	cp := p.conns[id]
	if cp == nil {
		cp = &connPlan{id: id, name: "replay-" + strconv.FormatUint(id, 10)}
		p.conns[id] = cp
	}
	return cp
}

// ids is the connections in id order, for stable reports.
func (p *plan) ids() []uint64 {
	ids := make([]uint64, 0, len(p.conns))
	for id := range p.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
