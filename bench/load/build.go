package load

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Binaries that Busd and Raw build when no path is given are built once
// per process into one temporary directory; RemoveBuilds deletes it.
var builds struct {
	mu   sync.Mutex
	dir  string
	done map[string]string // package → binary
}

// buildCommand builds pkg (a directory of module busd, e.g. "./cmd/busd")
// once per process and returns the binary's path.
func buildCommand(pkg string) (string, error) {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if bin, ok := builds.done[pkg]; ok {
		return bin, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "busbench-bin")
		if err != nil {
			return "", err
		}
		builds.dir = dir
		builds.done = map[string]string{}
	}
	bin := filepath.Join(builds.dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s in %s: %v\n%s", pkg, root, err, out)
	}
	builds.done[pkg] = bin
	return bin, nil
}

// RemoveBuilds deletes the binaries built for Busd and Raw.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
		builds.dir, builds.done = "", nil
	}
}

// moduleRoot finds the directory of module busd: the nearest directory at
// or above the working directory whose go.mod declares "module busd" (the
// peers module lives below it and declares another name).
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if name, err := moduleName(filepath.Join(dir, "go.mod")); err == nil && name == "busd" {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod of module busd at or above %s: give the binary's path", wd)
		}
	}
}

func moduleName(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", errors.New("no module line")
}

// BusdBinary is ./cmd/busd built once per process (as Busd builds it), for
// benchmarks that run its other commands, such as busd bridge.
func BusdBinary() (string, error) { return buildCommand("./cmd/busd") }

// BuildCommand is a package of module busd (e.g. "./bench/gnetfloor")
// built once per process, as Busd builds ./cmd/busd.
func BuildCommand(pkg string) (string, error) { return buildCommand(pkg) }
