package engine

import (
	"errors"
	"sync/atomic"

	"busd/capture"
)

// capturing is the daemon's side of a capture (package capture): the
// recorder the loops hand records to while one runs. The hot path pays one
// atomic load and a branch for it when none runs.
type capturing struct {
	// recorder is the running capture, nil when none runs.
	recorder atomic.Pointer[capture.Recorder]
	// last is the latest capture, running or ended, for its status.
	last atomic.Pointer[capture.Recorder]
	ids  atomic.Uint64
	// started and failures count captures started, and ended by an error.
	started, failures atomic.Uint64
}

// ErrCaptureRunning refuses a second capture while one runs.
var ErrCaptureRunning = errors.New("a capture is already running")

// StartCapture starts recording what the daemon carries (package capture):
// the recorder is installed before the connections are listed, and the
// loops tape a HELLO, SUB or UNSUB after applying it (under infoMu, which
// the listing takes too), so a change made meanwhile is in the list, in
// the records, or in both, never neither; the file's reader applies both
// idempotently.
func (s *Server) StartCapture(opts capture.Options) (capture.Status, error) {
	if s.capture.recorder.Load() != nil {
		return capture.Status{}, ErrCaptureRunning
	}
	if opts.Logger == nil {
		opts.Logger = s.cfg.Logger
	}
	rec, err := capture.NewRecorder(s.capture.ids.Add(1), s.cfg.Loops, opts)
	if err != nil {
		return capture.Status{}, err
	}
	if !s.capture.recorder.CompareAndSwap(nil, rec) {
		rec.Abort()
		return capture.Status{}, ErrCaptureRunning
	}
	s.capture.last.Store(rec)
	err = rec.Start(s.captureConns(), func() {
		s.capture.recorder.CompareAndSwap(rec, nil)
		st := rec.Status()
		if st.Error != "" {
			s.capture.failures.Add(1)
		}
		s.cfg.Logger.Info("capture ended", "files", st.Files, "records", st.Records,
			"recorder_drops", st.RecorderDrops, "reason", st.Reason)
	})
	if err != nil {
		s.capture.recorder.CompareAndSwap(rec, nil)
		return capture.Status{}, err
	}
	s.capture.started.Add(1)
	s.cfg.Logger.Info("capture started", "file", opts.Path, "duration", opts.Duration, "payload", opts.Payload.String())
	return rec.Status(), nil
}

// StopCapture ends the running capture, if any, once its files are
// complete, and returns the latest capture's status (ok false: there was
// never one).
func (s *Server) StopCapture() (st capture.Status, ok bool) {
	if rec := s.capture.recorder.Load(); rec != nil {
		return rec.Stop(), true
	}
	return s.CaptureStatus()
}

// CaptureStatus is the running or latest capture's status.
func (s *Server) CaptureStatus() (capture.Status, bool) {
	if rec := s.capture.last.Load(); rec != nil {
		return rec.Status(), true
	}
	return capture.Status{}, false
}

// captureConns lists the open connections for a capture's first header.
func (s *Server) captureConns() []capture.Conn {
	var out []capture.Conn
	s.clients.Range(func(id uint64, cl *peer) bool {
		c := capture.Conn{Conn: id, PID: cl.pid, UID: cl.uid, Drops: cl.out.drops()}
		cl.infoMu.Lock()
		c.Name = cl.name
		for p := range cl.patterns {
			c.Patterns = append(c.Patterns, p)
		}
		cl.infoMu.Unlock()
		out = append(out, c)
		return true
	})
	return out
}

// tapOut samples o's output side for a running capture (a stall, a
// resume, new drops): rare, off the per-event path.
func (o *outbox) tapOut(state capture.OutState, drops uint64) {
	if rec := o.loop.srv.capture.recorder.Load(); rec != nil {
		if cl, _ := o.conn.Context().(*peer); cl != nil {
			rec.Out(o.loop.lane, cl.id, state, o.eventsOut.Load(), o.bytesOut.Load(), drops)
		}
	}
}

// captureStats fills the captures' part of Stats.
func (s *Server) captureStats(st *Stats) {
	st.CapturesStarted = s.capture.started.Load()
	st.CaptureFailures = s.capture.failures.Load()
	if s.capture.recorder.Load() != nil {
		st.Capturing = 1
	}
	if rec := s.capture.last.Load(); rec != nil {
		cs := rec.Status()
		st.CaptureRecords, st.CaptureRecorderDrops = cs.Records, cs.RecorderDrops
	}
}

// captureTime is rec's clock for the frames of the current read batch:
// read once per batch (they arrived in one read), not per frame.
func (l *loop) captureTime(rec *capture.Recorder) int64 {
	if l.batch.captureRecorder != rec {
		l.batch.captureRecorder, l.batch.captureNow = rec, rec.Now()
	}
	return l.batch.captureNow
}
