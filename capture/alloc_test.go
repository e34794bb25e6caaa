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
