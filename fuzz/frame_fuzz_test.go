package fuzz

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"busd/codec"
)

// frameTrace is what decoding a stream produced: the frames in order, then
// how the stream ended (an error, or the length of an incomplete tail).
// Frames alias the decoded buffer.
type frameTrace struct {
	frames []codec.Frame
	err    error
	tail   int
}

// decodeWhole decodes the stream in one buffer, the way the server does
// when everything arrives in one read.
func decodeWhole(stream []byte, tr *frameTrace) {
	var f codec.Frame
	off := 0
	for off < len(stream) {
		n, _, err := f.Decode(stream[off:])
		if err != nil {
			tr.err = err
			return
		}
		if n == 0 {
			break
		}
		tr.frames = append(tr.frames, f)
		off += n
	}
	tr.tail = len(stream) - off
}

// decodeSplit decodes the stream as a server sees it in two reads, cut at
// cut: each read is appended to an accumulation buffer, the complete frames
// at its start are decoded and dropped, the rest is kept for the next read.
// acc must have room for the whole stream (so nothing allocates); frames are
// copied out of it into out so that they survive the compaction.
func decodeSplit(stream []byte, cut int, acc []byte, tr *frameTrace, out []byte) []byte {
	acc = acc[:0]
	var f codec.Frame
	for _, chunk := range [][]byte{stream[:cut], stream[cut:]} {
		acc = append(acc, chunk...)
		off := 0
		for off < len(acc) {
			n, need, err := f.Decode(acc[off:])
			if err != nil {
				tr.err = err
				return out
			}
			if n == 0 {
				if need != 0 && need <= len(acc)-off {
					panic("Decode asks for bytes it already has")
				}
				break
			}
			// Copy args and body out: the buffer is compacted below.
			a := len(out)
			out = append(out, f.Args...)
			b := len(out)
			out = append(out, f.Body...)
			tr.frames = append(tr.frames, codec.Frame{Verb: f.Verb, Args: out[a:b:b], Body: out[b:len(out):len(out)]})
			off += n
		}
		acc = acc[:copy(acc, acc[off:])]
	}
	tr.tail = len(acc)
	return out
}

func sameTrace(a, b *frameTrace) bool {
	if a.err != b.err || a.tail != b.tail || len(a.frames) != len(b.frames) {
		return false
	}
	for i := range a.frames {
		x, y := a.frames[i], b.frames[i]
		if x.Verb != y.Verb || !bytes.Equal(x.Args, y.Args) || !bytes.Equal(x.Body, y.Body) {
			return false
		}
	}
	return true
}

// FuzzFrame checks (*codec.Frame).Decode on arbitrary streams: it never
// panics; the frames and the final verdict do not depend on where the stream
// is cut into reads; every decoded frame survives an encode/decode round
// trip; and decoding allocates nothing.
//
// The seeds (testdata/fuzz/FuzzFrame) cover every hostile frame class of
// PROTOCOL.md and valid frames of every verb; they are written by
// TestWriteFuzzSeeds.
func FuzzFrame(f *testing.F) {
	checkAllocs := !jsonRaceEnabled()
	// Scratch reused across inputs of one process (inputs run one at a
	// time), so the oracle itself stays cheap.
	var (
		whole, split frameTrace
		acc, out     []byte
		enc          []byte
		g            codec.Frame
	)
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		c := int(cut)
		if len(stream) > 0 {
			c %= len(stream) + 1
		} else {
			c = 0
		}
		whole = frameTrace{frames: whole.frames[:0]}
		decodeWhole(stream, &whole)

		split = frameTrace{frames: split.frames[:0]}
		if cap(acc) < len(stream) {
			acc = make([]byte, 0, len(stream))
		}
		out = decodeSplit(stream, c, acc, &split, out[:0])
		if !sameTrace(&whole, &split) {
			t.Fatalf("cut at %d changes the decoding:\nwhole: %s\nsplit: %s", c, describe(&whole), describe(&split))
		}

		for i, fr := range whole.frames {
			enc = codec.AppendFrame(enc[:0], fr.Verb, string(fr.Args), fr.Body)
			n, need, err := g.Decode(enc)
			if err != nil || n != len(enc) || need != 0 {
				t.Fatalf("frame %d (%s %q, %d body bytes): re-encoded as %q, Decode = n %d need %d err %v",
					i, fr.Verb, fr.Args, len(fr.Body), clip(enc), n, need, err)
			}
			if g.Verb != fr.Verb || !bytes.Equal(g.Args, fr.Args) || !bytes.Equal(g.Body, fr.Body) {
				t.Fatalf("frame %d: round trip gives %s %q (%d bytes), want %s %q (%d bytes)",
					i, g.Verb, g.Args, len(g.Body), fr.Verb, fr.Args, len(fr.Body))
			}
		}

		if checkAllocs {
			// Four runs: a stray allocation by another goroutine of the
			// fuzzing engine rounds away, one per call does not.
			if n := testing.AllocsPerRun(4, func() { decodeAllNoAlloc(stream) }); n != 0 {
				t.Fatalf("Decode allocates on %q: %v per stream", clip(stream), n)
			}
		}
	})
}

// decodeAllNoAlloc is decodeWhole without keeping the frames.
func decodeAllNoAlloc(stream []byte) {
	var f codec.Frame
	for off := 0; off < len(stream); {
		n, _, err := f.Decode(stream[off:])
		if err != nil || n == 0 {
			return
		}
		off += n
	}
}

func describe(tr *frameTrace) string {
	var b strings.Builder
	for _, f := range tr.frames {
		fmt.Fprintf(&b, "%s %q [%q]; ", f.Verb, clip(f.Args), clip(f.Body))
	}
	if tr.err != nil {
		fmt.Fprintf(&b, "error: %v", tr.err)
	} else {
		fmt.Fprintf(&b, "incomplete tail: %d bytes", tr.tail)
	}
	return b.String()
}

func clip(b []byte) []byte {
	if len(b) > 80 {
		return append(b[:80:80], "..."...)
	}
	return b
}
