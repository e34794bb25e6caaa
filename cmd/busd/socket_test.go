package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolveSocket(t *testing.T) {
	always := func(string) bool { return true }
	never := func(string) bool { return false }

	type env struct {
		flag, env string
		runDir    string // "" = no rundir; "missing" = a path that does not exist; "file" = a regular file
		writable  func(string) bool
	}
	tests := []struct {
		name string
		in   env
		want string // "RUN" and "HOME" are replaced by the temp dirs
	}{
		{"flag wins over everything", env{flag: "/x/flag.sock", env: "/x/env.sock", runDir: "dir", writable: always}, "/x/flag.sock"},
		{"env wins over rundir", env{env: "/x/env.sock", runDir: "dir", writable: always}, "/x/env.sock"},
		{"env used verbatim", env{env: "relative/../odd//bus.sock", runDir: "dir", writable: always}, "relative/../odd//bus.sock"},
		{"rundir exists and writable", env{runDir: "dir", writable: always}, "RUN/bus.sock"},
		{"rundir not writable falls back to home", env{runDir: "dir", writable: never}, "HOME/.decnet/bus.sock"},
		{"rundir missing falls back to home", env{runDir: "missing", writable: always}, "HOME/.decnet/bus.sock"},
		{"rundir is a file falls back to home", env{runDir: "file", writable: always}, "HOME/.decnet/bus.sock"},
		{"no rundir configured falls back to home", env{runDir: "", writable: always}, "HOME/.decnet/bus.sock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			home := filepath.Join(base, "home")
			if err := os.Mkdir(home, 0o755); err != nil {
				t.Fatal(err)
			}
			run := filepath.Join(base, "run")
			var runDir string
			switch tc.in.runDir {
			case "dir":
				if err := os.Mkdir(run, 0o755); err != nil {
					t.Fatal(err)
				}
				runDir = run
			case "missing":
				runDir = run
			case "file":
				if err := os.WriteFile(run, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				runDir = run
			}
			src := socketSources{
				Flag:     tc.in.flag,
				Env:      tc.in.env,
				RunDir:   runDir,
				Home:     func() (string, error) { return home, nil },
				Writable: tc.in.writable,
			}
			got, err := resolveSocket(src, true)
			if err != nil {
				t.Fatalf("resolveSocket: %v", err)
			}
			want := tc.want
			switch {
			case len(want) >= 3 && want[:3] == "RUN":
				want = run + want[3:]
			case len(want) >= 4 && want[:4] == "HOME":
				want = home + want[4:]
			}
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if tc.in.runDir == "missing" {
				if _, err := os.Stat(run); !os.IsNotExist(err) {
					t.Errorf("the run directory was created (stat err %v); it must never be", err)
				}
			}
		})
	}
}

func TestResolveSocketCreatesHomeDir(t *testing.T) {
	home := t.TempDir()
	src := socketSources{
		RunDir:   filepath.Join(home, "no-such-run-dir"),
		Home:     func() (string, error) { return home, nil },
		Writable: func(string) bool { return true },
	}
	dir := filepath.Join(home, ".decnet")

	// A client never creates it.
	got, err := resolveSocket(src, false)
	if err != nil || got != filepath.Join(dir, "bus.sock") {
		t.Fatalf("client: got %q, %v", got, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("client resolution created %s (stat err %v)", dir, err)
	}

	// The daemon creates it with 0700...
	got, err = resolveSocket(src, true)
	if err != nil || got != filepath.Join(dir, "bus.sock") {
		t.Fatalf("daemon: got %q, %v", got, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want a 0700 directory", dir, fi.Mode())
	}

	// ...and accepts it when it already exists, keeping its mode.
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveSocket(src, true); err != nil {
		t.Fatalf("existing dir: %v", err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o750 {
		t.Errorf("existing dir mode changed to %v", fi.Mode().Perm())
	}
}

func TestResolveSocketHomeErrors(t *testing.T) {
	src := socketSources{
		Home:     func() (string, error) { return "", errors.New("no passwd entry") },
		Writable: func(string) bool { return true },
	}
	if _, err := resolveSocket(src, true); err == nil {
		t.Fatal("want an error when the home directory is unknown")
	}
	src.Home = func() (string, error) { return "", nil }
	if _, err := resolveSocket(src, true); err == nil {
		t.Fatal("want an error when the home directory is empty")
	}

	// A home where .decnet cannot be created.
	home := filepath.Join(t.TempDir(), "missing-home")
	src.Home = func() (string, error) { return home, nil }
	if _, err := resolveSocket(src, true); err == nil {
		t.Fatal("want an error when ~/.decnet cannot be created")
	}
}

func TestSystemSocketSources(t *testing.T) {
	env := mapEnv(map[string]string{"DECNET_BUS_SOCKET": "/e/bus.sock", "HOME": "/home/someone"})
	src := systemSocketSources("/f/bus.sock", env)
	if src.Flag != "/f/bus.sock" || src.Env != "/e/bus.sock" || src.RunDir != "/run/decnet" {
		t.Errorf("sources: %+v", src)
	}
	if h, err := src.Home(); err != nil || h != "/home/someone" {
		t.Errorf("home: %q, %v", h, err)
	}
	// Without HOME the passwd entry is used.
	if h, err := homeDir(mapEnv(nil)); err != nil || h == "" {
		t.Errorf("home without HOME: %q, %v", h, err)
	}
}

func TestDirWritable(t *testing.T) {
	dir := t.TempDir()
	if !dirWritable(dir) {
		t.Errorf("%s: want writable", dir)
	}
	if dirWritable(filepath.Join(dir, "missing")) {
		t.Error("a missing directory reported writable")
	}
	if os.Geteuid() == 0 {
		return // access(2) grants root everything; the branch is covered through socketSources.Writable
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	if dirWritable(ro) {
		t.Errorf("%s: want not writable", ro)
	}
}

// mapEnv is an env lookup over m.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
