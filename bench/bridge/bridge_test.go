package bridge

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"busd/bench/load"
	"busd/client"
	"busd/internal/natstest"
	"busd/internal/procstat"
)

var (
	rounds  = flag.Int("bridge.rounds", 3, "interleaved rounds of each path per benchmark run")
	profile = flag.String("bridge.profile", "", "write CPU profiles of both bridges during the bridge path's rounds to this `directory`")
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	load.RemoveBuilds()
	os.Exit(code)
}

const (
	topic = "bench.decky.d1.traffic"
	// batch is how many events the publishers hand over at once: busd's
	// through one PublishBatch write, NATS's through nats.go's buffer.
	batch = 64
	// quiet is how long a path must deliver nothing to count as drained.
	quiet = 300 * time.Millisecond
)

// body is a typical platform event (PROTOCOL.md: 150-400 bytes).
var body = client.AppendEnvelope(nil, topic, "traffic", time.Now(),
	[]byte(`{"decky": "d1", "src": "203.0.113.7", "dst_port": 22, "proto": "tcp", "bytes": 1834, "packets": 12, "flags": "PA"}`))

// result is one round of one path.
type result struct {
	published, delivered int64
	rate                 float64       // delivered per second, first publish to last delivery
	bridgeCPU            time.Duration // both bridge processes (bridge path only)
	daemonCPU            time.Duration // both daemons (bridge path only)
}

// BenchmarkBridge runs both paths in alternation and reports medians:
// nats-msgs/s and bridge-msgs/s (delivered), their ratio, the loss of
// each, and the bridges' CPU per delivered event.
func BenchmarkBridge(b *testing.B) {
	d, err := load.MeasureTime(flagLookup("test.benchtime"))
	if err != nil {
		b.Fatal(err)
	}
	env := setUp(b)
	var natsRuns, bridgeRuns []result
	for range max(*rounds, 1) {
		natsRuns = append(natsRuns, env.runNATS(b, d))
		bridgeRuns = append(bridgeRuns, env.runBridge(b, d))
	}
	n, br := median(natsRuns), median(bridgeRuns)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(n.rate, "nats-msgs/s")
	b.ReportMetric(br.rate, "bridge-msgs/s")
	b.ReportMetric(br.rate/n.rate, "bridge/nats")
	b.ReportMetric(float64(len(body)), "event-bytes")
	b.ReportMetric(lossPct(n), "nats-loss-%")
	b.ReportMetric(lossPct(br), "bridge-loss-%")
	if br.delivered > 0 {
		b.ReportMetric(float64(br.bridgeCPU.Nanoseconds())/1e3/float64(br.delivered), "bridge-cpu-µs/event")
		b.ReportMetric(float64(br.daemonCPU.Nanoseconds())/1e3/float64(br.delivered), "daemons-cpu-µs/event")
	}
	for i := range natsRuns {
		b.Logf("round %d: nats %.0f/s (%d of %d), bridge %.0f/s (%d of %d), bridges' CPU %v, daemons' CPU %v", i+1,
			natsRuns[i].rate, natsRuns[i].delivered, natsRuns[i].published,
			bridgeRuns[i].rate, bridgeRuns[i].delivered, bridgeRuns[i].published, bridgeRuns[i].bridgeCPU, bridgeRuns[i].daemonCPU)
	}
	if br.delivered == 0 || n.delivered == 0 {
		b.Fatal("a path delivered nothing")
	}
}

func lossPct(r result) float64 {
	if r.published == 0 {
		return 0
	}
	return 100 * float64(r.published-r.delivered) / float64(r.published)
}

// median is the round with the median rate (its other figures with it).
func median(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int {
		switch {
		case a.rate < b.rate:
			return -1
		case a.rate > b.rate:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

// env is what both paths run on: one NATS server; two daemons and two
// bridges for the bridge path.
type env struct {
	nats             *natstest.Server
	hostA, hostB     *load.Busd
	bridgeA, bridgeB *exec.Cmd
	adminDir         string // the bridges' admin sockets, a and b
	round            int
}

func setUp(b *testing.B) *env {
	b.Helper()
	e := &env{nats: natstest.RunServer(b), adminDir: shortTempDir(b)}
	ctx := context.Background()
	e.hostA, e.hostB = &load.Busd{}, &load.Busd{}
	for _, h := range []*load.Busd{e.hostA, e.hostB} {
		if err := h.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { h.Stop() })
	}
	bin, err := load.BusdBinary()
	if err != nil {
		b.Fatal(err)
	}
	e.bridgeA = startBridge(b, bin, e.hostA.Listening(), e.nats.URL(), "a", filepath.Join(e.adminDir, "a"), "--export", "bench.>")
	e.bridgeB = startBridge(b, bin, e.hostB.Listening(), e.nats.URL(), "b", filepath.Join(e.adminDir, "b"), "--import", "bench.>")
	e.nats.WaitInterest(b, topic)
	return e
}

// shortTempDir is a temporary directory whose paths fit a UNIX socket
// address.
func shortTempDir(b *testing.B) string {
	dir, err := os.MkdirTemp("", "bb")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startBridge(b *testing.B, bin, socket, url, host, admin string, rule ...string) *exec.Cmd {
	b.Helper()
	args := append([]string{"bridge", "--socket", socket, "--nats", url, "--host-id", host,
		"--admin-socket", admin, "--log-level", "warn"}, rule...)
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if stopBridge(cmd) && stderr.Len() > 0 {
			b.Logf("bridge %s: %s", host, stderr.String())
		}
	})
	return cmd
}

// stopBridge interrupts a bridge and waits for it (killing it after a
// bound); it reports whether it was still running.
func stopBridge(cmd *exec.Cmd) bool {
	if cmd.ProcessState != nil {
		return false
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	return true
}

// flagLookup is a flag's value, "" when it is not defined.
func flagLookup(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// setUpNATS starts a NATS server for the benchmark and returns its URL.
func setUpNATS(b *testing.B) string { return natstest.RunServer(b).URL() }

// counter counts deliveries and remembers when the last one came.
type counter struct {
	n    atomic.Int64
	last atomic.Int64 // unix nanoseconds
}

func (c *counter) add() {
	c.n.Add(1)
	c.last.Store(time.Now().UnixNano())
}

// drain waits until nothing arrived for quiet (or a bound), then returns
// the count and the delivery rate since start.
func (c *counter) drain(start time.Time) (int64, float64) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		before := c.n.Load()
		time.Sleep(quiet)
		if c.n.Load() == before {
			break
		}
	}
	n := c.n.Load()
	span := time.Duration(c.last.Load() - start.UnixNano())
	if n == 0 || span <= 0 {
		return n, 0
	}
	return n, float64(n) / span.Seconds()
}

// runNATS: nats.go publisher → NATS → nats.go subscriber.
func (e *env) runNATS(b *testing.B, d time.Duration) result {
	b.Helper()
	sub, err := nats.Connect(e.nats.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	var c counter
	s, err := sub.Subscribe(topic, func(*nats.Msg) { c.add() })
	if err != nil {
		b.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		b.Fatal(err)
	}
	_ = s
	pub, err := nats.Connect(e.nats.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	start := time.Now()
	var published int64
	for time.Since(start) < d {
		for range batch {
			if err := pub.Publish(topic, body); err != nil {
				b.Fatal(err)
			}
		}
		published += batch
	}
	if err := pub.Flush(); err != nil {
		b.Fatal(err)
	}
	n, rate := c.drain(start)
	return result{published: published, delivered: n, rate: rate}
}

// runBridge: busd client → busd A → bridge A → NATS → bridge B → busd B →
// busd client.
func (e *env) runBridge(b *testing.B, d time.Duration) result {
	b.Helper()
	var c counter
	sub, err := client.Dial(context.Background(), e.hostB.Listening(), client.WithName("bench-sub"))
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.SubscribeRaw(func(_, _ []byte) { c.add() }, topic); err != nil {
		b.Fatal(err)
	}
	pub, err := client.Dial(context.Background(), e.hostA.Listening(), client.WithName("bench-pub"))
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	e.warmUp(b, pub, &c)
	c.n.Store(0)

	e.round++
	if *profile != "" {
		for _, h := range []string{"a", "b"} {
			go profileBridge(b, filepath.Join(e.adminDir, h), filepath.Join(*profile, fmt.Sprintf("bridge-%s-%d.pprof", h, e.round)), d)
		}
	}
	cpu0 := e.cpu(b)
	var bt client.Batch
	for range batch {
		if err := bt.Add([]byte(topic), body); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	var published int64
	for time.Since(start) < d {
		if err := pub.PublishBatch(context.Background(), &bt); err != nil {
			b.Fatal(err)
		}
		published += batch
	}
	n, rate := c.drain(start)
	cpu1 := e.cpu(b)
	return result{published: published, delivered: n, rate: rate,
		bridgeCPU: cpu1[0] - cpu0[0], daemonCPU: cpu1[1] - cpu0[1]}
}

// warmUp publishes until an event crosses: the subscriber's SUB has
// reached daemon B and the whole path is connected.
func (e *env) warmUp(b *testing.B, pub *client.Client, c *counter) {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for c.n.Load() == 0 {
		if time.Now().After(deadline) {
			b.Fatal("no event crossed the bridge path in 20 s")
		}
		_ = pub.PublishRaw(context.Background(), topic, body)
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(quiet)
}

// cpu is the CPU used so far by the two bridges and by the two daemons.
func (e *env) cpu(b *testing.B) [2]time.Duration {
	b.Helper()
	var out [2]time.Duration
	for i, pids := range [][]int{{e.bridgeA.Process.Pid, e.bridgeB.Process.Pid}, {e.hostA.ServerPID(), e.hostB.ServerPID()}} {
		for _, pid := range pids {
			t, err := procstat.CPU(pid)
			if err != nil {
				b.Fatal(fmt.Errorf("cpu of %d: %w", pid, err))
			}
			out[i] += t
		}
	}
	return out
}

// profileBridge saves a CPU profile of the bridge serving admin, taken
// for d.
func profileBridge(b *testing.B, admin, out string, d time.Duration) {
	hc := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", admin)
	}}}
	res, err := hc.Get(fmt.Sprintf("http://bridge/debug/pprof/profile?seconds=%d", max(int(d.Seconds()), 1)))
	if err != nil {
		b.Logf("profile %s: %v", admin, err)
		return
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		b.Logf("profile %s: %v", out, err)
	}
}
