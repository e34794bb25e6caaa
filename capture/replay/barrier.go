package replay

import (
	"context"
	"strconv"
	"time"

	"busd/codec"
)

// A barrier makes sure the daemon applied the subscriptions a
// connection just sent before the schedule sends the events that depend
// on them. The protocol has no acknowledgement, but a connection's frames
// are handled in order: the connection subscribes to a topic of its own,
// _replay.sync.<conn>.<n>, after its SUB or UNSUB; a separate connection
// publishes on that topic until the reader sees it arrive; by then the
// frames before it were applied. Without it a fast replay would race its
// own subscriptions and report deliveries as missing that the capture
// never owed to anyone.
//
// Replayed subscribers whose patterns match these topics (">") receive
// them as well; no counter counts them (see counted).
var syncPrefix = []byte("_replay.sync.")

// Barrier timing: the first publish is retried after barrierFirstWait,
// doubling up to barrierMaxWait, for at most barrierTimeout (a subscriber
// reading at a slow recorded pace may take long to reach the event).
const (
	barrierFirstWait = 200 * time.Microsecond
	barrierMaxWait   = 20 * time.Millisecond
	barrierTimeout   = 2 * time.Second
)

// appendSyncPrefix appends _replay.sync.<conn>.
func appendSyncPrefix(dst []byte, conn uint64) []byte {
	dst = append(dst, syncPrefix...)
	dst = strconv.AppendUint(dst, conn, 10)
	return append(dst, '.')
}

func appendSyncTopic(dst []byte, conn, n uint64) []byte {
	return strconv.AppendUint(appendSyncPrefix(dst, conn), n, 10)
}

// barrier waits until the daemon applied what every pending connection
// sent. It returns false if ctx ended first.
func (p *pass) barrier(ctx context.Context) bool {
	if len(p.pending) == 0 {
		return true
	}
	var topic []byte
	for _, c := range p.pending {
		c.syncSeq++
		topic = appendSyncTopic(topic[:0], c.plan.id, c.syncSeq)
		p.send(c, appendControl(c.buf, codec.VerbSUB, topic))
	}
	if err := p.flushAll(); err != nil {
		p.err = err
		return false
	}
	remaining := append([]*conn(nil), p.pending...)
	deadline := time.Now().Add(barrierTimeout)
	wait := barrierFirstWait
	for len(remaining) > 0 && time.Now().Before(deadline) {
		for _, c := range remaining {
			topic = appendSyncTopic(topic[:0], c.plan.id, c.syncSeq)
			p.sync.buf = appendPub(p.sync.buf, topic, nil, 0, false)
		}
		if err := p.sync.flush(); err != nil {
			p.err = err
			return false
		}
		if !sleepCtx(ctx, wait) {
			return false
		}
		wait = min(2*wait, barrierMaxWait)
		kept := remaining[:0]
		for _, c := range remaining {
			if c.rd.syncSeen.Load() < c.syncSeq {
				kept = append(kept, c)
			}
		}
		remaining = kept
	}
	if len(remaining) > 0 {
		p.run.barrierTimeouts++
	}
	// The barrier topic has served: drop it with the connection's next
	// frames.
	for _, c := range p.pending {
		topic = appendSyncTopic(topic[:0], c.plan.id, c.syncSeq)
		p.send(c, appendControl(c.buf, codec.VerbUNSUB, topic))
	}
	p.pending = p.pending[:0]
	return true
}

// sleepCtx sleeps for d; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
