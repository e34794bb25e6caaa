package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"busd/codec"
)

// Each hostile frame class of PROTOCOL.md closes only the connection that
// sent it; a healthy pair on the same daemon loses nothing meanwhile.
func TestHostileFramesCloseOnlyTheirConnection(t *testing.T) {
	over := make([]byte, 4)
	binary.BigEndian.PutUint32(over, codec.MaxBody+1)
	cases := []struct {
		name  string
		frame []byte
	}{
		{"empty header", []byte("\n\x00\x00\x00\x00")},
		{"CR only header", []byte("\r\n\x00\x00\x00\x00")},
		{"non-ASCII header", []byte("PUB t\xc3\xa9\n\x00\x00\x00\x02{}")},
		{"non-ASCII before LF arrives", []byte("PUB \xff")},
		{"header of 4096 bytes without LF", bytes.Repeat([]byte("A"), codec.MaxHeader)},
		{"header longer than 4096", append([]byte("PUB "+string(bytes.Repeat([]byte("a"), codec.MaxHeader))), '\n', 0, 0, 0, 0)},
		{"unknown verb", []byte("PING x\n\x00\x00\x00\x00")},
		{"lowercase verb", []byte("pub x\n\x00\x00\x00\x02{}")},
		{"verb with tab", []byte("PUB\tx\n\x00\x00\x00\x02{}")},
		{"body over 1 MiB", append([]byte("PUB x\n"), over...)},
		{"length 0xffffffff", []byte("PUB x\n\xff\xff\xff\xff")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := startServer(t, nil)
			sub, pub := e.dial(), e.dial()
			sub.sub("healthy.>")
			bad := e.dial()
			bad.sub("healthy.>")
			for i := range 50 {
				pub.send(codec.VerbPUB, "healthy.before", envelope(i))
			}
			bad.raw(tc.frame)
			bad.expectClosed(5 * time.Second)
			for i := range 50 {
				pub.send(codec.VerbPUB, "healthy.after", envelope(i))
			}
			for i := range 50 {
				sub.expect("healthy.before", envelope(i))
			}
			for i := range 50 {
				sub.expect("healthy.after", envelope(i))
			}
			if n := e.srv.Stats().ProtocolErrors; n != 1 {
				t.Fatalf("protocol errors = %d, want 1", n)
			}
		})
	}
}

func TestEOFInsideFrameIsAProtocolError(t *testing.T) {
	e := startServer(t, nil)
	w := e.dial()
	w.raw([]byte("PUB t\n\x00\x00\x00\x10{\"a\""))
	w.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.Stats().ProtocolErrors != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("protocol errors = %d, want 1", e.srv.Stats().ProtocolErrors)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCleanEOFBetweenFramesIsNormal(t *testing.T) {
	e := startServer(t, nil)
	w := e.dial()
	w.send(codec.VerbHELLO, "x", "")
	w.sync()
	w.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.Stats().Connections != 0 {
		if time.Now().After(deadline) {
			t.Fatal("connection not reaped")
		}
		time.Sleep(time.Millisecond)
	}
	if n := e.srv.Stats().ProtocolErrors; n != 0 {
		t.Fatalf("protocol errors = %d, want 0", n)
	}
}

// A frame may arrive one byte at a time; the parser keeps its state.
func TestFrameSplitAcrossWrites(t *testing.T) {
	e := startServer(t, nil)
	sub, pub := e.dial(), e.dial()
	sub.sub("s")
	frame := codec.AppendFrame(nil, codec.VerbPUB, "s", []byte(envelope(7)))
	for _, b := range frame {
		pub.raw([]byte{b})
	}
	sub.expect("s", envelope(7))
}

func TestLargestBodyIsDelivered(t *testing.T) {
	e := startServer(t, nil)
	sub, pub := e.dial(), e.dial()
	sub.sub("big")
	body := fmt.Sprintf(`{"blob": "%s"}`, bytes.Repeat([]byte("x"), codec.MaxBody-12))
	if len(body) != codec.MaxBody {
		t.Fatalf("body is %d bytes", len(body))
	}
	pub.send(codec.VerbPUB, "big", body)
	sub.expect("big", body)
}

func TestConnectionCap(t *testing.T) {
	e := startServer(t, func(c *Config) { c.MaxConns = 2 })
	a, b := e.dial(), e.dial()
	a.sub("x")
	b.sub("y")
	c := e.dial()
	c.expectClosed(5 * time.Second)
	if n := e.srv.Stats().Rejected; n != 1 {
		t.Fatalf("rejected = %d, want 1", n)
	}
	b.send(codec.VerbPUB, "x", `{}`)
	a.expect("x", `{}`)
}
