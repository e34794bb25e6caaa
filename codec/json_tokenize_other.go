//go:build !amd64

package codec

// jsonUseTokenizer is false where there is no vector kernel: one byte at a
// time, the token path would be slower than the scalar one.
const jsonUseTokenizer = false

func jsonTokenize(b []byte, from int, dst []uint64, carry *jsonTokenCarry) int {
	return jsonTokenizeGeneric(b, from, dst, carry)
}
