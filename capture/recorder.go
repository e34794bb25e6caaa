package capture

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Recorder is one running capture on the daemon's side. The event loops
// call its tap (tap.go), each into its own lane; one goroutine (run)
// drains the lanes in time order into the files, so a loop never waits on
// the disk or the compressor.
//
// Life: NewRecorder creates the first file (so a path that cannot be
// written is refused at once), the daemon installs the recorder where its
// loops see it, Start writes the header with the connections open at that
// point and starts the goroutine, which ends on Stop, at Duration, at the
// size limit without rotation, or at a write error; the onEnd callback
// then lets the daemon uninstall it. Records a loop hands in after that
// are never read: the lanes are only memory.
type Recorder struct {
	opts   Options
	start  time.Time // Time 0, with its monotonic reading
	lanes  []*lane
	topics []string

	stop chan struct{} // closed by Stop
	done chan struct{} // closed when run has returned
	once sync.Once

	// Owned by run (and by Start, before run).
	file  captureFile
	w     *Writer
	files []string
	conns connTable
	last  int64 // Time of the last record written, for the footer's end
	// Totals over every file, for the status.
	records, publishes, daemonDrops uint64
	closedBytes                     int64 // in files already closed
	seq                             int   // the current file's number

	mu     sync.Mutex // guards status, read by Status from any goroutine
	status Status
}

// Status is what a capture has done so far, or did.
type Status struct {
	ID            uint64    `json:"id"`
	Running       bool      `json:"running"`
	Started       time.Time `json:"started"`
	Ended         time.Time `json:"ended,omitzero"`
	Files         []string  `json:"files"`
	Records       uint64    `json:"records"`
	Publishes     uint64    `json:"publishes"`
	Bytes         int64     `json:"bytes"` // compressed, in every file written
	RecorderDrops uint64    `json:"recorder_drops"`
	DaemonDrops   uint64    `json:"daemon_drops"`
	// Reason says why it ended: stopped, duration, size or error.
	Reason  string  `json:"reason,omitempty"`
	Error   string  `json:"error,omitempty"`
	Options Options `json:"options"`
}

// errSizeReached ends a capture of one file that cannot take more.
var errSizeReached = errors.New("the capture file is full")

// drainEvery is how often the writer goroutine empties the lanes. Short
// enough that a lane of DefaultLaneBytes absorbs a loop's full rate in
// between; flushEvery bounds how much a crash can lose.
const (
	drainEvery = 10 * time.Millisecond
	flushEvery = time.Second
)

// NewRecorder validates opts and creates the first file (0600, never over
// an existing file) for a daemon of the given number of event loops.
func NewRecorder(id uint64, loops int, opts Options) (*Recorder, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	r := &Recorder{
		opts:   opts,
		topics: opts.Topics,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		conns:  connTable{},
	}
	r.start = time.Now()
	r.lanes = make([]*lane, loops)
	for i := range r.lanes {
		r.lanes[i] = newLane(opts.LaneBytes)
	}
	f, name, err := createFile(opts, r.start)
	if err != nil {
		return nil, err
	}
	r.file = f
	r.files = []string{name}
	r.status = Status{ID: id, Running: true, Started: r.start, Files: []string{name}, Options: opts}
	return r, nil
}

// Abort removes the file of a recorder that never started.
func (r *Recorder) Abort() {
	r.file.Close()
	os.Remove(r.files[0])
}

// Start writes the first file's header, with conns the connections open
// now, and starts recording; onEnd runs once it has ended, whatever ended
// it.
func (r *Recorder) Start(conns []Conn, onEnd func()) error {
	for _, c := range conns {
		r.conns.open(c)
	}
	if err := r.openWriter(1, 0); err != nil {
		r.Abort()
		return err
	}
	go r.run(onEnd)
	return nil
}

// Stop ends the capture and waits until its files are complete.
func (r *Recorder) Stop() Status {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	return r.Status()
}

// Done is closed once the capture has ended.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Status is a copy of the capture's status. Any goroutine.
func (r *Recorder) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Files = append([]string(nil), s.Files...)
	for _, ln := range r.lanes {
		s.RecorderDrops += ln.dropped.Load()
	}
	return s
}

// run is the writer goroutine.
func (r *Recorder) run(onEnd func()) {
	defer close(r.done)
	defer onEnd()
	tick := time.NewTicker(drainEvery)
	defer tick.Stop()
	var deadline <-chan time.Time
	if r.opts.Duration > 0 {
		t := time.NewTimer(r.opts.Duration)
		defer t.Stop()
		deadline = t.C
	}
	lastFlush := time.Now()
	reason := ""
	for reason == "" {
		select {
		case <-r.stop:
			reason = "stopped"
		case <-deadline:
			reason = "duration"
		case <-tick.C:
		}
		// Drain once more after a stop: what the loops handed in before
		// it belongs to the capture.
		err := r.drain()
		if err == nil && time.Since(lastFlush) >= flushEvery {
			err, lastFlush = r.w.Flush(), time.Now()
		}
		if err == nil && r.w.Size()+int64(r.w.Buffered()) >= r.opts.MaxBytes && reason == "" {
			// The file ends before it could pass MaxBytes: within one
			// chunk of it, whatever the chunk compresses to.
			if r.opts.MaxFiles <= 1 {
				reason = "size"
			} else {
				err = r.rotate()
			}
		}
		if err == errSizeReached {
			err, reason = nil, "size"
		}
		if err != nil {
			r.fail(err)
			return
		}
		r.publishStatus()
	}
	if err := r.closeFile(reason); err != nil {
		r.fail(err)
		return
	}
	r.finish(reason, nil)
}

// drain moves every record the lanes hold into the current file, oldest
// first across lanes. Records arriving meanwhile wait for the next round
// once a round has taken what was there when it began, so a busy daemon
// cannot keep the writer in one round forever.
func (r *Recorder) drain() error {
	var rec Record
	budget := 0
	for _, ln := range r.lanes {
		budget += int((ln.tail.Load() - ln.head.Load()) / laneAlign)
	}
	for ; budget > 0; budget-- {
		var next *lane
		var nextEntry []byte
		var nextTime int64
		for _, ln := range r.lanes {
			e := ln.peek()
			if e == nil {
				continue
			}
			t := int64(entryTime(e))
			if next == nil || t < nextTime {
				next, nextEntry, nextTime = ln, e, t
			}
		}
		if next == nil {
			return nil
		}
		decodeEntry(nextEntry, &rec, r.opts.Payload)
		err := r.write(&rec)
		next.release(nextEntry)
		if err != nil {
			return err
		}
	}
	return nil
}

// write appends one record to the file and keeps what the next file's
// header and the status need.
func (r *Recorder) write(rec *Record) error {
	if rec.Time < r.last {
		rec.Time = r.last // the file's order; see Writer.Append
	}
	r.last = rec.Time
	err := r.w.Append(rec)
	if errors.Is(err, ErrFull) {
		// The file's chunk index is full: as at the size limit.
		if r.opts.MaxFiles <= 1 {
			return errSizeReached
		}
		if err = r.rotate(); err == nil {
			err = r.w.Append(rec)
		}
	}
	if err != nil {
		return err
	}
	r.records++
	if rec.Kind == KindPub {
		r.publishes++ // and nothing for the table: the common case
	} else {
		r.daemonDrops += r.conns.apply(rec)
	}
	return nil
}

// rotate closes the current file and starts the next, dropping the oldest
// beyond MaxFiles.
func (r *Recorder) rotate() error {
	if err := r.closeFile("rotated"); err != nil {
		return err
	}
	now := r.Now()
	f, name, err := createFile(r.opts, r.start.Add(time.Duration(now)))
	if err != nil {
		return err
	}
	r.file = f
	r.files = append(r.files, name)
	if len(r.files) > r.opts.MaxFiles {
		old := r.files[0]
		r.files = r.files[1:]
		if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
			r.opts.Logger.Warn("capture: cannot remove a rotated-out file", "file", old, "err", err)
		}
	}
	return r.openWriter(r.seq+1, now)
}

// openWriter writes the header of file number seq, starting at Time
// offset, on r.file.
func (r *Recorder) openWriter(seq int, offset int64) error {
	h := Header{
		Host:        r.opts.Host,
		BusdVersion: r.opts.BusdVersion,
		Start:       r.start,
		Payload:     r.opts.Payload,
		Topics:      r.opts.Topics,
		Sequence:    seq,
		Offset:      offset,
		Conns:       r.conns.list(),
	}
	w, err := NewWriter(r.file, h, WriterOptions{Level: zstd.SpeedFastest})
	if err != nil {
		return fmt.Errorf("capture file %s: %w", r.file.Name(), err)
	}
	r.w, r.seq = w, seq
	r.publishStatus()
	return nil
}

// closeFile ends the current file with its footer.
func (r *Recorder) closeFile(reason string) error {
	end := max(r.Now(), r.last)
	err := r.w.Close(end, reason)
	r.closedBytes += r.w.Size()
	if err == nil {
		err = r.file.Sync()
	}
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("capture file %s: %w", r.file.Name(), err)
	}
	return nil
}

// fail ends the capture on a write error: the file keeps every chunk
// written before it (Writer errors are sticky, so nothing half-written
// follows), the daemon goes on.
func (r *Recorder) fail(err error) {
	r.w.Close(max(r.Now(), r.last), "error: "+err.Error())
	r.closedBytes += r.w.Size()
	r.file.Close()
	r.opts.Logger.Warn("capture stopped: cannot write", "err", err)
	r.finish("error", err)
}

func (r *Recorder) finish(reason string, err error) {
	r.mu.Lock()
	r.status.Running = false
	r.status.Ended = time.Now()
	r.status.Reason = reason
	if err != nil {
		r.status.Error = err.Error()
	}
	r.mu.Unlock()
	r.publishStatus()
}

// publishStatus copies the writer goroutine's totals into the status.
func (r *Recorder) publishStatus() {
	bytes := r.closedBytes
	if r.w != nil && r.status.Running {
		bytes += r.w.Size()
	}
	r.mu.Lock()
	r.status.Files = append(r.status.Files[:0], r.files...)
	r.status.Records, r.status.Publishes = r.records, r.publishes
	r.status.DaemonDrops = r.daemonDrops
	r.status.Bytes = bytes
	r.mu.Unlock()
}
