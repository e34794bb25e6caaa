package replay

import (
	"bytes"
	"net"
	"testing"
	"time"

	"busd/capture"
	"busd/codec"
)

// watcher is a plain subscriber outside the replay, noting when each
// event arrives.
type watcher struct {
	events chan arrival
}

type arrival struct {
	topic string
	at    time.Time
}

// next is the next event, or fails the test after timeout.
func (w *watcher) next(t *testing.T, timeout time.Duration) arrival {
	t.Helper()
	select {
	case a := <-w.events:
		return a
	case <-time.After(timeout):
		t.Fatal("no event")
	}
	return arrival{}
}

// watch subscribes to pattern and returns once the daemon is seen to
// deliver to it (a probe published until it arrives).
func watch(t *testing.T, sock, pattern string) *watcher {
	t.Helper()
	sub, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	pub, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub.Write(appendControl(nil, codec.VerbSUB, []byte(pattern)))
	sub.Write(appendControl(nil, codec.VerbSUB, []byte("probe")))
	w := &watcher{events: make(chan arrival, 100)}
	probed := make(chan struct{})
	go func() {
		buf := make([]byte, 0, 1<<16)
		tmp := make([]byte, 1<<16)
		var f codec.Frame
		seenProbe := false
		for {
			n, err := sub.Read(tmp)
			now := time.Now()
			buf = append(buf, tmp[:n]...)
			for {
				used, _, derr := f.Decode(buf)
				if derr != nil || used == 0 {
					break
				}
				if bytes.Equal(f.Args, []byte("probe")) {
					if !seenProbe {
						seenProbe = true
						close(probed)
					}
				} else {
					select {
					case w.events <- arrival{string(f.Args), now}:
					default:
					}
				}
				buf = buf[used:]
			}
			if err != nil {
				return
			}
		}
	}()
	deadline := time.After(5 * time.Second)
	for {
		pub.Write(appendPub(nil, []byte("probe"), nil, 0, false))
		select {
		case <-probed:
			return w
		case <-deadline:
			t.Fatal("the watcher's subscription never took effect")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// PUBs recorded at 0, 200 and 400ms replayed at speed 2 go out at about
// 0, 100 and 200ms: in order, and no sooner than the schedule says.
func TestReplaySchedule(t *testing.T) {
	sock := startDaemon(t)
	w := watch(t, sock, "t.*")
	s := newScript(capture.PayloadFull, capture.Conn{Conn: 1, Name: "pub"})
	for i, topic := range []string{"t.0", "t.1", "t.2"} {
		s.pub(ms(200*i), 1, topic, []byte(`{}`))
	}
	start := time.Now()
	rep := runReplay(t, s.file(t, ms(400)), Options{Socket: sock, Speed: 2, Settle: 100 * time.Millisecond})
	wall := time.Since(start)
	if rep.PubsSent != 3 || !rep.Lag.Measured || rep.Lag.Count != 3 {
		t.Fatalf("sent %d, lag %+v", rep.PubsSent, rep.Lag)
	}
	if wall < 190*time.Millisecond {
		t.Fatalf("400ms of capture at speed 2 took %v, want at least ~200ms", wall)
	}
	var got [3]arrival
	for i := range got {
		got[i] = w.next(t, 5*time.Second)
	}
	if got[0].topic != "t.0" || got[1].topic != "t.1" || got[2].topic != "t.2" {
		t.Fatalf("watcher got %v", got)
	}
	// Events may arrive late on a busy machine, never early.
	if at := got[1].at.Sub(start); at < 90*time.Millisecond {
		t.Fatalf("the second event arrived %v after the start, want at least ~100ms", at)
	}
	if at := got[2].at.Sub(start); at < 190*time.Millisecond {
		t.Fatalf("the last event arrived %v after the start, want at least ~200ms", at)
	}
}
