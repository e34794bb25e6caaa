package client

import "unsafe"

// bytesString views b as a string without copying. The string is valid only
// while b is neither modified nor reused: callers use it for the duration of
// one call (matching, checking) and copy it before it can outlive that.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
