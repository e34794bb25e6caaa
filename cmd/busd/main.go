// Command busd is the host bus daemon and its command-line clients.
//
//	busd [serve] [flags]                run the daemon (the default)
//	busd pub [flags] TOPIC [JSON]       publish events
//	busd sub [flags] PATTERN...         print matching events
//	busd stats [flags]                  the daemon's counters and connections (admin socket)
//
// Every daemon flag has an environment variable; a flag wins over its
// variable, which wins over the default. See "busd serve -h".
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
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

// parseFlags parses args with fs, then fills every flag not given on the
// command line from its environment variable (envNames maps flag name to
// variable; an empty variable counts as unset). fs must have been built with
// flag.ContinueOnError. On -h it prints the help, naming the variables in
// helpEnv, to stdout and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, envNames, helpEnv map[string]string, args []string, env func(string) string, stdout io.Writer, synopsis string) error {
	_, err := parseFlagsArgs(fs, envNames, helpEnv, args, env, stdout, synopsis, false)
	return err
}

// parseFlagsArgs is parseFlags that also returns the positional arguments.
// With interspersed, flags may follow positional arguments (as in
// "busd pub TOPIC --type T"); "--" ends the flags.
func parseFlagsArgs(fs *flag.FlagSet, envNames, helpEnv map[string]string, args []string, env func(string) string, stdout io.Writer, synopsis string, interspersed bool) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	positional, err := parseArgs(fs, args, interspersed)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout, fs, helpEnv, synopsis)
			return nil, err
		}
		// The flag package says "-name"; the documentation says "--name".
		// ("invalid value ... for flag -x", "invalid boolean value ... for -x")
		msg := err.Error()
		for _, from := range []string{" for flag -", " for -"} {
			if strings.Contains(msg, from) {
				msg = strings.Replace(msg, from, " for --", 1)
				break
			}
		}
		return nil, usageErrorf("%s", msg)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	names := make([]string, 0, len(envNames))
	for name := range envNames {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if given[name] {
			continue
		}
		v := env(envNames[name])
		if v == "" {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if err := f.Value.Set(v); err != nil {
			return nil, usageErrorf("invalid value %q for %s (--%s): %v", v, envNames[name], name, err)
		}
	}
	return positional, nil
}

// parseArgs runs fs.Parse, resuming after each positional argument when
// interspersed.
func parseArgs(fs *flag.FlagSet, args []string, interspersed bool) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if !interspersed {
		return fs.Args(), nil
	}
	var positional []string
	for {
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// fs.Parse stops at "--" (which it consumes) or at the first
		// non-flag argument.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
	}
}

// printHelp lists fs's flags with "--" and their environment variables.
func printHelp(w io.Writer, fs *flag.FlagSet, envNames map[string]string, synopsis string) {
	fmt.Fprintf(w, "usage: %s\n\nflags (a flag overrides its environment variable):\n", synopsis)
	fs.VisitAll(func(f *flag.Flag) {
		kind, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		var extra []string
		if e := envNames[f.Name]; e != "" {
			extra = append(extra, "env "+e)
		}
		if f.DefValue != "" && f.DefValue != "false" {
			extra = append(extra, "default "+f.DefValue)
		}
		if len(extra) > 0 {
			text += " (" + strings.Join(extra, "; ") + ")"
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, text)
	})
}

// exitCodeFor maps a parse error to an exit code, printing it.
func exitCodeFor(err error, stderr io.Writer, cmd string) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "busd: %v\n", err)
	fmt.Fprintf(stderr, "Run \"busd %s -h\" for help.\n", cmd)
	return exitUsage
}
