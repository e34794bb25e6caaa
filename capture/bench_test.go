package capture

import (
	"bytes"
	"io"
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
