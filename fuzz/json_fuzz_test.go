package fuzz

import (
	"bytes"
	"encoding/json"
	"flag"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"busd/codec"
)

// FuzzJSONObject checks codec.ValidJSONObject against a reference built from
// encoding/json on every input, and that it never allocates, never writes to
// its input and never reads past its end.
func FuzzJSONObject(f *testing.F) {
	seeds := []string{
		// Valid.
		`{"v": 1, "id": "0123456789abcdef0123456789abcdef", "topic": "decky.d1.state", "type": "state", "ts": 1764190000.123456, "payload": {"state": "running", "pid": 4242, "tags": ["a","b"], "ok": true, "x": null}}`,
		` {} `,
		`{"a":[1,-0,0.5e-3,1E+2,true,false,null,{"b":[]}],"c":"\"\\\/\b\f\n\r\t\u00e9\uD800"}`,
		"{\"é€😀\":\"\x7f\U0010ffff\"}",
		strings.Repeat(`{"a":`, codec.MaxJSONDepth-1) + "{}" + strings.Repeat("}", codec.MaxJSONDepth-1),
		// Not an object at the top, or not exactly one.
		``, ` `, `[]`, `1`, `"x"`, `null`, `{}{}`, `{} x`, "\xef\xbb\xbf{}", "\f{}",
		// Structure.
		`{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `{"a" 1}`, `{a:1}`, `{"a":[1,]}`, `{"a":[1}`, `{"a":{]}`,
		// Literals and numbers.
		`{"a":tru}`, `{"a":NaN}`, `{"a":Infinity}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":+1}`, `{"a":1e}`, `{"a":0x1}`,
		// Strings: escapes and control characters.
		`{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`, "{\"a\":\"\x00\"}", "{\"a\":\"\n\"}", `{"a":"abc`, `{"a":"\`,
		// UTF-8.
		"{\"a\":\"\xff\"}", "{\"a\":\"\xc0\x80\"}", "{\"a\":\"\xe0\x80\x80\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xe2\x82\"}", "{\"a\":\"\x80\"}", "{\"a\":1}\xc3\xa9",
		// Too deep.
		strings.Repeat(`{"a":`, codec.MaxJSONDepth) + "{}" + strings.Repeat("}", codec.MaxJSONDepth),
		`{"a":` + strings.Repeat("[", codec.MaxJSONDepth) + strings.Repeat("]", codec.MaxJSONDepth) + "}",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	// testing.AllocsPerRun stops the world twice per call, which slows
	// fuzzing many times over (bench/decisions/fuzz.md), so while fuzzing
	// only every 64th input is measured; replaying the corpus (plain go
	// test) measures them all.
	checkAllocs := !jsonRaceEnabled()
	allocEvery := uint64(1)
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		allocEvery = 64
	}
	var calls atomic.Uint64
	f.Fuzz(func(t *testing.T, b []byte) {
		want := jsonObjectOracle(b)
		orig := bytes.Clone(b)

		// The input sits at the end of its capacity, followed in memory
		// by bytes that would change the verdict if they were read.
		for _, fill := range []byte{'}', 0xff} {
			buf := make([]byte, len(b)+16)
			copy(buf, b)
			for k := len(b); k < len(buf); k++ {
				buf[k] = fill
			}
			in := buf[:len(b):len(b)]
			if got := codec.ValidJSONObject(in); got != want {
				t.Fatalf("ValidJSONObject(%q) = %v, reference says %v", b, got, want)
			}
			if !bytes.Equal(in, orig) {
				t.Fatalf("ValidJSONObject modified its input")
			}
		}

		// The same input behind and before whitespace: bodies of 64 bytes
		// or more take the token path (where the vector kernel runs), and
		// the padding moves every byte to another offset in its 64-byte
		// block. Whitespace around the object changes no verdict.
		for _, pad := range jsonFuzzPads {
			in := append(append(append([]byte(nil), pad...), b...), pad[:len(pad)/2]...)
			if got := codec.ValidJSONObject(in); got != want {
				t.Fatalf("ValidJSONObject(%q) = %v, reference says %v", in, got, want)
			}
		}

		if checkAllocs && calls.Add(1)%allocEvery == 0 {
			// Four runs: a stray allocation by another goroutine of the
			// fuzzing engine rounds away, one per call does not.
			if n := testing.AllocsPerRun(4, func() { codec.ValidJSONObject(b) }); n != 0 {
				t.Fatalf("ValidJSONObject(%q) allocates: %v per call", b, n)
			}
		}
	})
}

// jsonFuzzPads are whitespace runs that FuzzJSONObject puts around its
// input: long enough for the token path, and of lengths that leave the
// input at several offsets within a 64-byte block.
var jsonFuzzPads = [][]byte{
	[]byte(strings.Repeat(" ", 64)),
	[]byte(strings.Repeat(" \t\r\n", 17) + " "),
	[]byte(strings.Repeat("\n", 95)),
}

// jsonObjectOracle is the reference verdict: encoding/json's grammar (which
// does not check UTF-8 inside strings), UTF-8 over the whole input (outside
// strings only ASCII is grammatical, so this adds exactly the in-string
// rule), an object at the top, and the depth limit. encoding/json's own
// depth limit (10000) is far above codec.MaxJSONDepth.
func jsonObjectOracle(b []byte) bool {
	if !json.Valid(b) || !utf8.Valid(b) {
		return false
	}
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	depth, maxDepth, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return maxDepth <= codec.MaxJSONDepth
}

// jsonRaceEnabled reports whether the test binary was built with -race, whose
// instrumentation may allocate, so allocation counts mean nothing there.
func jsonRaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
