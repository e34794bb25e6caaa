package main

import (
	"net"
	"os"
	"path/filepath"
)

// notifySocket listens where busd-watchdog sends systemd its notifications
// (READY=1, WATCHDOG=1) and drains them, as systemd would. It returns the
// socket's path and how to close it.
func notifySocket() (string, func(), error) {
	dir, err := os.MkdirTemp("", "peeridle-notify-")
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	return path, func() { conn.Close(); os.RemoveAll(dir) }, nil
}
