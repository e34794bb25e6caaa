package fuzz

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"busd/codec"
)

// frameSeed is one named stream for the frame-level fuzz targets.
type frameSeed struct {
	name   string
	stream []byte
	cut    uint16
}

func frame(verb codec.Verb, args, body string) []byte {
	return codec.AppendFrame(nil, verb, args, []byte(body))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// frameSeeds are every hostile frame class of PROTOCOL.md and valid frames
// of every verb, alone and after valid traffic.
func frameSeeds() []frameSeed {
	over := binary.BigEndian.AppendUint32([]byte("PUB t\n"), codec.MaxBody+1)
	env := `{"v": 1, "id": "0123456789abcdef0123456789abcdef", "topic": "decky.d1.state", "type": "state", "ts": 1764190000.123456, "payload": {"state": "running"}}`
	valid := cat(
		frame(codec.VerbHELLO, "collector", ""),
		frame(codec.VerbSUB, "decky.*.state", ""),
		frame(codec.VerbSUB, "topology.>", "ignored body"),
		frame(codec.VerbPUB, "decky.d1.state", env),
		frame(codec.VerbPUB, "decky.d1.state", ""),
		frame(codec.VerbUNSUB, "decky.*.state", ""),
		frame(codec.VerbBYE, "", ""),
	)
	seeds := []frameSeed{
		// Valid frames of every verb.
		{"valid-hello", frame(codec.VerbHELLO, "collector", ""), 3},
		{"valid-sub", frame(codec.VerbSUB, "topology.>", ""), 4},
		{"valid-unsub", frame(codec.VerbUNSUB, "a.*.b", ""), 9},
		{"valid-pub", frame(codec.VerbPUB, "decky.d1.state", env), 20},
		{"valid-pub-empty-body", frame(codec.VerbPUB, "decky.d1.state", ""), 0},
		{"valid-evt", frame(codec.VerbEVT, "decky.d1.state", env), 17},
		{"valid-bye", frame(codec.VerbBYE, "", ""), 4},
		{"valid-crlf-and-spaces", []byte("SUB \t a.> \r\n\x00\x00\x00\x00"), 7},
		{"valid-session", valid, uint16(len(valid) / 2)},
		// Hostile frame classes.
		{"hostile-empty-header", []byte("\n\x00\x00\x00\x00"), 1},
		{"hostile-cr-only", []byte("\r\n\x00\x00\x00\x00"), 1},
		{"hostile-non-ascii", []byte("PUB t\xc3\xa9\n\x00\x00\x00\x02{}"), 5},
		{"hostile-non-ascii-before-lf", []byte("PUB \xff"), 2},
		{"hostile-4096-without-lf", bytes.Repeat([]byte("A"), codec.MaxHeader), 2048},
		{"hostile-header-over-4096", cat([]byte("PUB "), bytes.Repeat([]byte("a"), codec.MaxHeader), []byte("\n\x00\x00\x00\x00")), 4095},
		{"hostile-unknown-verb", []byte("PING x\n\x00\x00\x00\x00"), 2},
		{"hostile-lowercase-verb", []byte("pub x\n\x00\x00\x00\x02{}"), 3},
		{"hostile-verb-with-tab", []byte("PUB\tx\n\x00\x00\x00\x02{}"), 3},
		{"hostile-body-over-1mib", over, 7},
		{"hostile-length-ffffffff", []byte("PUB x\n\xff\xff\xff\xff"), 6},
		{"hostile-eof-in-header", []byte("PUB decky.d1"), 4},
		{"hostile-eof-in-length", []byte("PUB x\n\x00\x00"), 6},
		{"hostile-eof-in-body", []byte("PUB t\n\x00\x00\x00\x10{\"a\""), 9},
		// Found by fuzzing: a non-ASCII byte early in a header that never
		// ends within 4096 bytes was "not ASCII" when the read stopped
		// before byte 4096 and "too long" otherwise.
		{"cut-nonascii-in-long-header", cat([]byte("PUB "), bytes.Repeat([]byte("a"), 100), []byte("\xff"), bytes.Repeat([]byte("a"), 4000), []byte("\n\x00\x00\x00\x00")), 200},
		// Hostile after valid traffic: the earlier frames still count.
		{"valid-then-unknown-verb", cat(valid[:len(valid)-len(frame(codec.VerbBYE, "", ""))], []byte("NOPE\n\x00\x00\x00\x00")), 30},
		{"valid-then-eof-in-body", cat(frame(codec.VerbSUB, "a", ""), []byte("PUB a\n\x00\x00\x01\x00{")), 12},
	}
	return seeds
}

// engineSeeds are streams for FuzzEngine: the frame seeds, plus protocol
// errors above the frame layer and subscriptions that never read.
func engineSeeds() []frameSeed {
	seeds := frameSeeds()
	more := []frameSeed{
		{"sub-empty-pattern", frame(codec.VerbSUB, "", ""), 2},
		{"pub-empty-topic", frame(codec.VerbPUB, "", "{}"), 2},
		{"pub-invalid-json", frame(codec.VerbPUB, "t", "{"), 5},
		{"pub-two-objects", frame(codec.VerbPUB, "t", "{}{}"), 5},
		{"sub-all-then-publish", cat(frame(codec.VerbSUB, ">", ""), frame(codec.VerbPUB, "x.y", `{"a":1}`), frame(codec.VerbPUB, "x", "")), 8},
		{"sub-twice-unsub-once", cat(frame(codec.VerbSUB, "a.*", ""), frame(codec.VerbSUB, "a.*", ""), frame(codec.VerbUNSUB, "a.*", ""), frame(codec.VerbUNSUB, "zz", "")), 10},
	}
	return append(seeds, more...)
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzFrame and FuzzEngine
// seeds when BUSD_WRITE_SEEDS=1; otherwise it checks they are all present.
func TestWriteFuzzSeeds(t *testing.T) {
	write := os.Getenv("BUSD_WRITE_SEEDS") == "1"
	for target, seeds := range map[string][]frameSeed{"FuzzFrame": frameSeeds(), "FuzzEngine": engineSeeds()} {
		dir := filepath.Join("testdata", "fuzz", target)
		for _, s := range seeds {
			path := filepath.Join(dir, s.name)
			want := seedFile(s.stream, s.cut)
			if write {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("seed %s/%s missing (run with BUSD_WRITE_SEEDS=1): %v", target, s.name, err)
			} else if !bytes.Equal(got, want) {
				t.Errorf("seed %s/%s is stale (run with BUSD_WRITE_SEEDS=1)", target, s.name)
			}
		}
	}
}

// seedFile encodes one input in the "go test fuzz v1" corpus format.
func seedFile(stream []byte, cut uint16) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	fmt.Fprintf(&b, "[]byte(%q)\n", stream)
	fmt.Fprintf(&b, "uint16(%d)\n", cut)
	return []byte(b.String())
}
