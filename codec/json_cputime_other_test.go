//go:build !linux

package codec

// jsonThreadCPU is unavailable here.
func jsonThreadCPU() int64 { return -1 }
