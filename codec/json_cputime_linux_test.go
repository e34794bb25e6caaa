package codec

import (
	"syscall"
	"unsafe"
)

// jsonThreadCPU returns the CPU time consumed so far by the calling OS
// thread, in nanoseconds, or -1 if it cannot be read. Callers lock the
// goroutine to its thread.
func jsonThreadCPU() int64 {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return -1
	}
	return ts.Nano()
}
