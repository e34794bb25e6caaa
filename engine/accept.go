package engine

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// The daemon accepts connections itself and hands them to gnet.
//
// gnet's own acceptor stops the whole engine (every connection closed,
// Run returns) when accept fails, e.g. with EMFILE once the open-files
// limit is reached; and it accepts on a goroutine of its own, queueing each
// connection to an event loop, so a flood of connections piles up accepted
// descriptors faster than OnOpen can refuse them. Both are out of reach of
// an event handler, so the daemon takes the socket path over from gnet's
// listener (which stays bound to the unlinked inode, idle) and runs this
// loop instead: it waits until each connection is registered (OnOpen has
// refused or kept it) before accepting the next one, and it backs off and
// retries when accept fails.

// takeOverSocket replaces gnet's listener at path with the daemon's own.
func takeOverSocket(path string) (*net.UnixListener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	// socketFile removes the path at exit, once, and only if it is ours.
	ln.SetUnlinkOnClose(false)
	return ln, nil
}

// acceptRetry is the pause after a failed accept (the connection waits in
// the listen backlog meanwhile).
const acceptRetry = 10 * time.Millisecond

// acceptLoop accepts until ln is closed.
func (s *Server) acceptLoop(ln *net.UnixListener, eng gnet.Engine) {
	var lastWarn time.Time
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if time.Since(lastWarn) > time.Second {
				lastWarn = time.Now()
				s.cfg.Logger.Warn("accept failed; retrying", "err", err)
			}
			time.Sleep(acceptRetry)
			continue
		}
		s.register(eng, conn)
	}
}

// register hands conn to an event loop and waits until OnOpen has run, so
// that at most one accepted connection is in flight. gnet duplicates the
// descriptor and closes conn.
func (s *Server) register(eng gnet.Engine, conn *net.UnixConn) {
	ctx := gnet.NewNetConnContext(context.Background(), conn)
	res, err := eng.Register(ctx)
	if err != nil {
		conn.Close() // the engine is stopping
		return
	}
	select {
	case r, ok := <-res:
		if ok && r.Err != nil {
			// No descriptor for the duplicate: the connection is refused.
			s.rejected.Add(1)
			s.cfg.Logger.Warn("connection refused", "err", r.Err)
		}
	case <-s.done:
		// Run returned: the registration may never complete.
	}
}
