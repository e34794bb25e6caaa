package load

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"busd/capture"
)

// Capturer is a System that can record what its server carries while Run
// measures (a busd this generator started, with Busd.Capture set). Run
// starts the capture right before the measurement and stops it right
// after, so the server's CPU time and the rates include what recording
// costs, and the warm-up is not recorded.
type Capturer interface {
	// StartCapture starts the capture the system is set up for; false:
	// none is.
	StartCapture() (bool, error)
	// StopCapture stops it, once its files are complete, reports what it
	// recorded and removes the files.
	StopCapture() (CaptureResult, error)
}

// CaptureResult is what the capture running during a measurement recorded
// (Result.Capture).
type CaptureResult struct {
	Payload string `json:"payload"` // full or shape
	Records uint64 `json:"records"`
	// RecorderDrops are records the recorder could not keep (an event
	// loop's lane to the file writer was full). A run with drops measured
	// a capture that did less than a complete one.
	RecorderDrops  uint64  `json:"recorder_drops"`
	Bytes          int64   `json:"bytes"` // compressed, in the file
	BytesPerRecord float64 `json:"bytes_per_record"`
}

// ParseCapture reads busbench's --capture: "full" or "shape" (capture's
// payload modes), "off" or "" for none (returned as "").
func ParseCapture(s string) (string, error) {
	switch s {
	case "", "off":
		return "", nil
	case "full", "shape":
		return s, nil
	}
	return "", fmt.Errorf("capture mode %q is none of off, full, shape", s)
}

// captureRequest is the body of POST /capture (admin.CaptureRequest: the
// fields this generator sets).
type captureRequest struct {
	Path    string `json:"path"`
	Payload string `json:"payload"`
}

// StartCapture starts a capture of b.Capture's payload mode into a file in
// a new temporary directory, through the admin socket of the daemon b
// started.
func (b *Busd) StartCapture() (bool, error) {
	if b.Capture == "" {
		return false, nil
	}
	if b.srv == nil {
		return false, errors.New("busd: a capture runs only on a daemon this generator started")
	}
	if b.captureDir != "" {
		return false, errors.New("busd: a capture is already running")
	}
	dir, err := os.MkdirTemp("", "bbcap")
	if err != nil {
		return false, err
	}
	a := newAdminClient(b.adminSocket())
	defer a.close()
	req := captureRequest{Path: filepath.Join(dir, "w.buscap"), Payload: b.Capture}
	if err := a.do(http.MethodPost, "/capture", req, nil, http.StatusCreated); err != nil {
		os.RemoveAll(dir)
		return false, err
	}
	b.captureDir = dir
	return true, nil
}

// StopCapture stops the capture StartCapture started (DELETE /capture) and
// removes its files. A capture that ended before it was stopped (its size
// limit, a write error) is an error: it did not run for the whole
// measurement.
func (b *Busd) StopCapture() (CaptureResult, error) {
	if b.captureDir == "" {
		return CaptureResult{}, errors.New("busd: no capture running")
	}
	defer b.removeCapture()
	a := newAdminClient(b.adminSocket())
	defer a.close()
	var st capture.Status
	if err := a.do(http.MethodDelete, "/capture", nil, &st, http.StatusOK); err != nil {
		return CaptureResult{}, err
	}
	if st.Reason != "stopped" {
		return CaptureResult{}, fmt.Errorf("the capture ended by itself before the measurement did (%s%s)", st.Reason, colonError(st.Error))
	}
	res := CaptureResult{Payload: st.Options.Payload.String(), Records: st.Records,
		RecorderDrops: st.RecorderDrops, Bytes: st.Bytes}
	if st.Records > 0 {
		res.BytesPerRecord = float64(st.Bytes) / float64(st.Records)
	}
	return res, nil
}

// removeCapture removes the capture's directory, whatever ended it (Stop
// calls it too: the daemon is gone, its capture with it).
func (b *Busd) removeCapture() {
	if b.captureDir != "" {
		os.RemoveAll(b.captureDir)
		b.captureDir = ""
	}
}

func colonError(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}
