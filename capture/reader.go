package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
)

// ReaderOptions tunes a Reader; the zero value reads every file this
// package writes. It has no fields yet: the limits are the format's.
type ReaderOptions struct{}

// Reader reads a capture file record by record. It is not safe for
// concurrent use.
//
// Invariants: a chunk's records are yielded only once the whole chunk
// decoded with valid checksums and every record in it parsed; chunks holds
// the index of those chunks, and records, publishes and gaps their totals,
// for the footer to be checked against; once err is set every Next returns
// it.
type Reader struct {
	src      *bufio.Reader
	file     io.Closer // what Open opened, closed by Close
	dec      *zstd.Decoder
	frameSrc bytes.Reader
	frame    []byte // the compressed frame being read
	block    []byte // its block's payload and CRC
	head     [preambleBytes]byte

	header Header
	footer Footer
	ended  bool // the footer was read

	offset  int64 // of the next frame in the file
	chunks  []ChunkIndex
	records uint64
	pubs    uint64
	gaps    uint64
	latest  int64 // Last of the latest complete chunk

	recs    recordDecoder // the current chunk's records not yet yielded
	left    uint32
	scratch Record
	err     error
}

// NewReader reads and checks the header of the capture file r. Its errors
// match ErrNotCapture, ErrVersion (a *VersionError), ErrCorrupt or
// ErrTruncated, or are r's own.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	// One block at a time: no goroutines, and memory bounded by the
	// window, whatever a frame declares.
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(maxDecoderWindow),
		zstd.WithDecoderMaxMemory(maxDecoderWindow))
	if err != nil {
		return nil, fmt.Errorf("capture: zstd: %w", err)
	}
	rd := &Reader{src: bufio.NewReaderSize(r, 64<<10), dec: dec}
	if err := rd.readHeader(); err != nil {
		dec.Close()
		return nil, err
	}
	return rd, nil
}

// Open opens the capture file at path; Close closes it.
func Open(path string, opts ReaderOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rd, err := NewReader(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rd.file = f
	return rd, nil
}

// Header is the file's header.
func (rd *Reader) Header() Header { return rd.header }

// Footer is the file's footer, once Next has returned io.EOF.
func (rd *Reader) Footer() (Footer, bool) { return rd.footer, rd.ended }

// Chunks is how many complete chunks have been read.
func (rd *Reader) Chunks() int { return len(rd.chunks) }

// Close releases the decoder, and the file if Open opened it.
func (rd *Reader) Close() error {
	rd.dec.Close()
	if rd.file != nil {
		return rd.file.Close()
	}
	return nil
}

// Next reads the next record into r, replacing all its fields. r.Text and
// r.Body point into the Reader's buffers: they are valid until the next
// call to Next. It returns io.EOF after the footer, an error matching
// ErrTruncated when the file ends without one (every complete chunk was
// read by then), or one matching ErrCorrupt; then it returns the same error
// again.
func (rd *Reader) Next(r *Record) error {
	for rd.left == 0 {
		if rd.err != nil {
			return rd.err
		}
		rd.err = rd.nextChunk()
	}
	if err := rd.recs.next(r); err != nil {
		// nextChunk parsed every record already.
		rd.err = fmt.Errorf("%w: chunk %d: %v", ErrCorrupt, len(rd.chunks), err)
		return rd.err
	}
	rd.left--
	return nil
}

func (rd *Reader) readHeader() error {
	frame, err := readFrame(rd.src, rd.frame)
	rd.frame = frame
	switch {
	case err == io.EOF:
		return fmt.Errorf("%w: the file is empty", ErrTruncated)
	case errors.Is(err, errNotZstd), err == errFrameCut && len(frame) < 4 && !isZstdMagicPrefix(frame):
		return fmt.Errorf("%w: not a zstd stream", ErrNotCapture)
	case err == errFrameCut:
		return fmt.Errorf("%w: cut short inside its header", ErrTruncated)
	case errors.Is(err, errBadFrame):
		// Every frame a Writer makes has a checksum and no
		// dictionary: this zstd stream came from elsewhere.
		return fmt.Errorf("%w: a zstd stream of something else (%v)", ErrNotCapture, err)
	case err != nil:
		return fmt.Errorf("capture: reading: %w", err)
	}
	rd.offset = int64(len(frame))
	rd.startFrame()
	n, err := io.ReadFull(rd.dec, rd.head[:preambleBytes])
	if m := min(n, len(magic)); string(rd.head[:m]) != magic[:m] ||
		(err == io.EOF || err == io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: a zstd stream of something else", ErrNotCapture)
	}
	if err != nil {
		return fmt.Errorf("%w: header: zstd: %v", ErrCorrupt, err)
	}
	version := int(binary.LittleEndian.Uint16(rd.head[len(magic):]))
	if version == 0 {
		return fmt.Errorf("%w: format version 0", ErrCorrupt)
	}
	if version > Version {
		// The version counts only if the frame is intact: a damaged
		// one is corrupt, not new. Its checksum is checked at its end.
		if _, err := io.CopyN(io.Discard, rd.dec, maxFrameBytes); err != io.EOF {
			return fmt.Errorf("%w: header of version %d: zstd: %v", ErrCorrupt, version, err)
		}
		return &VersionError{Version: version}
	}
	tag, payload, err := rd.readBlock()
	if err == nil && tag != blockHeader {
		err = fmt.Errorf("a %q block where the header belongs", tag)
	}
	if err == nil {
		err = json.Unmarshal(payload, &rd.header)
	}
	if err == nil && rd.header.Version != version {
		err = fmt.Errorf("version %d in a file of version %d", rd.header.Version, version)
	}
	if err == nil && rd.header.Payload != PayloadFull && rd.header.Payload != PayloadShape {
		err = fmt.Errorf("payload mode %d unknown", rd.header.Payload)
	}
	if err != nil {
		return fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	rd.recs.payload = rd.header.Payload
	return nil
}

func isZstdMagicPrefix(b []byte) bool {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], zstdMagic)
	return bytes.HasPrefix(m[:], b)
}

// startFrame points the decoder at the frame just read.
func (rd *Reader) startFrame() {
	rd.frameSrc.Reset(rd.frame)
	// Reset fails only on a closed decoder; its Read then reports it.
	_ = rd.dec.Reset(&rd.frameSrc)
}

// readBlock decodes the frame's one block, checking its length against its
// type's limit before reading it, that the frame ends with it (which checks
// the frame's content checksum), and its CRC.
func (rd *Reader) readBlock() (tag byte, payload []byte, err error) {
	if _, err := io.ReadFull(rd.dec, rd.head[:blockHeadBytes]); err != nil {
		return 0, nil, fmt.Errorf("block head: %w", zstdError(err))
	}
	tag = rd.head[0]
	size := int64(binary.LittleEndian.Uint32(rd.head[1:]))
	limit := blockLimit(tag)
	if limit == 0 {
		return 0, nil, fmt.Errorf("block type %q unknown", tag)
	}
	if size > int64(limit) {
		return 0, nil, fmt.Errorf("%q block of %d bytes, over %d", tag, size, limit)
	}
	rd.block, err = readGrow(rd.dec, rd.block, int(size)+crcBytes)
	if err != nil {
		return 0, nil, fmt.Errorf("%q block: %w", tag, zstdError(err))
	}
	if _, err := io.ReadFull(rd.dec, rd.head[:1]); err != io.EOF {
		if err == nil {
			return 0, nil, errors.New("data after the block in its frame")
		}
		return 0, nil, fmt.Errorf("frame end: %w", zstdError(err))
	}
	payload = rd.block[:size]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(rd.block[size:]) {
		return 0, nil, fmt.Errorf("%q block: CRC-32C mismatch", tag)
	}
	return tag, payload, nil
}

// zstdError names the end of a complete frame's content where more was
// due.
func zstdError(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("the frame's content ends early")
	}
	return fmt.Errorf("zstd: %w", err)
}

// readGrow reads n bytes of r into buf[:0], growing buf only as bytes
// arrive, so that a length no data backs costs no memory.
func readGrow(r io.Reader, buf []byte, n int) ([]byte, error) {
	buf = buf[:0]
	for len(buf) < n {
		step := min(n-len(buf), max(cap(buf)-len(buf), 64<<10))
		buf = slices.Grow(buf, step)
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+step])
		buf = buf[:len(buf)+got]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// nextChunk reads the next frame: a chunk, whose records it checks and
// makes current, or the footer (io.EOF).
func (rd *Reader) nextChunk() error {
	frame, err := readFrame(rd.src, rd.frame)
	rd.frame = frame
	switch {
	case err == io.EOF, err == errFrameCut:
		return rd.truncated()
	case errors.Is(err, errNotZstd), errors.Is(err, errBadFrame):
		return fmt.Errorf("%w: frame at offset %d: %v", ErrCorrupt, rd.offset, err)
	case err != nil:
		return fmt.Errorf("capture: reading: %w", err)
	}
	offset := rd.offset
	rd.offset += int64(len(frame))
	rd.startFrame()
	tag, payload, err := rd.readBlock()
	if err != nil {
		return fmt.Errorf("%w: frame at offset %d: %v", ErrCorrupt, offset, err)
	}
	switch tag {
	case blockChunk:
		if err := rd.takeChunk(payload, offset, int64(len(frame))); err != nil {
			return fmt.Errorf("%w: chunk %d at offset %d: %v", ErrCorrupt, len(rd.chunks)+1, offset, err)
		}
		return nil
	case blockFooter:
		if err := rd.takeFooter(payload); err != nil {
			if rerr, ok := err.(*readError); ok {
				return fmt.Errorf("capture: reading: %w", rerr.err)
			}
			return fmt.Errorf("%w: footer at offset %d: %v", ErrCorrupt, offset, err)
		}
		return io.EOF
	}
	return fmt.Errorf("%w: a %q block at offset %d", ErrCorrupt, tag, offset)
}

// truncated describes a file that ends without its footer.
func (rd *Reader) truncated() error {
	if len(rd.chunks) == 0 {
		return fmt.Errorf("%w: cut short before its first complete chunk", ErrTruncated)
	}
	return fmt.Errorf("%w: cut short after %d complete chunks, at %v into the capture",
		ErrTruncated, len(rd.chunks), time.Duration(rd.latest))
}

// takeChunk parses every record of a chunk payload before making them
// current, so that a damaged chunk yields none.
func (rd *Reader) takeChunk(payload []byte, offset, length int64) error {
	if len(payload) < chunkHeadBytes {
		return fmt.Errorf("%d bytes, shorter than its head", len(payload))
	}
	count := binary.LittleEndian.Uint32(payload)
	first := int64(binary.LittleEndian.Uint64(payload[4:]))
	last := int64(binary.LittleEndian.Uint64(payload[12:]))
	switch {
	case count == 0:
		return errors.New("no records")
	case last < first:
		return errors.New("its last time is before its first")
	case len(rd.chunks) > 0 && first < rd.latest:
		return errors.New("its first time is before the previous chunk's last")
	}
	check := recordDecoder{src: payload[chunkHeadBytes:], prev: first, payload: rd.header.Payload}
	var pubs, gaps uint64
	for i := range count {
		if err := check.next(&rd.scratch); err != nil {
			return fmt.Errorf("record %d: %v", i+1, err)
		}
		switch rd.scratch.Kind {
		case KindPub:
			pubs++
		case KindGap:
			gaps += rd.scratch.Count
		}
	}
	if len(check.src) != 0 {
		return fmt.Errorf("%d bytes after its last record", len(check.src))
	}
	if check.prev != last {
		return errors.New("its last record's time is not its last time")
	}
	rd.scratch = Record{}
	rd.chunks = append(rd.chunks, ChunkIndex{Offset: offset, Length: length, Records: count, First: first, Last: last})
	rd.records += uint64(count)
	rd.pubs += pubs
	rd.gaps += gaps
	rd.latest = last
	rd.recs = recordDecoder{src: payload[chunkHeadBytes:], prev: first, payload: rd.header.Payload}
	rd.left = count
	return nil
}

// readError is an error of the underlying reader, not of the file.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

// takeFooter checks the footer against the chunks read, and that nothing
// follows it.
func (rd *Reader) takeFooter(payload []byte) error {
	var f Footer
	if err := json.Unmarshal(payload, &f); err != nil {
		return err
	}
	switch {
	case len(f.Chunks) != len(rd.chunks):
		return fmt.Errorf("it indexes %d chunks, the file holds %d", len(f.Chunks), len(rd.chunks))
	case !slices.Equal(f.Chunks, rd.chunks):
		return errors.New("its chunk index disagrees with the chunks")
	case f.Records != rd.records, f.Publishes != rd.pubs, f.RecorderDrops != rd.gaps:
		return errors.New("its totals disagree with the records")
	case len(f.Reason) > MaxReason:
		return fmt.Errorf("a reason of %d bytes, over %d", len(f.Reason), MaxReason)
	case len(rd.chunks) > 0 && f.End < rd.latest:
		return errors.New("its end is before the last record")
	}
	if _, err := rd.src.ReadByte(); err != io.EOF {
		if err == nil {
			return errors.New("data after it")
		}
		return &readError{err}
	}
	rd.footer = f
	rd.ended = true
	return nil
}
