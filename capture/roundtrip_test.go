package capture

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"
)

func TestRoundTripEveryKind(t *testing.T) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		for _, chunkBytes := range []int{1, DefaultChunkBytes} {
			t.Run(payload.String(), func(t *testing.T) {
				records := everyKind()
				// A body larger than Size: shape mode keeps Size,
				// full mode the body.
				records[4].Size = 99
				h := testHeader(payload)
				data := writeFile(t, h, WriterOptions{ChunkBytes: chunkBytes}, records)
				res := readAll(data)
				if res.err != nil {
					t.Fatal(res.err)
				}
				want := make([]Record, len(records))
				for i, r := range records {
					want[i] = stored(r, payload)
				}
				if diff := sameRecords(res.records, want); diff != "" {
					t.Fatal(diff)
				}
				h.Version = Version
				if !reflect.DeepEqual(res.header, h) {
					t.Fatalf("header %+v, want %+v", res.header, h)
				}
				if !res.ended {
					t.Fatal("no footer")
				}
				// The last record is far past ChunkAge: it starts
				// a chunk of its own.
				wantChunks := 2
				if chunkBytes == 1 {
					wantChunks = len(records)
				}
				if res.chunks != wantChunks || len(res.footer.Chunks) != wantChunks {
					t.Fatalf("%d chunks, footer indexes %d, want %d", res.chunks, len(res.footer.Chunks), wantChunks)
				}
				f := res.footer
				// Drops: conn 1 opened here and ended at 4; conn 2 at 1.
				if f.Records != uint64(len(records)) || f.Publishes != 2 || f.RecorderDrops != 17 ||
					f.DaemonDrops != 5 || f.Reason != "stopped" || f.End != records[len(records)-1].Time+1 {
					t.Fatalf("footer %+v", f)
				}
			})
		}
	}
}

func TestChunkIndexLocatesFrames(t *testing.T) {
	records := everyKind()
	data := writeFile(t, testHeader(PayloadFull), WriterOptions{ChunkBytes: 1}, records)
	res := readAll(data)
	if res.err != nil {
		t.Fatal(res.err)
	}
	for i, c := range res.footer.Chunks {
		// Each indexed frame alone, after the header, reads as a
		// file cut after that one chunk.
		frame := data[c.Offset : c.Offset+c.Length]
		alone := append(append([]byte(nil), data[:res.footer.Chunks[0].Offset]...), frame...)
		got := readAll(alone)
		if !errors.Is(got.err, ErrTruncated) || len(got.records) != 1 ||
			got.records[0].Time != records[i].Time || c.First != records[i].Time || c.Records != 1 {
			t.Fatalf("chunk %d %+v: %v, %d records", i, c, got.err, len(got.records))
		}
	}
}

func TestTimeIsClampedUp(t *testing.T) {
	records := []Record{
		{Kind: KindBye, Time: 100, Conn: 1},
		{Kind: KindBye, Time: 90, Conn: 2},  // earlier: raised to 100
		{Kind: KindBye, Time: -50, Conn: 3}, // raised to 100
		{Kind: KindBye, Time: 120, Conn: 4},
		{Kind: KindBye, Time: 110, Conn: 5}, // raised to 120
	}
	for _, chunkBytes := range []int{1, DefaultChunkBytes} {
		data := writeFile(t, testHeader(PayloadShape), WriterOptions{ChunkBytes: chunkBytes}, records)
		res := readAll(data)
		if res.err != nil {
			t.Fatal(res.err)
		}
		var times []int64
		for _, r := range res.records {
			times = append(times, r.Time)
		}
		if want := []int64{100, 100, 100, 120, 120}; !reflect.DeepEqual(times, want) {
			t.Fatalf("chunk bytes %d: times %v, want %v", chunkBytes, times, want)
		}
	}
}

func TestNegativeAndExtremeTimes(t *testing.T) {
	records := []Record{
		{Kind: KindBye, Time: -1 << 63},
		{Kind: KindBye, Time: -1},
		{Kind: KindBye, Time: 1<<63 - 1},
	}
	res := readAll(writeFile(t, testHeader(PayloadShape), WriterOptions{}, records))
	if res.err != nil {
		t.Fatal(res.err)
	}
	if diff := sameRecords(res.records, records); diff != "" {
		t.Fatal(diff)
	}
}

func TestChunkAgeCutsChunks(t *testing.T) {
	var records []Record
	for i := range 10 {
		records = append(records, Record{Kind: KindBye, Time: int64(i) * 400_000_000}) // 0.4s apart
	}
	res := readAll(writeFile(t, testHeader(PayloadShape), WriterOptions{}, records))
	if res.err != nil {
		t.Fatal(res.err)
	}
	// One second per chunk: 0, 0.4, 0.8 | 1.2, 1.6, 2.0 | 2.4, 2.8, 3.2 | 3.6.
	if res.chunks != 4 {
		t.Fatalf("%d chunks, want 4", res.chunks)
	}
}

func TestFlushAndTickWriteTheChunk(t *testing.T) {
	var fw failingWriter
	fw.n = 1 << 30
	w, err := NewWriter(&fw.buf, testHeader(PayloadFull), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := Record{Kind: KindHello, Time: 5, Conn: 1, Text: []byte("x")}
	if err := w.Append(&r); err != nil {
		t.Fatal(err)
	}
	if err := w.Tick(5 + DefaultChunkAge - 1); err != nil || w.Buffered() == 0 {
		t.Fatalf("Tick before the age: %v, buffered %d", err, w.Buffered())
	}
	if err := w.Tick(5 + DefaultChunkAge); err != nil || w.Buffered() != 0 {
		t.Fatalf("Tick at the age: %v, buffered %d", err, w.Buffered())
	}
	if err := w.Append(&r); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	res := readAll(fw.buf.Bytes())
	if !errors.Is(res.err, ErrTruncated) || len(res.records) != 2 || res.chunks != 2 {
		t.Fatalf("after Flush: %v, %d records in %d chunks", res.err, len(res.records), res.chunks)
	}
	if err := w.Close(0, "stopped"); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(&r); err == nil {
		t.Fatal("Append after Close succeeded")
	}
}

func TestWriterRefusesBadRecords(t *testing.T) {
	w, err := NewWriter(io.Discard, testHeader(PayloadShape), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{
		{Kind: 0},
		{Kind: kindEnd},
		{Kind: KindSub, Text: make([]byte, MaxText+1)},
		{Kind: KindPub, Size: MaxBody + 1},
		{Kind: KindOut, State: 0},
		{Kind: KindOut, State: OutDropped + 1},
	} {
		if err := w.Append(&r); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
	// A refused record is not sticky.
	if err := w.Append(&Record{Kind: KindPub, Size: MaxBody}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(io.Discard, Header{}, WriterOptions{}); err == nil {
		t.Error("a header without payload mode accepted")
	}
	if _, err := NewWriter(io.Discard, testHeader(PayloadFull), WriterOptions{ChunkBytes: MaxChunkBytes + 1}); err == nil {
		t.Error("chunk bytes over the limit accepted")
	}
	full, _ := NewWriter(io.Discard, testHeader(PayloadFull), WriterOptions{})
	if err := full.Append(&Record{Kind: KindPub, Body: make([]byte, MaxBody+1)}); err == nil {
		t.Error("a body over the limit accepted")
	}
}

func TestLargestRecordsRoundTrip(t *testing.T) {
	body := make([]byte, MaxBody)
	for i := range body {
		body[i] = byte(i * 7)
	}
	text := make([]byte, MaxText)
	for i := range text {
		text[i] = 'a' + byte(i%26)
	}
	var records []Record
	for i := range 5 {
		records = append(records, Record{Kind: KindPub, Time: int64(i), Conn: 1<<64 - 1, Text: text, Body: body})
	}
	res := readAll(writeFile(t, testHeader(PayloadFull), WriterOptions{ChunkBytes: MaxChunkBytes}, records))
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := make([]Record, len(records))
	for i, r := range records {
		want[i] = stored(r, PayloadFull)
	}
	if diff := sameRecords(res.records, want); diff != "" {
		t.Fatal(diff)
	}
}

// A header far larger than a chunk (many connections with many patterns)
// is compressed with a window the reader accepts.
func TestLargeHeaderRoundTrips(t *testing.T) {
	h := testHeader(PayloadShape)
	h.Conns = nil
	for i := range 4000 {
		c := Conn{Conn: uint64(i), Name: "subscriber"}
		for j := range 100 {
			c.Patterns = append(c.Patterns, "decky.d"+strconv.Itoa(i)+".state."+strconv.Itoa(j*7919%10007))
		}
		h.Conns = append(h.Conns, c)
	}
	data := writeFile(t, h, WriterOptions{}, everyKind())
	res := readAll(data)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if !reflect.DeepEqual(res.header.Conns, h.Conns) {
		t.Fatal("the connections differ")
	}
}
