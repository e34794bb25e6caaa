// Package sockfile claims a listening UNIX socket file at a path: the bus
// socket (engine) and the admin socket (admin) follow the same rules, in
// this one place.
//
// Claim, in order:
//
//  1. the path must fit a socket address (MaxPathLen) and its directory
//     must exist: it is never created here;
//  2. with Options.Lock, an exclusive flock on "<path>.lock", held until
//     Release: two daemons starting on one path cannot both get past it,
//     so neither removes a socket the other has just created;
//  3. whatever is at the path is looked at: a server that answers there
//     is ErrInUse (it may be a daemon that takes no lock); a socket nobody
//     answers on is stale and removed; anything else is an error and left
//     alone (an operator's file is never ours to delete);
//  4. the socket is bound and listening in a fresh private directory
//     (mode 0700) beside the path, given its final mode and, best effort,
//     its group there, and only then linked into place with link(2);
//  5. Release closes it and removes the path only if it is still the
//     socket Claim created (same device and inode).
//
// Why a private directory and link(2). A socket file gets its mode from
// the umask at bind time, and chmod can only follow; bound at its final
// path, the socket would be reachable with the umask's mode for a moment.
// Setting the umask around bind would do, but the umask is per process and
// every goroutine creating a file meanwhile would get it too. Inside a 0700
// directory nobody else can reach the socket whatever its mode, so the
// mode and group are final before the socket appears at its path. link(2),
// unlike rename(2), never replaces what is already there: a file that
// appeared at the path after step 3 makes Claim fail instead of being
// silently replaced.
package sockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// MaxPathLen is the longest path a UNIX socket address holds on Linux
// (sun_path is 108 bytes, with a terminating NUL).
const MaxPathLen = 107

// ErrInUse is returned by Claim when a live server holds the lock or
// answers on the path.
var ErrInUse = errors.New("a server already listens on this socket")

// testHookBeforeLink, when set by a test, runs with the private name of a
// socket that is bound, listening, and has its mode and group, just before
// it is linked into place.
var testHookBeforeLink func(tmp string)

// probeTimeout bounds the connect that tells a live socket from a stale one.
const probeTimeout = time.Second

// Options say how the socket file is claimed.
type Options struct {
	// Mode is the socket file's permission bits, in place before the file
	// appears at its path.
	Mode fs.FileMode
	// Group, if not empty, is given to the socket file before it appears,
	// best effort: a failure is reported by Socket.GroupErr, never fatal.
	Group string
	// Lock takes an exclusive flock on "<path>.lock" for the socket's life.
	Lock bool
}

// Socket is a claimed socket file and its listener.
//
// Invariant: while the Socket is not released, the file at Path is the one
// this process bound (unless someone with write access to the directory
// replaced it), and with Options.Lock this process holds "<path>.lock".
type Socket struct {
	path     string
	ln       *net.UnixListener
	fi       fs.FileInfo // the socket file as bound: Release compares it
	lock     *os.File    // nil without Options.Lock
	groupErr error
}

// Claim creates a listening socket at path with the rules of the package
// comment. It fails with an error wrapping ErrInUse when a live server
// holds or answers on the path, and one wrapping fs.ErrNotExist when the
// directory is missing.
func Claim(path string, o Options) (*Socket, error) {
	if len(path) > MaxPathLen {
		return nil, fmt.Errorf("socket path %s is %d bytes long; a UNIX socket address holds at most %d", path, len(path), MaxPathLen)
	}
	if err := checkDir(path); err != nil {
		return nil, err
	}
	s := &Socket{path: path}
	if o.Lock {
		lock, err := takeLock(path)
		if err != nil {
			return nil, err
		}
		s.lock = lock
	}
	if err := clearStale(path); err != nil {
		s.Release()
		return nil, err
	}
	if err := s.create(o); err != nil {
		s.Release()
		return nil, err
	}
	return s, nil
}

// checkDir reports a missing or non-directory parent, naming both paths.
func checkDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &missingDirError{path: path, dir: dir}
	case err != nil:
		return fmt.Errorf("cannot serve %s: %w", path, err)
	case !st.IsDir():
		return fmt.Errorf("cannot serve %s: %s is not a directory", path, dir)
	}
	return nil
}

// missingDirError is a socket path whose directory does not exist; it
// matches fs.ErrNotExist.
type missingDirError struct{ path, dir string }

func (e *missingDirError) Error() string {
	return "cannot serve " + e.path + ": directory " + e.dir + " does not exist"
}

func (e *missingDirError) Unwrap() error { return fs.ErrNotExist }

// takeLock locks "<path>.lock". The lock file is never removed: unlinking
// it would let a third process lock a new inode while a second one still
// holds the old.
func takeLock(path string) (*os.File, error) {
	name := path + ".lock"
	lock, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("socket lock: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w (lock %s is held)", path, ErrInUse, name)
		}
		return nil, fmt.Errorf("socket lock %s: %w", name, err)
	}
	return lock, nil
}

// clearStale removes a socket file nobody answers on.
func clearStale(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket path: %w", err)
	}
	if st.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("socket path %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, probeTimeout); err == nil {
		c.Close()
		return fmt.Errorf("%s: %w (a server answers there)", path, ErrInUse)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	return nil
}

// create binds and listens in a private directory, applies the mode and
// group there, and links the socket into place.
func (s *Socket) create(o Options) error {
	priv, err := os.MkdirTemp(filepath.Dir(s.path), ".sock")
	if err != nil {
		return fmt.Errorf("private directory for %s: %w", s.path, err)
	}
	defer os.RemoveAll(priv)
	tmp, closeDir, err := bindName(priv)
	if err != nil {
		return err
	}
	defer closeDir()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.path, err)
	}
	// The file moves from tmp to the path; Release removes it, once, and
	// only if it is still ours.
	ln.SetUnlinkOnClose(false)
	s.ln = ln
	if err := os.Chmod(tmp, o.Mode.Perm()); err != nil {
		return fmt.Errorf("chmod socket %s: %w", s.path, err)
	}
	if o.Group != "" {
		s.groupErr = chgrp(tmp, o.Group)
	}
	fi, err := os.Lstat(tmp)
	if err != nil {
		return fmt.Errorf("socket %s: %w", s.path, err)
	}
	if testHookBeforeLink != nil {
		testHookBeforeLink(tmp)
	}
	if err := os.Link(tmp, s.path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w (created by another process while this one claimed it)", s.path, ErrInUse)
		}
		return fmt.Errorf("socket %s: %w", s.path, err)
	}
	s.fi = fi
	return nil
}

// bindName is the name to bind in dir. When dir/s is too long for a socket
// address, it is reached through the descriptor's /proc/self/fd entry,
// which is short; the socket file is created in dir all the same. closeDir
// releases that descriptor once the socket is in place.
func bindName(dir string) (name string, closeDir func(), err error) {
	name = filepath.Join(dir, "s")
	if len(name) <= MaxPathLen {
		return name, func() {}, nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return "", nil, fmt.Errorf("private directory %s: %w", dir, err)
	}
	return "/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/s", func() { d.Close() }, nil
}

// chgrp gives path the named group.
func chgrp(path, group string) error {
	g, err := user.LookupGroup(group)
	if err != nil {
		return err
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return fmt.Errorf("group %s: gid %q: %w", group, g.Gid, err)
	}
	return os.Lchown(path, -1, gid)
}

// Path is the socket's path.
func (s *Socket) Path() string { return s.path }

// Listener is the socket's listener. Closing it stops accepting; the file
// stays until Release.
func (s *Socket) Listener() *net.UnixListener { return s.ln }

// GroupErr is why Options.Group could not be applied, or nil.
func (s *Socket) GroupErr() error { return s.groupErr }

// Release closes the listener, removes the socket file if it is still the
// one Claim created, and drops the lock. It may be called more than once.
func (s *Socket) Release() {
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	if s.fi != nil {
		if fi, err := os.Lstat(s.path); err == nil && os.SameFile(fi, s.fi) {
			_ = os.Remove(s.path)
		}
		s.fi = nil
	}
	if s.lock != nil {
		_ = s.lock.Close()
		s.lock = nil
	}
}
