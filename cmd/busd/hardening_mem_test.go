package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"busd/codec"
)

// plainBusd is the daemon built without the race detector, whose shadow
// memory would swamp any RSS measurement: busdBin when this test binary is
// not a race build, else a second build.
func plainBusd(t *testing.T) string {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if !raceEnabled {
		return busdBin
	}
	bin := filepath.Join(shortTempDir(t), "busd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// procKiB reads one "Key: N kB" line of /proc/<pid>/status.
func procKiB(t *testing.T, pid int, key string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("daemon status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatalf("daemon status line %q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("daemon status: no %s", key)
	return 0
}

// A subscriber that never reads, fed 1,000,000 events of ~220 bytes
// (~220 MB): the daemon's RSS stays within the configured ring bound plus a
// constant, because its queue drops the oldest events. The ring's event
// bound (16384) is above what 2 MiB holds, so the byte bound is the one
// that acts.
func TestHardeningMemoryBoundSlowSubscriber(t *testing.T) {
	const (
		events    = 1_000_000
		ringBytes = 2 << 20
		highWater = 256 << 10
		// constant covers what the bound does not count: the size-class
		// rounding of pooled event buffers (a 220-byte frame lives in a
		// 512-byte buffer), the garbage collector's headroom, the freed
		// buffers pooled for reuse, and the outbound buffer (high water).
		constant = 16 << 20
	)
	bin := plainBusd(t)
	path := filepath.Join(shortTempDir(t), "bus.sock")
	d := startCmd(t, exec.Command(bin, "--socket", path, "--heartbeat", "0", "--log-level", "warn",
		"--ring-bytes", "2MiB", "--ring-events", "16384", "--high-water", "256KiB"), cleanEnv(t))
	waitSocket(t, d, path)
	pid := d.cmd.Process.Pid

	slow := dialRaw(t, path, "slow", "mem.>") // never reads
	probe := dialRaw(t, path, "probe", "mem.done")
	pub := dialRaw(t, path, "pub")
	// The subscriptions are in place once a probe event arrives.
	deadline := time.Now().Add(10 * time.Second)
	for {
		pub.c.Write(codec.AppendFrame(nil, codec.VerbPUB, "mem.done", []byte(`{}`)))
		probe.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := probe.r.Peek(1); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("probe subscriber gets nothing")
		}
	}
	probe.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	io.Copy(io.Discard, probe.r)
	probe.r.Reset(probe.c)

	baseRSS := procKiB(t, pid, "VmRSS")
	var peakRSS atomic.Int64
	peakRSS.Store(int64(baseRSS))
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
			if err != nil {
				return
			}
			for _, line := range strings.Split(string(b), "\n") {
				if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
					n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
					if int64(n) > peakRSS.Load() {
						peakRSS.Store(int64(n))
					}
				}
			}
		}
	}()

	// 256 events per write; each EVT frame is ~220 bytes.
	body := `{"v": 1, "id": "0123456789abcdef0123456789abcdef", "topic": "mem.t", "type": "state", "ts": 1764190000.123456, "payload": {"state": "running", "pad": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`
	var chunk []byte
	for range 256 {
		chunk = codec.AppendFrame(chunk, codec.VerbPUB, "mem.t", []byte(body))
	}
	evtSize := codec.EventFrameSize([]byte("mem.t"), len(body))
	start := time.Now()
	pub.c.SetWriteDeadline(time.Now().Add(2 * time.Minute))
	for sent := 0; sent < events; sent += 256 {
		if _, err := pub.c.Write(chunk); err != nil {
			t.Fatalf("publisher, after %d events: %v", sent, err)
		}
	}
	// Events from one publisher are handled in order: when the marker
	// arrives, the daemon has handled every event before it.
	pub.c.Write(codec.AppendFrame(nil, codec.VerbPUB, "mem.done", []byte(`{"done": true}`)))
	probe.c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	if f, ok := readFrame(t, probe.r); !ok || string(f.Body) != `{"done": true}` {
		t.Fatalf("probe: got %q, want the marker", f.Body)
	}
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	endRSS := procKiB(t, pid, "VmRSS")
	hwm := procKiB(t, pid, "VmHWM")
	peak := max(int(peakRSS.Load()), endRSS)

	// What the slow subscriber can still read: the kernel's socket buffer,
	// what the daemon handed to its outbound buffer, and the ring.
	slow.c.SetReadDeadline(time.Now().Add(time.Second))
	got := 0
	r := bufio.NewReaderSize(slow.c, 1<<20)
	for {
		f, ok := readFrameQuiet(r)
		if !ok {
			break
		}
		if f.Verb == codec.VerbEVT {
			got++
		}
	}

	growth := (peak - baseRSS) << 10
	t.Logf("%d events of %d B (%d MB) in %v to a subscriber that never reads: daemon RSS %d KiB before, peak %d KiB, end %d KiB (VmHWM %d KiB); growth %d KiB against a ring bound of %d KiB + %d KiB constant; the subscriber could then read %d events",
		events, evtSize, events*evtSize>>20, elapsed.Round(time.Millisecond), baseRSS, peak, endRSS, hwm, growth>>10, ringBytes>>10, constant>>10, got)
	if growth > ringBytes+constant {
		t.Errorf("daemon RSS grew %d KiB, over the ring bound %d KiB + %d KiB", growth>>10, ringBytes>>10, constant>>10)
	}
	if max := (ringBytes+highWater)/evtSize + 8192; got > max || got == 0 {
		t.Errorf("the slow subscriber read %d events afterwards, want 1..%d (ring + outbound buffer + socket buffer)", got, max)
	}
	pub.c.Close()
	d.alive(t)
}

// readFrameQuiet reads one frame, reporting only whether it could.
func readFrameQuiet(r *bufio.Reader) (codec.Frame, bool) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return codec.Frame{}, false
	}
	head := append([]byte(nil), line...)
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return codec.Frame{}, false
	}
	size := int(n[0])<<24 | int(n[1])<<16 | int(n[2])<<8 | int(n[3])
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return codec.Frame{}, false
	}
	var f codec.Frame
	_, _, err = f.Decode(append(append(head, n[:]...), body...))
	return f, err == nil
}
