package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"busd/capture"
	"busd/engine"
)

// Capturer starts and stops captures (package capture); *engine.Server
// implements it. A Source that is also a Capturer gets the /capture
// endpoints:
//
//	POST   /capture   start one: a CaptureRequest; 201 and its Status,
//	                  409 while one runs, 400 for a request it refuses
//	GET    /capture   the running or latest capture's Status; 404: none yet
//	DELETE /capture   stop the running one (if any), once its files are
//	                  complete, and return the latest Status; 404: none yet
type Capturer interface {
	StartCapture(capture.Options) (capture.Status, error)
	StopCapture() (capture.Status, bool)
	CaptureStatus() (capture.Status, bool)
}

var _ Capturer = (*engine.Server)(nil)

// CaptureRequest is POST /capture's body: capture.Options with a duration
// and a payload mode spelled as on the command line.
type CaptureRequest struct {
	Path      string   `json:"path"`
	Duration  string   `json:"duration,omitempty"` // Go syntax: "90s", "2h"
	MaxBytes  int64    `json:"max_bytes,omitempty"`
	MaxFiles  int      `json:"max_files,omitempty"`
	Topics    []string `json:"topics,omitempty"`
	Payload   string   `json:"payload,omitempty"` // full (default) or shape
	LaneBytes int      `json:"lane_bytes,omitempty"`
}

// maxCaptureRequest bounds POST /capture's body.
const maxCaptureRequest = 64 << 10

func captureHandlers(mux *http.ServeMux, c Capturer, version string) {
	mux.HandleFunc("POST /capture", func(w http.ResponseWriter, r *http.Request) {
		opts, err := captureOptions(io.LimitReader(r.Body, maxCaptureRequest), version)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		st, err := c.StartCapture(opts)
		switch {
		case errors.Is(err, engine.ErrCaptureRunning):
			http.Error(w, err.Error(), http.StatusConflict)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(st)
		}
	})
	mux.HandleFunc("GET /capture", func(w http.ResponseWriter, r *http.Request) {
		st, ok := c.CaptureStatus()
		if !ok {
			http.Error(w, "no capture has run", http.StatusNotFound)
			return
		}
		writeJSON(w, r, st)
	})
	mux.HandleFunc("DELETE /capture", func(w http.ResponseWriter, r *http.Request) {
		st, ok := c.StopCapture()
		if !ok {
			http.Error(w, "no capture has run", http.StatusNotFound)
			return
		}
		writeJSON(w, r, st)
	})
}

// captureOptions reads a CaptureRequest.
func captureOptions(body io.Reader, version string) (capture.Options, error) {
	var req CaptureRequest
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return capture.Options{}, fmt.Errorf("capture request: %w", err)
	}
	opts := capture.Options{
		Path:        req.Path,
		MaxBytes:    req.MaxBytes,
		MaxFiles:    req.MaxFiles,
		Topics:      req.Topics,
		LaneBytes:   req.LaneBytes,
		BusdVersion: version,
	}
	if req.Duration != "" {
		d, err := time.ParseDuration(req.Duration)
		if err != nil {
			return capture.Options{}, fmt.Errorf("capture request: duration: %w", err)
		}
		opts.Duration = d
	}
	p, err := capture.ParsePayload(req.Payload)
	if err != nil {
		return capture.Options{}, err
	}
	opts.Payload = p
	opts.Host, _ = os.Hostname()
	return opts, nil
}
