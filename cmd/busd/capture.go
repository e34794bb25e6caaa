package main

import (
	"fmt"
	"io"
)

// captureCommands are busd capture's subcommands.
func captureCommands() []command {
	return []command{
		{"record", "record the daemon's traffic into a file: busd capture record --out FILE [--duration D]", runCaptureRecord},
		{"status", "show the running or latest capture", runCaptureStatus},
		{"stop", "stop the running capture", runCaptureStop},
		{"inspect", "analyse a capture file: busd capture inspect FILE [--json]", runCaptureInspect},
		{"replay", "replay a capture file into a daemon: busd capture replay FILE [--speed N|max] [--find-max]", runCaptureReplay},
	}
}

// runCapture dispatches busd capture SUBCOMMAND.
func runCapture(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stdout
		if len(args) == 0 {
			w = stderr
		}
		captureUsage(w)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range captureCommands() {
		if c.name == args[0] {
			return c.run(args[1:], env, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "busd: unknown capture command %q\n", args[0])
	captureUsage(stderr)
	return exitUsage
}

func captureUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: busd capture <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range captureCommands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "busd capture <command> -h" for a command's flags.`)
}
