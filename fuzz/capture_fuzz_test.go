package fuzz

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"busd/capture"
)

// captureRead is everything a capture.Reader gave for one input.
type captureRead struct {
	header  capture.Header
	records []capture.Record // copies
	footer  capture.Footer
	err     error // nil for a clean end
}

func readCapture(data []byte) captureRead {
	var res captureRead
	rd, err := capture.NewReader(bytes.NewReader(data), capture.ReaderOptions{})
	if err != nil {
		res.err = err
		return res
	}
	defer rd.Close()
	res.header = rd.Header()
	for {
		var r capture.Record
		if err := rd.Next(&r); err != nil {
			if err != io.EOF {
				res.err = err
			}
			break
		}
		r.Text = bytes.Clone(r.Text)
		r.Body = bytes.Clone(r.Body)
		res.records = append(res.records, r)
	}
	res.footer, _ = rd.Footer()
	return res
}

// writeCapture writes records into a complete file, in chunks of chunkBytes.
func writeCapture(h capture.Header, records []capture.Record, chunkBytes int, end int64, reason string) ([]byte, error) {
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, h, capture.WriterOptions{ChunkBytes: chunkBytes})
	if err != nil {
		return nil, err
	}
	for i := range records {
		if err := w.Append(&records[i]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(end, reason); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// captureSeedRecords holds a record of every kind.
func captureSeedRecords() []capture.Record {
	return []capture.Record{
		{Kind: capture.KindOpen, Time: 1, Conn: 1, PID: 42, UID: 1000},
		{Kind: capture.KindHello, Time: 2, Conn: 1, Text: []byte("collector")},
		{Kind: capture.KindSub, Time: 3, Conn: 1, Text: []byte("decky.*.state")},
		{Kind: capture.KindPub, Time: 4, Conn: 2, Text: []byte("decky.d1.state"), Body: []byte(`{"v":1}`), Size: 7},
		{Kind: capture.KindOut, Time: 5, Conn: 1, State: capture.OutStalled, EventsOut: 3, BytesOut: 90, Drops: 1},
		{Kind: capture.KindGap, Time: 6, Count: 2},
		{Kind: capture.KindUnsub, Time: 7, Conn: 1, Text: []byte("decky.*.state")},
		{Kind: capture.KindBye, Time: 8, Conn: 1},
		{Kind: capture.KindClose, Time: 9, Conn: 1, ProtocolError: true, Drops: 2},
	}
}

func captureSeedHeader(payload capture.Payload) capture.Header {
	return capture.Header{
		Host:        "h",
		BusdVersion: "v",
		Start:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Payload:     payload,
		Sequence:    1,
		Conns:       []capture.Conn{{Conn: 9, Name: "n", Patterns: []string{"a.>"}}},
	}
}

func FuzzCaptureReader(f *testing.F) {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, payload := range []capture.Payload{capture.PayloadFull, capture.PayloadShape} {
		valid, err := writeCapture(captureSeedHeader(payload), captureSeedRecords(), 40, 10, "stopped")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(valid)
		f.Add(valid[:len(valid)-9]) // truncated in the footer
		corrupt := bytes.Clone(valid)
		corrupt[len(corrupt)/2] ^= 0x10
		f.Add(corrupt)
	}
	f.Add([]byte("PUB decky.d1.state\n"))                        // not zstd
	f.Add(enc.EncodeAll([]byte("some other zstd content"), nil)) // zstd of something else
	future := binary.LittleEndian.AppendUint16([]byte("BUSDCAP\x00"), capture.Version+1)
	f.Add(enc.EncodeAll(append(future, "H\x02\x00\x00\x00{}"...), nil)) // a newer version
	enc.Close()

	f.Fuzz(func(t *testing.T, data []byte) {
		got := readCapture(data)
		if got.err != nil {
			if !errors.Is(got.err, capture.ErrNotCapture) && !errors.Is(got.err, capture.ErrVersion) &&
				!errors.Is(got.err, capture.ErrCorrupt) && !errors.Is(got.err, capture.ErrTruncated) {
				t.Fatalf("unclassified error: %v", got.err)
			}
			if strings.Contains(got.err.Error(), "\n") {
				t.Fatalf("error %q is not one line", got.err)
			}
			return
		}
		// A file that read cleanly: its records, written again (in
		// other chunks), read back the same.
		again, err := writeCapture(got.header, got.records, 100, got.footer.End, got.footer.Reason)
		if err != nil {
			t.Fatalf("writing the records again: %v", err)
		}
		back := readCapture(again)
		if back.err != nil {
			t.Fatalf("reading the records written again: %v", back.err)
		}
		if len(back.records) != len(got.records) {
			t.Fatalf("%d records written again, %d read back", len(got.records), len(back.records))
		}
		for i := range got.records {
			if a, b := fmt.Sprintf("%+v", got.records[i]), fmt.Sprintf("%+v", back.records[i]); a != b {
				t.Fatalf("record %d: %s, read back %s", i, a, b)
			}
		}
		h1, _ := json.Marshal(got.header)
		h2, _ := json.Marshal(back.header)
		if !bytes.Equal(h1, h2) {
			t.Fatalf("header %s, read back %s", h1, h2)
		}
		f1, f2 := got.footer, back.footer
		if f1.End != f2.End || f1.Reason != f2.Reason || f1.Records != f2.Records ||
			f1.Publishes != f2.Publishes || f1.RecorderDrops != f2.RecorderDrops {
			t.Fatalf("footer %+v, read back %+v", f1, f2)
		}
	})
}
