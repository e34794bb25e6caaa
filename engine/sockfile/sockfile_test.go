package sockfile

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// claim claims path and releases it at the end of the test.
func claim(t *testing.T, path string, o Options) *Socket {
	t.Helper()
	s, err := Claim(path, o)
	if err != nil {
		t.Fatalf("Claim(%s): %v", path, err)
	}
	t.Cleanup(s.Release)
	return s
}

// staleSocket leaves a socket file nobody listens on at path, as a crash
// does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
}

// noLeftovers fails if dir holds anything but the names in keep (the
// private directories Claim makes must never stay).
func noLeftovers(t *testing.T, dir string, keep ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, k := range keep {
		want[k] = true
	}
	for _, e := range ents {
		if !want[e.Name()] {
			t.Errorf("left in %s: %s", dir, e.Name())
		}
	}
}

func dialOK(t *testing.T, path string) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	c.Close()
}

func TestClaimCreatesSocketWithFinalMode(t *testing.T) {
	// A permissive umask: the mode must come from Options, not from it.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	for _, mode := range []fs.FileMode{0o600, 0o660, 0o640} {
		dir := t.TempDir()
		path := filepath.Join(dir, "bus.sock")
		s := claim(t, path, Options{Mode: mode})
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != mode {
			t.Errorf("mode %v, want socket %v", fi.Mode(), mode)
		}
		if s.Path() != path || s.Listener() == nil {
			t.Errorf("Path %q, Listener %v", s.Path(), s.Listener())
		}
		dialOK(t, path)
		noLeftovers(t, dir, "bus.sock")
	}
}

// The socket exists at its path only once it has its final mode: just
// before the link, the path is still empty and the private copy is final,
// in a directory only this user can enter.
func TestClaimNeverExposesSocketBeforeChmod(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "bus.sock")
	called := false
	testHookBeforeLink = func(tmp string) {
		called = true
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the path exists before the socket has its mode: %v", err)
		}
		fi, err := os.Lstat(tmp)
		if err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("private socket %v, %v; want 0640 before it is linked", fi.Mode(), err)
		}
		di, err := os.Stat(filepath.Dir(tmp))
		if err != nil || di.Mode().Perm() != 0o700 {
			t.Errorf("private directory %v, %v; want 0700", di.Mode(), err)
		}
		// Already listening: the first client to find the path is served.
		dialOK(t, tmp)
	}
	defer func() { testHookBeforeLink = nil }()
	claim(t, path, Options{Mode: 0o640})
	if !called {
		t.Fatal("the socket was never bound privately")
	}
}

// A file that appears at the path after the stale check is never replaced:
// link(2) refuses where rename(2) would have clobbered it.
func TestClaimNeverReplacesWhatAppears(t *testing.T) {
	for _, kind := range []string{"file", "socket"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "bus.sock")
			testHookBeforeLink = func(string) {
				if kind == "file" {
					if err := os.WriteFile(path, []byte("theirs"), 0o600); err != nil {
						t.Fatal(err)
					}
					return
				}
				staleSocket(t, path)
			}
			defer func() { testHookBeforeLink = nil }()
			s, err := Claim(path, Options{Mode: 0o600, Lock: true})
			if !errors.Is(err, ErrInUse) {
				if s != nil {
					s.Release()
				}
				t.Fatalf("Claim = %v, want ErrInUse", err)
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatalf("what appeared was removed: %v", err)
			}
			if kind == "file" {
				if b, _ := os.ReadFile(path); string(b) != "theirs" {
					t.Errorf("the file that appeared was replaced: %q", b)
				}
			} else if fi.Mode().Type() != fs.ModeSocket {
				t.Errorf("the socket that appeared was replaced: %v", fi.Mode())
			}
			noLeftovers(t, dir, "bus.sock", "bus.sock.lock")
		})
	}
}

func TestClaimRemovesStaleSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bus.sock")
	staleSocket(t, path)
	claim(t, path, Options{Mode: 0o600, Lock: true})
	dialOK(t, path)
}

func TestClaimRefusesLiveServer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bus.sock")
	// A server that takes no lock, answering on the path.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for _, lock := range []bool{false, true} {
		if _, err := Claim(path, Options{Mode: 0o600, Lock: lock}); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), path) {
			t.Errorf("lock %v: Claim = %v, want ErrInUse naming the path", lock, err)
		}
	}
	dialOK(t, path) // untouched
}

func TestClaimRefusesWhileLockHeld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bus.sock")
	first := claim(t, path, Options{Mode: 0o600, Lock: true})
	// Even with the socket gone, the lock alone keeps a second claimant out.
	first.Listener().Close()
	_, err := Claim(path, Options{Mode: 0o600, Lock: true})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), ".lock") {
		t.Fatalf("second Claim = %v, want ErrInUse naming the lock", err)
	}
	first.Release()
	claim(t, path, Options{Mode: 0o600, Lock: true})
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Errorf("lock file: %v (it stays, by design)", err)
	}
}

func TestClaimRefusesNonSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bus.sock")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Claim(path, Options{Mode: 0o600})
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Claim over a regular file = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Error("the regular file was touched")
	}
	noLeftovers(t, dir, "bus.sock")
}

func TestClaimDirectoryErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	_, err := Claim(filepath.Join(missing, "bus.sock"), Options{Mode: 0o600, Lock: true})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "directory "+missing+" does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the missing directory was created (stat err %v)", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Claim(filepath.Join(file, "bus.sock"), Options{Mode: 0o600}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("parent is a file: %v", err)
	}
}

func TestClaimPathLength(t *testing.T) {
	// A directory so deep that a private directory inside it has no room
	// for a socket address, and a socket path exactly as long as one
	// allows: the socket is still bound privately and appears with its
	// final mode.
	base := t.TempDir()
	dir := filepath.Join(base, strings.Repeat("d", MaxPathLen-len(base)-len("/s")-1))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	longest := filepath.Join(dir, "s")
	if len(longest) != MaxPathLen {
		t.Fatalf("test path is %d bytes", len(longest))
	}
	called := false
	testHookBeforeLink = func(tmp string) {
		called = true
		if !strings.HasPrefix(tmp, "/proc/self/fd/") {
			t.Errorf("bound at %s, which does not fit a socket address", tmp)
		}
	}
	defer func() { testHookBeforeLink = nil }()
	claim(t, longest, Options{Mode: 0o600})
	if !called {
		t.Fatal("the socket was never bound privately")
	}
	if fi, err := os.Lstat(longest); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != fs.ModeSocket {
		t.Errorf("longest path: %v, %v", fi.Mode(), err)
	}
	dialOK(t, longest)
	noLeftovers(t, dir, "s")

	tooLong := filepath.Join(dir, "ss")
	if _, err := Claim(tooLong, Options{Mode: 0o600}); err == nil || !strings.Contains(err.Error(), "at most 107") {
		t.Errorf("path of %d bytes: %v", len(tooLong), err)
	}
}

func TestClaimGroup(t *testing.T) {
	dir := t.TempDir()
	// The process's own group can always be given.
	gid := os.Getgid()
	own := lookupGroupName(t, gid)
	path := filepath.Join(dir, "own.sock")
	s := claim(t, path, Options{Mode: 0o660, Group: own})
	if s.GroupErr() != nil {
		t.Errorf("own group %s: %v", own, s.GroupErr())
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Gid) != gid {
		t.Errorf("gid %d, want %d", st.Gid, gid)
	}
	// A missing group is reported, never fatal.
	s = claim(t, filepath.Join(dir, "none.sock"), Options{Mode: 0o660, Group: "no-such-group-busd-test"})
	if s.GroupErr() == nil {
		t.Error("a missing group went unreported")
	}
}

func TestReleaseRemovesOnlyItsOwnSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bus.sock")
	s, err := Claim(path, Options{Mode: 0o600, Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Release()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left after Release: %v", err)
	}
	s.Release() // twice is harmless

	// Someone replaced the file meanwhile: it is theirs now.
	s, err = Claim(path, Options{Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("theirs"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Release()
	if b, err := os.ReadFile(path); err != nil || string(b) != "theirs" {
		t.Errorf("Release removed a file it did not create: %q, %v", b, err)
	}
}

func TestClaimWithoutLockMakesNoLockFile(t *testing.T) {
	dir := t.TempDir()
	claim(t, filepath.Join(dir, "admin.sock"), Options{Mode: 0o600})
	noLeftovers(t, dir, "admin.sock")
}

// lookupGroupName is the name of group gid.
func lookupGroupName(t *testing.T, gid int) string {
	t.Helper()
	g, err := user.LookupGroupId(strconv.Itoa(gid))
	if err != nil {
		t.Skipf("gid %d has no name to give: %v", gid, err)
	}
	return g.Name
}
