package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A record in a chunk is:
//
//	kind   1 byte
//	delta  uvarint  Time minus the previous record's Time (the chunk's
//	                first Time for its first record)
//	conn   uvarint
//	...    the kind's fields, below
//
// Texts and bodies are a uvarint length then the bytes. KindOpen: PID
// (zigzag varint), UID (uvarint). KindClose: flags (1 byte, bit 0
// ProtocolError), Drops. KindHello, KindSub, KindUnsub: Text. KindPub:
// Text, then the body in PayloadFull mode or Size (uvarint) in
// PayloadShape mode. KindBye: nothing. KindOut: State (1 byte), EventsOut,
// BytesOut, Drops. KindGap: Count.

const closeProtocolError = 1 // KindClose flags

// checkRecord says why r cannot be written, or nil.
func checkRecord(r *Record, payload Payload) error {
	if r.Kind == 0 || r.Kind >= kindEnd {
		return fmt.Errorf("capture: record kind %d unknown", r.Kind)
	}
	if len(r.Text) > MaxText {
		return fmt.Errorf("capture: %s record: text of %d bytes, over %d", r.Kind, len(r.Text), MaxText)
	}
	if r.Kind == KindPub {
		if payload == PayloadFull && len(r.Body) > MaxBody {
			return fmt.Errorf("capture: pub record: body of %d bytes, over %d", len(r.Body), MaxBody)
		}
		if payload == PayloadShape && r.Size > MaxBody {
			return fmt.Errorf("capture: pub record: size %d, over %d", r.Size, MaxBody)
		}
	}
	if r.Kind == KindOut && (r.State == 0 || r.State > OutDropped) {
		return fmt.Errorf("capture: out record: state %d unknown", r.State)
	}
	return nil
}

// appendRecord appends r, checked by checkRecord, delta after the previous
// record.
func appendRecord(dst []byte, r *Record, delta uint64, payload Payload) []byte {
	dst = append(dst, byte(r.Kind))
	dst = binary.AppendUvarint(dst, delta)
	dst = binary.AppendUvarint(dst, r.Conn)
	switch r.Kind {
	case KindOpen:
		dst = binary.AppendVarint(dst, int64(r.PID))
		dst = binary.AppendUvarint(dst, uint64(r.UID))
	case KindClose:
		var flags byte
		if r.ProtocolError {
			flags |= closeProtocolError
		}
		dst = append(dst, flags)
		dst = binary.AppendUvarint(dst, r.Drops)
	case KindHello, KindSub, KindUnsub:
		dst = appendBytes(dst, r.Text)
	case KindPub:
		dst = appendBytes(dst, r.Text)
		if payload == PayloadFull {
			dst = appendBytes(dst, r.Body)
		} else {
			dst = binary.AppendUvarint(dst, uint64(r.Size))
		}
	case KindOut:
		dst = append(dst, byte(r.State))
		dst = binary.AppendUvarint(dst, r.EventsOut)
		dst = binary.AppendUvarint(dst, r.BytesOut)
		dst = binary.AppendUvarint(dst, r.Drops)
	case KindGap:
		dst = binary.AppendUvarint(dst, r.Count)
	}
	return dst
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// errRecordCut: a record runs past its chunk's end.
var errRecordCut = errors.New("a record runs past the chunk's end")

// recordDecoder reads the records of one chunk payload. Texts and bodies
// point into src.
type recordDecoder struct {
	src     []byte
	prev    int64 // Time of the previous record
	payload Payload
}

// next decodes one record into r, replacing every field.
func (d *recordDecoder) next(r *Record) error {
	if len(d.src) == 0 {
		return errRecordCut
	}
	kind := Kind(d.src[0])
	d.src = d.src[1:]
	if kind == 0 || kind >= kindEnd {
		return fmt.Errorf("record kind %d unknown", kind)
	}
	delta, err := d.uvarint()
	if err != nil {
		return err
	}
	// Time only grows; the sum must not pass MaxInt64.
	if delta > uint64(math.MaxInt64)-uint64(d.prev) {
		return fmt.Errorf("record time overflows")
	}
	d.prev = int64(uint64(d.prev) + delta)
	*r = Record{Kind: kind, Time: d.prev}
	if r.Conn, err = d.uvarint(); err != nil {
		return err
	}
	switch kind {
	case KindOpen:
		pid, n := binary.Varint(d.src)
		if n <= 0 || pid < math.MinInt32 || pid > math.MaxInt32 {
			return fmt.Errorf("open record: bad pid")
		}
		d.src = d.src[n:]
		r.PID = int32(pid)
		uid, err := d.uvarint()
		if err != nil || uid > math.MaxUint32 {
			return fmt.Errorf("open record: bad uid")
		}
		r.UID = uint32(uid)
	case KindClose:
		flags, err := d.byte()
		if err != nil || flags&^closeProtocolError != 0 {
			return fmt.Errorf("close record: bad flags")
		}
		r.ProtocolError = flags&closeProtocolError != 0
		if r.Drops, err = d.uvarint(); err != nil {
			return err
		}
	case KindHello, KindSub, KindUnsub:
		if r.Text, err = d.bytes(MaxText); err != nil {
			return err
		}
	case KindPub:
		if r.Text, err = d.bytes(MaxText); err != nil {
			return err
		}
		if d.payload == PayloadFull {
			if r.Body, err = d.bytes(MaxBody); err != nil {
				return err
			}
			r.Size = uint32(len(r.Body))
		} else {
			size, err := d.uvarint()
			if err != nil {
				return err
			}
			if size > MaxBody {
				return fmt.Errorf("pub record: size %d over %d", size, MaxBody)
			}
			r.Size = uint32(size)
		}
	case KindOut:
		state, err := d.byte()
		if err != nil {
			return err
		}
		r.State = OutState(state)
		if r.State == 0 || r.State > OutDropped {
			return fmt.Errorf("out record: state %d unknown", state)
		}
		if r.EventsOut, err = d.uvarint(); err != nil {
			return err
		}
		if r.BytesOut, err = d.uvarint(); err != nil {
			return err
		}
		if r.Drops, err = d.uvarint(); err != nil {
			return err
		}
	case KindGap:
		if r.Count, err = d.uvarint(); err != nil {
			return err
		}
	}
	return nil
}

func (d *recordDecoder) byte() (byte, error) {
	if len(d.src) == 0 {
		return 0, errRecordCut
	}
	b := d.src[0]
	d.src = d.src[1:]
	return b, nil
}

func (d *recordDecoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.src)
	if n <= 0 {
		if n == 0 {
			return 0, errRecordCut
		}
		return 0, fmt.Errorf("a varint overflows 64 bits")
	}
	d.src = d.src[n:]
	return v, nil
}

// bytes reads a length and that many bytes, at most limit; nil when empty.
func (d *recordDecoder) bytes(limit int) ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("a field of %d bytes, over %d", n, limit)
	}
	if n > uint64(len(d.src)) {
		return nil, errRecordCut
	}
	if n == 0 {
		return nil, nil
	}
	b := d.src[:n:n]
	d.src = d.src[n:]
	return b, nil
}
