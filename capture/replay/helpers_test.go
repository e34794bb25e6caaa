package replay

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"busd/capture"
	"busd/engine"
)

// startDaemon runs a real in-process daemon on a UNIX socket in a short
// temporary directory until the test ends, and returns its socket.
func startDaemon(t *testing.T) string {
	t.Helper()
	_, socket := startServer(t)
	return socket
}

// startServer is startDaemon, with the daemon itself.
func startServer(t *testing.T) (*engine.Server, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "rp") // socket paths are limited to 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := engine.DefaultConfig()
	cfg.Socket = filepath.Join(dir, "bus.sock")
	cfg.Heartbeat = 0
	cfg.Group = ""
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	ready := make(chan struct{})
	go func() { errc <- srv.Run(func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon not ready")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return srv, cfg.Socket
}

// script builds a capture file record by record.
type script struct {
	h    capture.Header
	recs []capture.Record
}

func newScript(payload capture.Payload, conns ...capture.Conn) *script {
	return &script{h: capture.Header{
		Version: capture.Version, Host: "test", Start: time.Unix(1764190000, 0),
		Payload: payload, Sequence: 1, Conns: conns,
	}}
}

func ms(n int) int64 { return int64(n) * int64(time.Millisecond) }

func (s *script) add(r capture.Record) { s.recs = append(s.recs, r) }

func (s *script) open(at int64, conn uint64) {
	s.add(capture.Record{Kind: capture.KindOpen, Time: at, Conn: conn})
}

func (s *script) text(at int64, k capture.Kind, conn uint64, text string) {
	s.add(capture.Record{Kind: k, Time: at, Conn: conn, Text: []byte(text)})
}

func (s *script) close(at int64, conn uint64) {
	s.add(capture.Record{Kind: capture.KindClose, Time: at, Conn: conn})
}

// pub records a PUB with body (kept only in PayloadFull files).
func (s *script) pub(at int64, conn uint64, topic string, body []byte) {
	r := capture.Record{Kind: capture.KindPub, Time: at, Conn: conn, Text: []byte(topic), Size: uint32(len(body))}
	if s.h.Payload == capture.PayloadFull {
		r.Body = body
	}
	s.add(r)
}

func (s *script) out(at int64, conn uint64, state capture.OutState, bytesOut uint64) {
	s.add(capture.Record{Kind: capture.KindOut, Time: at, Conn: conn, State: state, BytesOut: bytesOut})
}

// file writes the capture, ending at end.
func (s *script) file(t *testing.T, end int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, s.h, capture.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.recs {
		if err := w.Append(&s.recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(end, "stopped"); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// opener reads a capture held in memory.
func opener(data []byte) func() (*capture.Reader, error) {
	return func() (*capture.Reader, error) {
		return capture.NewReader(bytes.NewReader(data), capture.ReaderOptions{})
	}
}

// runReplay runs a replay bounded in time.
func runReplay(t *testing.T, data []byte, opts Options) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := Run(ctx, opener(data), opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Interrupted {
		t.Fatalf("the replay ran out of time: %v", rep)
	}
	return rep
}
