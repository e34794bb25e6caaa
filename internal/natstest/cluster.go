package natstest

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// clusterName names every test cluster: nats-server refuses routes between
// servers whose cluster names differ, and each cluster's ports are its own.
const clusterName = "natstest"

// Cluster is n servers routed to one another on loopback: a message
// published on any node reaches subscribers on every other.
type Cluster struct {
	Nodes []*Server
}

// RunCluster starts n routed servers and returns once every node has a
// route to every other; all of them are shut down when the test ends.
//
// Node k is started with routes to nodes 0..k-1 (it cannot know the ports
// of the nodes after it, which the OS has not picked yet). Once all are up,
// each node's routes for its next start become every other node, so that
// any node, the first included, dials all its peers the moment it is
// restarted rather than waiting on their reconnect timers.
func RunCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: a cluster of %d nodes", n)
	}
	c := &Cluster{Nodes: make([]*Server, 0, n)}
	var routes []*url.URL
	for i := range n {
		s := newServer(t, fmt.Sprintf("node-%d", i), clusterName, opts)
		t.Cleanup(s.Shutdown)
		s.mu.Lock()
		s.routes = append([]*url.URL(nil), routes...)
		err := s.start()
		s.mu.Unlock()
		if err != nil {
			t.Fatalf("natstest: %v", err)
		}
		routes = append(routes, s.routeURL())
		c.Nodes = append(c.Nodes, s)
	}
	for i, s := range c.Nodes {
		peers := make([]*url.URL, 0, n-1)
		for j, p := range c.Nodes {
			if j != i {
				peers = append(peers, p.routeURL())
			}
		}
		s.mu.Lock()
		s.routes = peers
		s.mu.Unlock()
	}
	c.WaitRoutes(t)
	return c
}

// URLs are the client URLs of all nodes, running or not, in node order.
func (c *Cluster) URLs() []string {
	urls := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		urls[i] = s.URL()
	}
	return urls
}

// WaitRoutes waits until every running node has a route to every other
// running node: after RunCluster, and after a Shutdown or Restart, before
// the test relies on messages crossing the cluster.
func (c *Cluster) WaitRoutes(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(routeTimeout)
	for {
		missing := c.missingRoutes()
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: cluster not formed after %v: %s", routeTimeout, missing)
		}
		time.Sleep(pollInterval)
	}
}

// missingRoutes says which running node lacks routes, or "" if none.
func (c *Cluster) missingRoutes() string {
	running := 0
	for _, s := range c.Nodes {
		if s.Running() {
			running++
		}
	}
	for _, s := range c.Nodes {
		if !s.Running() {
			continue
		}
		if got := s.numRoutes(); got != running-1 {
			return fmt.Sprintf("%s has %d routes, want %d", s.name, got, running-1)
		}
	}
	return ""
}

// WaitInterest waits until every running node knows of a subscription
// matching subject, so that a message published on any node reaches it.
func (c *Cluster) WaitInterest(t testing.TB, subject string) {
	t.Helper()
	for _, s := range c.Nodes {
		if s.Running() {
			s.WaitInterest(t, subject)
		}
	}
}
