package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readFile reads every record of a capture file (copied), and how it
// ended: nil for a complete file.
func readFile(t *testing.T, path string) (Header, []Record, Footer, error) {
	t.Helper()
	rd, err := Open(path, ReaderOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer rd.Close()
	var out []Record
	var rec Record
	for {
		err := rd.Next(&rec)
		if err == io.EOF {
			f, _ := rd.Footer()
			return rd.Header(), out, f, nil
		}
		if err != nil {
			return rd.Header(), out, Footer{}, err
		}
		c := rec
		c.Text, c.Body = bytes.Clone(rec.Text), bytes.Clone(rec.Body)
		out = append(out, c)
	}
}

func startRecorder(t *testing.T, loops int, opts Options, conns []Conn) *Recorder {
	t.Helper()
	r, err := NewRecorder(1, loops, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(conns, func() {}); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRecorderWritesWhatLoopsHandIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.buscap")
	snapshot := []Conn{{Conn: 1, Name: "dashboard", Patterns: []string{">"}, Drops: 4}}
	r := startRecorder(t, 2, Options{Path: path, Host: "h1", BusdVersion: "test"}, snapshot)
	r.Opened(1, 2, 99, 1000)
	r.Pub(1, r.Now(), 2, []byte("decky.d1.state"), []byte(`{"a":1}`))
	r.Pub(0, r.Now(), 1, []byte("system.log"), []byte(`{}`))
	r.Out(0, 1, OutDropped, 10, 100, 7) // 3 more than at the start
	r.Closed(1, 2, 0, false)
	st := r.Stop()
	if st.Running || st.Reason != "stopped" || st.Error != "" {
		t.Fatalf("status after Stop: %+v", st)
	}
	h, recs, f, err := readFile(t, path)
	if err != nil {
		t.Fatalf("a stopped capture reads with error %v", err)
	}
	if h.Host != "h1" || h.Sequence != 1 || len(h.Conns) != 1 || h.Conns[0].Name != "dashboard" || h.Conns[0].Drops != 4 {
		t.Errorf("header %+v", h)
	}
	var kinds []string
	for i, rec := range recs {
		kinds = append(kinds, fmt.Sprintf("%s/%d", rec.Kind, rec.Conn))
		if i > 0 && rec.Time < recs[i-1].Time {
			t.Errorf("record %d at %d, before %d", i, rec.Time, recs[i-1].Time)
		}
	}
	// Two lanes merged by time: each lane's order holds, whatever the
	// interleaving.
	lane1 := []string{}
	for _, k := range kinds {
		if strings.HasSuffix(k, "/2") {
			lane1 = append(lane1, k)
		}
	}
	if fmt.Sprint(lane1) != "[open/2 pub/2 close/2]" || len(kinds) != 5 {
		t.Errorf("records %v", kinds)
	}
	if f.Records != 5 || f.Publishes != 2 || f.Reason != "stopped" {
		t.Errorf("footer %+v", f)
	}
	if st.Records != 5 || st.Publishes != 2 || st.DaemonDrops != 3 {
		t.Errorf("status counts %+v, want 5 records, 2 publishes, 3 daemon drops", st)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	if st.Bytes != info.Size() {
		t.Errorf("status says %d bytes, the file has %d", st.Bytes, info.Size())
	}
}

func TestRecorderEndsAtDuration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.buscap")
	r := startRecorder(t, 1, Options{Path: path, Duration: 50 * time.Millisecond}, nil)
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a 50ms capture still runs after 10s")
	}
	if st := r.Status(); st.Reason != "duration" || st.Running {
		t.Errorf("status %+v", st)
	}
	if _, _, _, err := readFile(t, path); err != nil {
		t.Errorf("read: %v", err)
	}
}

func TestRecorderRefusesExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.buscap")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRecorder(1, 1, Options{Path: path}); !errors.Is(err, os.ErrExist) {
		t.Fatalf("NewRecorder over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("the existing file now holds %q", b)
	}
	for _, bad := range []Options{{}, {Path: "rel.buscap"}, {Path: path + "x", Topics: []string{""}}, {Path: path + "y", Duration: -1}} {
		if _, err := NewRecorder(1, 1, bad); !errors.Is(err, ErrOptions) {
			t.Errorf("options %+v: %v, want ErrOptions", bad, err)
		}
	}
}

// A capture of one file ends at its size limit; one with MaxFiles rotates
// and keeps the newest files, each of which replays on its own (its header
// lists the subscriptions made in earlier files).
func TestRecorderSizeLimitAndRotation(t *testing.T) {
	body := bytes.Repeat([]byte(`{"k":"incompressible?"}`), 1)
	feed := func(r *Recorder, n int) {
		for i := range n {
			r.Pub(0, r.Now(), 1, fmt.Appendf(nil, "t.%d.%x", i, i*7919), body)
			if i%200 == 199 {
				time.Sleep(3 * drainEvery) // let the writer see the size
			}
			select {
			case <-r.Done():
				return
			default:
			}
		}
	}
	t.Run("one file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "c.buscap")
		r := startRecorder(t, 1, Options{Path: path, MaxBytes: 4096}, nil)
		feed(r, 20000)
		select {
		case <-r.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("still running past its size limit")
		}
		if st := r.Status(); st.Reason != "size" {
			t.Errorf("reason %q, want size", st.Reason)
		}
		if _, _, _, err := readFile(t, path); err != nil {
			t.Errorf("read: %v", err)
		}
	})
	t.Run("rotation", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "host.buscap")
		r := startRecorder(t, 1, Options{Path: path, MaxBytes: 4096, MaxFiles: 3}, nil)
		r.Opened(0, 1, 1, 1)
		r.Sub(0, r.Now(), 1, []byte("t.>"))
		feed(r, 6000)
		st := r.Stop()
		if st.Reason != "stopped" || st.Error != "" {
			t.Fatalf("status %+v", st)
		}
		names, _ := filepath.Glob(filepath.Join(dir, "host-*.buscap"))
		if len(names) != 3 || !slices.Equal(names, st.Files) {
			t.Fatalf("files on disk %v, status %v; want the newest 3", names, st.Files)
		}
		for _, name := range names {
			h, _, _, err := readFile(t, name)
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if h.Sequence < 2 || len(h.Conns) != 1 || !slices.Equal(h.Conns[0].Patterns, []string{"t.>"}) {
				t.Errorf("%s: sequence %d, conns %+v: a rotated file must list the subscription", name, h.Sequence, h.Conns)
			}
		}
	})
}

// fullDisk fails every write after limit bytes with ENOSPC.
type fullDisk struct {
	f     *os.File
	limit int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if d.limit < len(p) {
		n, _ := d.f.Write(p[:d.limit])
		d.limit = 0
		return n, &os.PathError{Op: "write", Path: d.f.Name(), Err: syscall.ENOSPC}
	}
	d.limit -= len(p)
	return d.f.Write(p)
}
func (d *fullDisk) Sync() error  { return d.f.Sync() }
func (d *fullDisk) Close() error { return d.f.Close() }
func (d *fullDisk) Name() string { return d.f.Name() }

// A disk that fills stops the capture, with the reason in its status; the
// file reads up to its last complete chunk.
func TestRecorderDiskFull(t *testing.T) {
	saved := openFile
	defer func() { openFile = saved }()
	openFile = func(name string) (captureFile, error) {
		f, err := saved(name)
		if err != nil {
			return nil, err
		}
		return &fullDisk{f: f.(*os.File), limit: 20000}, nil
	}
	path := filepath.Join(t.TempDir(), "c.buscap")
	r := startRecorder(t, 1, Options{Path: path}, nil)
	pub := func(i int) {
		r.Pub(0, r.Now(), 1, fmt.Appendf(nil, "disk.%d", i), fmt.Appendf(nil, `{"n":%d,"x":"%x"}`, i, i*104729))
	}
	// A first chunk reaches the disk...
	headerOnly := r.Status().Bytes
	for i := range 50 {
		pub(i)
	}
	for deadline := time.Now().Add(5 * flushEvery); r.Status().Records < 50 || r.Status().Bytes == headerOnly; {
		if time.Now().After(deadline) {
			t.Fatalf("the first records never reached the file: %+v", r.Status())
		}
		time.Sleep(drainEvery)
	}
	// ...then it fills up.
	for i := 50; ; i++ {
		pub(i)
		if i%1000 == 0 {
			time.Sleep(drainEvery)
		}
		select {
		case <-r.Done():
		default:
			if i < 2_000_000 {
				continue
			}
			t.Fatal("capture still running after 2M records into 20000 bytes")
		}
		break
	}
	st := r.Status()
	if st.Reason != "error" || !strings.Contains(st.Error, "no space left") {
		t.Fatalf("status %+v, want an error naming the full disk", st)
	}
	_, recs, _, err := readFile(t, path)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("reading the cut file: %v, want ErrTruncated", err)
	}
	if len(recs) == 0 {
		t.Error("no record survived before the disk filled")
	}
}
