package inspect

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"busd/capture"
)

const sec = int64(time.Second)

// script builds capture files record by record.
type script struct {
	t    *testing.T
	buf  bytes.Buffer
	w    *capture.Writer
	ends []int // buf's length after each Flush: where each chunk ends
}

func newScript(t *testing.T, h capture.Header) *script {
	t.Helper()
	s := &script{t: t}
	w, err := capture.NewWriter(&s.buf, h, capture.WriterOptions{ChunkAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.w = w
	return s
}

func (s *script) add(r capture.Record) *script {
	s.t.Helper()
	if err := s.w.Append(&r); err != nil {
		s.t.Fatal(err)
	}
	return s
}

// flush ends the current chunk.
func (s *script) flush() *script {
	s.t.Helper()
	if err := s.w.Flush(); err != nil {
		s.t.Fatal(err)
	}
	s.ends = append(s.ends, s.buf.Len())
	return s
}

func (s *script) close(end int64, reason string) []byte {
	s.t.Helper()
	if err := s.w.Close(end, reason); err != nil {
		s.t.Fatal(err)
	}
	return s.buf.Bytes()
}

func open(t int64, conn uint64) capture.Record {
	return capture.Record{Kind: capture.KindOpen, Time: t, Conn: conn, PID: 100, UID: 1000}
}

func text(k capture.Kind, t int64, conn uint64, s string) capture.Record {
	return capture.Record{Kind: k, Time: t, Conn: conn, Text: []byte(s)}
}

// pub is a PUB of a body of size bytes (a JSON object padded with spaces,
// or {} when shorter).
func pub(t int64, conn uint64, topic string, size int) capture.Record {
	body := []byte(nil)
	if size > 0 {
		body = []byte("{" + strings.Repeat(" ", max(size-2, 0)) + "}")[:size]
	}
	return capture.Record{Kind: capture.KindPub, Time: t, Conn: conn, Text: []byte(topic), Body: body, Size: uint32(size)}
}

func out(t int64, conn uint64, state capture.OutState, events, bytes, drops uint64) capture.Record {
	return capture.Record{Kind: capture.KindOut, Time: t, Conn: conn, State: state, EventsOut: events, BytesOut: bytes, Drops: drops}
}

func closed(t int64, conn uint64, drops uint64, protocolError bool) capture.Record {
	return capture.Record{Kind: capture.KindClose, Time: t, Conn: conn, Drops: drops, ProtocolError: protocolError}
}

func gap(t int64, count uint64) capture.Record {
	return capture.Record{Kind: capture.KindGap, Time: t, Count: count}
}

// analyze runs Analyze over the file in b.
func analyze(t *testing.T, b []byte) (*Summary, error) {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(b), capture.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return Analyze(r)
}
