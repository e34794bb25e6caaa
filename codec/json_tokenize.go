package codec

import "unicode/utf8"

// jsonTokenCarry is what tokenizing one window leaves for the next. The
// kernels read and write the first five fields at fixed offsets (0, 8, 16,
// 24, 32): keep them first and in this order.
type jsonTokenCarry struct {
	// inString is all ones when the last byte tokenized was inside a
	// string (an opening quote or after it), else zero.
	inString uint64
	// inScalar is 1 when the last byte tokenized was a scalar byte.
	inScalar uint64
	// escaped is 1 when the next byte is escaped: the bytes tokenized end
	// in an odd run of backslashes.
	escaped uint64
	// hexPending has bit j set when byte j of the next block must be a
	// hexadecimal digit (the rest of a \u escape).
	hexPending uint64
	// prev holds the last 32 bytes tokenized, zero before the first: the
	// vector kernels' UTF-8 context.
	prev [32]byte

	// The reference tokenizer's UTF-8 state: how many continuation bytes
	// the sequence in progress still needs, and the range of the next.
	utf8Need         int
	utf8Low, utf8Top byte
}

// What jsonTokenize reports about a window.
const (
	// jsonTokensOK: nothing wrong found; the bitmaps are good to walk.
	jsonTokensOK = iota
	// jsonTokensInvalid: the body is not a JSON object: a control byte
	// inside a string or outside one that is not whitespace, a backslash
	// followed by anything but " \ / b f n r t u, a \u not followed by
	// four hexadecimal digits, or a byte sequence that is not UTF-8 (see
	// jsonTokenizeGeneric for when each is reported).
	jsonTokensInvalid
)

// jsonTokenizeGeneric is jsonTokenize one byte at a time: the reference that
// the vector kernels are tested against, and the tokenizer where there is
// none.
//
// For each block k of dst, it sets in dst[k] bit j when byte
// 64*(from+k)+j of b starts a token: a structural ({ } [ ] : ,) outside a
// string, an opening quote, or the first of a run of scalar bytes (bytes
// outside strings that are none of those, whitespace or a quote). A quote
// after an odd run of backslashes is escaped: it is a scalar byte outside
// strings and opens or closes nothing. Bytes past the end of b count as
// spaces. carry links the windows.
//
// The errors of jsonTokensInvalid are searched for wherever they are, in
// strings or not: outside strings a backslash, a control byte or a byte from
// 0x80 up makes the body invalid anyway. A UTF-8 error may be reported one
// window late (the kernels see a bad lead byte at the byte after it), and a
// sequence left unfinished by the last byte of the body is not reported at
// all: the walk reads every window to the end of the body and stops at the
// first invalid one, and a body must end with '}' and whitespace, so the
// verdict is the same.
//
// The vector kernels find structurals as the bytes whose value ORed with
// 0x20 is one of "{}:,", which also takes in the control bytes 0x0c and
// 0x1a; those are invalid anyway, and this reference classifies the same
// way so that the two agree bit for bit.
func jsonTokenizeGeneric(b []byte, from int, dst []uint64, carry *jsonTokenCarry) int {
	invalid := false
	inString, inScalar := carry.inString != 0, carry.inScalar != 0
	escaped := carry.escaped != 0
	hexLeft := 0 // hex digits the \u escape in progress still needs
	for pending := carry.hexPending; pending&1 != 0; pending >>= 1 {
		hexLeft++
	}
	for k := range dst {
		var tokens uint64
		for j := range 64 {
			pos := 64*(from+k) + j
			c := byte(' ')
			if pos < len(b) {
				c = b[pos]
			}
			if !jsonUTF8Step(carry, c) {
				invalid = true
			}
			// Escapes: a byte after an odd run of backslashes.
			isEscaped := escaped
			escaped = c == '\\' && !isEscaped
			if hexLeft > 0 {
				hexLeft--
				if !jsonHex[c] {
					invalid = true
				}
			}
			if isEscaped && c != '\\' {
				if jsonEscape[c] == jsonEscBad {
					invalid = true
				}
				if c == 'u' {
					hexLeft = 4
				}
			}
			if c < 0x20 && (inString || !isJSONSpace(c)) {
				invalid = true
			}
			structural := c|0x20 == '{' || c|0x20 == '}' || c|0x20 == ':' || c|0x20 == ','
			switch {
			case c == '"' && !isEscaped:
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
	carry.inString, carry.inScalar, carry.escaped, carry.hexPending = 0, 0, 0, 0
	if inString {
		carry.inString = ^uint64(0)
	}
	if inScalar {
		carry.inScalar = 1
	}
	if escaped {
		carry.escaped = 1
	}
	carry.hexPending = 1<<hexLeft - 1
	if invalid {
		return jsonTokensInvalid
	}
	return jsonTokensOK
}

// jsonUTF8Step feeds c to the UTF-8 decoder in carry and reports whether it
// can stand where it is.
func jsonUTF8Step(carry *jsonTokenCarry, c byte) bool {
	if carry.utf8Need > 0 {
		if c < carry.utf8Low || c > carry.utf8Top {
			carry.utf8Need = 0
			return false
		}
		carry.utf8Need--
		carry.utf8Low, carry.utf8Top = 0x80, 0xBF
		return true
	}
	if c < utf8.RuneSelf {
		return true
	}
	carry.utf8Low, carry.utf8Top = 0x80, 0xBF
	switch {
	case c >= 0xC2 && c <= 0xDF:
		carry.utf8Need = 1
	case c == 0xE0:
		carry.utf8Need, carry.utf8Low = 2, 0xA0 // below is overlong
	case c >= 0xE1 && c <= 0xEF:
		carry.utf8Need = 2
		if c == 0xED {
			carry.utf8Top = 0x9F // above is a surrogate
		}
	case c == 0xF0:
		carry.utf8Need, carry.utf8Low = 3, 0x90 // below is overlong
	case c >= 0xF1 && c <= 0xF4:
		carry.utf8Need = 3
		if c == 0xF4 {
			carry.utf8Top = 0x8F // above is beyond U+10FFFF
		}
	default: // a continuation byte, or a lead byte no sequence starts with
		return false
	}
	return true
}
