//go:build !race

package capture

import (
	"bytes"
	"io"
	"testing"
)

func TestAllocWriterAppend(t *testing.T) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		// Small chunks: the runs cut and compress many of them.
		w, err := NewWriter(io.Discard, testHeader(payload), WriterOptions{ChunkBytes: 4 << 10})
		if err != nil {
			t.Fatal(err)
		}
		records := steadyRecords()
		var now int64
		step := func() {
			for i := range records {
				now += 1000
				records[i].Time = now
				if err := w.Append(&records[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		for range 200 { // warm the encoder, the buffers and the index
			step()
		}
		if allocs := testing.AllocsPerRun(200, step); allocs != 0 {
			t.Errorf("%s: Append allocates %v times per %d records", payload, allocs, len(records))
		}
	}
}

func TestAllocReaderNext(t *testing.T) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		records := steadyRecords()
		var all []Record
		for i := range 5000 {
			for _, r := range records {
				r.Time = int64(i)
				all = append(all, r)
			}
		}
		data := writeFile(t, testHeader(payload), WriterOptions{ChunkBytes: 4 << 10}, all)
		rd, err := NewReader(bytes.NewReader(data), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var r Record
		next := func() {
			if err := rd.Next(&r); err != nil {
				t.Fatal(err)
			}
		}
		for range 1000 {
			next()
		}
		// Across many chunks: the chunk index grows by doubling, which
		// rounds away per record.
		if allocs := testing.AllocsPerRun(len(all)-2000, next); allocs != 0 {
			t.Errorf("%s: Next allocates %v times per record", payload, allocs)
		}
		rd.Close()
	}
}

// The tap runs on the daemon's event loops for every frame while a
// capture runs: it allocates nothing, kept or dropped.
func TestAllocTap(t *testing.T) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		r := testRecorder(1, 1<<20, payload)
		r.topics = []string{"decky.>"}
		topic, body := []byte("decky.d1.state"), []byte(`{"v":1,"payload":{"state":"running"}}`)
		step := func() {
			r.Opened(0, 1, 2, 3)
			r.Hello(0, r.Now(), 1, []byte("collector"))
			r.Sub(0, r.Now(), 1, []byte("decky.>"))
			for range 16 {
				r.Pub(0, r.Now(), 1, topic, body)
			}
			r.Pub(0, r.Now(), 1, []byte("filtered.out"), body)
			r.Out(0, 1, OutStalled, 1, 2, 3)
			r.Closed(0, 1, 3, false)
		}
		ln := r.lanes[0]
		if n := testing.AllocsPerRun(100, func() {
			step()
			for e := ln.peek(); e != nil; e = ln.peek() {
				ln.release(e)
			}
		}); n != 0 {
			t.Errorf("%s: the tap made %.1f allocs per round, want 0", payload, n)
		}
		// A full lane drops without allocating either.
		full := testRecorder(1, 4096, payload)
		for range 200 {
			full.Pub(0, r.Now(), 1, topic, body)
		}
		if n := testing.AllocsPerRun(100, func() { full.Pub(0, r.Now(), 1, topic, body) }); n != 0 || full.lanes[0].dropped.Load() == 0 {
			t.Errorf("%s: a full lane: %.1f allocs, %d dropped", payload, n, full.lanes[0].dropped.Load())
		}
	}
}
