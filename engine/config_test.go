package engine

import (
	"strings"
	"testing"
)

// Each bound is the least value Validate accepts.
func TestValidateBounds(t *testing.T) {
	bounds := []struct {
		name string
		set  func(*Config, int)
		min  int
	}{
		{"ring events", func(c *Config, v int) { c.RingEvents = v }, MinRingEvents},
		{"ring bytes", func(c *Config, v int) { c.RingBytes = v }, MinRingBytes},
		{"high-water mark", func(c *Config, v int) { c.HighWater = v }, MinHighWater},
		{"event loops", func(c *Config, v int) { c.Loops = v }, MinLoops},
		{"max connections", func(c *Config, v int) { c.MaxConns = v }, MinMaxConns},
	}
	for _, b := range bounds {
		cfg := testConfig("/x/bus.sock")
		b.set(&cfg, b.min)
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s %d: %v", b.name, b.min, err)
		}
		b.set(&cfg, b.min-1)
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), b.name) {
			t.Errorf("%s %d: %v, want an error naming the setting", b.name, b.min-1, err)
		}
	}
	cfg := testConfig("")
	if err := cfg.Validate(); err == nil {
		t.Error("an empty socket path accepted")
	}
}

func TestFitMaxConns(t *testing.T) {
	if FDReserve != 64 || FDReserve <= fdHeadroom {
		t.Fatalf("FDReserve %d, fdHeadroom %d: the reserve must cover the headroom and the daemon's own descriptors", FDReserve, fdHeadroom)
	}
	tests := []struct {
		max     int
		nofile  uint64
		want    int
		lowered bool
	}{
		{4096, 65536, 4096, false},
		{4096, 4096 + 64, 4096, false},
		{4096, 4096 + 63, 4095, true},
		{4096, 1024, 960, true},
		{4096, 64, 1, true},
		{4096, 10, 1, true},
		{4096, ^uint64(0), 4096, false},
	}
	for _, tc := range tests {
		got, lowered := FitMaxConns(tc.max, tc.nofile)
		if got != tc.want || lowered != tc.lowered {
			t.Errorf("FitMaxConns(%d, %d) = %d, %v; want %d, %v", tc.max, tc.nofile, got, lowered, tc.want, tc.lowered)
		}
	}
}
