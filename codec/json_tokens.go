package codec

import (
	"math/bits"
	"unsafe"
)

// jsonTokensMin is the shortest body the token path takes: the vector
// kernel reads whole 64-byte blocks, and where a partial last block would
// cross into the next page it reads the body's last 64 bytes instead.
const jsonTokensMin = 64

// jsonWindow is how many 64-byte blocks one kernel call turns into token
// bitmaps: 1 KiB of body, so a typical event takes one call, and the bitmaps
// (128 bytes) stay on the stack.
const jsonWindow = 16

// Token-path resume points, for when the walk needs the next window.
const (
	jsonAtBegin = iota
	jsonAtObjectStart
	jsonAtKey
	jsonAtColon
	jsonAtValue
	jsonAtArrayStart
	jsonAtNext
	jsonAtEnd
)

// jsonDelimiter marks the bytes that may follow a number or a literal: the
// ones that end a run of scalar bytes (whitespace, structurals, a quote).
var jsonDelimiter = [256]bool{' ': true, '\t': true, '\n': true, '\r': true,
	',': true, ':': true, '[': true, ']': true, '{': true, '}': true, '"': true}

// validJSONObjectTokens is ValidJSONObject for bodies of at least
// jsonTokensMin bytes, walking tokens rather than bytes.
//
// jsonTokenize marks, 64 bytes at a time, where each token starts:
// structurals outside strings, opening quotes and the first byte of each
// run of scalar bytes (numbers and literals). It also checks what lies
// inside strings (UTF-8, escapes, no control bytes), so a string is one
// token, whatever its length. The walk below then checks the grammar token
// by token; only numbers and literals are read byte by byte, and each must
// end exactly where its run of scalar bytes does (the byte after it is a
// delimiter).
//
// Why: the scalar path finds each string's end from the bytes just loaded,
// so every string puts a load, a mask and a bit scan on the critical path
// to the next token. Here token positions come from bitmaps built ahead
// with independent vector loads, and the walk only pops bits.
//
// Whitespace needs no token: every byte outside strings that is not
// whitespace starts a token or continues a scalar run, so anything else
// between two tokens is caught as a token in the wrong place. That
// includes a backslash, a control byte or a byte from 0x80 up outside
// strings.
func validJSONObjectTokens(b []byte) bool {
	n := len(b)
	p := unsafe.Pointer(unsafe.SliceData(b))
	var toks [jsonWindow]uint64
	var carry jsonTokenCarry
	var stack [MaxJSONDepth/64 + 1]uint64 // as in validJSONObjectScalar
	depth := 0
	closer := byte('}')
	blocks := (n + 63) / 64
	// toks[k:cnt] are the window's blocks not yet walked; the window
	// started at block from. tokens holds what is left of the block at
	// byte offset base.
	from, k, cnt := -jsonWindow, jsonWindow, jsonWindow
	base := -64
	var tokens uint64
	i := 0
	var c byte
	resume := jsonAtBegin
	goto nextWindow

	// Each state takes its next token with the same few lines: move to
	// the next block while this one has no token left, and leave for
	// nextWindow (which comes back through resume) when the window is
	// used up.

begin: // The first token, at b[i], must open the top-level object.
	if c != '{' {
		return false
	}
openObject: // b[i] is '{'.
	depth++
	if depth > MaxJSONDepth {
		return false
	}
	stack[uint(depth)/64%uint(len(stack))] |= 1 << (uint(depth) % 64)
	closer = '}'
	for tokens == 0 {
		if k == cnt {
			resume = jsonAtObjectStart
			goto nextWindow
		}
		tokens, base, k = toks[k], base+64, k+1
	}
objectStartToken:
	i = base + bits.TrailingZeros64(tokens)
	tokens &= tokens - 1
	c = jsonAt(p, i)
	if c == '"' {
		goto colon
	}
	if c == '}' {
		goto pop
	}
	return false

key: // An object key is expected.
	for tokens == 0 {
		if k == cnt {
			resume = jsonAtKey
			goto nextWindow
		}
		tokens, base, k = toks[k], base+64, k+1
	}
keyToken:
	i = base + bits.TrailingZeros64(tokens)
	tokens &= tokens - 1
	if jsonAt(p, i) != '"' {
		return false
	}

colon: // An object key was just opened.
	for tokens == 0 {
		if k == cnt {
			resume = jsonAtColon
			goto nextWindow
		}
		tokens, base, k = toks[k], base+64, k+1
	}
colonToken:
	i = base + bits.TrailingZeros64(tokens)
	tokens &= tokens - 1
	if jsonAt(p, i) != ':' {
		return false
	}

value: // A value is expected.
	for tokens == 0 {
		if k == cnt {
			resume = jsonAtValue
			goto nextWindow
		}
		tokens, base, k = toks[k], base+64, k+1
	}
valueToken:
	i = base + bits.TrailingZeros64(tokens)
	tokens &= tokens - 1
	c = jsonAt(p, i)
valueByte: // A value starts with c = b[i].
	switch c {
	case '"':
		goto next
	case '{':
		goto openObject
	case '[':
		depth++
		if depth > MaxJSONDepth {
			return false
		}
		stack[uint(depth)/64%uint(len(stack))] &^= 1 << (uint(depth) % 64)
		closer = ']'
		for tokens == 0 {
			if k == cnt {
				resume = jsonAtArrayStart
				goto nextWindow
			}
			tokens, base, k = toks[k], base+64, k+1
		}
		goto arrayStartToken
	case 't':
		if n-i < 4 || jsonLoad32(p, i) != jsonTrue || (n-i > 4 && !jsonDelimiter[jsonAt(p, i+4)]) {
			return false
		}
		goto next
	case 'f':
		if n-i < 5 || jsonLoad32(p, i+1) != jsonAlse || (n-i > 5 && !jsonDelimiter[jsonAt(p, i+5)]) {
			return false
		}
		goto next
	case 'n':
		if n-i < 4 || jsonLoad32(p, i) != jsonNull || (n-i > 4 && !jsonDelimiter[jsonAt(p, i+4)]) {
			return false
		}
		goto next
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
		// The same grammar as in validJSONObjectScalar, inline in both:
		// as a shared function it slowed both walkers
		// (BenchmarkValidJSONObject; bench/decisions/codec.md).
		if c == '-' {
			i++
			if i >= n {
				return false
			}
			c = jsonAt(p, i)
		}
		i++
		if c-'1' < 9 {
			i = jsonSkipDigits(p, i, n)
		} else if c != '0' {
			return false
		}
		if i < n && jsonAt(p, i) == '.' {
			i++
			if i >= n || jsonAt(p, i)-'0' >= 10 {
				return false
			}
			i = jsonSkipDigits(p, i+1, n)
		}
		if i < n && jsonAt(p, i)|0x20 == 'e' {
			i++
			if i < n && (jsonAt(p, i) == '+' || jsonAt(p, i) == '-') {
				i++
			}
			if i >= n || jsonAt(p, i)-'0' >= 10 {
				return false
			}
			i = jsonSkipDigits(p, i+1, n)
		}
		if i < n && !jsonDelimiter[jsonAt(p, i)] {
			return false
		}
		goto next
	}
	return false

arrayStartToken: // An array was just opened: a value or ']'.
	i = base + bits.TrailingZeros64(tokens)
	tokens &= tokens - 1
	c = jsonAt(p, i)
	if c != ']' {
		goto valueByte
	}
	goto pop

next: // A value just ended, inside a container.
	for tokens == 0 {
		if k == cnt {
			resume = jsonAtNext
			goto nextWindow
		}
		tokens, base, k = toks[k], base+64, k+1
	}
nextToken:
	i = base + bits.TrailingZeros64(tokens)
	tokens &= tokens - 1
	c = jsonAt(p, i)
	if c == ',' {
		if closer == '}' {
			goto key
		}
		goto value
	}
	if c != closer {
		return false
	}

pop: // The innermost container just closed.
	depth--
	if depth == 0 {
		// Only whitespace may follow: no token at all.
		if tokens != 0 {
			return false
		}
		resume = jsonAtEnd
		goto nextWindow
	}
	closer = ']'
	if stack[uint(depth)/64%uint(len(stack))]&(1<<(uint(depth)%64)) != 0 {
		closer = '}'
	}
	goto next

nextWindow: // Tokenize the next window and go back to resume.
	for tokens == 0 {
		if k == cnt {
			from += cnt
			if from >= blocks {
				return resume == jsonAtEnd
			}
			cnt, k = min(jsonWindow, blocks-from), 0
			if jsonTokenize(b, from, toks[:cnt], &carry) != jsonTokensOK {
				return false
			}
		}
		tokens, base, k = toks[k], base+64, k+1
	}
	switch resume {
	case jsonAtBegin:
		i = base + bits.TrailingZeros64(tokens)
		tokens &= tokens - 1
		c = jsonAt(p, i)
		goto begin
	case jsonAtObjectStart:
		goto objectStartToken
	case jsonAtKey:
		goto keyToken
	case jsonAtColon:
		goto colonToken
	case jsonAtValue:
		goto valueToken
	case jsonAtArrayStart:
		goto arrayStartToken
	case jsonAtNext:
		goto nextToken
	}
	return false // jsonAtEnd: a token after the top-level object
}

// jsonSkipDigits returns the index of the first byte at or after b[i] that
// is not an ASCII digit, or n = len(b); it reads b through p, eight bytes at
// a time while eight remain.
func jsonSkipDigits(p unsafe.Pointer, i, n int) int {
	for n-i >= 8 {
		// Per lane, x is the byte XOR '0' (0 to 9 for a digit), and bit 7
		// of m is set where x > 9: adding 0x76 to x's low seven bits
		// reaches 0x80 from 10 up, x's own bit 7 catches bytes from 0x80
		// up, and no lane can carry into the next.
		x := jsonLoad64(p, i) ^ jsonLSB*'0'
		m := ((x&^jsonMSB + jsonLSB*0x76) | x) & jsonMSB
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < n && jsonAt(p, i)-'0' < 10 {
		i++
	}
	return i
}
