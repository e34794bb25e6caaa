package capture

import (
	"errors"
	"fmt"
)

// Errors a Reader returns, each wrapped with a one-line detail, so that
// callers tell them apart with errors.Is and print them as they are.
var (
	// ErrNotCapture: the data is not a capture file at all (not zstd, or
	// zstd of something else).
	ErrNotCapture = errors.New("not a busd capture file")
	// ErrVersion: a capture file of a newer format version; the error is
	// a *VersionError.
	ErrVersion = errors.New("unsupported capture format version")
	// ErrCorrupt: a capture file whose bytes were damaged: a checksum
	// mismatch, a malformed frame or block, a footer that disagrees with
	// the chunks.
	ErrCorrupt = errors.New("corrupted capture file")
	// ErrTruncated: a capture file that ends without its footer, as one
	// cut short by a crash or a full disk does. Everything before the
	// cut was read.
	ErrTruncated = errors.New("truncated capture file")
)

// ErrFull is what Writer.Append returns once a file holds MaxChunks chunks:
// the file must be closed and the capture go on in a new one.
var ErrFull = errors.New("capture file holds its largest number of chunks")

// errClosed is what a Writer returns once closed.
var errClosed = errors.New("capture: writer closed")

// VersionError is the error for a file of a format version newer than
// this package reads. It matches ErrVersion.
type VersionError struct {
	Version int // the file's
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("capture format version %d is newer than this busd reads (version %d)", e.Version, Version)
}

// Is makes errors.Is(err, ErrVersion) true.
func (e *VersionError) Is(target error) bool { return target == ErrVersion }
