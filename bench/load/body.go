package load

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"busd/codec"
)

// Event bodies are PROTOCOL.md envelopes whose "id" carries what the
// subscribers need, in 32 lowercase hex digits at a fixed offset:
//
//	{"v": 1, "id": "PIIISSSSSSSSSSSSTTTTTTTTTTTTTTTT", ...
//	                 P        phase: 0 warm-up, 1 measured
//	                  III     publisher index
//	                     S…   sequence number (48 bits)
//	                         T…  send time, ns on the generator's monotonic clock (Rate mode)
//
// The rest (topic, type, ts, payload) is built once per publisher and
// padded to the workload's size, so every system carries the same bytes.
const (
	idOffset  = len(`{"v": 1, "id": "`)
	phaseOff  = idOffset
	pubOff    = phaseOff + 1
	seqOff    = pubOff + 3
	timeOff   = seqOff + 12
	idEnd     = timeOff + 16
	maxSeq    = 1<<48 - 1
	bodyStart = `{"v": 1, "id": "`
)

// Phases of an event.
const (
	PhaseWarmup   byte = '0'
	PhaseMeasured byte = '1'
)

const (
	// MinSize is the smallest body: the compact envelope with an empty pad.
	MinSize = len(bodyStart) + 32 + len(`", "p": ""}`)
	// MaxSize is the largest body the protocol allows.
	MaxSize = codec.MaxBody
)

// Body is one publisher's event body, patched in place for each event.
type Body struct {
	buf []byte
}

// NewBody builds the body of publisher pub (topic is the one it publishes
// on, for the envelope's informational "topic" field): exactly size bytes.
// Sizes too small for the full envelope get a compact one ({"v", "id", a
// pad}).
func NewBody(size, pub int, topic string) (*Body, error) {
	if size < MinSize || size > MaxSize {
		return nil, fmt.Errorf("body size %d: must be %d to %d bytes", size, MinSize, MaxSize)
	}
	if pub < 0 || pub > MaxPublishers {
		return nil, fmt.Errorf("publisher index %d out of range", pub)
	}
	typ := topic
	if i := strings.LastIndexByte(topic, '.'); i >= 0 {
		typ = topic[i+1:]
	}
	b := make([]byte, 0, size)
	b = append(b, bodyStart...)
	b = append(b, strings.Repeat("0", 32)...)
	b = append(b, `", "topic": `...)
	b = codec.AppendJSONString(b, []byte(topic))
	b = append(b, `, "type": `...)
	b = codec.AppendJSONString(b, []byte(typ))
	b = append(b, `, "ts": `...)
	b = codec.AppendEpoch(b, time.Now(), 6)
	b = append(b, `, "payload": {"state": "running", "host": "h1", "pad": "`...)
	tail := `"}}`
	if len(b)+len(tail) > size {
		b = append(b[:idEnd], `", "p": "`...)
		tail = `"}`
	}
	for i := 0; len(b)+len(tail) < size; i++ {
		b = append(b, "abcdefghijklmnopqrstuvwxyz0123456789"[i%36])
	}
	b = append(b, tail...)
	body := &Body{buf: b}
	putHex(b[pubOff:seqOff], uint64(pub))
	return body, nil
}

// Bytes is the body as last stamped; it is the same slice every time.
func (b *Body) Bytes() []byte { return b.buf }

// Stamp patches the phase, sequence number and send time into the id.
func (b *Body) Stamp(phase byte, seq uint64, sendNs int64) {
	b.buf[phaseOff] = phase
	putHex(b.buf[seqOff:timeOff], seq)
	putHex(b.buf[timeOff:idEnd], uint64(sendNs))
}

// Stamp is what ParseBody reads back from a body.
type Stamp struct {
	Phase  byte
	Pub    int
	Seq    uint64
	SendNs int64
}

var errNotOurs = errors.New("not a load-generator body")

// ParseBody reads the stamp of a body built by NewBody: a few fixed-offset
// hex fields, no allocation.
func ParseBody(body []byte) (Stamp, error) {
	if len(body) < MinSize || string(body[:idOffset]) != bodyStart || body[idEnd] != '"' {
		return Stamp{}, errNotOurs
	}
	pub, ok1 := getHex(body[pubOff:seqOff])
	seq, ok2 := getHex(body[seqOff:timeOff])
	ns, ok3 := getHex(body[timeOff:idEnd])
	if !ok1 || !ok2 || !ok3 {
		return Stamp{}, errNotOurs
	}
	return Stamp{Phase: body[phaseOff], Pub: int(pub), Seq: seq, SendNs: int64(ns)}, nil
}

const hexDigits = "0123456789abcdef"

var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range 16 {
		t[hexDigits[i]] = byte(i)
	}
	return t
}()

// putHex writes the low 4*len(dst) bits of v as lowercase hex.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = hexDigits[v&15]
		v >>= 4
	}
}

func getHex(src []byte) (uint64, bool) {
	var v uint64
	for _, c := range src {
		d := unhex[c]
		if d > 15 {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}
