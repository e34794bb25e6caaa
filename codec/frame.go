package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Errors of the frame layer. Each one means the frame is hostile and the
// connection that sent it must be closed; they are sentinels so that the
// error path allocates nothing.
var (
	ErrEmptyHeader   = errors.New("empty frame header")
	ErrHeaderTooLong = errors.New("frame header longer than 4096 bytes")
	ErrNotASCII      = errors.New("frame header is not ASCII")
	ErrUnknownVerb   = errors.New("unknown verb")
	ErrBodyTooLarge  = errors.New("frame body longer than 1 MiB")
)

// Frame is one decoded frame.
//
// Args and Body alias the buffer given to Decode: they are valid only until
// that buffer is reused or discarded (for the engine: until OnTraffic
// returns). Copy anything that must outlive it.
type Frame struct {
	Verb Verb
	Args []byte
	Body []byte
}

// Decode decodes the frame at the start of buf into f and returns the
// number of bytes it spans.
//
// When buf holds only part of a frame, n is 0 and need is the total number
// of bytes the frame needs, or 0 when that is not known yet (the header's LF
// has not arrived). A non-nil error means the stream is hostile; n and need
// are then zero. f is the zero Frame whenever n is 0, so a frame left from
// an earlier call never shows through a partial or hostile one.
//
// f.Args and f.Body alias buf (zero-copy): they stay valid until buf is
// reused or discarded.
//
// Why f is filled in place rather than returned: a read loop decodes every
// frame into one Frame. A Frame returned by value (56 bytes, too big for
// registers) goes through a stack temporary copied in 16-byte moves that
// straddle the stores just made, which stalls store forwarding on every
// frame (engine's BenchmarkFanOut shows it).
func (f *Frame) Decode(buf []byte) (n, need int, err error) {
	*f = Frame{}
	window := buf
	if len(window) > MaxHeader {
		window = window[:MaxHeader]
	}
	lf := bytes.IndexByte(window, '\n')
	if lf < 0 {
		// Refuse early: no LF can make a non-ASCII header valid. Checked
		// first, within the window, so that the verdict does not depend on
		// how much of the stream has arrived.
		if !isASCII(window) {
			return 0, 0, ErrNotASCII
		}
		if len(buf) >= MaxHeader {
			return 0, 0, ErrHeaderTooLong
		}
		return 0, 0, nil
	}
	line := buf[:lf]
	if !isASCII(line) {
		return 0, 0, ErrNotASCII
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) == 0 {
		return 0, 0, ErrEmptyHeader
	}
	verbTok, args := line, line[:0]
	if sp := bytes.IndexByte(line, ' '); sp >= 0 {
		verbTok, args = line[:sp], trimSpace(line[sp+1:])
	}
	verb := parseVerb(verbTok)
	if verb == VerbNone {
		return 0, 0, ErrUnknownVerb
	}
	headerLen := lf + 1
	if len(buf) < headerLen+lengthSize {
		return 0, headerLen + lengthSize, nil
	}
	bodyLen := binary.BigEndian.Uint32(buf[headerLen:])
	if bodyLen > MaxBody {
		return 0, 0, ErrBodyTooLarge
	}
	total := headerLen + lengthSize + int(bodyLen)
	if len(buf) < total {
		return 0, total, nil
	}
	f.Verb, f.Args, f.Body = verb, args, buf[headerLen+lengthSize:total]
	return total, 0, nil
}

// isASCII reports whether every byte is below 0x80, eight bytes at a time.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// trimSpace trims ASCII whitespace like Python's bytes.strip(): space, \t,
// \n, \r, \v and \f.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}
