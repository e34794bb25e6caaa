package codec

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestJSONTokensAtEveryOffset runs every table case and the envelope
// through the token path with whitespace before it, so that each byte of
// the case meets each position in its 64-byte block, and with whitespace
// reaching across the first window, against the oracle.
func TestJSONTokensAtEveryOffset(t *testing.T) {
	inputs := []string{jsonTestEnvelope}
	for _, tc := range jsonCases {
		inputs = append(inputs, tc.in)
	}
	for _, in := range inputs {
		want := jsonOracle([]byte(in))
		check := func(b []byte) {
			t.Helper()
			if got := validJSONObjectTokens(b); got != want {
				t.Fatalf("validJSONObjectTokens(%q) = %v, oracle says %v", b, got, want)
			}
		}
		for pre := 0; pre < 64; pre++ {
			check([]byte(strings.Repeat(" ", 64+pre) + in))
			check([]byte(in + strings.Repeat("\n", max(64-len(in), 0)+pre)))
		}
		for _, pre := range []int{64*jsonWindow - 2, 64*jsonWindow - 1, 64 * jsonWindow, 64*jsonWindow + 1} {
			check([]byte(strings.Repeat("\t", pre) + in))
			check([]byte(strings.Repeat(" ", max(64-len(in), 0)) + in + strings.Repeat("\r", pre)))
		}
	}
}

// TestJSONTokensAcrossWindows checks documents of several windows, whose
// strings, numbers and literals straddle block and window boundaries, and
// every prefix and one-byte deletion of one of them.
func TestJSONTokensAcrossWindows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := &jsonGen{r: r}
	var long []byte
	for it := 0; it < 3000; it++ {
		g.buf = g.buf[:0]
		g.ws()
		g.object(0)
		g.ws()
		for k := 0; k < 2; k++ {
			for _, b := range [][]byte{g.buf, jsonMutate(r, g.buf)} {
				if got, want := validJSONObjectTokens(b), jsonOracle(b); len(b) >= jsonTokensMin && got != want {
					t.Fatalf("validJSONObjectTokens(%q) = %v, oracle says %v", b, got, want)
				}
			}
		}
		if len(g.buf) > 3*64*jsonWindow && long == nil && jsonOracle(g.buf) {
			long = append([]byte(nil), g.buf...)
		}
	}
	if long == nil {
		long = benchJSONBody(3 * 64 * jsonWindow)
	}
	for p := jsonTokensMin; p <= len(long); p++ {
		if got, want := validJSONObjectTokens(long[:p]), jsonOracle(long[:p]); got != want {
			t.Fatalf("prefix of %d bytes %q: got %v, oracle %v", p, long[:p], got, want)
		}
	}
	for p := 0; p < len(long); p += 7 {
		d := append(append([]byte(nil), long[:p]...), long[p+1:]...)
		if got, want := validJSONObjectTokens(d), jsonOracle(d); got != want {
			t.Fatalf("deletion at %d %q: got %v, oracle %v", p, d, got, want)
		}
	}
}

// TestJSONTokenizeGeneric pins the reference tokenizer's bitmaps on inputs
// whose tokens can be read off by eye.
func TestJSONTokenizeGeneric(t *testing.T) {
	cases := []struct {
		in, tokens string // tokens: '^' under each byte that starts one
		result     int
	}{
		{`{"a": [1, true], "b": {}}`, `^^  ^ ^^^ ^   ^^ ^  ^ ^^^`, jsonTokensOK},
		// An escaped quote neither closes nor opens.
		{`{"a\"": 1, "\\": "\\\"\u00e9"}`, `^^    ^ ^^ ^   ^ ^           ^`, jsonTokensOK},
		{`{"a": "\x"}`, `^^  ^ ^   ^`, jsonTokensInvalid},
		{`{"a": "\u00g9"}`, `^^  ^ ^       ^`, jsonTokensInvalid},
		{`{"a": "\u00e"}`, `^^  ^ ^      ^`, jsonTokensInvalid},
		{"{\"é\":1}", `^^   ^^^`, jsonTokensOK},
		{"{\"\xc3\":1}", `^^  ^^^`, jsonTokensInvalid},
		{"{\"\xed\xa0\x80\":1}", `^^    ^^^`, jsonTokensInvalid},
		{`{"a":"x,y{}"}  12ab"c" -1.5e3`, `^^  ^^      ^  ^   ^   ^`, jsonTokensOK},
		{"{\"a\":\"\t\"}", `^^  ^^  ^`, jsonTokensInvalid},
		{"{\"a\":1}\x01", `^^  ^^^^`, jsonTokensInvalid}, // a scalar run
		{"{\"a\":1}\f", `^^  ^^^^`, jsonTokensInvalid},   // a structural
	}
	for _, tc := range cases {
		b := []byte(tc.in)
		var want uint64
		for j := 0; j < len(tc.tokens); j++ {
			if tc.tokens[j] == '^' {
				want |= 1 << j
			}
		}
		var dst [1]uint64
		var carry jsonTokenCarry
		if got := jsonTokenizeGeneric(b, 0, dst[:], &carry); got != tc.result {
			t.Errorf("%q: result %d, want %d", tc.in, got, tc.result)
		}
		if dst[0] != want {
			t.Errorf("%q:\n got  %s\n want %s", tc.in, jsonTokenString(dst[0], len(b)), jsonTokenString(want, len(b)))
		}
	}
}

// jsonTokenString draws a token bitmap as TestJSONTokenizeGeneric writes it.
func jsonTokenString(m uint64, n int) string {
	var sb strings.Builder
	for j := 0; j < n && j < 64; j++ {
		if m>>j&1 != 0 {
			sb.WriteByte('^')
		} else {
			sb.WriteByte(' ')
		}
	}
	return strings.TrimRight(sb.String(), " ")
}
