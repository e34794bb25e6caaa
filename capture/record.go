package capture

import "time"

// Version is the format version this package writes. A reader refuses a
// file with a newer version rather than misreading it.
const Version = 1

// Kind says what a record is.
type Kind uint8

const (
	// KindOpen: connection Conn was accepted. PID and UID are its peer's
	// credentials at connect time.
	KindOpen Kind = 1 + iota
	// KindClose: connection Conn closed. Drops is how many events the
	// daemon dropped for it in its life; ProtocolError is set when the
	// daemon closed it for a hostile frame.
	KindClose
	// KindHello: HELLO; Text is the client name.
	KindHello
	// KindSub: SUB; Text is the pattern.
	KindSub
	// KindUnsub: UNSUB; Text is the pattern.
	KindUnsub
	// KindPub: PUB; Text is the topic, Size the body's length, Body the
	// body itself in PayloadFull mode (nil in PayloadShape mode).
	KindPub
	// KindBye: BYE.
	KindBye
	// KindOut: a sample of subscriber Conn's output side, taken when its
	// socket backs up (State OutStalled), when it drains again
	// (OutResumed) and when the daemon notices new drops (OutDropped).
	// EventsOut, BytesOut and Drops are the connection's totals so far:
	// between a stall and the resume that follows, the bytes it took are
	// the pace at which it reads.
	KindOut
	// KindGap: the recorder dropped Count records just before this point
	// because the file writer fell behind. Conn is 0.
	KindGap

	kindEnd // one past the last kind
)

// String names the kind as the tools print it.
func (k Kind) String() string {
	switch k {
	case KindOpen:
		return "open"
	case KindClose:
		return "close"
	case KindHello:
		return "hello"
	case KindSub:
		return "sub"
	case KindUnsub:
		return "unsub"
	case KindPub:
		return "pub"
	case KindBye:
		return "bye"
	case KindOut:
		return "out"
	case KindGap:
		return "gap"
	}
	return "unknown"
}

// OutState is what a KindOut record samples.
type OutState uint8

const (
	OutStalled OutState = 1 + iota // the socket stopped taking events
	OutResumed                     // it drained: the subscriber caught up
	OutDropped                     // the daemon dropped events for it
)

// Record is one thing the daemon saw. Which fields mean something depends
// on Kind (see the kinds). Text and Body returned by a Reader are valid
// until its next call; a Record handed to a Writer is copied.
type Record struct {
	Kind Kind
	// Time is nanoseconds since the capture started (monotonic clock).
	// Records in a file are in non-decreasing Time order.
	Time int64
	// Conn is the daemon's id of the connection (unique for the daemon's
	// life).
	Conn uint64

	Text []byte // topic, pattern or client name
	Body []byte // PUB body (PayloadFull only)
	Size uint32 // PUB body length, in either payload mode

	PID int32  // KindOpen
	UID uint32 // KindOpen

	ProtocolError bool // KindClose

	State     OutState // KindOut
	EventsOut uint64   // KindOut
	BytesOut  uint64   // KindOut
	Drops     uint64   // KindOut, KindClose

	Count uint64 // KindGap
}

// Payload says what a file keeps of PUB bodies.
type Payload uint8

const (
	// PayloadFull keeps every body as published.
	PayloadFull Payload = 1 + iota
	// PayloadShape keeps only each body's length; a replay sends a filler
	// JSON object of that length. For hosts whose events must not leave
	// them.
	PayloadShape
)

// String is the payload mode's name on the command line and in files.
func (p Payload) String() string {
	switch p {
	case PayloadFull:
		return "full"
	case PayloadShape:
		return "shape"
	}
	return "unknown"
}

// Conn is one connection open when a file starts, with what it had done
// by then: a file is complete on its own, so a replay of a later file of a
// rotation still knows every subscriber.
type Conn struct {
	Conn     uint64   `json:"conn"`
	Name     string   `json:"name,omitempty"`
	Patterns []string `json:"patterns,omitempty"`
	PID      int32    `json:"pid,omitempty"`
	UID      uint32   `json:"uid"`
	// Drops is how many events the daemon had dropped for it by then.
	Drops uint64 `json:"drops,omitempty"`
}

// Header opens every file.
type Header struct {
	Version     int       `json:"version"`
	Host        string    `json:"host"`
	BusdVersion string    `json:"busd_version"`
	Start       time.Time `json:"start"` // wall clock at Time 0
	Payload     Payload   `json:"payload"`
	Topics      []string  `json:"topics,omitempty"` // PUB filters; empty: every topic
	// Sequence numbers the files of one capture from 1; Offset is the
	// Time at which this file starts (0 for the first).
	Sequence int   `json:"sequence"`
	Offset   int64 `json:"offset_ns"`
	// Conns are the connections open when this file starts.
	Conns []Conn `json:"conns,omitempty"`
}

// ChunkIndex locates one chunk in the file.
type ChunkIndex struct {
	Offset  int64  `json:"offset"` // of its zstd frame, from the start of the file
	Length  int64  `json:"length"` // of its zstd frame
	Records uint32 `json:"records"`
	First   int64  `json:"first_ns"` // Time of its first record
	Last    int64  `json:"last_ns"`  // Time of its last record
}

// Footer closes a complete file.
type Footer struct {
	End       int64  `json:"end_ns"` // Time at which the file ended
	Records   uint64 `json:"records"`
	Publishes uint64 `json:"publishes"`
	// RecorderDrops: records the recorder could not keep (the sum of the
	// file's gaps). DaemonDrops: events the daemon dropped for slow
	// subscribers while the file was written.
	RecorderDrops uint64       `json:"recorder_drops"`
	DaemonDrops   uint64       `json:"daemon_drops"`
	Reason        string       `json:"reason"` // why it ended: stopped, duration, size, rotated, error: ...
	Chunks        []ChunkIndex `json:"chunks"`
}
