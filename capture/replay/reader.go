package replay

import (
	"bytes"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"busd/codec"
)

// reader drains one replayed subscriber: it decodes the EVT frames the
// daemon sends, counts the capture's deliveries per topic, adds up the
// drops the daemon's notices report, and notes the barrier events meant
// for it. A subscriber the capture shows reading slowly reads at its pace.
//
// The counters are atomics because the schedule polls them while the
// reader runs; topics belongs to the reader goroutine until done is
// closed.
type reader struct {
	delivered   atomic.Uint64
	bytes       atomic.Uint64
	drops       atomic.Uint64
	notices     atomic.Uint64
	syncSeen    atomic.Uint64 // the highest barrier number received
	lastArrival atomic.Int64  // unix ns of the latest frame
	topics      map[string]uint64
	stop        chan struct{} // closed to end a paced wait at once
	done        chan struct{}
	syncPrefix  []byte // _replay.sync.<conn>.
}

func newReader(conn uint64) *reader {
	return &reader{
		topics:     map[string]uint64{},
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		syncPrefix: appendSyncPrefix(nil, conn),
	}
}

// readBuf is the reader's initial buffer; it grows for larger frames.
const readBuf = 64 << 10

// run reads until the connection fails or is closed; pace > 0 reads at
// that many bytes per second.
func (r *reader) run(nc net.Conn, pace float64) {
	defer close(r.done)
	var b *bucket
	if pace > 0 {
		b = newBucket(pace)
	}
	buf := make([]byte, readBuf)
	start, end := 0, 0
	var f codec.Frame
	for {
		if end == len(buf) {
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			} else {
				grown := make([]byte, 2*len(buf))
				copy(grown, buf)
				buf = grown
			}
		}
		room := buf[end:]
		if b != nil {
			n := b.allow(len(room), r.stop)
			if n == 0 {
				return
			}
			room = room[:n]
		}
		n, err := nc.Read(room)
		if b != nil {
			b.took(n)
		}
		if n > 0 {
			end += n
			r.lastArrival.Store(time.Now().UnixNano())
		}
		for start < end {
			used, need, derr := f.Decode(buf[start:end])
			if derr != nil {
				return // the daemon never sends a hostile frame; stop counting
			}
			if used == 0 {
				if need > len(buf) {
					grown := make([]byte, need)
					end = copy(grown, buf[start:end])
					buf, start = grown, 0
				}
				break
			}
			start += used
			r.take(&f, used)
		}
		if start == end {
			start, end = 0, 0
		}
		if err != nil {
			return
		}
	}
}

// take counts one frame.
func (r *reader) take(f *codec.Frame, size int) {
	if f.Verb != codec.VerbEVT {
		return
	}
	topic := f.Args
	switch {
	case bytes.HasPrefix(topic, r.syncPrefix):
		if k, err := strconv.ParseUint(string(topic[len(r.syncPrefix):]), 10, 64); err == nil && k > r.syncSeen.Load() {
			r.syncSeen.Store(k)
		}
	case bytes.Equal(topic, droppedTopic):
		r.notices.Add(1)
		r.drops.Add(droppedCount(f.Body))
	case counted(topic):
		r.delivered.Add(1)
		r.bytes.Add(uint64(size))
		r.topics[string(topic)]++
	}
}

// droppedCount is the "dropped" number of a drop notice's payload (see
// engine/dropnotice.go); 0 if absent.
func droppedCount(body []byte) uint64 {
	key := []byte(`"dropped":`)
	i := bytes.Index(body, key)
	if i < 0 {
		return 0
	}
	rest := bytes.TrimLeft(body[i+len(key):], " ")
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, _ := strconv.ParseUint(string(rest[:j]), 10, 64)
	return n
}
