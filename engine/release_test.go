package engine

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"busd/codec"
)

// Once connections that held unfinished frames, or many subscriptions,
// have gone, and nothing more was freed for releaseQuiet, the freed memory
// is handed back, once; not while the burst still holds it. A healthy pair
// is served meanwhile.
func TestMemoryReleasedAfterBurst(t *testing.T) {
	const threshold = 256 << 10
	for _, tc := range []struct {
		name string
		// burst starts the burst and returns what ends it.
		burst func(e *testEnv) (end func())
	}{
		{"unfinished frames", func(e *testEnv) func() {
			frame := pubFrame("burst", 200<<10)
			var cs []net.Conn
			for range 3 {
				c := e.rawDial()
				write(e.t, c, frame[:len(frame)-1])
				cs = append(cs, c)
			}
			e.waitStats("the frames' bytes", func(st Stats) bool { return st.PendingBytes == 3*int64(len(frame)-1) })
			return func() {
				for _, c := range cs {
					c.Close()
				}
			}
		}},
		{"subscriptions", func(e *testEnv) func() {
			w := e.dial()
			for i := range threshold / subscriptionOverhead {
				w.send(codec.VerbSUB, fmt.Sprintf("burst.%d.%s", i, strings.Repeat("x", 100)), "")
			}
			w.sync()
			return func() { w.conn.Close() }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startServer(t, func(c *Config) {
				c.ReleaseAfterBytes = threshold
				c.MaxPatternsPerConn, c.MaxPatterns = 0, 0
			})
			sub, pub := e.dial(), e.dial()
			sub.sub("healthy")
			end := tc.burst(e)
			healthyExchange(pub, sub, "healthy", 20)
			time.Sleep(releaseQuiet + 200*time.Millisecond)
			if st := e.srv.Stats(); st.MemoryReleases != 0 {
				t.Fatalf("released %d times while the burst held its memory", st.MemoryReleases)
			}
			end()
			ended := time.Now()
			e.waitStats("a release", func(st Stats) bool { return st.MemoryReleases == 1 })
			if waited := time.Since(ended); waited < releaseQuiet {
				t.Errorf("released %v after the burst ended, before releaseQuiet (%v)", waited, releaseQuiet)
			}
			healthyExchange(pub, sub, "healthy", 20)
			if st := e.srv.Stats(); st.MemoryReleases != 1 || st.PendingBytes != 0 {
				t.Errorf("after the release: %+v", st)
			}
		})
	}
}
