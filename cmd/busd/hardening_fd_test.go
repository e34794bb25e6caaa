package main

// The daemon against its open-files limit, in a subprocess so that the
// limit and the descriptors are the daemon's own.

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"busd/codec"
	"busd/engine"
)

// raiseTestNoFile lifts this test process's soft RLIMIT_NOFILE to the hard
// limit and skips the test when even that is below need.
func raiseTestNoFile(t *testing.T, need uint64) {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatalf("raising RLIMIT_NOFILE to %d: %v", lim.Max, err)
		}
	}
	if lim.Cur < need {
		t.Skipf("RLIMIT_NOFILE hard limit is %d; this test needs %d descriptors", lim.Max, need)
	}
}

// startLimited runs busd with its open-files limit (soft and hard) set to
// nofile before it starts: with prlimit when installed, else a shell's
// ulimit.
func startLimited(t *testing.T, nofile int, args ...string) *proc {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	n := strconv.Itoa(nofile)
	if prl, err := exec.LookPath("prlimit"); err == nil {
		return startCmd(t, exec.Command(prl, append([]string{"--nofile=" + n + ":" + n, busdBin}, args...)...), cleanEnv(t))
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("neither prlimit nor sh to lower the limit with")
	}
	return startCmd(t, exec.Command(sh, append([]string{"-c", `ulimit -n ` + n + ` && exec "$0" "$@"`, busdBin}, args...)...), cleanEnv(t))
}

// daemonFDs counts the descriptors the daemon process holds.
func daemonFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("daemon descriptors: %v", err)
	}
	return len(ents)
}

// floodDial opens n connections to path from a few goroutines, retrying
// while the listen backlog is full.
func floodDial(t *testing.T, path string, n int) []net.Conn {
	const dialers = 8

	t.Helper()
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	deadline := time.Now().Add(30 * time.Second)
	for range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				for {
					c, err := net.Dial("unix", path)
					if err == nil {
						conns[i] = c
						break
					}
					if !errors.Is(err, syscall.EAGAIN) || time.Now().After(deadline) {
						failed.Store(&err)
						return
					}
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	t.Cleanup(func() { closeAll(conns) })
	if err := failed.Load(); err != nil {
		t.Fatalf("dial: %v", *err)
	}
	return conns
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// countOpen reports how many of conns the daemon kept open: the refused
// ones read EOF at once, the kept ones time out.
func countOpen(conns []net.Conn, wait time.Duration) (open, closed int) {
	var o, c atomic.Int64
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn.SetReadDeadline(time.Now().Add(wait))
			var b [1]byte
			_, err := conn.Read(b[:])
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				o.Add(1)
			} else {
				c.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(o.Load()), int(c.Load())
}

// healthyPair is a subscriber and a publisher on topic.
type healthyPair struct {
	sub, pub *rawClient
	topic    string
	n        int
}

func newHealthyPair(t *testing.T, path, topic string) *healthyPair {
	t.Helper()
	hp := &healthyPair{sub: dialRaw(t, path, "healthy-sub", topic), pub: dialRaw(t, path, "healthy-pub"), topic: topic}
	// The subscription is in place once a probe arrives.
	deadline := time.Now().Add(10 * time.Second)
	for {
		hp.publish(t, 1)
		hp.sub.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := hp.sub.r.Peek(1); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("healthy pair: the subscriber gets nothing")
		}
	}
	// Drop the probes: everything that arrives within 200ms.
	hp.sub.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	io.Copy(io.Discard, hp.sub.r)
	hp.sub.r.Reset(hp.sub.c)
	return hp
}

func (hp *healthyPair) publish(t *testing.T, n int) {
	t.Helper()
	var out []byte
	for range n {
		hp.n++
		out = codec.AppendFrame(out, codec.VerbPUB, hp.topic, []byte(`{"n": `+strconv.Itoa(hp.n)+`}`))
	}
	hp.pub.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := hp.pub.c.Write(out); err != nil {
		t.Fatalf("healthy publisher: %v", err)
	}
}

// exchange publishes n events and checks that all arrive in order.
func (hp *healthyPair) exchange(t *testing.T, n int) {
	t.Helper()
	first := hp.n + 1
	hp.publish(t, n)
	for i := first; i < first+n; i++ {
		f := hp.sub.next(t, 10*time.Second)
		if want := `{"n": ` + strconv.Itoa(i) + `}`; f.Verb != codec.VerbEVT || string(f.Body) != want {
			t.Fatalf("healthy subscriber got %v %q, want EVT %s", f.Verb, f.Body, want)
		}
	}
}

func (p *proc) alive(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("busd exited (%v); stderr:\n%s", p.err, p.stderr.String())
	default:
	}
}

// Started under a low limit, busd lowers its connection cap to fit, and a
// flood of connections up to and beyond the limit is refused without the
// daemon running out of descriptors.
func TestHardeningFloodUnderLowFileLimit(t *testing.T) {
	const nofile, flood = 256, 512
	raiseTestNoFile(t, flood+512)
	path := filepath.Join(shortTempDir(t), "bus.sock")
	d := startLimited(t, nofile, "--socket", path, "--heartbeat", "0", "--max-conns", "4096")
	waitSocket(t, d, path)
	hp := newHealthyPair(t, path, "healthy")
	base := daemonFDs(t, d.cmd.Process.Pid)

	conns := floodDial(t, path, flood)
	open, closed := countOpen(conns, 2*time.Second)
	peak := daemonFDs(t, d.cmd.Process.Pid)
	t.Logf("limit %d: %d connections kept, %d refused; daemon descriptors %d idle, %d flooded", nofile, open, closed, base, peak)
	d.alive(t)
	hp.exchange(t, 100)
	if maxConns := nofile - engine.FDReserve; open != maxConns-2 {
		t.Errorf("%d flood connections kept, want %d (max-conns %d, minus the healthy pair)", open, maxConns-2, maxConns)
	}
	if peak >= nofile {
		t.Errorf("daemon holds %d descriptors under a limit of %d", peak, nofile)
	}

	closeAll(conns)
	// The slots come back.
	time.Sleep(100 * time.Millisecond)
	again := floodDial(t, path, 10)
	if open, _ := countOpen(again, 500*time.Millisecond); open != 10 {
		t.Errorf("after the flood left, %d of 10 new connections kept", open)
	}
	hp.exchange(t, 10)
	d.alive(t)
}

// The limit lowered below the connection cap while busd runs (an operator's
// prlimit, or descriptors used up some other way): connections beyond what
// the limit allows are refused, and the daemon does not stop. gnet stops
// its whole engine when accept fails (EMFILE), so the engine must refuse
// connections before the kernel does.
func TestHardeningFileLimitLoweredWhileRunning(t *testing.T) {
	const nofile, flood = 200, 400
	raiseTestNoFile(t, flood+512)
	path := filepath.Join(shortTempDir(t), "bus.sock")
	d := start(t, cleanEnv(t), "--socket", path, "--heartbeat", "0", "--max-conns", "4096")
	waitSocket(t, d, path)
	hp := newHealthyPair(t, path, "healthy")
	pid := d.cmd.Process.Pid
	lim := unix.Rlimit{Cur: nofile, Max: nofile}
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Skipf("cannot lower the daemon's limit: %v", err)
	}
	base := daemonFDs(t, pid)

	conns := floodDial(t, path, flood)
	open, closed := countOpen(conns, 2*time.Second)
	peak := daemonFDs(t, pid)
	t.Logf("limit lowered to %d at run time: %d connections kept, %d refused; daemon descriptors %d idle, %d flooded", nofile, open, closed, base, peak)
	d.alive(t)
	hp.exchange(t, 100)
	if open == 0 || open+2 >= nofile {
		t.Errorf("%d flood connections kept under a limit of %d", open, nofile)
	}
	if peak >= nofile {
		t.Errorf("daemon holds %d descriptors under a limit of %d", peak, nofile)
	}

	closeAll(conns)
	time.Sleep(100 * time.Millisecond)
	again := floodDial(t, path, 10)
	if open, _ := countOpen(again, 500*time.Millisecond); open != 10 {
		t.Errorf("after the flood left, %d of 10 new connections kept", open)
	}
	hp.exchange(t, 10)
	d.alive(t)
}

// The limit lowered below the descriptors already open: every accept fails
// (EMFILE) until connections leave. The daemon keeps serving the ones it
// has, waits, and accepts again once descriptors are free.
func TestHardeningFileLimitBelowOpenDescriptors(t *testing.T) {
	const held = 150
	raiseTestNoFile(t, held+512)
	path := filepath.Join(shortTempDir(t), "bus.sock")
	d := start(t, cleanEnv(t), "--socket", path, "--heartbeat", "0")
	waitSocket(t, d, path)
	hp := newHealthyPair(t, path, "healthy")
	pid := d.cmd.Process.Pid
	conns := floodDial(t, path, held)
	if open, _ := countOpen(conns, 500*time.Millisecond); open != held {
		t.Fatalf("%d of %d connections kept before lowering the limit", open, held)
	}
	inUse := daemonFDs(t, pid)
	nofile := uint64(inUse - 50)
	lim := unix.Rlimit{Cur: nofile, Max: nofile}
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Skipf("cannot lower the daemon's limit: %v", err)
	}

	// Newcomers: accept fails while no descriptor is free under the limit
	// (or gnet cannot duplicate the accepted one), and they wait in the
	// backlog or are refused.
	newcomers := floodDial(t, path, 5)
	time.Sleep(300 * time.Millisecond)
	d.alive(t)
	hp.exchange(t, 100)

	// Free descriptors: every newcomer hears back (refused or kept), and
	// the daemon accepts again.
	closeAll(conns[:100])
	if open, closed := countOpen(newcomers, 2*time.Second); open+closed != len(newcomers) {
		t.Fatalf("newcomers: %d open, %d closed, want %d in all", open, closed, len(newcomers))
	}
	// The daemon closes the freed connections on its event loop: wait until
	// their descriptors are back before counting on room for ten more.
	for deadline := time.Now().Add(5 * time.Second); daemonFDs(t, pid)+2*10 >= int(nofile); {
		if time.Now().After(deadline) {
			t.Fatalf("daemon still holds %d descriptors under a limit of %d after 100 connections left", daemonFDs(t, pid), nofile)
		}
		time.Sleep(10 * time.Millisecond)
	}
	later := floodDial(t, path, 10)
	if open, _ := countOpen(later, 500*time.Millisecond); open != 10 {
		t.Errorf("after descriptors were freed, %d of 10 new connections kept", open)
	}
	d.alive(t)
	hp.exchange(t, 10)
	emfile := strings.Count(d.stderr.String(), "too many open files")
	t.Logf("limit %d under %d descriptors in use: daemon alive, healthy pair served; %d log lines report EMFILE", nofile, inUse, emfile)
	if emfile == 0 {
		t.Errorf("no EMFILE in the daemon's log; the test did not reach the limit:\n%s", d.stderr.String())
	}
}
