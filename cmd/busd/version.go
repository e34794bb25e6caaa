package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version may be set at link time: -ldflags "-X main.version=v1.2.3".
// Otherwise the module version from the build information is used.
var version string

// buildInfo is what versionString reports; split out for tests.
type buildInfo struct {
	version  string // module version, "(devel)" for a build from a work tree
	revision string // vcs.revision, "" when not stamped
	time     string // vcs.time
	modified bool   // vcs.modified
	goVer    string
}

func readBuildInfo() buildInfo {
	bi := buildInfo{version: version, goVer: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if ok {
		if bi.version == "" {
			bi.version = info.Main.Version
		}
		if info.GoVersion != "" {
			bi.goVer = info.GoVersion
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				bi.revision = s.Value
			case "vcs.time":
				bi.time = s.Value
			case "vcs.modified":
				bi.modified = s.Value == "true"
			}
		}
	}
	if bi.version == "" {
		bi.version = "(devel)"
	}
	return bi
}

// String is the one-line --version output, e.g.
// "busd v1.2.0 revision 0123...cdef (2025-01-02T03:04:05Z) go1.26.8".
func (bi buildInfo) String() string {
	var b strings.Builder
	b.WriteString("busd ")
	b.WriteString(bi.version)
	if bi.revision != "" {
		b.WriteString(" revision ")
		b.WriteString(bi.revision)
		var notes []string
		if bi.time != "" {
			notes = append(notes, bi.time)
		}
		if bi.modified {
			notes = append(notes, "modified")
		}
		if len(notes) > 0 {
			b.WriteString(" (" + strings.Join(notes, ", ") + ")")
		}
	} else {
		b.WriteString(" revision unknown")
	}
	b.WriteString(" ")
	b.WriteString(bi.goVer)
	return b.String()
}

// short is the version for log lines: module version and a 12-digit
// revision.
func (bi buildInfo) short() string {
	s := bi.version
	if bi.revision != "" {
		rev := bi.revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += "+" + rev
		if bi.modified {
			s += "-dirty"
		}
	}
	return s
}

func versionString() string { return readBuildInfo().String() }
