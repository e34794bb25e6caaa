package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// The zstd frame layout (RFC 8878, section 3.1.1) that readFrame walks to
// find where a frame ends without decompressing it: a Reader then knows the
// offset and length of every frame, and tells a frame cut short (a
// truncated file) from a damaged one.
const (
	zstdMagic    = 0xFD2FB528
	zstdMaxBlock = 128 << 10 // Block_Maximum_Size

	fhdReserved = 1 << 3
	fhdChecksum = 1 << 2
	fhdSingle   = 1 << 5

	blockTypeRLE      = 1
	blockTypeReserved = 3
)

var (
	// errFrameCut: the input ends inside a frame.
	errFrameCut = errors.New("the input ends inside a zstd frame")
	// errNotZstd: a frame does not start with zstd's magic number.
	errNotZstd = errors.New("not a zstd frame")
	// errBadFrame: a frame a Writer cannot have made.
	errBadFrame = errors.New("malformed zstd frame")
)

// readFrame reads the next zstd frame's compressed bytes from src into
// buf[:0]. It returns io.EOF when src ends where a frame would start,
// errFrameCut when it ends inside one, errNotZstd when the next bytes are
// not a frame, errBadFrame for a frame that is not one a Writer makes (no
// content checksum, a dictionary, a reserved bit or block type), and src's
// own errors. The frame
// is read block by block, so buf grows only with bytes actually read, and
// never past maxFrameBytes.
func readFrame(src *bufio.Reader, buf []byte) ([]byte, error) {
	buf, err := readN(src, buf[:0], 4)
	if err != nil {
		if len(buf) == 0 && err == errFrameCut {
			return buf, io.EOF
		}
		return buf, err
	}
	if binary.LittleEndian.Uint32(buf) != zstdMagic {
		return buf, errNotZstd
	}
	if buf, err = readN(src, buf, 1); err != nil {
		return buf, err
	}
	fhd := buf[4]
	if fhd&fhdReserved != 0 {
		return buf, fmt.Errorf("%w: reserved bit set", errBadFrame)
	}
	if fhd&fhdChecksum == 0 {
		return buf, fmt.Errorf("%w: no content checksum", errBadFrame)
	}
	if fhd&3 != 0 {
		return buf, fmt.Errorf("%w: a dictionary", errBadFrame)
	}
	var rest int // window descriptor and frame content size
	if fhd&fhdSingle == 0 {
		rest++
	}
	switch fcs := fhd >> 6; {
	case fcs == 0 && fhd&fhdSingle != 0:
		rest++
	case fcs == 1:
		rest += 2
	case fcs == 2:
		rest += 4
	case fcs == 3:
		rest += 8
	}
	if buf, err = readN(src, buf, rest); err != nil {
		return buf, err
	}
	for {
		at := len(buf)
		if buf, err = readN(src, buf, 3); err != nil {
			return buf, err
		}
		head := uint32(buf[at]) | uint32(buf[at+1])<<8 | uint32(buf[at+2])<<16
		last, kind, size := head&1 != 0, (head>>1)&3, int(head>>3)
		if kind == blockTypeReserved {
			return buf, fmt.Errorf("%w: a block of the reserved type", errBadFrame)
		}
		if size > zstdMaxBlock {
			return buf, fmt.Errorf("%w: a block of %d bytes, over %d", errBadFrame, size, zstdMaxBlock)
		}
		if kind == blockTypeRLE {
			size = 1
		}
		if len(buf)+size > maxFrameBytes {
			return buf, fmt.Errorf("%w: over %d bytes", errBadFrame, maxFrameBytes)
		}
		if buf, err = readN(src, buf, size); err != nil {
			return buf, err
		}
		if last {
			break
		}
	}
	if buf, err = readN(src, buf, 4); err != nil { // the content checksum
		return buf, err
	}
	return buf, nil
}

// readN appends the next n bytes of src to buf; errFrameCut when src ends
// first.
func readN(src *bufio.Reader, buf []byte, n int) ([]byte, error) {
	buf = slices.Grow(buf, n)
	got, err := io.ReadFull(src, buf[len(buf):len(buf)+n])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = errFrameCut
	}
	return buf[:len(buf)+got], err
}
