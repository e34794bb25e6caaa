package peers

import (
	"bytes"
	"io"
)

// rbuf is a growable read buffer over a connection: the parsers take lines
// and fixed-size spans straight out of it, so a delivery costs no
// allocation. A slice it returns is valid until the next call.
type rbuf struct {
	b    []byte
	r, w int
	src  io.Reader
}

func newRbuf(src io.Reader) *rbuf {
	return &rbuf{b: make([]byte, clientBuf), src: src}
}

// fill reads once more from the source, making room first.
func (x *rbuf) fill() error {
	if x.r == x.w {
		x.r, x.w = 0, 0
	}
	if x.w == len(x.b) {
		if x.r > 0 {
			x.w = copy(x.b, x.b[x.r:x.w])
			x.r = 0
		} else {
			nb := make([]byte, 2*len(x.b))
			copy(nb, x.b[:x.w])
			x.b = nb
		}
	}
	n, err := x.src.Read(x.b[x.w:])
	x.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// need makes sure at least n unread bytes are buffered.
func (x *rbuf) need(n int) error {
	for x.w-x.r < n {
		if len(x.b)-x.r < n {
			// Not enough room after r: compact, and grow if still short.
			x.w = copy(x.b, x.b[x.r:x.w])
			x.r = 0
			if len(x.b) < n {
				sz := 2 * len(x.b)
				for sz < n {
					sz *= 2
				}
				nb := make([]byte, sz)
				copy(nb, x.b[:x.w])
				x.b = nb
			}
		}
		if err := x.fill(); err != nil {
			return err
		}
	}
	return nil
}

// line returns the next line without its LF (and without a CR before it),
// and consumes it.
func (x *rbuf) line() ([]byte, error) {
	scanned := 0
	for {
		if i := bytes.IndexByte(x.b[x.r+scanned:x.w], '\n'); i >= 0 {
			end := x.r + scanned + i
			l := x.b[x.r:end]
			x.r = end + 1
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
			return l, nil
		}
		scanned = x.w - x.r
		if err := x.fill(); err != nil {
			return nil, err
		}
	}
}

// take returns the next n bytes and consumes them.
func (x *rbuf) take(n int) ([]byte, error) {
	if err := x.need(n); err != nil {
		return nil, err
	}
	s := x.b[x.r : x.r+n]
	x.r += n
	return s, nil
}

// atoi parses a non-negative decimal; -1 when b is not one.
func atoi(b []byte) int {
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
