package capture

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"
)

// Options configure a recording.
type Options struct {
	// Path is the capture file, absolute (the daemon's working directory
	// is nobody's business). With MaxFiles > 1 each file's name is Path's
	// with its start time inserted before the extension.
	Path string `json:"path"`
	// Duration ends the capture; 0 runs it until stopped.
	Duration time.Duration `json:"duration_ns"`
	// MaxBytes bounds a file's size: it ends before it could pass it
	// (within one chunk of it, capture.DefaultChunkBytes uncompressed).
	// DefaultMaxBytes when 0.
	MaxBytes int64 `json:"max_bytes"`
	// MaxFiles > 1 rotates: a file that reached MaxBytes is closed, the
	// next one starts, and only the newest MaxFiles are kept. 0 or 1: the
	// capture ends with its first file.
	MaxFiles int `json:"max_files"`
	// Topics filter PUB records (any match keeps one); empty keeps every
	// topic. Connections, subscriptions and drops are always recorded.
	Topics []string `json:"topics,omitempty"`
	// Payload: PayloadFull (the default) or PayloadShape.
	Payload Payload `json:"payload"`
	// LaneBytes is each event loop's buffer towards the file writer;
	// DefaultLaneBytes when 0. A full buffer drops records (counted,
	// and marked as a gap in the file).
	LaneBytes int `json:"lane_bytes"`

	// Filled by the daemon, not by the requester.
	Host        string       `json:"-"`
	BusdVersion string       `json:"-"`
	Logger      *slog.Logger `json:"-"`
}

const (
	DefaultMaxBytes  = 1 << 30
	DefaultLaneBytes = 8 << 20
	// maxLaneBytes bounds what one request can make the daemon hold per
	// loop.
	maxLaneBytes = 256 << 20
	// minLaneBytes holds a PUB of the largest body the protocol allows
	// (1 MiB) with its topic, twice.
	minLaneBytes = 4 << 20
)

// ErrOptions wraps every refusal of Options.
var ErrOptions = errors.New("capture options")

// normalize fills defaults and refuses what cannot be recorded.
func (o *Options) normalize() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrOptions, fmt.Sprintf(format, a...))
	}
	switch {
	case o.Path == "":
		return bad("no file to record into")
	case !filepath.IsAbs(o.Path):
		return bad("%q is not an absolute path", o.Path)
	case o.Duration < 0:
		return bad("negative duration %v", o.Duration)
	case o.MaxBytes < 0:
		return bad("negative size limit %d", o.MaxBytes)
	case o.MaxFiles < 0:
		return bad("negative file count %d", o.MaxFiles)
	case o.LaneBytes != 0 && (o.LaneBytes < minLaneBytes || o.LaneBytes > maxLaneBytes):
		return bad("lane buffer %d bytes is outside [%d, %d]", o.LaneBytes, minLaneBytes, maxLaneBytes)
	}
	for _, p := range o.Topics {
		if p == "" {
			return bad("an empty topic filter")
		}
	}
	switch o.Payload {
	case 0:
		o.Payload = PayloadFull
	case PayloadFull, PayloadShape:
	default:
		return bad("unknown payload mode %d", o.Payload)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = 1
	}
	if o.LaneBytes == 0 {
		o.LaneBytes = DefaultLaneBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// ParsePayload reads a payload mode's name.
func ParsePayload(s string) (Payload, error) {
	switch s {
	case "full", "":
		return PayloadFull, nil
	case "shape":
		return PayloadShape, nil
	}
	return 0, fmt.Errorf("%w: payload mode %q is neither full nor shape", ErrOptions, s)
}

// MarshalText spells the mode as on the command line.
func (p Payload) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads the mode's name.
func (p *Payload) UnmarshalText(b []byte) error {
	v, err := ParsePayload(string(b))
	*p = v
	return err
}
