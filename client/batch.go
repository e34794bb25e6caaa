package client

import (
	"context"
	"fmt"

	"busd/codec"
)

// Batch is a sequence of events that PublishBatch sends with one write: a
// publisher that has many events at hand (a relay draining its queue)
// pays one system call for all of them instead of one each.
//
// The zero Batch is ready to use. Add copies what it is given, so the
// caller may reuse its buffers at once; Reset empties the batch and keeps
// its memory for the next round. A Batch is not safe for concurrent use.
type Batch struct {
	buf []byte
	n   int
}

// Add appends one event. topic and body follow PublishRaw's rules (a
// printable-ASCII topic; an empty body or exactly one JSON object of at
// most 1 MiB); an event that breaks them is not added, and the error says
// why (wrapping ErrInvalidTopic, ErrInvalidPayload or ErrTooLarge).
func (b *Batch) Add(topic, body []byte) error {
	t := bytesString(topic) // read only during this call
	if err := CheckTopic(t); err != nil {
		return err
	}
	if err := checkRawBody(body); err != nil {
		return err
	}
	b.buf = codec.AppendFrame(b.buf, codec.VerbPUB, t, body)
	b.n++
	return nil
}

// Len is the number of events in the batch.
func (b *Batch) Len() int { return b.n }

// Size is the batch's size on the wire, in bytes.
func (b *Batch) Size() int { return len(b.buf) }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() { b.buf, b.n = b.buf[:0], 0 }

// PublishBatch sends every event of b, in order, with one write, and
// leaves b as it was (Reset it to reuse it). Like Publish it fails at once
// with ErrNotConnected while disconnected, and honours ctx while writing;
// on a failed write none of the batch should be assumed delivered (the
// daemon may have read a prefix of it).
func (c *Client) PublishBatch(ctx context.Context, b *Batch) error {
	if b.n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(ctx, b.buf, func() string { return fmt.Sprintf("publish batch of %d", b.n) })
}
