// Command memburst measures how a busd daemon's resident memory grows
// under a burst that the engine's limits bound, and how fast it goes back
// to the operating system once the burst ends (bench/decisions/limits.md).
//
// It starts the daemon as a child process: a busd binary given with -busd,
// or, without it, this program itself in -serve mode, which runs the
// engine with the limits given by its flags (so that limits cmd/busd has
// no flags for can be set). It then drives one scenario and samples the
// child's VmRSS from /proc:
//
//	pending: -conns connections each send the header of a PUB announcing
//	  a 1 MiB body and all of it but its last byte, then all close;
//	subs: -conns connections each subscribe -patterns distinct patterns
//	  of about 210 bytes, then all close.
//
//	go build -o /tmp/busd ./cmd/busd
//	go run ./bench/memburst -busd /tmp/busd -scenario pending -conns 400
//	go run ./bench/memburst -scenario pending -conns 400 -max-pending 0 -env GOMEMLIMIT=256MiB
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"busd/codec"
	"busd/engine"
)

func main() {
	var (
		serve       = flag.String("serve", "", "run the engine on this socket (the child's mode)")
		busd        = flag.String("busd", "", "busd binary to measure; empty: this program's -serve mode")
		env         = flag.String("env", "", "extra environment for the daemon, comma-separated KEY=VALUE")
		scenario    = flag.String("scenario", "pending", "pending or subs")
		conns       = flag.Int("conns", 400, "connections in the burst")
		patterns    = flag.Int("patterns", 1000, "patterns per connection (subs)")
		settle      = flag.Duration("settle", 30*time.Second, "how long to sample RSS after the burst ends")
		every       = flag.Duration("every", 500*time.Millisecond, "RSS sampling period")
		maxPending  = flag.Int("max-pending", 0, "engine MaxPendingBytes in -serve mode (0: no budget)")
		maxPatterns = flag.Int("max-patterns", 0, "engine MaxPatterns in -serve mode (0: no limit)")
		maxPerConn  = flag.Int("max-patterns-per-conn", 0, "engine MaxPatternsPerConn in -serve mode (0: no limit)")
		frameTO     = flag.Duration("frame-timeout", 0, "engine FrameTimeout in -serve mode (0: none)")
		release     = flag.Int("release-after", -1, "engine ReleaseAfterBytes in -serve mode (-1: the default)")
	)
	flag.Parse()
	if *serve != "" {
		runEngine(*serve, func(c *engine.Config) {
			c.MaxPendingBytes = *maxPending
			c.MaxPatterns = *maxPatterns
			c.MaxPatternsPerConn = *maxPerConn
			c.FrameTimeout = *frameTO
			if *release >= 0 {
				c.ReleaseAfterBytes = *release
			}
		})
		return
	}
	dir, err := os.MkdirTemp("", "mb")
	check(err)
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s")
	var cmd *exec.Cmd
	if *busd != "" {
		cmd = exec.Command(*busd, "serve", "--socket", sock, "--heartbeat", "0", "--log-level", "error")
	} else {
		self, err := os.Executable()
		check(err)
		cmd = exec.Command(self, "-serve", sock, "-max-pending", strconv.Itoa(*maxPending),
			"-max-patterns", strconv.Itoa(*maxPatterns), "-max-patterns-per-conn", strconv.Itoa(*maxPerConn),
			"-frame-timeout", frameTO.String(), "-release-after", strconv.Itoa(*release))
	}
	cmd.Env = os.Environ()
	if *env != "" {
		cmd.Env = append(cmd.Env, strings.Split(*env, ",")...)
	}
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	waitSocket(sock)
	pid := cmd.Process.Pid
	start := time.Now()
	sample := func(what string) {
		fmt.Printf("%7.1fs  %-10s rss %6.1f MiB  cpu %6.2fs\n", time.Since(start).Seconds(), what, float64(rss(pid))/(1<<20), cpu(pid).Seconds())
	}
	sample("idle")
	var cs []net.Conn
	switch *scenario {
	case "pending":
		cs = pendingBurst(sock, *conns)
	case "subs":
		cs = subsBurst(sock, *conns, *patterns)
	default:
		check(fmt.Errorf("unknown scenario %q", *scenario))
	}
	for range 4 {
		sample("burst")
		time.Sleep(*every)
	}
	for _, c := range cs {
		c.Close()
	}
	start = time.Now()
	for time.Since(start) < *settle {
		sample("after")
		time.Sleep(*every)
	}
	sample("after")
}

// pendingBurst opens n connections that each hold a 1 MiB PUB but its
// last byte, and returns once the daemon has read them all (the writes
// returned and the daemon's RSS stopped growing).
func pendingBurst(sock string, n int) []net.Conn {
	frame := binary.BigEndian.AppendUint32([]byte("PUB burst.topic\n"), codec.MaxBody)
	frame = append(frame, bytes.Repeat([]byte{' '}, codec.MaxBody-1)...)
	cs := make([]net.Conn, n)
	var wg sync.WaitGroup
	for i := range cs {
		c, err := net.Dial("unix", sock)
		check(err)
		cs[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetWriteDeadline(time.Now().Add(time.Minute))
			c.Write(frame) // a shed connection fails here: expected
		}()
	}
	wg.Wait()
	time.Sleep(time.Second)
	return cs
}

// subsBurst opens n connections that each subscribe to perConn distinct
// patterns, and returns once the daemon has handled every SUB: each
// connection's last SUB is a probe topic that a publisher then reaches.
func subsBurst(sock string, n, perConn int) []net.Conn {
	pad := strings.Repeat("x", 180)
	cs := make([]net.Conn, n)
	pub, err := net.Dial("unix", sock)
	check(err)
	defer pub.Close()
	for i := range cs {
		c, err := net.Dial("unix", sock)
		check(err)
		cs[i] = c
		var b []byte
		for j := range perConn {
			b = codec.AppendFrame(b, codec.VerbSUB, fmt.Sprintf("burst.%s.%d.%d.>", pad, i, j), nil)
		}
		probe := fmt.Sprintf("probe.%d", i)
		b = codec.AppendFrame(b, codec.VerbSUB, probe, nil)
		_, err = c.Write(b)
		check(err)
		r := bufio.NewReader(c)
		for {
			_, err := pub.Write(codec.AppendFrame(nil, codec.VerbPUB, probe, []byte(`{"p": 1}`)))
			check(err)
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := r.ReadString('\n'); err == nil {
				break
			} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				check(err)
			}
		}
		c.SetReadDeadline(time.Time{})
		go io.Copy(io.Discard, r) // the remaining probe events
	}
	return cs
}

func runEngine(sock string, set func(*engine.Config)) {
	cfg := engine.DefaultConfig()
	cfg.Socket = sock
	cfg.Group = ""
	cfg.Heartbeat = 0
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	set(&cfg)
	srv, err := engine.New(cfg)
	check(err)
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		srv.Shutdown(context.Background())
	}()
	check(srv.Run(nil))
}

func waitSocket(sock string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			check(fmt.Errorf("daemon not listening on %s: %w", sock, err))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func rss(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	check(err)
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseUint(string(bytes.Fields(rest)[0]), 10, 64)
			check(err)
			return kb << 10
		}
	}
	check(errors.New("no VmRSS"))
	return 0
}

// cpu is the child's user and system CPU time so far.
func cpu(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	check(err)
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, err := strconv.ParseUint(f[11], 10, 64)
	check(err)
	stime, err := strconv.ParseUint(f[12], 10, 64)
	check(err)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "memburst:", err)
		os.Exit(1)
	}
}
