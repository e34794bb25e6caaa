//go:build !race

package codec

import (
	"bytes"
	"testing"
)

// Decoding every verb and every error path allocates nothing.
func TestDecodeAllocatesNothing(t *testing.T) {
	inputs := [][]byte{
		frameBytes("HELLO w\n", ""), frameBytes("SUB a.>\n", ""), frameBytes("PUB t\n", "{}"),
		frameBytes("\n", ""), frameBytes("PING\n", ""), []byte("SUB \x80"),
		bytes.Repeat([]byte("A"), MaxHeader), append([]byte("PUB t\n"), 0xff, 0, 0, 0),
		[]byte("PUB t\n\x00"),
	}
	var f Frame
	for _, in := range inputs {
		if n := testing.AllocsPerRun(100, func() { f.Decode(in) }); n != 0 {
			t.Errorf("%q: %.0f allocs", in[:min(len(in), 16)], n)
		}
	}
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { dst = AppendFrame(dst[:0], VerbPUB, "a.b", []byte("{}")) }); n != 0 {
		t.Errorf("AppendFrame: %.0f allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { NewMessage(300).Release() }); n != 0 {
		t.Errorf("NewMessage: %.0f allocs", n)
	}
}
