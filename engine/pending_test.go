package engine

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"busd/codec"
)

// pubFrame is one whole PUB frame on topic whose body, a JSON object, is
// bodyLen bytes long.
func pubFrame(topic string, bodyLen int) []byte {
	body := `{"a": "` + strings.Repeat("x", bodyLen-len(`{"a": ""}`)) + `"}`
	return codec.AppendFrame(nil, codec.VerbPUB, topic, []byte(body))
}

// rawDial is a plain connection, for writing frames piece by piece.
func (e *testEnv) rawDial() net.Conn {
	e.t.Helper()
	c, err := dialRetry(e.path, time.Now().Add(10*time.Second))
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func write(t testing.TB, c net.Conn, b []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// writeClosing writes b to c, which the daemon may close while b is on
// its way (the write crosses a limit): a broken pipe or a reset is then
// what the caller checks for next, with closedWithin.
func writeClosing(t testing.TB, c net.Conn, b []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(b); err != nil && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("write: %v", err)
	}
}

// closedWithin reports whether the server closes c within d (reading and
// discarding whatever it sends).
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	var b [4096]byte
	for {
		_, err := c.Read(b[:])
		if err == nil {
			continue
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}

// waitStamped waits until every connection holding an unfinished frame
// has had it stamped by its loop's scan: from then on, they are older than
// any frame that begins later.
func (e *testEnv) waitStamped() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		stamped := true
		e.srv.clients.Range(func(_ uint64, cl *peer) bool {
			u := &cl.limits.unfinished
			stamped = u.held.Load() == 0 || u.since.Load() != 0
			return stamped
		})
		if stamped {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("unfinished frames not stamped by the scan")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Over the budget, the connection whose frame has waited longest is closed
// (not the newer one whose read crossed the budget), without counting a
// protocol error; the newer frame completes and is delivered; a healthy
// pair is served throughout.
func TestPendingBudgetClosesOldest(t *testing.T) {
	e := startServer(t, func(c *Config) { c.MaxPendingBytes = codec.MaxEventFrame; c.FrameTimeout = 0 })
	sub, pub := e.dial(), e.dial()
	sub.sub("healthy", "big")

	frame := pubFrame("big", 700<<10)
	old, young := e.rawDial(), e.rawDial()
	write(t, old, frame[:600<<10])
	e.waitStats("the old frame's bytes", func(st Stats) bool { return st.PendingBytes == 600<<10 })
	e.waitStamped()
	healthyExchange(pub, sub, "healthy", 20)

	write(t, young, frame[:600<<10]) // 1.2 MiB held: over the budget
	if !closedWithin(old, 5*time.Second) {
		t.Fatal("the oldest frame's connection was not closed over the budget")
	}
	st := e.waitStats("the old connection to go, the young one's bytes", func(st Stats) bool {
		return st.Connections == 3 && st.PendingBytes == 600<<10
	})
	if st.PendingCloses != 1 || st.ProtocolErrors != 0 {
		t.Fatalf("after the budget closed one: %+v", st)
	}
	var held []int64
	for _, c := range e.srv.Connections() {
		held = append(held, c.PendingBytes)
	}
	if len(held) != 3 || held[0] != 0 || held[1] != 0 || held[2] != 600<<10 {
		t.Fatalf("connections hold %v, want the young one (the last) 600 KiB", held)
	}
	healthyExchange(pub, sub, "healthy", 20)

	write(t, young, frame[600<<10:])
	ev, err := sub.next(5 * time.Second)
	if err != nil || ev.topic != "big" || len(ev.body) != 700<<10 {
		t.Fatalf("the younger frame: %s, %d bytes, %v", ev.topic, len(ev.body), err)
	}
	if closedWithin(young, 50*time.Millisecond) {
		t.Fatal("the younger connection was closed")
	}
	st = e.waitStats("nothing held", func(st Stats) bool { return st.PendingBytes == 0 })
	if st.PendingCloses != 1 || st.ProtocolErrors != 0 {
		t.Fatalf("at the end: %+v", st)
	}
	healthyExchange(pub, sub, "healthy", 20)
}

// A new frame small enough to be left out of the budget at first is
// counted at its loop's next scan; if that takes the total over the
// budget, the scan closes the oldest frame's connection.
func TestSmallUnfinishedFrameCountedAtScan(t *testing.T) {
	e := startServer(t, func(c *Config) { c.MaxPendingBytes = codec.MaxEventFrame; c.FrameTimeout = 0 })
	sub, pub := e.dial(), e.dial()
	sub.sub("healthy")

	big := pubFrame("big", codec.MaxBody)
	old, small := e.rawDial(), e.rawDial()
	oldHeld := len(big) - 2 // all but the end of the largest frame
	if oldHeld+smallTail <= codec.MaxEventFrame || oldHeld > codec.MaxEventFrame {
		t.Fatalf("%d bytes held and a small frame of %d do not cross the budget (%d) together", oldHeld, smallTail, codec.MaxEventFrame)
	}
	write(t, old, big[:oldHeld])
	e.waitStats("the old frame's bytes", func(st Stats) bool { return st.PendingBytes == int64(oldHeld) })
	e.waitStamped()
	write(t, small, big[:smallTail]) // over the budget once counted
	if !closedWithin(old, 5*time.Second) {
		t.Fatal("the oldest frame's connection was not closed when the small frame was counted")
	}
	st := e.waitStats("the small frame alone counted", func(st Stats) bool {
		return st.Connections == 3 && st.PendingBytes == smallTail
	})
	if st.PendingCloses != 1 || st.ProtocolErrors != 0 {
		t.Fatalf("after the scan: %+v", st)
	}
	if closedWithin(small, 50*time.Millisecond) {
		t.Fatal("the small frame's connection was closed")
	}
	healthyExchange(pub, sub, "healthy", 20)
}

// When the read that crosses the budget is the oldest frame's own, that
// connection is closed on the spot.
func TestPendingBudgetClosesGrowingOldest(t *testing.T) {
	e := startServer(t, func(c *Config) { c.MaxPendingBytes = codec.MaxEventFrame; c.FrameTimeout = 0 })
	sub, pub := e.dial(), e.dial()
	sub.sub("healthy")

	frame := pubFrame("big", 900<<10)
	old, young := e.rawDial(), e.rawDial()
	write(t, old, frame[:600<<10])
	e.waitStats("the old frame's bytes", func(st Stats) bool { return st.PendingBytes == 600<<10 })
	e.waitStamped()
	write(t, young, frame[:400<<10])
	e.waitStats("both frames' bytes", func(st Stats) bool { return st.PendingBytes == 1000<<10 })
	writeClosing(t, old, frame[600<<10:700<<10]) // crosses the budget
	if !closedWithin(old, 5*time.Second) {
		t.Fatal("the oldest frame's connection was not closed over the budget")
	}
	st := e.waitStats("the old connection to go", func(st Stats) bool { return st.Connections == 3 })
	if st.PendingCloses != 1 || st.ProtocolErrors != 0 || st.PendingBytes != 400<<10 {
		t.Fatalf("after the budget closed one: %+v", st)
	}
	if closedWithin(young, 50*time.Millisecond) {
		t.Fatal("the younger connection was closed")
	}
	healthyExchange(pub, sub, "healthy", 20)
}

// A frame, header or body, still unfinished FrameTimeout after it began
// closes its connection as a protocol error, never sooner. A frame that
// takes a while but less, and a publisher whose reads keep ending inside
// frames for longer than the timeout, are served.
func TestFrameTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := startServer(t, func(c *Config) { c.FrameTimeout = timeout })
	sub, pub := e.dial(), e.dial()
	sub.sub("healthy", "slow", "stream")

	type stalled struct {
		name  string
		conn  net.Conn
		began time.Time
	}
	var cases []stalled
	begin := func(name string, b []byte) net.Conn {
		c := e.rawDial()
		began := time.Now() // before the first byte can arrive
		write(t, c, b)
		cases = append(cases, stalled{name, c, began})
		return c
	}
	begin("header without its LF", []byte("PUB healthy.never"))
	frame := pubFrame("healthy.never", 100)
	begin("header and part of the body", frame[:len(frame)-10])
	trickler := begin("a frame trickled a byte at a time", frame[:1])
	trickleDone := make(chan struct{})
	go func() {
		defer close(trickleDone)
		for _, b := range frame[1:] {
			time.Sleep(20 * time.Millisecond)
			if _, err := trickler.Write([]byte{b}); err != nil {
				return
			}
		}
	}()

	// Beside them: a frame sent in two halves, a third of the timeout
	// apart, and a publisher whose every write ends inside a frame, for
	// three times the timeout.
	slow := e.rawDial()
	half := pubFrame("slow", 200)
	write(t, slow, half[:100])
	time.Sleep(timeout / 3)
	write(t, slow, half[100:])
	streamer := e.rawDial()
	var stream []byte
	const streamed = 300
	for i := range streamed {
		stream = codec.AppendFrame(stream, codec.VerbPUB, "stream", []byte(envelope(i)))
	}
	streamDone := make(chan error, 1)
	go func() {
		chunk := len(stream)/streamed*3/2 + 1 // never a frame boundary for long
		for off := 0; off < len(stream); off += chunk {
			if _, err := streamer.Write(stream[off:min(off+chunk, len(stream))]); err != nil {
				streamDone <- err
				return
			}
			time.Sleep(3 * timeout / (streamed * 2 / 3))
		}
		streamDone <- nil
	}()

	for _, c := range cases {
		if !closedWithin(c.conn, timeout+5*time.Second) {
			t.Fatalf("%s: not closed", c.name)
		}
		if waited := time.Since(c.began); waited < timeout {
			t.Errorf("%s: closed after %v, before the timeout (%v)", c.name, waited, timeout)
		}
	}
	<-trickleDone
	if err := <-streamDone; err != nil {
		t.Fatalf("streaming publisher: %v", err)
	}
	got := map[string]int{}
	for range streamed + 1 {
		ev, err := sub.next(5 * time.Second)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got[ev.topic]++
	}
	if got["slow"] != 1 || got["stream"] != streamed {
		t.Fatalf("delivered %v, want slow 1 and stream %d", got, streamed)
	}
	st := e.waitStats("the stalled connections to go", func(st Stats) bool { return st.Connections == 4 })
	if st.FrameTimeouts != 3 || st.ProtocolErrors != 3 || st.PendingBytes != 0 || st.PendingCloses != 0 {
		t.Fatalf("after the timeouts: %+v", st)
	}
	healthyExchange(pub, sub, "healthy", 20)
}

// Many connections on several loops send frames whole, in pieces, large
// and stalled, while the budget and the timeout close some of them: the
// accounting never goes negative, comes back to zero once they are gone,
// and a healthy pair is served beside them. Run under -race.
func TestPendingAccountingStress(t *testing.T) {
	const (
		conns    = 64
		duration = 2 * time.Second
	)
	e := startServer(t, func(c *Config) {
		c.Loops = 3
		c.MaxPendingBytes = 2 * codec.MaxEventFrame
		c.FrameTimeout = 300 * time.Millisecond
	})
	sub, pub := e.dial(), e.dial()
	sub.sub("healthy")

	small := pubFrame("stress.small", 300)
	large := pubFrame("stress.large", 500<<10)
	var negative atomic.Bool
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				if e.srv.Stats().PendingBytes < 0 {
					negative.Store(true)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	deadline := time.Now().Add(duration)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			c, err := dialRetry(e.path, deadline.Add(10*time.Second))
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			go io.Copy(io.Discard, c)
			for time.Now().Before(deadline) {
				frame := small
				if rng.IntN(4) == 0 {
					frame = large
				}
				for off := 0; off < len(frame); {
					n := min(len(frame)-off, 1+rng.IntN(len(frame)))
					c.SetWriteDeadline(time.Now().Add(time.Second))
					if _, err := c.Write(frame[off : off+n]); err != nil {
						return // closed by the budget or the timeout
					}
					off += n
					switch rng.IntN(20) {
					case 0:
						time.Sleep(400 * time.Millisecond) // past the timeout
					case 1, 2, 3:
						time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
					}
				}
			}
		}()
	}
	for time.Now().Before(deadline) {
		healthyExchange(pub, sub, "healthy", 10)
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	close(stop)
	<-watched
	st := e.waitStats("the stressing connections to go", func(st Stats) bool { return st.Connections == 2 })
	t.Logf("budget closes %d, frame timeouts %d, protocol errors %d, published %d", st.PendingCloses, st.FrameTimeouts, st.ProtocolErrors, st.Published)
	if negative.Load() {
		t.Error("pending bytes went negative")
	}
	if st.PendingBytes != 0 || e.srv.limits.shedding.Load() != 0 {
		t.Errorf("after every connection left: pending %d, shedding %d; want 0", st.PendingBytes, e.srv.limits.shedding.Load())
	}
	if st.PendingCloses == 0 || st.FrameTimeouts == 0 {
		t.Errorf("the stress closed nothing (budget %d, timeouts %d): it did not test the rules", st.PendingCloses, st.FrameTimeouts)
	}
	// Every loop's list empties at its next scans.
	deadline = time.Now().Add(5 * time.Second)
	for {
		listed := 0
		for _, l := range e.srv.allLoops() {
			l.unfinished.mu.Lock()
			listed += len(l.unfinished.conns)
			l.unfinished.mu.Unlock()
		}
		if listed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still listed as holding unfinished frames", listed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	healthyExchange(pub, sub, "healthy", 20)
}
