package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// The file is a plain multi-frame zstd stream: the zstd command decodes it
// to the blocks.
func TestZstdCommandDecodesAFile(t *testing.T) {
	bin, err := exec.LookPath("zstd")
	if err != nil {
		t.Skip("the zstd command is not installed (apt-get install zstd): cannot check that it decodes a capture file")
	}
	data := smallFile(t, PayloadFull)
	path := filepath.Join(t.TempDir(), "capture.zst")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-d", "-c", path).Output()
	if err != nil {
		t.Fatalf("zstd -d -c: %v", err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	want, err := dec.DecodeAll(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) || !bytes.HasPrefix(out, []byte(magic)) || !bytes.Contains(out, []byte(`"reason":"stopped"`)) {
		t.Fatalf("zstd -d -c gave %d bytes, want %d starting with the magic", len(out), len(want))
	}
}
