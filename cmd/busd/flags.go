package main

// Command lines: flags are parsed by pflag (GNU style: flags before or after
// the positional arguments, "--" ends them, errors name "--flag"). Every
// command parses the same way (commandLine.parse): the command line, then,
// for each flag not given there, its environment variable, then (the
// daemon only) the configuration file, else the default.

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// commandLine is one command's flags and where else their values may come
// from.
type commandLine struct {
	fs *pflag.FlagSet
	// env maps a flag name to the environment variable that sets it when
	// the flag is not given. An empty variable counts as unset.
	env map[string]string
	// helpEnv maps a flag name to the variable -h names for it: env, plus
	// variables that other rules apply (DECNET_BUS_SOCKET for --socket).
	helpEnv map[string]string
	// synopsis heads the -h output.
	synopsis string
}

// newCommandLine returns an empty command line; the command registers its
// flags on cl.fs.
func newCommandLine(name, synopsis string, env, helpEnv map[string]string) *commandLine {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, help is printed by parse
	fs.Usage = func() {}
	fs.SortFlags = false
	return &commandLine{fs: fs, env: env, helpEnv: helpEnv, synopsis: synopsis}
}

// parse parses args, then fills the flags not given from their variables.
// It returns the positional arguments. On -h it prints the help to stdout
// and returns pflag.ErrHelp; a bad flag or value is a *usageError. (The
// daemon, which also reads a configuration file that a flag may name, calls
// parseArgs and fill itself.)
func (cl *commandLine) parse(args []string, env func(string) string, stdout io.Writer) ([]string, error) {
	positional, err := cl.parseArgs(args, stdout)
	if err != nil {
		return nil, err
	}
	return positional, cl.fill(env, nil)
}

// parseArgs parses the command line only.
func (cl *commandLine) parseArgs(args []string, stdout io.Writer) ([]string, error) {
	positional, err := parseArgs(cl.fs, args)
	if errors.Is(err, pflag.ErrHelp) {
		printHelp(stdout, cl)
		return nil, err
	}
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	return positional, nil
}

// fill sets each flag that has an environment variable (cl.env) and was
// not given on the command line: from the variable, else from file (nil:
// none). It goes in the order the flags were registered, so that the first
// bad value reported is always the same one.
func (cl *commandLine) fill(env func(string) string, file *configFile) error {
	var err error
	cl.fs.VisitAll(func(f *pflag.Flag) {
		name, layered := cl.env[f.Name]
		if err != nil || f.Changed || !layered {
			return
		}
		if v := env(name); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = usageErrorf("invalid value %q for %s (--%s): %v", v, name, f.Name, e)
			}
			return
		}
		if v, ok := file.value(f.Name); ok {
			if e := f.Value.Set(v); e != nil {
				err = usageErrorf("invalid value %q for %s in %s: %v", v, f.Name, file.path, e)
			}
		}
	})
	return err
}

// parseArgs runs fs.Parse on args and returns the positional arguments.
// Flags may follow positional arguments (as in "busd pub TOPIC --type T");
// "--" ends the flags.
func parseArgs(fs *pflag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(singleDashLongFlags(fs, args)); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// singleDashLongFlags rewrites "-name" and "-name=value" to "--name" and
// "--name=value" when name is one of fs's flags (or "help"). busd's flags
// used to be read by Go's flag package, which takes one dash or two, and
// scripts and unit files may still say "-loops 2"; pflag reads one dash as
// a cluster of one-letter flags. The value of a flag that takes one, and
// everything after "--", are left alone.
func singleDashLongFlags(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			if name, _, _ := strings.Cut(a[1:], "="); name == "help" || fs.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
		if name, ok := strings.CutPrefix(a, "--"); ok && !strings.Contains(name, "=") {
			if f := fs.Lookup(name); f != nil && f.NoOptDefVal == "" && i+1 < len(args) {
				i++
				out = append(out, args[i]) // the flag's value, whatever it looks like
			}
		}
	}
	return out
}

// printHelp lists the flags with "--", their environment variables and
// their defaults.
func printHelp(w io.Writer, cl *commandLine) {
	fmt.Fprintf(w, "usage: %s\n\nflags", cl.synopsis)
	if len(cl.helpEnv) > 0 {
		fmt.Fprint(w, " (a flag overrides its environment variable")
		if cl.fs.Lookup("config") != nil {
			fmt.Fprint(w, ", which overrides the configuration file")
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w, ":")
	cl.fs.VisitAll(func(f *pflag.Flag) {
		kind, text := pflag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		var extra []string
		if e := cl.helpEnv[f.Name]; e != "" {
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
