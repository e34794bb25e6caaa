package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// testHeader is a header with every field set.
func testHeader(payload Payload) Header {
	return Header{
		Host:        "host-a",
		BusdVersion: "1.2.3",
		Start:       time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		Payload:     payload,
		Topics:      []string{"decky.>", "topology.*"},
		Sequence:    2,
		Offset:      5_000_000_000,
		Conns: []Conn{
			{Conn: 7, Name: "collector", Patterns: []string{"decky.*.state"}, PID: 42, UID: 1000},
			{Conn: 9, UID: 0},
		},
	}
}

// everyKind is a record of every kind with every field its kind uses set,
// in Time order.
func everyKind() []Record {
	return []Record{
		{Kind: KindOpen, Time: 10, Conn: 1, PID: -5, UID: 1000},
		{Kind: KindOpen, Time: 10, Conn: 2, PID: 2147483647, UID: 4294967295},
		{Kind: KindHello, Time: 11, Conn: 1, Text: []byte("collector")},
		{Kind: KindSub, Time: 12, Conn: 1, Text: []byte("decky.*.state")},
		{Kind: KindPub, Time: 20, Conn: 2, Text: []byte("decky.d1.state"), Body: []byte(`{"v":1}`), Size: 7},
		{Kind: KindPub, Time: 20, Conn: 2, Text: []byte("decky.d1.state")},
		{Kind: KindOut, Time: 30, Conn: 1, State: OutStalled, EventsOut: 5, BytesOut: 500, Drops: 0},
		{Kind: KindOut, Time: 31, Conn: 1, State: OutDropped, EventsOut: 6, BytesOut: 600, Drops: 3},
		{Kind: KindOut, Time: 32, Conn: 1, State: OutResumed, EventsOut: 9, BytesOut: 1 << 40, Drops: 3},
		{Kind: KindGap, Time: 40, Count: 17},
		{Kind: KindUnsub, Time: 50, Conn: 1, Text: []byte("decky.*.state")},
		{Kind: KindBye, Time: 60, Conn: 1},
		{Kind: KindClose, Time: 61, Conn: 1, Drops: 4},
		{Kind: KindClose, Time: 1 << 62, Conn: 2, ProtocolError: true, Drops: 1},
	}
}

// stored is what a file keeps of r: the fields its kind uses, the body
// only in PayloadFull mode, Size as the body's length there.
func stored(r Record, payload Payload) Record {
	s := Record{Kind: r.Kind, Time: r.Time, Conn: r.Conn}
	switch r.Kind {
	case KindOpen:
		s.PID, s.UID = r.PID, r.UID
	case KindClose:
		s.ProtocolError, s.Drops = r.ProtocolError, r.Drops
	case KindHello, KindSub, KindUnsub:
		s.Text = r.Text
	case KindPub:
		s.Text = r.Text
		if payload == PayloadFull {
			s.Body = r.Body
			s.Size = uint32(len(r.Body))
		} else {
			s.Size = r.Size
		}
	case KindOut:
		s.State, s.EventsOut, s.BytesOut, s.Drops = r.State, r.EventsOut, r.BytesOut, r.Drops
	case KindGap:
		s.Count = r.Count
	}
	if len(s.Text) == 0 {
		s.Text = nil
	}
	if len(s.Body) == 0 {
		s.Body = nil
	}
	return s
}

// writeFile writes records into a complete file.
func writeFile(t testing.TB, h Header, opts WriterOptions, records []Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range records {
		if err := w.Append(&records[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(records[len(records)-1].Time+1, "stopped"); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != w.Size() {
		t.Fatalf("Size() = %d, wrote %d", w.Size(), buf.Len())
	}
	return buf.Bytes()
}

// readResult is everything a Reader gave.
type readResult struct {
	header  Header
	records []Record // copies
	footer  Footer
	ended   bool
	chunks  int
	err     error // NewReader's or Next's last; nil for a clean end
}

func readAll(data []byte) readResult {
	var res readResult
	rd, err := NewReader(bytes.NewReader(data), ReaderOptions{})
	if err != nil {
		res.err = err
		return res
	}
	defer rd.Close()
	res.header = rd.Header()
	for {
		var r Record
		err := rd.Next(&r)
		if err != nil {
			if err != io.EOF {
				res.err = err
			}
			break
		}
		r.Text = bytes.Clone(r.Text)
		r.Body = bytes.Clone(r.Body)
		res.records = append(res.records, r)
	}
	res.footer, res.ended = rd.Footer()
	res.chunks = rd.Chunks()
	return res
}

// sameRecords says how got differs from want, or "".
func sameRecords(got, want []Record) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want[i]) {
			return fmt.Sprintf("record %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	return ""
}

// failingWriter takes n bytes, then fails every write, as a full disk does.
type failingWriter struct {
	buf bytes.Buffer
	n   int
}

var errDiskFull = errors.New("no space left on device")

func (w *failingWriter) Write(p []byte) (int, error) {
	room := w.n - w.buf.Len()
	if room >= len(p) {
		return w.buf.Write(p)
	}
	w.buf.Write(p[:max(room, 0)])
	return max(room, 0), errDiskFull
}

// steadyRecords is a mix of every kind on a fixed set of connections, as a
// busy capture carries.
func steadyRecords() []Record {
	body := bytes.Repeat([]byte(`{"state":"running"}`), 10)
	return []Record{
		{Kind: KindPub, Conn: 2, Text: []byte("decky.d1.state"), Body: body, Size: uint32(len(body))},
		{Kind: KindPub, Conn: 3, Text: []byte("decky.d2.state"), Body: body, Size: uint32(len(body))},
		{Kind: KindOut, Conn: 1, State: OutStalled, EventsOut: 10, BytesOut: 1000, Drops: 2},
		{Kind: KindSub, Conn: 1, Text: []byte("decky.*.state")},
		{Kind: KindOpen, Conn: 4, PID: 7, UID: 1000},
		{Kind: KindHello, Conn: 4, Text: []byte("tool")},
		{Kind: KindClose, Conn: 4, Drops: 1},
		{Kind: KindGap, Count: 3},
	}
}
