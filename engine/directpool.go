package engine

// maxDirectBuffers bounds the direct buffers a loop hands out at once, so a
// batch that reaches thousands of subscribers costs at most this many
// writeBatch buffers (8 MiB); the others get the batch through their queue.
const maxDirectBuffers = 64

// directPool recycles a loop's direct buffers (outbox.direct) between
// batches: an outbox takes one at its first direct event of a batch and
// gives it back when the batch's flush has written it. Loop goroutine only.
type directPool struct {
	spare [][]byte
	out   int // handed out and not yet back: at most maxDirectBuffers
}

// get returns an empty buffer of writeBatch capacity, or nil when
// maxDirectBuffers are out.
func (p *directPool) get() []byte {
	if p.out >= maxDirectBuffers {
		return nil
	}
	p.out++
	if n := len(p.spare); n > 0 {
		b := p.spare[n-1]
		p.spare[n-1] = nil
		p.spare = p.spare[:n-1]
		return b
	}
	return make([]byte, 0, writeBatch)
}

// put takes back a buffer get handed out.
func (p *directPool) put(b []byte) {
	p.spare = append(p.spare, b[:0])
	p.out--
}
