package codec

import (
	"encoding/binary"
	"strconv"
	"unsafe"
)

// MaxJSONDepth is the deepest nesting of objects and arrays that
// ValidJSONObject accepts; the top-level object counts as level 1.
const MaxJSONDepth = 1000

// ValidJSONObject reports whether b is exactly one JSON object (RFC 8259),
// optionally surrounded by JSON whitespace (space, tab, LF, CR), and nothing
// else.
//
// Beyond the RFC 8259 grammar it requires:
//   - every byte sequence, inside strings too, to be valid UTF-8 (no overlong
//     forms, no UTF-8-encoded surrogates, nothing above U+10FFFF, no
//     truncated sequences);
//   - nesting no deeper than MaxJSONDepth.
//
// Escaped lone surrogates such as "\ud800" are accepted: the grammar allows
// them and encoding/json decodes them to U+FFFD. Duplicate keys are accepted.
//
// The scan is iterative with a fixed-size stack, so hostile input cannot
// exhaust the goroutine stack, and it never allocates.
//
// Two validators give the same verdict on every input (builds with the
// invariants tag check each token-path verdict against the scalar one):
// where a vector kernel runs (amd64 with AVX2), bodies of jsonTokensMin
// bytes or more take the token path (json_tokens.go); shorter ones, and
// every body elsewhere, take the scalar path (json_scalar.go).
func ValidJSONObject(b []byte) bool {
	if jsonUseTokenizer && len(b) >= jsonTokensMin {
		ok := validJSONObjectTokens(b)
		if Invariants && ok != validJSONObjectScalar(b) {
			panic("codec: the token and scalar JSON validators disagree on " + strconv.Quote(string(b)))
		}
		return ok
	}
	return validJSONObjectScalar(b)
}

// jsonAt returns b[i] without a bounds check; the caller guarantees i < len(b).
func jsonAt(p unsafe.Pointer, i int) byte {
	return *(*byte)(unsafe.Add(p, i))
}

// jsonLoad32 returns b[i:i+4] as a little-endian word; the caller guarantees
// len(b)-i >= 4.
func jsonLoad32(p unsafe.Pointer, i int) uint32 {
	return binary.LittleEndian.Uint32((*[4]byte)(unsafe.Add(p, i))[:])
}

// jsonLoad64 returns b[i:i+8] as a little-endian word (the first byte in the
// lowest lane, on any host); the caller guarantees len(b)-i >= 8.
func jsonLoad64(p unsafe.Pointer, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, i))[:])
}

// jsonSpaceMask has bit c set for each JSON whitespace byte c.
const jsonSpaceMask uint64 = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r'

// isJSONSpace reports whether c is JSON whitespace: space, tab, LF or CR.
func isJSONSpace(c byte) bool {
	return c <= ' ' && jsonSpaceMask>>c&1 != 0
}

// SWAR constants: one bit per byte lane.
const (
	jsonLSB = 0x0101010101010101
	jsonMSB = 0x8080808080808080
)

// jsonStringSpecials returns, for the eight string bytes in w (first byte in
// the lowest lane), a mask with bit 7 of a lane set where that byte is '"',
// '\\', a control character or non-ASCII. A borrow only ripples upwards
// out of a lane that truly matched, so the lowest set bit is always exact;
// bits above it may be spurious.
func jsonStringSpecials(w uint64) uint64 {
	q := w ^ (jsonLSB * '"')
	s := w ^ (jsonLSB * '\\')
	return (((q - jsonLSB) | (s - jsonLSB)) | ((w - jsonLSB*0x20) | w)) & jsonMSB
}

// Little-endian images of the literal words ("false" is checked past its 'f').
const (
	jsonTrue = uint32('t') | uint32('r')<<8 | uint32('u')<<16 | uint32('e')<<24
	jsonAlse = uint32('a') | uint32('l')<<8 | uint32('s')<<16 | uint32('e')<<24
	jsonNull = uint32('n') | uint32('u')<<8 | uint32('l')<<16 | uint32('l')<<24
)

// Escape classes for the byte after a backslash.
const (
	jsonEscBad = iota
	jsonEscSimple
	jsonEscUnicode
)

var (
	// jsonEscape classifies the byte after a backslash in a string.
	jsonEscape = [256]uint8{
		'"': jsonEscSimple, '\\': jsonEscSimple, '/': jsonEscSimple,
		'b': jsonEscSimple, 'f': jsonEscSimple, 'n': jsonEscSimple, 'r': jsonEscSimple, 't': jsonEscSimple,
		'u': jsonEscUnicode,
	}
	// jsonHex marks hexadecimal digits of either case.
	jsonHex = [256]bool{
		'0': true, '1': true, '2': true, '3': true, '4': true,
		'5': true, '6': true, '7': true, '8': true, '9': true,
		'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true,
		'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true,
	}
	// jsonStrPlain marks bytes that stand for themselves inside a string
	// and need no further checks: printable ASCII except '"' and '\\'.
	jsonStrPlain = func() (t [256]bool) {
		for c := 0x20; c < 0x80; c++ {
			t[c] = c != '"' && c != '\\'
		}
		return t
	}()
)
