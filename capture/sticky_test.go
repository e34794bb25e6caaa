package capture

import (
	"errors"
	"testing"
)

// A writer that fails after n bytes, as a full disk does: every call after
// the failure returns it and writes nothing, and what reached the disk reads
// up to its last complete chunk.
func TestWriteErrorIsStickyAndLeavesAReadableFile(t *testing.T) {
	records := everyKind()
	write := func(fw *failingWriter) (*Writer, error) {
		return NewWriter(fw, testHeader(PayloadFull), WriterOptions{ChunkBytes: 64})
	}
	whole := &failingWriter{n: 1 << 30}
	w, err := write(whole)
	if err != nil {
		t.Fatal(err)
	}
	for i := range records {
		if err := w.Append(&records[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(100, "stopped"); err != nil {
		t.Fatal(err)
	}
	for n := 1; n < whole.buf.Len(); n += 3 {
		fw := &failingWriter{n: n}
		w, err := write(fw)
		if err != nil {
			if !errors.Is(err, errDiskFull) {
				t.Fatalf("n %d: NewWriter: %v", n, err)
			}
			continue
		}
		var first error
		appended := 0
		for i := range records {
			err := w.Append(&records[i])
			if first == nil && err == nil {
				appended++
			}
			if first == nil && err != nil {
				first = err
			}
			if first != nil && err != first {
				t.Fatalf("n %d: a later Append returned %v, not %v", n, err, first)
			}
		}
		closeErr := w.Close(100, "stopped")
		if first == nil {
			first = closeErr
		}
		if first == nil {
			t.Fatalf("n %d of %d: no error", n, whole.buf.Len())
		}
		if !errors.Is(first, errDiskFull) || closeErr != first || w.Flush() != first || w.Tick(1<<62) != first {
			t.Fatalf("n %d: errors %v, close %v", n, first, closeErr)
		}
		if fw.buf.Len() > n || int64(fw.buf.Len()) != w.Size() {
			t.Fatalf("n %d: wrote %d, Size %d", n, fw.buf.Len(), w.Size())
		}
		res := readAll(fw.buf.Bytes())
		if !errors.Is(res.err, ErrTruncated) {
			t.Fatalf("n %d: %v, want ErrTruncated", n, res.err)
		}
		want := make([]Record, 0, appended)
		for _, r := range records[:len(res.records)] {
			want = append(want, stored(r, PayloadFull))
		}
		if diff := sameRecords(res.records, want); diff != "" {
			t.Fatalf("n %d: %s", n, diff)
		}
		if len(res.records) > appended {
			t.Fatalf("n %d: read %d records, only %d were appended", n, len(res.records), appended)
		}
	}
}
