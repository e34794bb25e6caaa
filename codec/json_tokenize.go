package codec

// jsonTokenCarry is what tokenizing one window leaves for the next.
type jsonTokenCarry struct {
	// inString is all ones when the last byte tokenized was inside a
	// string (an opening quote or after it), else zero.
	inString uint64
	// inScalar is 1 when the last byte tokenized was a scalar byte.
	inScalar uint64
}

// What jsonTokenize reports about a window.
const (
	// jsonTokensOK: the bitmaps are good to walk.
	jsonTokensOK = iota
	// jsonTokensScalar: a backslash or a non-ASCII byte; only the scalar
	// path validates escapes and UTF-8.
	jsonTokensScalar
	// jsonTokensInvalid: a control byte inside a string, or a control
	// byte other than whitespace anywhere. Returned only when there is no
	// reason for jsonTokensScalar.
	jsonTokensInvalid
)

// jsonTokenizeGeneric is jsonTokenize one byte at a time: the reference
// that the vector kernels are tested against, and the tokenizer where
// there is none.
//
// For each block k of dst, it sets in dst[k] bit j when byte
// 64*(from+k)+j of b starts a token: a structural ({ } [ ] : ,) outside a
// string, an opening quote, or the first of a run of scalar bytes (bytes
// outside strings that are none of those, whitespace or a quote). Bytes
// past the end of b count as whitespace. carry links the windows.
//
// Its result is jsonTokensScalar when a byte of the window is a backslash
// or non-ASCII and also, when the window holds b's partial last block, when
// one of the last 64 bytes of b is: the kernels read that block as the last
// 64 bytes of b. Either way the byte is in the body, which is what the
// scalar path needs to know. With that result, dst and carry mean nothing
// (the kernels stop at the first block that gives it).
//
// The vector kernels find structurals as the bytes whose value ORed with
// 0x20 is one of "{}:,", which also takes in the control bytes 0x0c and
// 0x1a; those make the window jsonTokensInvalid anyway, and this reference
// classifies the same way so that the two agree bit for bit.
func jsonTokenizeGeneric(b []byte, from int, dst []uint64, carry *jsonTokenCarry) int {
	scalar, invalid := false, false
	inString, inScalar := carry.inString != 0, carry.inScalar != 0
	for k := range dst {
		var tokens uint64
		for j := range 64 {
			pos := 64*(from+k) + j
			c := byte(' ')
			if pos < len(b) {
				c = b[pos]
			}
			if c == '\\' || c >= 0x80 {
				scalar = true
			}
			if c < 0x20 && (inString || !isJSONSpace(c)) {
				invalid = true
			}
			structural := c|0x20 == '{' || c|0x20 == '}' || c|0x20 == ':' || c|0x20 == ','
			switch {
			case c == '"':
				if !inString {
					tokens |= 1 << j
				}
				inString = !inString
				inScalar = false
			case inString:
			case structural:
				tokens |= 1 << j
				inScalar = false
			case isJSONSpace(c):
				inScalar = false
			default:
				if !inScalar {
					tokens |= 1 << j
				}
				inScalar = true
			}
		}
		dst[k] = tokens
	}
	if end := 64 * (from + len(dst)); end > len(b) {
		for _, c := range b[max(len(b)-64, 0):] {
			if c == '\\' || c >= 0x80 {
				scalar = true
			}
		}
	}
	carry.inString, carry.inScalar = 0, 0
	if inString {
		carry.inString = ^uint64(0)
	}
	if inScalar {
		carry.inScalar = 1
	}
	switch {
	case scalar:
		return jsonTokensScalar
	case invalid:
		return jsonTokensInvalid
	}
	return jsonTokensOK
}
