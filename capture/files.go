package capture

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// createFile creates the capture file for a file starting at start: Path
// itself for a capture of one file, Path with the start time before its
// extension when files rotate (host.buscap → host-20261206T231500.123Z.buscap),
// so that names sort by time. Created 0600 (events may be private), and
// never over an existing file.
func createFile(opts Options, start time.Time) (captureFile, string, error) {
	name := opts.Path
	if opts.MaxFiles > 1 {
		name = RotatedName(opts.Path, start)
	}
	f, err := openFile(name)
	if err != nil {
		return nil, "", fmt.Errorf("capture file: %w", err)
	}
	return f, name, nil
}

// RotatedName is the name of a rotated file of path starting at start.
func RotatedName(path string, start time.Time) string {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	return stem + "-" + start.UTC().Format("20060102T150405.000Z") + ext
}

// captureFile is what the recorder needs of a file: an *os.File, or in
// tests one whose disk fills up.
type captureFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
}

// openFile creates a capture file; a variable so that tests can make the
// disk fill up.
var openFile = func(name string) (captureFile, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}
