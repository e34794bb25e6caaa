package engine

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

// socketFile guards the daemon's socket path.
//
// A daemon clears a stale socket before binding, so two daemons starting on
// one path would race to remove each other's socket. The guard is
// an exclusive flock on a sibling "<path>.lock", held for the daemon's life
// (the kernel drops it if the process dies), plus a connect probe for a live
// server that does not take the lock (the daemon busd replaces).
type socketFile struct {
	path string
	lock *os.File
	// owned: the file at path is the socket this daemon bound; only then
	// does release remove it.
	owned bool
}

// claimSocket takes the lock and clears a stale socket. It fails with
// ErrAlreadyRunning while a live daemon holds or answers on the path.
func claimSocket(path string) (*socketFile, error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("socket directory %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("socket directory %s is not a directory", dir)
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("socket lock: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w (lock %s.lock is held)", path, ErrAlreadyRunning, path)
		}
		return nil, fmt.Errorf("socket lock %s.lock: %w", path, err)
	}
	sf := &socketFile{path: path, lock: lock}
	if err := sf.clearStale(); err != nil {
		sf.release()
		return nil, err
	}
	return sf, nil
}

// clearStale removes a socket file nobody answers on. Anything that is not a
// socket is left alone: deleting an operator's file is never our call.
func (sf *socketFile) clearStale() error {
	st, err := os.Lstat(sf.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket path: %w", err)
	}
	if st.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("socket path %s exists and is not a socket", sf.path)
	}
	c, err := net.DialTimeout("unix", sf.path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s: %w (a server answers there)", sf.path, ErrAlreadyRunning)
	}
	if err := os.Remove(sf.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale socket: %w", err)
	}
	return nil
}

// setAccess applies the mode and, best effort, the group once bound. A
// missing group or a refused chown is reported, never fatal (PROTOCOL.md).
func (sf *socketFile) setAccess(mode uint32, group string) (groupErr error, err error) {
	sf.owned = true
	if err := os.Chmod(sf.path, fs.FileMode(mode)); err != nil {
		return nil, fmt.Errorf("chmod socket: %w", err)
	}
	if group == "" {
		return nil, nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return err, nil
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return fmt.Errorf("group %s: gid %q: %w", group, g.Gid, err), nil
	}
	if err := os.Lchown(sf.path, -1, gid); err != nil {
		return err, nil
	}
	return nil, nil
}

// release removes the socket (if this daemon bound it) and drops the lock. The lock
// file itself stays: unlinking it would let a third daemon lock a new inode
// while a second one still holds the old.
func (sf *socketFile) release() {
	if sf.lock == nil {
		return
	}
	if sf.owned {
		_ = os.Remove(sf.path)
	}
	_ = sf.lock.Close()
	sf.lock = nil
}
