package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/puzpuzpuz/xsync/v3"

	"busd/engine/sockfile"
	"busd/trie"
)

// ErrAlreadyRunning is returned by Run when a live daemon already holds or
// answers on the socket path. Two daemons starting on one path would race to
// remove each other's socket, so Run takes an exclusive flock on
// "<socket>.lock" for the daemon's life (the kernel drops it if the process
// dies), and refuses as well when a server answers on the path without
// taking the lock (the daemon busd replaces).
var ErrAlreadyRunning = errors.New("another busd is already serving this socket")

// Server is one busd daemon: a gnet engine on a UNIX socket, the
// subscription index, and one bounded queue per subscriber.
//
// Life cycle: New → Run (blocks) → Shutdown (from any goroutine) → Run
// returns. A Server runs once.
type Server struct {
	cfg   Config
	index *trie.Index[*peer]
	start time.Time
	// flushEvents and flushBytes: a queue on the publisher's loop fuller than
	// this is flushed at once instead of at the end of the batch.
	flushEvents, flushBytes int

	mu       sync.Mutex
	eng      gnet.Engine
	ln       *net.UnixListener // the daemon's listener (accept.go)
	booted   bool
	stopping bool
	loops    map[gnet.EventLoop]*loop
	loopList atomic.Pointer[[]*loop]
	done     chan struct{}

	clients  *xsync.MapOf[uint64, *peer]
	nextID   atomic.Uint64
	active   atomic.Int64
	accepted atomic.Uint64
	rejected atomic.Uint64
	// closedDrops keeps the drops of connections that are gone.
	closedDrops atomic.Uint64

	nextHeartbeat time.Time // ticker goroutine only
	heartbeats    atomic.Uint64

	// limits bounds what clients make the daemon hold (limits.go).
	limits limitState
	// capture is the running capture, if any (capture.go).
	capture capturing
}

// New checks cfg and returns a server that is not yet listening.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:         cfg,
		flushEvents: cfg.RingEvents / 2,
		flushBytes:  cfg.RingBytes / 2,
		index:       trie.New[*peer](),
		loops:       make(map[gnet.EventLoop]*loop),
		clients:     xsync.NewMapOf[uint64, *peer](),
		done:        make(chan struct{}),
	}
	s.initLimits()
	return s, nil
}

// Run binds the socket, calls ready (if not nil) once clients can connect,
// and serves until Shutdown. It returns nil after a clean shutdown, and an
// error wrapping ErrAlreadyRunning when a live daemon holds the path.
func (s *Server) Run(ready func()) error {
	defer close(s.done)
	// The daemon's own listener holds the path from here on: a client that
	// connects before the event loops run waits in the listen backlog
	// instead of finding no socket (accept.go).
	sock, err := sockfile.Claim(s.cfg.Socket, sockfile.Options{
		Mode:  fs.FileMode(s.cfg.SocketMode),
		Group: s.cfg.Group,
		// The lock and the connect probe: see ErrAlreadyRunning.
		Lock: true,
	})
	if errors.Is(err, sockfile.ErrInUse) {
		return fmt.Errorf("%w: %w", ErrAlreadyRunning, err)
	}
	if err != nil {
		return err
	}
	defer sock.Release()
	if groupErr := sock.GroupErr(); groupErr != nil {
		s.cfg.Logger.Warn("socket group not applied", "group", s.cfg.Group, "err", groupErr)
	}
	ln := sock.Listener()
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.start = time.Now()
	// gnet insists on a listener of its own (its Engine refuses Register
	// and Stop without one). It gets one in a private directory, removed as
	// soon as gnet has bound, and never accepts anything: every connection
	// reaches gnet through Engine.Register from the accept loop.
	gnetDir, err := privateDir(filepath.Dir(s.cfg.Socket))
	if err != nil {
		s.ln.Close()
		return err
	}
	defer os.RemoveAll(gnetDir)
	h := &handler{srv: s, ready: ready, gnetDir: gnetDir}
	routeGnetLogs(s.cfg.Logger)
	err = gnet.Run(h, "unix://"+filepath.Join(gnetDir, "g"),
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithMulticore(s.cfg.Loops > 1),
		gnet.WithTicker(true),
		gnet.WithLogger(gnetLogger{s.cfg.Logger}),
		// The accept loop (accept.go) picks loops from its own goroutine,
		// where round-robin's unguarded cursor would do as well;
		// least-connections also spreads long-lived clients evenly.
		gnet.WithLoadBalancing(gnet.LeastConnections),
		gnet.WithReadBufferCap(readBatch),
	)
	s.mu.Lock()
	s.ln.Close()
	s.mu.Unlock()
	// Every connection's close is recorded by now: a running capture ends
	// with its footer, not cut short by the exit.
	s.StopCapture()
	if err != nil {
		return fmt.Errorf("serving %s: %w", s.cfg.Socket, err)
	}
	return nil
}

// Shutdown stops accepting, closes every connection, removes the socket
// file and waits for Run to return (or ctx to end).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	eng, booted := s.eng, s.booted
	if s.ln != nil {
		s.ln.Close() // stop accepting first
	}
	s.mu.Unlock()
	if booted {
		if err := eng.Stop(ctx); err != nil {
			return err
		}
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loopOf returns the state of gnet's event loop el, creating it on first use.
func (s *Server) loopOf(el gnet.EventLoop) *loop {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.loops[el]
	if l == nil {
		l = newLoop(s, el)
		l.lane = len(s.loops) // 0 to Loops-1: a capture's lane (capture.go)
		s.loops[el] = l
		list := make([]*loop, 0, len(s.loops))
		for _, x := range s.loops {
			list = append(list, x)
		}
		s.loopList.Store(&list)
	}
	return l
}

// allLoops lists the loops seen so far, for the ticker and Stats.
func (s *Server) allLoops() []*loop {
	if p := s.loopList.Load(); p != nil {
		return *p
	}
	return nil
}
