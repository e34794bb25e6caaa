package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
)

// WriterOptions tunes a Writer; the zero value takes the defaults.
type WriterOptions struct {
	// ChunkBytes: a chunk is cut once its encoded records reach this
	// many bytes (uncompressed). Default DefaultChunkBytes, at most
	// MaxChunkBytes.
	ChunkBytes int
	// ChunkAge: a chunk whose first record is this much record Time
	// older than a new record is cut before that record, and Tick cuts
	// it once it is this old. Bounds what a crash loses. Default one
	// second.
	ChunkAge time.Duration
	// Level is the zstd level; default zstd.SpeedDefault.
	Level zstd.EncoderLevel
}

// Writer writes one capture file. It is not safe for concurrent use.
//
// Invariants: the header frame is written by NewWriter; chunk holds the
// unwritten chunk block (its head reserved, count records appended,
// first..last their Times); every record's Time is at least latest, the
// Time of the record before it in the file (Append clamps it up); once err
// is set nothing more reaches the underlying writer.
type Writer struct {
	dst        io.Writer
	enc        *zstd.Encoder
	payload    Payload
	chunkBytes int
	chunkAge   uint64

	chunk       []byte // the chunk block being built
	frame       []byte // the compressed frame being written
	count       uint32 // records in chunk
	first, last int64  // their first and last Time
	latest      int64  // Time of the file's latest record
	anyRecord   bool
	maxChunks   int // MaxChunks; lowered by tests

	size   int64 // compressed bytes written
	footer Footer
	drops  dropTally
	err    error // sticky: a write failed, or the writer is closed
}

// NewWriter starts a capture file on w: it writes the header frame at once,
// with h.Version set to Version. It does not close w.
func NewWriter(w io.Writer, h Header, opts WriterOptions) (*Writer, error) {
	if h.Payload != PayloadFull && h.Payload != PayloadShape {
		return nil, fmt.Errorf("capture: payload mode %d unknown", h.Payload)
	}
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = DefaultChunkBytes
	}
	if opts.ChunkBytes > MaxChunkBytes {
		return nil, fmt.Errorf("capture: chunk size %d over %d", opts.ChunkBytes, MaxChunkBytes)
	}
	if opts.ChunkAge <= 0 {
		opts.ChunkAge = DefaultChunkAge
	}
	if opts.Level == 0 {
		opts.Level = zstd.SpeedDefault
	}
	h.Version = Version
	header, err := marshalJSON(h)
	if err != nil {
		return nil, fmt.Errorf("capture: header: %w", err)
	}
	if len(header) > MaxHeaderBlock {
		return nil, fmt.Errorf("capture: header of %d bytes, over %d", len(header), MaxHeaderBlock)
	}
	// One encoder, reused by every EncodeAll: with a destination of
	// enough capacity it then encodes without allocating.
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(opts.Level),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(encoderWindow),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return nil, fmt.Errorf("capture: zstd: %w", err)
	}
	cw := &Writer{
		dst:        w,
		enc:        enc,
		payload:    h.Payload,
		chunkBytes: opts.ChunkBytes,
		chunkAge:   uint64(opts.ChunkAge),
		maxChunks:  MaxChunks,
	}
	block := appendPreamble(make([]byte, 0, preambleBytes+blockHeadBytes+len(header)+crcBytes))
	block = appendBlockHead(block, blockHeader)
	block = append(block, header...)
	block = sealBlock(block, preambleBytes)
	if err := cw.writeFrame(block); err != nil {
		enc.Close()
		return nil, err
	}
	cw.resetChunk()
	return cw, nil
}

// Append adds r to the current chunk, copying its Text and Body. A Time
// smaller than the previous record's is raised to it, so the file stays in
// order whatever clock hands it records. In PayloadShape mode Body is not
// kept, only Size; in PayloadFull mode Size is len(Body). A record that
// breaks the limits (MaxText, MaxBody) is refused with an error and nothing
// written; so is any record once the file holds MaxChunks chunks (ErrFull).
func (w *Writer) Append(r *Record) error {
	if w.err != nil {
		return w.err
	}
	if err := checkRecord(r, w.payload); err != nil {
		return err
	}
	t := r.Time
	if w.anyRecord && t < w.latest {
		t = w.latest
	}
	if w.count > 0 && uint64(t)-uint64(w.first) >= w.chunkAge {
		if err := w.cut(); err != nil {
			return err
		}
	}
	if w.count == 0 {
		if len(w.footer.Chunks) >= w.maxChunks {
			return ErrFull
		}
		w.first = t
		w.last = t
	}
	w.chunk = appendRecord(w.chunk, r, uint64(t)-uint64(w.last), w.payload)
	w.count++
	w.last = t
	w.latest = t
	w.anyRecord = true
	w.tally(r)
	if len(w.chunk)-blockHeadBytes-chunkHeadBytes >= w.chunkBytes {
		return w.cut()
	}
	return nil
}

// tally counts r into the footer's totals.
func (w *Writer) tally(r *Record) {
	w.footer.Records++
	switch r.Kind {
	case KindPub:
		w.footer.Publishes++
	case KindGap:
		w.footer.RecorderDrops += r.Count
	case KindOpen:
		w.drops.opened(r.Conn)
	case KindOut:
		w.drops.sample(r.Conn, r.Drops)
	case KindClose:
		w.drops.closing(r.Conn, r.Drops)
	}
}

// Flush writes the current chunk, if it holds any record: a crash after
// Flush returns loses nothing appended before it.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.count == 0 {
		return nil
	}
	return w.cut()
}

// Tick writes the current chunk if its first record is ChunkAge or more
// before now (a record Time), so that records stop waiting in memory when
// the capture falls quiet.
func (w *Writer) Tick(now int64) error {
	if w.err != nil {
		return w.err
	}
	if w.count == 0 || now < w.first || uint64(now)-uint64(w.first) < w.chunkAge {
		return nil
	}
	return w.cut()
}

// Size is the compressed bytes written so far, the file's length.
func (w *Writer) Size() int64 { return w.size }

// Buffered is the uncompressed bytes of records waiting in the current
// chunk.
func (w *Writer) Buffered() int {
	return len(w.chunk) - blockHeadBytes - chunkHeadBytes
}

// Close writes the current chunk and the footer: end is the Time the file
// ends (raised to the last record's), reason why it ends (cut to
// MaxReason bytes). It does not close the underlying writer.
func (w *Writer) Close(end int64, reason string) error {
	if w.err != nil {
		return w.err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	defer w.enc.Close()
	if w.anyRecord && end < w.latest {
		end = w.latest
	}
	w.footer.End = end
	w.footer.Reason = cutReason(reason)
	w.footer.DaemonDrops = w.drops.total()
	footer, err := marshalJSON(&w.footer)
	if err != nil {
		return fmt.Errorf("capture: footer: %w", err)
	}
	block := appendBlockHead(w.chunk[:0], blockFooter)
	block = append(block, footer...)
	w.chunk = sealBlock(block, 0)
	if err := w.writeFrame(w.chunk); err != nil {
		return err
	}
	w.err = errClosed
	return nil
}

// marshalJSON is json.Marshal without its HTML escapes, so that topics and
// patterns read as they are in zstdcat's output.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// cutReason makes reason valid UTF-8 (so that JSON keeps it byte for byte)
// and at most MaxReason bytes, cut at a rune's start.
func cutReason(reason string) string {
	reason = strings.ToValidUTF8(reason, "\uFFFD")
	if len(reason) <= MaxReason {
		return reason
	}
	n := MaxReason
	for n > 0 && !utf8.RuneStart(reason[n]) {
		n--
	}
	return reason[:n]
}

// resetChunk empties the chunk, reserving its block and chunk heads.
func (w *Writer) resetChunk() {
	w.chunk = appendBlockHead(w.chunk[:0], blockChunk)
	w.chunk = append(w.chunk, make([]byte, chunkHeadBytes)...)
	w.count = 0
}

// cut writes the current chunk as one frame and indexes it.
func (w *Writer) cut() error {
	head := w.chunk[blockHeadBytes:]
	binary.LittleEndian.PutUint32(head, w.count)
	binary.LittleEndian.PutUint64(head[4:], uint64(w.first))
	binary.LittleEndian.PutUint64(head[12:], uint64(w.last))
	w.chunk = sealBlock(w.chunk, 0)
	offset := w.size
	if err := w.writeFrame(w.chunk); err != nil {
		return err
	}
	w.footer.Chunks = append(w.footer.Chunks, ChunkIndex{
		Offset:  offset,
		Length:  w.size - offset,
		Records: w.count,
		First:   w.first,
		Last:    w.last,
	})
	w.resetChunk()
	return nil
}

// writeFrame compresses block into one frame and writes it. A failed or
// short write is sticky.
func (w *Writer) writeFrame(block []byte) error {
	w.frame = w.enc.EncodeAll(block, w.frame[:0])
	n, err := w.dst.Write(w.frame)
	w.size += int64(n)
	if err == nil && n < len(w.frame) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("capture: writing: %w", err)
		return w.err
	}
	return nil
}
