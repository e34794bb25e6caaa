package engine

import (
	"context"
	"errors"
	"fmt"
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
// an event handler, so gnet's acceptor is never reached: the daemon binds
// the socket path itself before gnet starts (gnet's own listener sits idle
// on an unlinked path in a private directory), and once the event loops run
// it runs this loop, which waits until each connection is registered
// (OnOpen has refused or kept it) before accepting the next one, and backs
// off and retries when accept fails.

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

// privateDir makes a directory only this user can enter, for gnet's idle
// listener: the temporary directory if possible, else beside the socket.
// A short path matters, as socket paths are limited to 108 bytes.
func privateDir(fallback string) (string, error) {
	dir, err := os.MkdirTemp("", "busd-")
	if err != nil {
		dir, err = os.MkdirTemp(fallback, ".busd-")
	}
	if err != nil {
		return "", fmt.Errorf("directory for the event loops' listener: %w", err)
	}
	return dir, nil
}
