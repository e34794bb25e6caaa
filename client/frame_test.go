package client

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"busd/codec"
)

func TestFrameReaderPartialReads(t *testing.T) {
	// Many frames in one stream, with sizes around the buffer boundary,
	// read in pieces of alternating sizes.
	var in []byte
	var want []string
	for i := 0; i < 200; i++ {
		body := `{"n":"` + strings.Repeat("y", (i*997)%(70<<10)) + `"}`
		in = codec.AppendFrame(in, codec.VerbEVT, "t.x", []byte(body))
		want = append(want, body)
	}
	in = codec.AppendFrame(in, codec.VerbEVT, "big", []byte(`{"b":"`+strings.Repeat("z", 900<<10)+`"}`))
	fr := frameReader{r: &alternating{r: bytes.NewReader(in)}, buf: make([]byte, readBufSize)}
	for i, w := range want {
		f, err := fr.next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Verb != codec.VerbEVT || string(f.Args) != "t.x" || string(f.Body) != w {
			t.Fatalf("frame %d differs", i)
		}
	}
	if f, err := fr.next(); err != nil || string(f.Args) != "big" || len(f.Body) != 900<<10+8 {
		t.Fatalf("big frame: %v", err)
	}
	if _, err := fr.next(); err != io.EOF {
		t.Errorf("at the end: %v, want EOF", err)
	}

	fr = frameReader{r: bytes.NewReader([]byte("EVT a\n\x00\x00\x00\x10{")), buf: make([]byte, 16)}
	if _, err := fr.next(); err == nil || !strings.Contains(err.Error(), "middle of a frame") {
		t.Errorf("truncated: %v", err)
	}
	fr = frameReader{r: bytes.NewReader([]byte("NOPE\n\x00\x00\x00\x00")), buf: make([]byte, 16)}
	if _, err := fr.next(); err == nil || !strings.Contains(err.Error(), "bad frame") {
		t.Errorf("bad verb: %v", err)
	}
}

// alternating returns reads of 1 and 5000 bytes in turn.
type alternating struct {
	r io.Reader
	i int
}

func (a *alternating) Read(p []byte) (int, error) {
	a.i++
	n := 5000
	if a.i%2 == 1 {
		n = 1
	}
	if len(p) > n {
		p = p[:n]
	}
	return a.r.Read(p)
}
