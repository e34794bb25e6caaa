package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"

	"golang.org/x/sys/unix"
)

const (
	// socketEnv names the socket path; shared with the deployed clients.
	socketEnv = "DECNET_BUS_SOCKET"
	// defaultRunDir is provided by systemd's RuntimeDirectory=decnet; busd
	// never creates it.
	defaultRunDir = "/run/decnet"
	// homeDirName is the per-user fallback directory under $HOME; busd
	// creates it (0700) when it serves there.
	homeDirName = ".decnet"
	socketName  = "bus.sock"
)

// socketUsage documents --socket for every command.
const socketUsage = "UNIX socket `path`; without it: $" + socketEnv + ", else " + defaultRunDir + "/" + socketName +
	" when that directory exists and is writable, else ~/" + homeDirName + "/" + socketName

// socketSources are the inputs of the socket path rules (PROTOCOL.md,
// "Socket"). Everything the rules look at is here so that tests can replace
// it.
type socketSources struct {
	Flag     string                 // --socket; "" when not given
	Env      string                 // DECNET_BUS_SOCKET; "" when unset
	Config   string                 // the daemon's configuration file's socket; "" when none
	RunDir   string                 // normally /run/decnet
	Home     func() (string, error) // the user's home directory
	Writable func(dir string) bool  // whether this process may create files in dir
}

// resolveSocket returns the socket path, first that applies: the flag, the
// environment variable (verbatim), the configuration file, RunDir/bus.sock when RunDir exists and is
// writable, otherwise ~/.decnet/bus.sock. With createHome (the daemon), a
// missing ~/.decnet is created with mode 0700; clients pass false.
func resolveSocket(src socketSources, createHome bool) (string, error) {
	if src.Flag != "" {
		return src.Flag, nil
	}
	if src.Env != "" {
		return src.Env, nil
	}
	if src.Config != "" {
		return src.Config, nil
	}
	if src.RunDir != "" {
		if fi, err := os.Stat(src.RunDir); err == nil && fi.IsDir() && src.Writable(src.RunDir) {
			return filepath.Join(src.RunDir, socketName), nil
		}
	}
	home, err := src.Home()
	if err != nil {
		return "", fmt.Errorf("no socket path: %s is not usable and the home directory is unknown (%v); set --socket or %s", src.RunDir, err, socketEnv)
	}
	if home == "" {
		return "", fmt.Errorf("no socket path: %s is not usable and the home directory is unknown; set --socket or %s", src.RunDir, socketEnv)
	}
	dir := filepath.Join(home, homeDirName)
	if createHome {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("create %s: %w", dir, err)
		}
	}
	return filepath.Join(dir, socketName), nil
}

// systemSocketSources are the real inputs: env supplies DECNET_BUS_SOCKET and
// HOME.
func systemSocketSources(flagValue string, env func(string) string) socketSources {
	return socketSources{
		Flag:     flagValue,
		Env:      env(socketEnv),
		RunDir:   defaultRunDir,
		Home:     func() (string, error) { return homeDir(env) },
		Writable: dirWritable,
	}
}

// homeDir is $HOME, or the passwd entry when HOME is unset (as it can be
// for a service).
func homeDir(env func(string) string) (string, error) {
	if h := env("HOME"); h != "" {
		return h, nil
	}
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

// dirWritable reports whether this process may create entries in dir.
func dirWritable(dir string) bool {
	return unix.Access(dir, unix.W_OK|unix.X_OK) == nil
}
