package capture

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

func BenchmarkWriterAppend(b *testing.B) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		b.Run(payload.String(), func(b *testing.B) {
			w, err := NewWriter(io.Discard, testHeader(payload), WriterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			records := steadyRecords()
			b.ReportAllocs()
			var size int
			for i := 0; b.Loop(); i++ {
				r := &records[i%len(records)]
				r.Time = int64(i)
				size += len(r.Text) + len(r.Body)
				if err := w.Append(r); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(size / max(b.N, 1)))
		})
	}
}

func BenchmarkReaderNext(b *testing.B) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		b.Run(payload.String(), func(b *testing.B) {
			records := steadyRecords()
			var all []Record
			for i := range 20000 {
				r := records[i%len(records)]
				r.Time = int64(i)
				all = append(all, r)
			}
			data := writeFile(b, testHeader(payload), WriterOptions{}, all)
			var rd *Reader
			open := func() {
				var err error
				if rd, err = NewReader(bytes.NewReader(data), ReaderOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			open()
			var r Record
			b.ReportAllocs()
			for b.Loop() {
				err := rd.Next(&r)
				if err == io.EOF {
					rd.Close()
					open()
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			rd.Close()
		})
	}
}

// BenchmarkTapPub is what a running capture adds to one PUB on an event
// loop: the lane's reserve and the copy, and the clock once per 64 PUBs (the writer goroutine
// drains the lane between rounds, as it would in the daemon).
func BenchmarkTapPub(b *testing.B) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		b.Run(payload.String(), func(b *testing.B) {
			r := testRecorder(1, 1<<20, payload)
			ln := r.lanes[0]
			topic, body := []byte("decky.d1.state"), []byte(`{"v":1,"id":"0123456789abcdef0123456789abcdef","topic":"decky.d1.state","type":"state","ts":1764190000.123456,"payload":{"state":"running"}}`)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var at int64
			for i := 0; b.Loop(); i++ {
				if i%64 == 0 {
					at = r.Now() // once per read batch, as the engine does
				}
				r.Pub(0, at, 1, topic, body)
				if i%1024 == 1023 {
					for e := ln.peek(); e != nil; e = ln.peek() {
						ln.release(e)
					}
				}
			}
			if ln.dropped.Load() != 0 {
				b.Fatalf("%d dropped", ln.dropped.Load())
			}
		})
	}
}

// discardFile is a capture file that keeps nothing.
type discardFile struct{ n int64 }

func (d *discardFile) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }
func (d *discardFile) Sync() error                 { return nil }
func (d *discardFile) Close() error                { return nil }
func (d *discardFile) Name() string                { return "discard" }

// BenchmarkRecorderDrain is the writer goroutine's cost per record: take a
// PUB from a lane, encode it into the chunk, compress the chunk. It bounds
// the PUB rate a capture keeps up with (the lanes absorb bursts above it,
// then drop). Bodies are envelopes with random ids and times, which
// compress like real ones, not like a repeated body.
func BenchmarkRecorderDrain(b *testing.B) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		b.Run(payload.String(), func(b *testing.B) {
			r := testRecorder(1, 8<<20, payload)
			r.file = &discardFile{}
			r.conns = connTable{}
			if err := r.openWriter(1, 0); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			bodies := make([][]byte, 256)
			for i := range bodies {
				bodies[i] = fmt.Appendf(nil, `{"v": 1, "id": "%016x%016x", "topic": "decky.d%d.traffic", "type": "traffic", "ts": %d.%06d, "payload": {"src": "10.0.%d.%d", "port": %d, "bytes": %d}}`,
					rng.Uint64(), rng.Uint64(), i%16, 1764190000+i, rng.IntN(1e6), rng.IntN(256), rng.IntN(256), rng.IntN(65536), rng.IntN(1e6))
			}
			topics := make([][]byte, 16)
			for i := range topics {
				topics[i] = fmt.Appendf(nil, "decky.d%d.traffic", i)
			}
			const perRound = 1024
			b.SetBytes(int64(len(bodies[0])))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%perRound == 0 {
					b.StopTimer()
					at := r.Now()
					for j := range perRound {
						r.Pub(0, at, 1, topics[j%16], bodies[j%256])
					}
					b.StartTimer()
					if err := r.drain(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(r.w.Size())/float64(r.records), "file-B/record")
		})
	}
}
