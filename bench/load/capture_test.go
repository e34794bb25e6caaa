package load

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseCapture(t *testing.T) {
	for in, want := range map[string]string{"": "", "off": "", "full": "full", "shape": "shape"} {
		if got, err := ParseCapture(in); err != nil || got != want {
			t.Errorf("ParseCapture(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"on", "Full", "none", "shape "} {
		if _, err := ParseCapture(bad); err == nil {
			t.Errorf("ParseCapture(%q) accepted it", bad)
		}
	}
}

// TestBusdCaptureLifeCycle starts and stops a capture on a daemon it
// started, through the admin socket: the file exists while it runs and is
// gone once it has stopped.
func TestBusdCaptureLifeCycle(t *testing.T) {
	b := &Busd{Capture: "shape"}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	started, err := b.StartCapture()
	if err != nil || !started {
		t.Fatalf("StartCapture = %v, %v", started, err)
	}
	dir := b.captureDir
	if _, err := os.Stat(filepath.Join(dir, "w.buscap")); err != nil {
		t.Fatalf("the capture file: %v", err)
	}
	if _, err := b.StartCapture(); err == nil {
		t.Error("a second capture started while one runs")
	}
	c, err := b.StopCapture()
	if err != nil {
		t.Fatal(err)
	}
	// No traffic: the file holds its header and footer, and at most the
	// open and close of the connection Start probed the daemon with,
	// when its close comes after the capture's start.
	if c.Payload != "shape" || c.Bytes <= 0 || c.Records > 2 || c.RecorderDrops != 0 {
		t.Errorf("stopped capture: %+v", c)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the capture's directory is still there: %v", err)
	}
	if _, err := b.StopCapture(); err == nil {
		t.Error("StopCapture without a running capture: no error")
	}

	// Without Capture, nothing starts.
	off := &Busd{}
	if started, err := off.StartCapture(); started || err != nil {
		t.Errorf("StartCapture without Capture = %v, %v", started, err)
	}
	// A daemon given by its socket is not this generator's to record.
	other := &Busd{Socket: b.socket, Capture: "full"}
	if err := other.Start(context.Background()); err == nil {
		other.Stop()
		t.Error("a capture was accepted on a daemon given by its socket")
	}
}

// TestStopRemovesCapture: a run that fails while a capture runs leaves no
// file behind, as the daemon's Stop removes it.
func TestStopRemovesCapture(t *testing.T) {
	b := &Busd{Capture: "full"}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.StartCapture(); err != nil {
		b.Stop()
		t.Fatal(err)
	}
	dir := b.captureDir
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the capture's directory outlived the daemon: %v", err)
	}
}

// TestRunBusdCapturing: each measured PUB is a record of the capture Run
// wraps around the measurement, and the result says what the file took.
func TestRunBusdCapturing(t *testing.T) {
	for _, mode := range []string{"full", "shape"} {
		t.Run(mode, func(t *testing.T) {
			w := standard(t, "W1w")
			w.Duration = 300 * time.Millisecond
			res := runOK(t, &Busd{Capture: mode}, w)
			checkLossless(t, res, w)
			c := res.Capture
			if c == nil {
				t.Fatal("no capture in the result")
			}
			if c.Payload != mode || c.Bytes <= 0 || c.Records+c.RecorderDrops < res.Published {
				t.Fatalf("capture %+v for %d published", c, res.Published)
			}
			if want := float64(c.Bytes) / float64(c.Records); c.BytesPerRecord != want {
				t.Errorf("bytes per record %v, want %v", c.BytesPerRecord, want)
			}
			if !strings.Contains(res.String(), "capture "+mode+" ") {
				t.Errorf("the summary does not name the capture: %s", res)
			}
		})
	}
	// Without one, the result has none.
	w := standard(t, "W1w")
	w.Duration = 200 * time.Millisecond
	if res := runOK(t, &Busd{}, w); res.Capture != nil {
		t.Errorf("a capture in a run without one: %+v", res.Capture)
	}
}
