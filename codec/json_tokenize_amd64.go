package codec

import "golang.org/x/sys/cpu"

// jsonUseTokenizer says whether ValidJSONObject takes the token path: the
// kernel needs AVX2 and carry-less multiplication.
var jsonUseTokenizer = cpu.X86.HasAVX2 && cpu.X86.HasPCLMULQDQ

// jsonTokenize fills dst with the token bitmaps of blocks from..from+len(dst)
// of b, as jsonTokenizeGeneric does, and returns jsonTokensOK or
// jsonTokensInvalid. It needs len(b) >= 64 and 1 <= len(dst) <= the blocks
// left. Without the kernel's CPU features ValidJSONObject never calls it;
// the tests that walk tokens directly then get the reference.
func jsonTokenize(b []byte, from int, dst []uint64, carry *jsonTokenCarry) int {
	if !jsonUseTokenizer {
		return jsonTokenizeGeneric(b, from, dst, carry)
	}
	return int(jsonTokenizeAVX2(b, from, dst, carry))
}

// jsonTokenizeAVX2 is the kernel (json_tokenize_amd64.s).
//
//go:noescape
func jsonTokenizeAVX2(b []byte, from int, dst []uint64, carry *jsonTokenCarry) uint64
