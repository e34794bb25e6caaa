package replay

import (
	"net"

	"golang.org/x/sys/unix"

	"busd/internal/procstat"
)

// peerPID is the pid of the process at the other end of a UNIX socket
// (SO_PEERCRED): the daemon, whose CPU time the replay measures.
func peerPID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return int(cred.Pid), nil
}

// processCPU is a process's user+system CPU time, all threads (10 ms
// resolution).
var processCPU = procstat.CPU
