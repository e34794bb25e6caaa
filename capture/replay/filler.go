package replay

// Shape-only captures keep each PUB body's length, not its bytes. The
// replay sends, in its place, one JSON object of exactly that length so
// that the daemon validates and forwards the same number of bytes:
//
//	0       no body (an empty PUB body is valid)
//	1       impossible for an object: "{}" is sent (2 bytes) and counted
//	2..7    "{" spaces "}": whitespace inside an empty object is valid
//	8 and up {"f":"xxx…"}: one string member padded to the length
const (
	fillerHead = `{"f":"`
	fillerTail = `"}`
	// fillerMin is the shortest filler with a member.
	fillerMin = len(fillerHead) + len(fillerTail)
)

// fillerPad is the padding appendFiller copies from: bodies are at most
// 1 MiB (codec.MaxBody), so one shared run of 'x' serves every length
// without a loop per byte.
var fillerPad = func() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = 'x'
	}
	return b
}()

// appendFiller appends a JSON object of size bytes to dst (2 bytes when
// size is 1, see above).
func appendFiller(dst []byte, size int) []byte {
	switch {
	case size <= 0:
		return dst
	case size < fillerMin:
		dst = append(dst, '{')
		for range size - 2 {
			dst = append(dst, ' ')
		}
		return append(dst, '}')
	}
	dst = append(dst, fillerHead...)
	pad := size - fillerMin
	for pad > 0 {
		n := min(pad, len(fillerPad))
		dst = append(dst, fillerPad[:n]...)
		pad -= n
	}
	return append(dst, fillerTail...)
}

// fillerSize is the length appendFiller produces for size.
func fillerSize(size int) int {
	if size == 1 {
		return 2
	}
	return max(size, 0)
}
