package bridge

import "sync"

// outbox is the export side's buffer between the bus reader (one
// producer: the client's reader goroutine) and the NATS sender (one
// consumer). It is bounded in events and in bytes and drops the oldest
// entry to make room, so a NATS outage costs the oldest events, never
// memory without bound and never a wait on the bus side. Entries carry
// their enqueue time; the sender drops those older than the age bound
// rather than deliver them late.
//
// Invariants, under mu: pending.ents[pending.head:] are the queued
// entries, oldest first; pending.bytes is the sum of their sizes and stays
// within maxBytes, their count within maxEvents; the arena holds at most
// as many dead bytes (dropped entries not yet compacted away) as live
// ones, so it stays within twice maxBytes.
type outbox struct {
	mu        sync.Mutex
	pending   outBatch
	maxEvents int
	maxBytes  int
	// wake has room for one signal: the sender is told that there is work
	// (or that NATS is back) without the producer ever waiting.
	wake chan struct{}
}

// outEntry is one queued event: its subject and body, back to back in the
// batch's arena from off.
type outEntry struct {
	off, subjLen, bodyLen int
	at                    int64 // when it was queued, from the bridge's clock
}

func (e outEntry) size() int { return e.subjLen + e.bodyLen }

// outBatch is a run of entries and the arena holding their bytes. The
// sender takes a whole batch at once (take swaps it for its emptied one),
// so the two sides share no memory while the sender works.
type outBatch struct {
	arena []byte
	ents  []outEntry
	head  int
	bytes int
}

func (b *outBatch) live() int { return len(b.ents) - b.head }

func (b *outBatch) subject(e outEntry) []byte { return b.arena[e.off : e.off+e.subjLen] }

func (b *outBatch) body(e outEntry) []byte {
	return b.arena[e.off+e.subjLen : e.off+e.subjLen+e.bodyLen]
}

func (b *outBatch) reset() {
	b.arena, b.ents, b.head, b.bytes = b.arena[:0], b.ents[:0], 0, 0
}

func (b *outBatch) add(subject, body []byte, at int64) {
	b.ents = append(b.ents, outEntry{off: len(b.arena), subjLen: len(subject), bodyLen: len(body), at: at})
	b.arena = append(b.arena, subject...)
	b.arena = append(b.arena, body...)
	b.bytes += len(subject) + len(body)
}

// dropOldest removes the oldest entry.
func (b *outBatch) dropOldest() {
	b.bytes -= b.ents[b.head].size()
	b.head++
	if b.head == len(b.ents) {
		b.reset()
	}
}

// compact moves the live entries to the front once the dead ones
// outnumber them, which keeps the arena within twice the live bytes at a
// cost amortized over the drops that made them dead.
func (b *outBatch) compact() {
	if b.head == 0 || b.head < b.live() {
		return
	}
	from := b.ents[b.head].off
	n := copy(b.arena, b.arena[from:])
	b.arena = b.arena[:n]
	k := copy(b.ents, b.ents[b.head:])
	b.ents = b.ents[:k]
	for i := range b.ents {
		b.ents[i].off -= from
	}
	b.head = 0
}

func newOutbox(maxEvents, maxBytes int) *outbox {
	return &outbox{maxEvents: maxEvents, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// push queues one event, dropping the oldest ones to make room; it returns
// how many it dropped. An event larger than the whole byte bound is not
// queued (tooLarge).
func (o *outbox) push(subject, body []byte, at int64) (dropped int, tooLarge bool) {
	size := len(subject) + len(body)
	if size > o.maxBytes {
		return 0, true
	}
	o.mu.Lock()
	p := &o.pending
	for p.live() >= o.maxEvents || p.bytes+size > o.maxBytes {
		p.dropOldest()
		dropped++
	}
	if dropped > 0 {
		p.compact()
	}
	p.add(subject, body, at)
	o.mu.Unlock()
	o.signal()
	return dropped, false
}

// signal wakes the sender without waiting.
func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// take hands every queued entry to the sender: dst (emptied) becomes the
// outbox's new pending batch and the old pending batch becomes dst.
func (o *outbox) take(dst *outBatch) {
	dst.reset()
	o.mu.Lock()
	o.pending, *dst = *dst, o.pending
	o.mu.Unlock()
}

// requeue puts the entries of b from index from back in front of what was
// queued since (the sender could not send them), then drops the oldest to
// fit the bounds again; it returns how many it dropped. It runs when NATS
// goes away mid-batch, so it may allocate.
func (o *outbox) requeue(b *outBatch, from int) (dropped int) {
	var merged outBatch
	for _, e := range b.ents[from:] {
		merged.add(b.subject(e), b.body(e), e.at)
	}
	o.mu.Lock()
	p := &o.pending
	for _, e := range p.ents[p.head:] {
		merged.add(p.subject(e), p.body(e), e.at)
	}
	for merged.live() > o.maxEvents || merged.bytes > o.maxBytes {
		merged.dropOldest()
		dropped++
	}
	merged.compact()
	o.pending = merged
	o.mu.Unlock()
	return dropped
}

// len is what is queued, in events and bytes.
func (o *outbox) len() (events, bytes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pending.live(), o.pending.bytes
}
