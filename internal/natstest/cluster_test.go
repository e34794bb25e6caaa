package natstest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestClusterRoutesMessagesBetweenNodes(t *testing.T) {
	c := RunCluster(t, 3)
	urls := c.URLs()
	if len(urls) != 3 || len(slices.Compact(slices.Sorted(slices.Values(urls)))) != 3 {
		t.Fatalf("URLs = %v, want 3 distinct", urls)
	}
	for _, u := range urls {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "nats" || pu.Hostname() != loopback {
			t.Fatalf("URL %q: want nats://%s:port (%v)", u, loopback, err)
		}
	}
	for i, s := range c.Nodes {
		if got := s.numRoutes(); got != 2 {
			t.Fatalf("node %d has %d routes, want 2", i, got)
		}
	}
	pub := connect(t, c.Nodes[0].URL())
	sub := connect(t, c.Nodes[2].URL())
	roundTrip(t, c.WaitInterest, sub, pub, "bridge.routes")
}

// The seed (node 0, started without routes) and a later node must both
// come back where they were and rejoin.
func TestRestartedNodeRejoinsOnItsPorts(t *testing.T) {
	for _, killed := range []int{0, 2} {
		t.Run(fmt.Sprintf("node-%d", killed), func(t *testing.T) {
			c := RunCluster(t, 3)
			node := c.Nodes[killed]
			clientURL, routeURL := node.URL(), node.routeURL().String()

			node.Shutdown()
			if node.Running() {
				t.Fatal("Running after Shutdown")
			}
			node.Shutdown() // a second Shutdown is harmless
			refused(t, clientURL)
			c.WaitRoutes(t) // the two survivors see only each other
			for i, s := range c.Nodes {
				if i != killed && s.numRoutes() != 1 {
					t.Fatalf("survivor %d has %d routes, want 1", i, s.numRoutes())
				}
			}

			node.Restart()
			if !node.Running() {
				t.Fatal("not Running after Restart")
			}
			if node.URL() != clientURL || node.routeURL().String() != routeURL {
				t.Fatalf("restarted on %s / %s, want %s / %s", node.URL(), node.routeURL(), clientURL, routeURL)
			}
			node.mu.Lock()
			listening := node.srv.ClusterAddr().Port
			node.mu.Unlock()
			if listening != node.clusterPort {
				t.Fatalf("route listener on port %d, pinned %d", listening, node.clusterPort)
			}
			c.WaitRoutes(t)

			other := c.Nodes[(killed+1)%3]
			roundTrip(t, c.WaitInterest, connect(t, node.URL()), connect(t, other.URL()), "bridge.rejoin.in")
			roundTrip(t, c.WaitInterest, connect(t, other.URL()), connect(t, node.URL()), "bridge.rejoin.out")
		})
	}
}

func TestRestartRunningServer(t *testing.T) {
	s := RunServer(t)
	before := s.URL()
	closed := make(chan struct{})
	connect(t, before, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	s.Restart() // shuts the running server down first
	if !s.Running() || s.URL() != before {
		t.Fatalf("after Restart: running %v on %s, want running on %s", s.Running(), s.URL(), before)
	}
	select {
	case <-closed:
	case <-time.After(clientTimeout):
		t.Fatal("a connection from before the restart was not closed by it")
	}
	roundTrip(t, s.WaitInterest, connect(t, s.URL()), connect(t, s.URL()), "bridge.restart")
}

func TestUserPassword(t *testing.T) {
	s := RunServer(t, WithUser("bridge", "s3cret"), WithUser("other", "pw"))
	connect(t, s.URL(), nats.UserInfo("bridge", "s3cret"))
	for name, opts := range map[string][]nats.Option{
		"wrong password": {nats.UserInfo("bridge", "wrong")},
		"unknown user":   {nats.UserInfo("nobody", "s3cret")},
		"no credentials": nil,
	} {
		t.Run(name, func(t *testing.T) {
			if err := refused(t, s.URL(), opts...); !errors.Is(err, nats.ErrAuthorization) {
				t.Fatalf("refused with %v, want %v", err, nats.ErrAuthorization)
			}
		})
	}
}

func TestNKeyUser(t *testing.T) {
	dir := t.TempDir()
	seedFile, publicKey := NewUserNKey(t, dir)
	otherSeed, _ := NewUserNKey(t, dir)
	info, err := os.Stat(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("seed file %s has mode %v, want 0600", seedFile, info.Mode().Perm())
	}
	s := RunServer(t, WithNKeyUser(publicKey))

	accepted, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	connect(t, s.URL(), accepted)

	unknown, err := nats.NkeyOptionFromSeed(otherSeed)
	if err != nil {
		t.Fatal(err)
	}
	if err := refused(t, s.URL(), unknown); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("unknown nkey refused with %v, want %v", err, nats.ErrAuthorization)
	}
}
