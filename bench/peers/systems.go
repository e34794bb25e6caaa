package peers

import (
	"fmt"
	"os/exec"
	"strings"

	"busd/bench/load"
)

// SystemNames are the systems a comparison runs, in report order: busd,
// busd with JSON validation off (the trusted-host setting), the raw relay
// (the ceiling: copies bytes, no patterns, no queues), the same relay on
// gnet (the floor under busd's cost per event), and the peers.
var SystemNames = []string{"busd", NoValidate, "raw", GnetRaw, "nats", "redis", "mosquitto"}

// GnetRaw is the raw relay on one gnet event loop (bench/gnetfloor relay).
const GnetRaw = "gnet-raw"

// NoValidate is busd run with --validate-json=false.
const NoValidate = "busd-novalidate"

// Options configure NewSystem.
type Options struct {
	// BusdBinary and NATSD are executables to use instead of building
	// ./cmd/busd (and ./cmd/busbench for raw, ./bench/gnetfloor for
	// gnet-raw) and this module's cmd/natsd.
	BusdBinary, BusbenchBinary, GnetFloorBinary, NATSD string
}

// NewSystem returns the named system.
func NewSystem(name string, o Options) (load.System, error) {
	switch name {
	case "busd":
		return &load.Busd{Binary: o.BusdBinary}, nil
	case NoValidate:
		return &load.Busd{Binary: o.BusdBinary, Args: []string{"--validate-json=false"}, Label: NoValidate}, nil
	case "raw":
		return &load.Raw{Binary: o.BusbenchBinary}, nil
	case GnetRaw:
		bin := o.GnetFloorBinary
		if bin == "" {
			var err error
			if bin, err = load.BuildCommand("./bench/gnetfloor"); err != nil {
				return nil, err
			}
		}
		return &load.Raw{Binary: bin, Label: GnetRaw}, nil
	case "nats":
		return &NATS{Bin: o.NATSD}, nil
	case "redis":
		return &Redis{}, nil
	case "mosquitto":
		return &Mosquitto{}, nil
	}
	return nil, fmt.Errorf("unknown system %q (one of %s)", name, strings.Join(SystemNames, ", "))
}

// Versions reports the version of each peer server found, for the record
// kept beside the results.
func Versions(o Options) map[string]string {
	v := map[string]string{}
	if bin, err := lookBin("redis-server", "redis-server"); err == nil {
		if out, err := exec.Command(bin, "--version").Output(); err == nil {
			v["redis"] = strings.TrimSpace(string(out))
		}
	}
	if bin, err := lookBin("mosquitto", "mosquitto"); err == nil {
		// mosquitto -h prints its version first and exits non-zero.
		out, _ := exec.Command(bin, "-h").CombinedOutput()
		if line, _, _ := strings.Cut(string(out), "\n"); line != "" {
			v["mosquitto"] = strings.TrimSpace(line)
		}
	}
	bin := o.NATSD
	if bin == "" {
		bin, _ = natsdBinary()
	}
	if bin != "" {
		if out, err := exec.Command(bin, "--version").Output(); err == nil {
			v["nats"] = strings.TrimSpace(string(out))
		}
	}
	return v
}
