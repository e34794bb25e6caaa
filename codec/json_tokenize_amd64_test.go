package codec

import (
	"math/rand/v2"
	"testing"
)

// TestJSONTokenizeKernelMatchesGeneric compares the AVX2 kernel with the
// reference tokenizer bit for bit: bitmaps, carries and result, on random
// bytes drawn mostly from JSON's special characters, for every window
// split of inputs of many lengths (partial last blocks included).
func TestJSONTokenizeKernelMatchesGeneric(t *testing.T) {
	if !jsonUseTokenizer {
		t.Skip("this CPU lacks AVX2 or PCLMULQDQ: the kernel never runs here")
	}
	alphabet := []byte("\"\"\"\\ \t\n\r{}[]:,ab0-.e\x00\x0c\x1a\x1f\x7f\x80\xff")
	r := rand.New(rand.NewPCG(11, 12))
	iters := 200000
	if testing.Short() {
		iters = 40000
	}
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
		for from := 0; from < blocks; {
			cnt := 1 + r.IntN(min(jsonWindow, blocks-from))
			var kd, gd [jsonWindow]uint64
			kr := jsonTokenize(b, from, kd[:cnt], &kc)
			gr := jsonTokenizeGeneric(b, from, gd[:cnt], &gc)
			// For jsonTokensScalar the kernel stops at the first
			// block that has reason for it: only the result counts.
			if kr != gr || (kr != jsonTokensScalar && (kd != gd || kc != gc)) {
				t.Fatalf("n=%d blocks %d..%d of %q:\nkernel  %d %x %+v\ngeneric %d %x %+v", n, from, from+cnt, b, kr, kd[:cnt], kc, gr, gd[:cnt], gc)
			}
			if kr == jsonTokensScalar {
				break // the walk stops here too
			}
			from += cnt
		}
	}
}
