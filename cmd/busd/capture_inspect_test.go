package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"busd/capture"
)

// inspectFile writes a small capture file: subscribers 1 (a.>) and 2 (a.b
// and a.*, overlapping) at the start; publisher 3 sends three PUBs, one
// chunk each, then the file ends (complete) or is cut inside its last
// chunk (truncated). It returns the file's path.
func inspectFile(t *testing.T, truncated bool) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, capture.Header{
		Host: "host-a", BusdVersion: "1.2.3", Payload: capture.PayloadShape, Sequence: 1,
		Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Conns: []capture.Conn{
			{Conn: 1, Name: "alpha", Patterns: []string{"a.>"}},
			{Conn: 2, Name: "beta", Patterns: []string{"a.b", "a.*"}, Drops: 4},
		},
	}, capture.WriterOptions{ChunkAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var ends []int
	for i, r := range []capture.Record{
		{Kind: capture.KindOpen, Time: 1, Conn: 3},
		{Kind: capture.KindHello, Time: 2, Conn: 3, Text: []byte("pubber")},
		// To 1 and 2 (once, through both of its patterns).
		{Kind: capture.KindPub, Time: int64(time.Second / 2), Conn: 3, Text: []byte("a.b"), Size: 300},
		{Kind: capture.KindOut, Time: int64(time.Second), Conn: 2, State: capture.OutStalled, BytesOut: 1000, Drops: 4},
		{Kind: capture.KindOut, Time: int64(2 * time.Second), Conn: 2, State: capture.OutResumed, BytesOut: 3000, Drops: 6},
		// To 1 only.
		{Kind: capture.KindPub, Time: int64(2500 * time.Millisecond), Conn: 3, Text: []byte("a.c.d"), Size: 200},
		{Kind: capture.KindGap, Time: int64(2600 * time.Millisecond), Count: 3},
		// To 2 only: 1 is its publisher.
		{Kind: capture.KindPub, Time: int64(3500 * time.Millisecond), Conn: 1, Text: []byte("a.b"), Size: 100},
		{Kind: capture.KindClose, Time: int64(3600 * time.Millisecond), Conn: 3, ProtocolError: true},
	} {
		if err := w.Append(&r); err != nil {
			t.Fatal(err)
		}
		if i == 2 || i == 5 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			ends = append(ends, buf.Len())
		}
	}
	if err := w.Close(int64(4*time.Second), "stopped"); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if truncated {
		b = b[:ends[1]+10]
	}
	return writeFile(t, "c.cap", b)
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCaptureInspectHuman(t *testing.T) {
	path := inspectFile(t, false)
	code, out, errOut := runCmd(t, nil, "capture", "inspect", path)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	t.Log("\n" + out)
	for _, want := range []string{
		"host           host-a, busd 1.2.3\n",
		"started        2026-01-02T03:04:05Z (file 1 of its capture, from 0s)\n",
		"status         complete (stopped), 3 chunks\n",
		"duration       4s\n",
		"publishes      3, 600 B of bodies\n",
		"per second over 4 s: min 0, median 1, p99 1, max 1",
		"Fan-out: 4 deliveries",
		"recorder  3 records lost in 1 gap\n",
		"daemon    2 events dropped for slow subscribers\n",
		"closed (1 for a protocol error), 2 at end",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output", want)
		}
	}
	for i, line := range strings.Split(out, "\n") {
		if len(line) > 80 {
			t.Errorf("line %d is %d columns: %q", i+1, len(line), line)
		}
	}
	// The same file, the same output.
	if _, again, _ := runCmd(t, nil, "capture", "inspect", path); again != out {
		t.Errorf("a second run printed something else:\n%s", again)
	}
}

func TestCaptureInspectJSON(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "capture", "inspect", "--json", inspectFile(t, false))
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("not one line: %q", out)
	}
	var doc struct {
		Complete      bool              `json:"complete"`
		Publishes     uint64            `json:"publishes"`
		Topics        map[string]uint64 `json:"topics"`
		Deliveries    uint64            `json:"deliveries"`
		Host          string            `json:"host"`
		Subscriptions []struct {
			Pattern    string `json:"pattern"`
			Deliveries uint64 `json:"deliveries"`
		} `json:"subscriptions"`
		Drops struct {
			Recorder uint64 `json:"recorder"`
			Daemon   uint64 `json:"daemon"`
		} `json:"drops"`
		SlowReaders []struct {
			Conn           uint64  `json:"conn"`
			BytesPerSecond float64 `json:"bytes_per_second"`
		} `json:"slow_readers"`
		Cut *struct{} `json:"cut"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !doc.Complete || doc.Publishes != 3 || doc.Deliveries != 4 || doc.Host != "host-a" || doc.Cut != nil ||
		len(doc.Topics) != 2 || doc.Topics["a.b"] != 2 || doc.Topics["a.c.d"] != 1 ||
		len(doc.Subscriptions) != 3 || doc.Subscriptions[0].Pattern != "a.*" ||
		doc.Drops.Recorder != 3 || doc.Drops.Daemon != 2 ||
		len(doc.SlowReaders) != 1 || doc.SlowReaders[0].Conn != 2 || doc.SlowReaders[0].BytesPerSecond != 2000 {
		t.Errorf("%+v\n%s", doc, out)
	}
}

// A file cut short is read up to its last complete chunk: exit 0, the
// analysis on stdout, one warning line on stderr.
func TestCaptureInspectTruncated(t *testing.T) {
	path := inspectFile(t, true)
	code, out, errOut := runCmd(t, nil, "capture", "inspect", path)
	wantErr := "busd: capture inspect " + path + ": TRUNCATED: cut short after 2 complete chunks at 2.5s; the records up to there are shown\n"
	if code != 0 || errOut != wantErr {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "status         TRUNCATED: cut short after 2 complete chunks at 2.5s; the records\n") ||
		!strings.Contains(out, "publishes      2, 500 B of bodies\n") {
		t.Errorf("output:\n%s", out)
	}

	code, out, errOut = runCmd(t, nil, "capture", "inspect", path, "--json")
	var doc struct {
		Complete  bool   `json:"complete"`
		Publishes uint64 `json:"publishes"`
		Cut       struct {
			Reason string `json:"reason"`
			Chunks int    `json:"chunks"`
			LastNs int64  `json:"last_ns"`
		} `json:"cut"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || errOut != wantErr {
		t.Fatalf("exit %d, %v, stderr %q", code, err, errOut)
	}
	if doc.Complete || doc.Publishes != 2 || doc.Cut.Reason != "truncated" || doc.Cut.Chunks != 2 || doc.Cut.LastNs != int64(2500*time.Millisecond) {
		t.Errorf("%+v", doc)
	}
}

// Files that hold nothing to show: exit 1, one line, nothing on stdout.
func TestCaptureInspectBadFiles(t *testing.T) {
	good, err := os.ReadFile(inspectFile(t, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string // in the line
	}{
		{"empty", nil, "the file is empty"},
		{"text", []byte("PUB a.b 2\n{}\n"), "not a busd capture file"},
		{"random", []byte{0x8f, 0x01, 0xee, 0x42, 0x00, 0x13, 0x77, 0xfe, 0x31, 0xc4, 0x9a, 0x05}, "not a busd capture file"},
		{"zstd of something else", zstdOf(t, []byte(`{"hello": "world"}`)), "not a busd capture file"},
		{"cut inside the header", good[:20], "truncated capture file"},
		// docs/capture-format.md: the magic, then the version (uint16,
		// little-endian); what follows is the newer version's business.
		{"newer version", zstdOf(t, []byte("BUSDCAP\x00\x09\x00a header of version 9")), "version 9 is newer"},
	} {
		path := writeFile(t, "f", c.data)
		code, out, errOut := runCmd(t, nil, "capture", "inspect", path)
		prefix := "busd: capture inspect " + path + ": "
		if code != 1 || out != "" || !strings.HasPrefix(errOut, prefix) || !strings.Contains(errOut, c.want) ||
			strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", c.name, code, out, errOut)
		}
	}
	code, _, errOut := runCmd(t, nil, "capture", "inspect", filepath.Join(t.TempDir(), "none"))
	if code != 1 || !strings.HasSuffix(errOut, "none: no such file or directory\n") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"--top", "0", "a"}} {
		code, _, errOut = runCmd(t, nil, append([]string{"capture", "inspect"}, args...)...)
		if code != 2 || !strings.HasPrefix(errOut, "busd: ") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// Damage after good chunks: the analysis of the records before it, then
// exit 1 with one line.
func TestCaptureInspectCorruptAfterRecords(t *testing.T) {
	good, err := os.ReadFile(inspectFile(t, false))
	if err != nil {
		t.Fatal(err)
	}
	truncated, err := os.ReadFile(inspectFile(t, true))
	if err != nil {
		t.Fatal(err)
	}
	// The truncated file ends 10 bytes into the last chunk: damage that
	// chunk in the complete file.
	bad := bytes.Clone(good)
	bad[len(truncated)-5] ^= 0xff
	path := writeFile(t, "bad", bad)
	code, out, errOut := runCmd(t, nil, "capture", "inspect", path)
	if code != 1 || !strings.Contains(out, "publishes      2, ") || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "busd: capture inspect "+path+": corrupted capture file") {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// zstdOf is data in one zstd frame.
func zstdOf(t *testing.T, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

func TestCaptureHelpListsInspect(t *testing.T) {
	code, out, _ := runCmd(t, nil, "capture", "--help")
	if code != 0 || !strings.Contains(out, "  inspect  analyse a capture file") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runCmd(t, nil, "capture", "inspect", "-h")
	if code != 0 || !strings.Contains(out, "--json") || !strings.Contains(out, "--top") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
