package engine

import (
	"testing"
)

// BenchmarkReadEndsInsideFrame is BenchmarkFanOut's subs=1 case with every
// read ending inside a frame, as most reads of a streaming publisher do
// (a read takes what the socket holds, not whole frames): what the
// unfinished-frame accounting costs per read. The unfinished part changes
// length from one read to the next, so every read updates the account.
func BenchmarkReadEndsInsideFrame(b *testing.B) {
	p := newPipeline(b, 1, "decky.*.state")
	const perBatch = 64
	reads := unfinishedReads(perBatch)
	p.feed(reads[0])
	p.feed(reads[1])
	b.SetBytes(int64(len(reads[0]) / perBatch))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += perBatch {
		p.feed(reads[i/perBatch&1])
	}
}

// unfinishedReads returns two reads of perBatch whole PUB frames followed
// by the start of another, of two different lengths.
func unfinishedReads(perBatch int) [2][]byte {
	frame := pubFrames("decky.d1.state", []byte(envelope(1)), 1)
	batch := pubFrames("decky.d1.state", []byte(envelope(1)), perBatch)
	return [2][]byte{
		append(batch[:len(batch):len(batch)], frame[:10]...),
		append(batch[:len(batch):len(batch)], frame[:len(frame)/2]...),
	}
}
