package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenReadsAFileAndNamesItInErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "capture.zst")
	if err := os.WriteFile(path, smallFile(t, PayloadShape), 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := Open(path, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	n := 0
	for err = rd.Next(&r); err == nil; err = rd.Next(&r) {
		n++
	}
	if err != io.EOF || n != len(everyKind()) {
		t.Fatalf("%d records, then %v", n, err)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(foreign, []byte("notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(foreign, ReaderOptions{}); !errors.Is(err, ErrNotCapture) || !strings.HasPrefix(err.Error(), foreign+": ") {
		t.Fatalf("%v, want ErrNotCapture naming %s", err, foreign)
	}
}

func TestAppendStopsAtMaxChunks(t *testing.T) {
	var fw failingWriter
	fw.n = 1 << 30
	w, err := NewWriter(&fw, testHeader(PayloadShape), WriterOptions{ChunkBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	w.maxChunks = 3
	r := Record{Kind: KindBye}
	for i := range 3 {
		if err := w.Append(&r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if err := w.Append(&r); !errors.Is(err, ErrFull) {
		t.Fatalf("%v, want ErrFull", err)
	}
	if err := w.Close(0, "full"); err != nil {
		t.Fatal(err)
	}
	res := readAll(fw.buf.Bytes())
	if res.err != nil || len(res.records) != 3 || res.footer.Reason != "full" {
		t.Fatalf("%v, %d records, footer %+v", res.err, len(res.records), res.footer)
	}
}

func TestTopicsAreNotHTMLEscaped(t *testing.T) {
	h := testHeader(PayloadFull)
	h.Topics = []string{"a.<b>&c"}
	contents := frames(t, writeFile(t, h, WriterOptions{}, everyKind()))
	if !strings.Contains(string(contents[0]), `"a.<b>&c"`) {
		t.Fatalf("header %q", contents[0])
	}
}
