package main

// What the bus client commands (pub.go, sub.go) share: their flags, the
// socket they dial, and how their failures read.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"busd/client"
)

const dialTimeout = 5 * time.Second

// clientFlags are the flags every bus client command shares.
type clientFlags struct {
	socket string
	name   string
}

// newClientCommandLine returns the command line of a client command, with
// the flags every client command has. --socket's variable is applied by the
// socket rules, not as a flag.
func newClientCommandLine(name, synopsis, defaultName string, cf *clientFlags) *commandLine {
	cl := newCommandLine(name, synopsis, nil, map[string]string{"socket": socketEnv})
	cl.fs.StringVar(&cf.socket, "socket", "", socketUsage)
	cl.fs.StringVar(&cf.name, "name", defaultName, "client `name` sent in HELLO (shown by busd stats)")
	return cl
}

// resolveClientSocket applies the socket rules for a client (which never
// creates ~/.decnet).
func resolveClientSocket(cf *clientFlags, env func(string) string) (string, error) {
	return resolveSocket(systemSocketSources(cf.socket, env), false)
}

// connectError turns a failed connection into the one line scripts and
// people see.
func connectError(path string, err error, hint string) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("permission denied on %s (%s)", path, hint)
	}
	reason := err
	var errno syscall.Errno
	if errors.As(err, &errno) {
		reason = errno
	}
	return fmt.Errorf("cannot connect to %s: %v (is busd running?)", path, reason)
}

// dialBus connects a client for a CLI command.
func dialBus(path, name string, reconnect bool, log *slog.Logger) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	opts := []client.Option{client.WithName(name), client.WithLogger(log)}
	if !reconnect {
		opts = append(opts, client.WithReconnect(0, 0))
	}
	c, err := client.Dial(ctx, path, opts...)
	if err != nil {
		return nil, connectError(path, err, "is this user in the socket's group?")
	}
	return c, nil
}

// clientExit prints err and returns its exit code: 2 for usage errors, 0 for
// -h, 1 otherwise.
func clientExit(err error, stderr io.Writer, cmd string) int {
	var ue *usageError
	if errors.Is(err, pflag.ErrHelp) || errors.As(err, &ue) {
		return exitCodeFor(err, stderr, cmd)
	}
	fmt.Fprintf(stderr, "busd: %v\n", err)
	return exitFailure
}
