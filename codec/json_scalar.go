package codec

import (
	"math/bits"
	"unsafe"
)

// validJSONObjectScalar is ValidJSONObject one byte (or one word) at a time:
// a goto state machine over the grammar. It is the whole validator where
// no vector kernel runs, and takes the bodies too short for the kernel.
func validJSONObjectScalar(b []byte) bool {
	// Bytes are read through p without bounds checks: the gotos below
	// defeat the compiler's bounds-check elimination, and the checks show
	// in BenchmarkValidJSONObjectScalar (bench/decisions/codec.md).
	// Invariant: every jsonAt(p, i) is dominated by an explicit i < n
	// test, and every jsonLoad64(p, i) by n-i >= 8, on the same i.
	n := len(b)
	p := unsafe.Pointer(unsafe.SliceData(b))
	i := 0
	for i < n && isJSONSpace(jsonAt(p, i)) {
		i++
	}
	if i >= n || jsonAt(p, i) != '{' {
		return false
	}

	// stack holds one bit per open container, set for an object and clear
	// for an array; bit d describes the container at depth d (1-based).
	// closer is the byte that closes the innermost container.
	var stack [MaxJSONDepth/64 + 1]uint64
	depth := 0
	closer := byte('}')
	var c byte
	inKey := false
	goto openObject

value: // A value is expected at b[i], possibly after whitespace.
	if i >= n {
		return false
	}
	c = jsonAt(p, i)
	if c <= ' ' {
		// Usually the single space after ':' or ','.
		if c == ' ' {
			i++
			if i >= n {
				return false
			}
			c = jsonAt(p, i)
		}
		for isJSONSpace(c) {
			i++
			if i >= n {
				return false
			}
			c = jsonAt(p, i)
		}
	}
	switch c {
	case '"':
		// Inline fast path for short ASCII strings; anything else
		// continues at stringRest or stringSpecial.
		i++
		inKey = false
		for n-i >= 8 {
			m := jsonStringSpecials(jsonLoad64(p, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
			if jsonAt(p, i) == '"' {
				i++
				goto next
			}
			goto stringSpecial
		}
		goto stringRest
	case '{':
		goto openObject
	case '[':
		depth++
		if depth > MaxJSONDepth {
			return false
		}
		stack[uint(depth)/64%uint(len(stack))] &^= 1 << (uint(depth) % 64)
		closer = ']'
		i++
		for i < n && isJSONSpace(jsonAt(p, i)) {
			i++
		}
		if i >= n {
			return false
		}
		if jsonAt(p, i) == ']' {
			i++
			goto pop
		}
		goto value
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
		if c == '-' {
			i++
			if i >= n {
				return false
			}
			c = jsonAt(p, i)
		}
		i++
		if c-'1' < 9 {
			for i < n && jsonAt(p, i)-'0' < 10 {
				i++
			}
		} else if c != '0' {
			return false
		}
		if i < n && jsonAt(p, i) == '.' {
			i++
			if i >= n || jsonAt(p, i)-'0' >= 10 {
				return false
			}
			i++
			for i < n && jsonAt(p, i)-'0' < 10 {
				i++
			}
		}
		if i < n && jsonAt(p, i)|0x20 == 'e' {
			i++
			if i < n && (jsonAt(p, i) == '+' || jsonAt(p, i) == '-') {
				i++
			}
			if i >= n || jsonAt(p, i)-'0' >= 10 {
				return false
			}
			i++
			for i < n && jsonAt(p, i)-'0' < 10 {
				i++
			}
		}
		goto next
	case 't':
		if n-i < 4 || jsonLoad32(p, i) != jsonTrue {
			return false
		}
		i += 4
		goto next
	case 'f':
		if n-i < 5 || jsonLoad32(p, i+1) != jsonAlse {
			return false
		}
		i += 5
		goto next
	case 'n':
		if n-i < 4 || jsonLoad32(p, i) != jsonNull {
			return false
		}
		i += 4
		goto next
	}
	return false

openObject: // b[i] is '{'.
	depth++
	if depth > MaxJSONDepth {
		return false
	}
	stack[uint(depth)/64%uint(len(stack))] |= 1 << (uint(depth) % 64)
	closer = '}'
	i++
	for i < n && isJSONSpace(jsonAt(p, i)) {
		i++
	}
	if i >= n {
		return false
	}
	if jsonAt(p, i) == '}' {
		i++
		goto pop
	}

key: // An object key is expected exactly at b[i], and i < n.
	if jsonAt(p, i) != '"' {
		return false
	}
	i++
	inKey = true
	for n-i >= 8 {
		m := jsonStringSpecials(jsonLoad64(p, i))
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		if jsonAt(p, i) == '"' {
			i++
			goto colon
		}
		goto stringSpecial
	}
	goto stringRest

colon: // An object key just ended at b[i-1].
	if i < n && jsonAt(p, i) == ':' {
		i++
		goto value
	}
	for i < n && isJSONSpace(jsonAt(p, i)) {
		i++
	}
	if i >= n || jsonAt(p, i) != ':' {
		return false
	}
	i++
	goto value

next: // A value just ended at b[i-1], inside a container.
	if i >= n {
		return false
	}
	c = jsonAt(p, i)
	if c <= ' ' {
		for isJSONSpace(c) {
			i++
			if i >= n {
				return false
			}
			c = jsonAt(p, i)
		}
	}
	i++
	if c == ',' {
		if closer == ']' {
			goto value
		}
		if i < n && jsonAt(p, i) == ' ' {
			i++
		}
		for i < n && isJSONSpace(jsonAt(p, i)) {
			i++
		}
		if i >= n {
			return false
		}
		goto key
	}
	if c != closer {
		return false
	}

pop: // The innermost container just closed at b[i-1].
	depth--
	if depth == 0 {
		for i < n && isJSONSpace(jsonAt(p, i)) {
			i++
		}
		return i == n
	}
	closer = ']'
	if stack[uint(depth)/64%uint(len(stack))]&(1<<(uint(depth)%64)) != 0 {
		closer = '}'
	}
	goto next

	// The rest of a string, from b[i] inside it, for whatever the inline
	// fast paths above did not finish: long runs, escapes, non-ASCII, and
	// the last few bytes of the input. It lives here rather than in a
	// function because a call would make every register live across it
	// spill on the hot paths. inKey says where to go once it closes.
stringRest:
	// Eight bytes at a time until one of them is special.
	for n-i >= 8 {
		m := jsonStringSpecials(jsonLoad64(p, i))
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		goto stringSpecial
	}
	// Fewer than eight bytes left.
	for {
		if i >= n {
			return false
		}
		if !jsonStrPlain[jsonAt(p, i)] {
			break
		}
		i++
	}

stringSpecial: // b[i] is '"', '\\', a control character or non-ASCII; i < n.
	c = jsonAt(p, i)
	if c == '"' {
		i++
		if inKey {
			goto colon
		}
		goto next
	}
	if c == '\\' {
		if n-i < 2 {
			return false
		}
		switch jsonEscape[jsonAt(p, i+1)] {
		case jsonEscSimple:
			i += 2
		case jsonEscUnicode:
			if n-i < 6 ||
				!jsonHex[jsonAt(p, i+2)] || !jsonHex[jsonAt(p, i+3)] ||
				!jsonHex[jsonAt(p, i+4)] || !jsonHex[jsonAt(p, i+5)] {
				return false
			}
			i += 6
		default:
			return false
		}
		goto stringRest
	}
	if c < 0x80 {
		return false // a control character
	}
	// Non-ASCII: validate the whole run of multi-byte sequences before
	// going back to the word loop.
	for {
		switch {
		case c < 0xC2: // stray continuation byte, or overlong 2-byte lead
			return false
		case c < 0xE0:
			if n-i < 2 || jsonAt(p, i+1)&0xC0 != 0x80 {
				return false
			}
			i += 2
		case c < 0xF0:
			if n-i < 3 {
				return false
			}
			lo, hi := byte(0x80), byte(0xBF)
			if c == 0xE0 {
				lo = 0xA0 // below is overlong
			} else if c == 0xED {
				hi = 0x9F // above is a surrogate
			}
			if c1 := jsonAt(p, i+1); c1 < lo || c1 > hi || jsonAt(p, i+2)&0xC0 != 0x80 {
				return false
			}
			i += 3
		case c < 0xF5:
			if n-i < 4 {
				return false
			}
			lo, hi := byte(0x80), byte(0xBF)
			if c == 0xF0 {
				lo = 0x90 // below is overlong
			} else if c == 0xF4 {
				hi = 0x8F // above is beyond U+10FFFF
			}
			if c1 := jsonAt(p, i+1); c1 < lo || c1 > hi ||
				jsonAt(p, i+2)&0xC0 != 0x80 || jsonAt(p, i+3)&0xC0 != 0x80 {
				return false
			}
			i += 4
		default:
			return false
		}
		if i >= n {
			return false // unterminated
		}
		if c = jsonAt(p, i); c < 0x80 {
			break
		}
	}
	goto stringRest
}
