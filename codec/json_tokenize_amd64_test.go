package codec

import (
	"math/rand/v2"
	"testing"
)

// TestJSONTokenizeKernelMatchesGeneric compares the AVX2 kernel with the
// reference tokenizer: bitmaps and carries bit for bit, window by window,
// and the verdict over the body, on random bytes drawn mostly from JSON's
// special characters, escapes and UTF-8 lead and continuation bytes, for
// random window splits of bodies of many lengths (partial last blocks
// included).
func TestJSONTokenizeKernelMatchesGeneric(t *testing.T) {
	if !jsonUseTokenizer {
		t.Skip("this CPU lacks AVX2 or PCLMULQDQ: the kernel never runs here")
	}
	alphabet := []byte("\"\"\"\\\\ \t\n\r{}[]:,abu0-.eF\x00\x0c\x1a\x1f\x7f\x80\xbf\xc3\xe2\xed\xf0\xf4\xff")
	r := rand.New(rand.NewPCG(11, 12))
	iters := 200000
	if testing.Short() {
		iters = 40000
	}
	invalid := 0
	for it := 0; it < iters; it++ {
		n := 64 + r.IntN(64*(jsonWindow+3))
		b := make([]byte, n)
		// Mostly one class of input per document, so that whole windows
		// come out jsonTokensOK and the bitmaps get compared.
		rate := r.IntN(4)
		for i := range b {
			switch {
			case r.IntN(8) < rate:
				b[i] = alphabet[r.IntN(len(alphabet))]
			case r.IntN(3) == 0:
				b[i] = "\"{}[]:, "[r.IntN(8)]
			default:
				b[i] = byte('a' + r.IntN(26))
			}
		}
		blocks := (n + 63) / 64
		var kc, gc jsonTokenCarry
		kInvalid, gInvalid := false, false
		for from := 0; from < blocks; {
			cnt := 1 + r.IntN(min(jsonWindow, blocks-from))
			var kd, gd [jsonWindow]uint64
			kInvalid = jsonTokenize(b, from, kd[:cnt], &kc) != jsonTokensOK || kInvalid
			gInvalid = jsonTokenizeGeneric(b, from, gd[:cnt], &gc) != jsonTokensOK || gInvalid
			if kd != gd || kc.inString != gc.inString || kc.inScalar != gc.inScalar ||
				kc.escaped != gc.escaped || kc.hexPending != gc.hexPending {
				t.Fatalf("n=%d blocks %d..%d of %q:\nkernel  %x %+v\ngeneric %x %+v", n, from, from+cnt, b, kd[:cnt], kc, gd[:cnt], gc)
			}
			from += cnt
		}
		// A UTF-8 error may show a window late (see jsonTokenizeGeneric):
		// the verdicts are compared over the whole body.
		if kInvalid != gInvalid {
			t.Fatalf("n=%d %q: kernel says invalid=%v, generic %v", n, b, kInvalid, gInvalid)
		}
		if kInvalid {
			invalid++
		}
	}
	if invalid < iters/10 || invalid > iters*9/10 {
		t.Errorf("poor coverage: %d of %d bodies invalid", invalid, iters)
	}
}
