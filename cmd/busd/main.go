// Command busd is the host bus daemon and its command-line clients.
//
//	busd [serve] [flags]                run the daemon (the default)
//	busd pub [flags] TOPIC [JSON]       publish events
//	busd sub [flags] PATTERN...         print matching events
//	busd stats [flags]                  the daemon's counters and connections (admin socket)
//	busd capture record|status|stop     record the daemon's traffic into capture files
//	busd bridge --nats URL [rules]      carry events between this bus and NATS
//
// Every daemon flag has an environment variable; a flag wins over its
// variable, which wins over the configuration file (--config), which wins
// over the default. See "busd serve -h".
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // runtime failure: cannot connect, already running, ...
	exitUsage   = 2 // bad command line or environment value
	exitTimeout = 3 // sub --timeout ran out before --count events
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, env func(string) string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the daemon (the default when no command is given)", runServe},
		{"pub", "publish events: busd pub [flags] TOPIC [JSON]", runPub},
		{"sub", "print events matching patterns: busd sub [flags] PATTERN...", runSub},
		{"stats", "show the daemon's counters and connections: busd stats [--json]", runStats},
		{"capture", "record the daemon's traffic: busd capture record|status|stop", runCapture},
		{"bridge", "carry events between this bus and NATS: busd bridge --nats URL --export P --import P", runBridge},
	}
}

// run is main without the process around it: tests call it in-process.
func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if env == nil {
		env = os.Getenv
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return runServe(args, env, stdout, stderr)
	}
	switch args[0] {
	case "help":
		usage(stdout)
		return exitOK
	case "version":
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], env, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "busd: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: busd [command] [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-8s %s\n", "help", "print this help")
	fmt.Fprintf(w, "  %-8s %s\n", "version", "print the version")
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "busd <command> -h" for a command's flags.`)
}

// usageError is a bad command line or environment value: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

// exitCodeFor maps a parse error to an exit code, printing it.
func exitCodeFor(err error, stderr io.Writer, cmd string) int {
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "busd: %v\n", err)
	fmt.Fprintf(stderr, "Run \"busd %s -h\" for help.\n", cmd)
	return exitUsage
}
