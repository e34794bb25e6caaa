package natstest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// loopback is the only address test servers listen on: tests must not
// expose anything beyond the machine.
const loopback = "127.0.0.1"

// Upper bounds for a loaded machine under -race, not what a test waits
// when all goes well: a server's listeners opening, a port freed by a
// shutdown becoming bindable again, a cluster's routes forming, a
// subscription's interest reaching every node.
const (
	startTimeout    = 10 * time.Second
	rebindTimeout   = 5 * time.Second
	routeTimeout    = 10 * time.Second
	interestTimeout = 5 * time.Second
	pollInterval    = 10 * time.Millisecond
)

// Server is one embedded nats-server that can be shut down and restarted.
//
// Invariant: the client port, and in a cluster the route port, are chosen
// by the OS at the first start and pinned from then on. url, port and
// clusterPort are written once, before RunServer or RunCluster returns the
// Server, and only read after; so URL never changes, and a restarted node
// is found by its clients and its peers where it was.
type Server struct {
	tb          testing.TB
	name        string
	clusterName string // empty for a server without routes
	opts        []Option

	url         string
	port        int
	clusterPort int

	mu     sync.Mutex
	srv    *server.Server // nil while shut down
	routes []*url.URL     // the explicit routes of the next start
}

// RunServer starts a standalone server on 127.0.0.1 at a port the OS
// picks, and shuts it down when the test ends.
func RunServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := newServer(t, "natstest", "", opts)
	t.Cleanup(s.Shutdown)
	s.mu.Lock()
	err := s.start()
	s.mu.Unlock()
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	return s
}

func newServer(t testing.TB, name, clusterName string, opts []Option) *Server {
	return &Server{tb: t, name: name, clusterName: clusterName, opts: opts}
}

// URL is the address clients connect to: nats://127.0.0.1:port, or
// tls://127.0.0.1:port when the server was given WithTLS. The same across
// restarts.
func (s *Server) URL() string { return s.url }

// Running reports whether the server is up (started and not shut down).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil && s.srv.Running()
}

// Shutdown stops the server and closes its clients' and routes'
// connections, as a killed node would; it returns once the server's
// goroutines have ended. Shutting down a stopped server does nothing.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown()
}

// Restart brings the server back on its pinned ports with the same options
// (certificate files are read again) and, in a cluster, routes to every
// other node; a running server is shut down first. It fails the test if
// the server does not come back, so call it from the test's goroutine.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown()
	if err := s.start(); err != nil {
		s.tb.Fatalf("natstest: restart %s: %v", s.name, err)
	}
}

// WaitInterest waits until the server knows of a subscription matching
// subject, local or across a route: a subscription propagates to the other
// nodes after the subscriber's Flush returns, so a test publishing on
// another node first waits here or its message may find nobody.
func (s *Server) WaitInterest(t testing.TB, subject string) {
	t.Helper()
	deadline := time.Now().Add(interestTimeout)
	for {
		s.mu.Lock()
		srv := s.srv
		s.mu.Unlock()
		if srv != nil && srv.GlobalAccount().Interest(subject) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: %s has no interest in %q after %v", s.name, subject, interestTimeout)
		}
		time.Sleep(pollInterval)
	}
}

// routeURL is where peers dial this node's routes. Valid once started.
func (s *Server) routeURL() *url.URL {
	return &url.URL{Scheme: "nats", Host: net.JoinHostPort(loopback, strconv.Itoa(s.clusterPort))}
}

// numRoutes is the number of route connections, 0 while shut down.
func (s *Server) numRoutes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return 0
	}
	return s.srv.NumRoutes()
}

// shutdown stops the running server, if any. s.mu held.
func (s *Server) shutdown() {
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv = nil
}

// start starts a server from a fresh server.Options (nats-server keeps and
// rewrites the Options it is given, so none is shared between two starts)
// and pins its ports at the first start. s.mu held.
func (s *Server) start() error {
	o := &server.Options{NoLog: true, NoSigs: true}
	for _, opt := range s.opts {
		if err := opt(o); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	// The addresses are this package's, whatever the options did: they
	// are what keeps every listener on loopback and the ports pinned.
	o.ServerName = s.name
	o.Host = loopback
	o.Port = server.RANDOM_PORT
	if s.port != 0 {
		o.Port = s.port
	}
	if s.clusterName != "" {
		o.Cluster.Name = s.clusterName
		o.Cluster.Host = loopback
		o.Cluster.Port = server.RANDOM_PORT
		if s.clusterPort != 0 {
			o.Cluster.Port = s.clusterPort
		}
		// One route connection per peer instead of a pool: the cluster is
		// formed when every node counts n-1 routes, with no pooled
		// connections still being dialled behind the test's back.
		o.Cluster.PoolSize = -1
		o.Routes = append([]*url.URL(nil), s.routes...)
	}
	if s.port != 0 {
		// A port is free again once its listener closes, but the OS may
		// meanwhile have handed it out to an outgoing connection: wait
		// for it rather than fail the restart.
		if err := waitBindable(net.JoinHostPort(loopback, strconv.Itoa(s.port))); err != nil {
			return err
		}
		if s.clusterName != "" {
			if err := waitBindable(s.routeURL().Host); err != nil {
				return err
			}
		}
	}

	srv, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	srv.Start()
	if !srv.ReadyForConnections(startTimeout) {
		srv.Shutdown()
		return fmt.Errorf("%s: not ready for connections after %v", s.name, startTimeout)
	}
	s.srv = srv
	if s.port == 0 {
		s.url = srv.ClientURL()
		s.port = srv.Addr().(*net.TCPAddr).Port
		if s.clusterName != "" {
			s.clusterPort = srv.ClusterAddr().Port
		}
	}
	return nil
}

// waitBindable waits until addr can be listened on again.
func waitBindable(addr string) error {
	deadline := time.Now().Add(rebindTimeout)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			return l.Close()
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("%s still in use after %v", addr, rebindTimeout), err)
		}
		time.Sleep(pollInterval)
	}
}
