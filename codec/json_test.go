package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonTestEnvelope is a typical publish body.
const jsonTestEnvelope = `{"v": 1, "id": "0123456789abcdef0123456789abcdef", "topic": "decky.d1.state", "type": "state", "ts": 1764190000.123456, "payload": {"state": "running", "pid": 4242, "tags": ["a","b"], "ok": true, "x": null}}`

// jsonCases covers every rule of ValidJSONObject; want is also what the
// reference says.
var jsonCases = []struct {
	in   string
	want bool
}{
	// Top level.
	{`{}`, true},
	{jsonTestEnvelope, true},
	{" \t\r\n{} \t\r\n", true},
	{"{ \t\r\n}", true},
	{` { "a" : 1 , "b" : [ 1 , 2 ] } `, true},
	{``, false},
	{` `, false},
	{"\t\r\n ", false},
	{`[]`, false},
	{`[{}]`, false},
	{`1`, false},
	{`-1`, false},
	{`"x"`, false},
	{`null`, false},
	{`true`, false},
	{`false`, false},
	{`{}{}`, false},
	{`{} {}`, false},
	{`{}x`, false},
	{`{} x`, false},
	{`{}]`, false},
	{`{}}`, false},
	{`{},`, false},
	{"{}\x00", false},
	{"{}\f", false},           // form feed is not JSON whitespace
	{"\f{}", false},           //
	{"\v{}", false},           // nor is vertical tab
	{"{}\u00a0", false},       // nor NBSP
	{"\xef\xbb\xbf{}", false}, // BOM
	{`{`, false},
	{`}`, false},
	{`{"a"`, false},
	{`{"a":`, false},
	{`{"a":1`, false},
	{`{"a":1,`, false},
	{`{"a":1,}`, false},
	{`{,}`, false},
	{`{,"a":1}`, false},
	{`{"a":1,,"b":2}`, false},
	{`{"a" 1}`, false},
	{`{"a"::1}`, false},
	{`{"a":}`, false},
	{`{:1}`, false},
	{`{a:1}`, false},
	{`{'a':1}`, false},
	{`{1:1}`, false},
	{`{null:1}`, false},
	{`{"a":1 "b":2}`, false},
	{`{"a":1}}`, false},
	{`{"a":[1}`, false},
	{`{"a":[1]]}`, false},
	{`{"a":{]}`, false},
	{`{"a":[}`, false},
	{`{"a":[}}`, false},
	{`{"a":{]}}`, false},
	{`{"a":[1}}`, false},
	{`{"a":[1,{]]}`, false},
	{`{"a":{"b":[}}}`, false},
	{`{"a":[[]}]}`, false},
	{`{"a":{"b":1]}`, false},
	{`{"a":[1,]}`, false},
	{`{"a":[,1]}`, false},
	{`{"a":[1 2]}`, false},
	{`{"a":[[[]]]}`, true},
	{`{"a":[{},{"b":[]}],"c":{"d":{"e":[1,[2,[3]]]}}}`, true},
	{`{"a":1,"a":2}`, true}, // duplicate keys
	{`{"":""}`, true},
	// Literals.
	{`{"a":true,"b":false,"c":null}`, true},
	{`{"a":tru}`, false},
	{`{"a":tRue}`, false},
	{`{"a":True}`, false},
	{`{"a":fals}`, false},
	{`{"a":falsy}`, false},
	{`{"a":nul}`, false},
	{`{"a":nulll}`, false},
	{`{"a":truefalse}`, false},
	{`{"a":NaN}`, false},
	{`{"a":-NaN}`, false},
	{`{"a":Infinity}`, false},
	{`{"a":-Infinity}`, false},
	{`{"a":undefined}`, false},
	{`{"a":t`, false},
	{`{"a":f`, false},
	{`{"a":n`, false},
	{`{"a":true`, false},
	// Strings: control characters, DEL, escapes.
	{"{\"a\":\"\x7f\"}", true},
	{"{\"\x7f\":1}", true},
	{"{\"a\":\"\x00\"}", false},
	{"{\"a\":\"\x1f\"}", false},
	{"{\"a\":\"\t\"}", false},
	{"{\"a\":\"\n\"}", false},
	{"{\"a\":\"\r\"}", false},
	{"{\"a\nb\":1}", false},
	{"{\"a\":\"0123456789abcdef\x01\"}", false},
	{"{\"a\":\"0123456789abcdef\x1f0123456789abcdef\"}", false},
	{`{"a":"\"\\\/\b\f\n\r\t"}`, true},
	{`{"\"\\\/\b\f\n\r\t":1}`, true},
	{`{"a":"\u0000\u001f\u00e9\uFFFF\uAbCd"}`, true},
	{`{"a":"\ud83d\ude00"}`, true},
	{`{"a":"\ud800"}`, true}, // escaped lone surrogates are grammatical
	{`{"a":"\udfff\ud800"}`, true},
	{`{"a":"\x41"}`, false},
	{`{"a":"\a"}`, false},
	{`{"a":"\v"}`, false},
	{`{"a":"\0"}`, false},
	{`{"a":"\'"}`, false},
	{`{"a":"\U0041"}`, false},
	{`{"a":"\u12"}`, false},
	{`{"a":"\u123"}`, false},
	{`{"a":"\u12g4"}`, false},
	{`{"a":"\u-123"}`, false},
	{`{"a":"\u 123"}`, false},
	{`{"a":"\u`, false},
	{`{"a":"\u12`, false},
	{`{"a":"\`, false},
	{`{"a":"\"}`, false},
	{`{"a":"abc}`, false},
	{`{"a":"abc`, false},
	{`{"a":"0123456789abcdef0123456789abcdef`, false},
	{`{"a":"0123456789abcdef0123456789abcde\`, false},
	{`{"a":"0123456789abcdef0123456789abcdef\"}`, false},
	{`{"a":"0123456789abcdef0123456789abcdef\\"}`, true},
	{`{"a":"0123456789abcdef\u0041\n0123456789abcdef\\\"x"}`, true},
	// UTF-8, raw in strings.
	{"{\"a\":\"é€😀\"}", true},
	{"{\"é\":\"x\"}", true},
	{"{\"a\":\"\u07ff\u0800\uffff\U00010000\U0010ffff\"}", true},
	{"{\"a\":\"\ufffd\"}", true}, // real U+FFFD
	{"{\"a\":\"\xff\"}", false},
	{"{\"a\":\"\xfe\"}", false},
	{"{\"a\":\"\x80\"}", false},
	{"{\"a\":\"\xbf\"}", false},
	{"{\"a\":\"\xc0\x80\"}", false},         // overlong NUL
	{"{\"a\":\"\xc1\xbf\"}", false},         // overlong
	{"{\"a\":\"\xe0\x80\x80\"}", false},     // overlong
	{"{\"a\":\"\xe0\x9f\xbf\"}", false},     // overlong
	{"{\"a\":\"\xf0\x80\x80\x80\"}", false}, // overlong
	{"{\"a\":\"\xf0\x8f\xbf\xbf\"}", false}, // overlong
	{"{\"a\":\"\xed\xa0\x80\"}", false},     // U+D800
	{"{\"a\":\"\xed\xbf\xbf\"}", false},     // U+DFFF
	{"{\"a\":\"\xed\x9f\xbf\"}", true},      // U+D7FF
	{"{\"a\":\"\xee\x80\x80\"}", true},      // U+E000
	{"{\"a\":\"\xf4\x8f\xbf\xbf\"}", true},  // U+10FFFF
	{"{\"a\":\"\xf4\x90\x80\x80\"}", false}, // U+110000
	{"{\"a\":\"\xf5\x80\x80\x80\"}", false},
	{"{\"a\":\"\xf8\x88\x80\x80\x80\"}", false},
	{"{\"a\":\"\xc3\"}", false},         // truncated
	{"{\"a\":\"\xe2\x82\"}", false},     // truncated
	{"{\"a\":\"\xf0\x9f\x98\"}", false}, // truncated
	{"{\"a\":\"\xc3", false},
	{"{\"a\":\"\xe2\x82", false},
	{"{\"a\":\"\xf0\x9f\x98", false},
	{"{\"a\":\"\xc3x\"}", false},
	{"{\"a\":\"\xe2x\xac\"}", false},
	{"{\"a\":\"\xe2\x82\xac\xac\"}", false},
	{"{\"a\":\"0123456789abcdef\xe2\x82\xac0123456789abcdef\"}", true},
	{"{\"a\":\"0123456789abcdef\xe2\x82\xff0123456789abcdef\"}", false},
	{"{\"a\":\"0123456789abcdef\xed\xa0\x800123456789abcdef\"}", false},
	{"{\"\xff\":1}", false},
	// Non-ASCII outside strings.
	{"{\"a\":1}\xc3\xa9", false},
	{"\xc3\xa9{}", false},
	{"{\xc3\xa9:1}", false},
	{"{\"a\":\xc3\xa9}", false},
	{"{\"a\":1\xff}", false},
	// Numbers.
	{`{"a":0}`, true},
	{`{"a":-0}`, true},
	{`{"a":-0.0}`, true},
	{`{"a":0.5e-3}`, true},
	{`{"a":1E+2}`, true},
	{`{"a":1e2}`, true},
	{`{"a":1E-2}`, true},
	{`{"a":1e+0}`, true},
	{`{"a":123456789012345678901234567890}`, true},
	{`{"a":-1.5E308}`, true},
	{`{"a":1e999999}`, true},
	{`{"a":[0,-0,1,-1,10,0.0,1.25,1e1]}`, true},
	{`{"a":01}`, false},
	{`{"a":00}`, false},
	{`{"a":-01}`, false},
	{`{"a":1.}`, false},
	{`{"a":1.e2}`, false},
	{`{"a":.5}`, false},
	{`{"a":-.5}`, false},
	{`{"a":-}`, false},
	{`{"a":--1}`, false},
	{`{"a":+1}`, false},
	{`{"a":1e}`, false},
	{`{"a":1e+}`, false},
	{`{"a":1e-}`, false},
	{`{"a":1E+-2}`, false},
	{`{"a":1e--2}`, false},
	{`{"a":1e.5}`, false},
	{`{"a":1E.}`, false},
	{`{"a":1e5e5}`, false},
	{`{"a":1e5.5}`, false},
	{`{"a":-a}`, false},
	{`{"a":-e1}`, false},
	{`{"a":e1}`, false},
	{`{"a":0e}`, false},
	{`{"a":0e0}`, true},
	{`{"a":0.0e-0}`, true},
	{`{"a":-0E+00}`, true},
	{`{"a":1e2.5}`, false},
	{`{"a":1.2.3}`, false},
	{`{"a":0x10}`, false},
	{`{"a":1_000}`, false},
	{`{"a":1 2}`, false},
	{`{"a":-`, false},
	{`{"a":1.`, false},
	{`{"a":1e`, false},
	{`{"a":1`, false},
	{`{"a":[1`, false},
	{`{"a":[-]}`, false},
	{`{"a":[01]}`, false},
	{`{"a":[1.]}`, false},
	{`{"a":[.5]}`, false},
}

// jsonPathDisagrees checks ValidJSONObject and, each on its own, the two
// validators behind it against want, and returns the name of the first
// that disagrees, or "". ValidJSONObject runs one path per input (both only
// in builds with the invariants tag), so without this the scalar path would
// go unchecked on long bodies wherever the vector kernel runs.
func jsonPathDisagrees(b []byte, want bool) string {
	switch {
	case ValidJSONObject(b) != want:
		return "ValidJSONObject"
	case validJSONObjectScalar(b) != want:
		return "validJSONObjectScalar"
	case len(b) >= jsonTokensMin && validJSONObjectTokens(b) != want:
		return "validJSONObjectTokens"
	}
	return ""
}

func TestValidJSONObjectTable(t *testing.T) {
	for _, tc := range jsonCases {
		if who := jsonPathDisagrees([]byte(tc.in), tc.want); who != "" {
			t.Errorf("%s(%q) = %v, want %v", who, tc.in, !tc.want, tc.want)
		}
		if got := jsonOracle([]byte(tc.in)); got != tc.want {
			t.Errorf("oracle(%q) = %v, want %v (table disagrees with encoding/json)", tc.in, got, tc.want)
		}
	}
}

// TestValidJSONObjectStringPositions slides every special byte across the
// eight-byte word boundaries of the string scanner, with and without
// padding after the string, so both the word loop and the byte tail see it.
func TestValidJSONObjectStringPositions(t *testing.T) {
	specials := []struct {
		s    string
		want bool
	}{
		{`\"`, true}, {`\\`, true}, {`\/`, true}, {`\n`, true}, {`\u00e9`, true},
		{"\x7f", true}, {"é", true}, {"€", true}, {"😀", true}, {"\U0010ffff", true},
		{"\x00", false}, {"\x1f", false}, {"\n", false}, {`\x`, false}, {`\u00g9`, false},
		{"\xff", false}, {"\x80", false}, {"\xc3", false}, {"\xe2\x82", false},
		{"\xed\xa0\x80", false}, {"\xf4\x90\x80\x80", false}, {"\xc0\x80", false},
	}
	for _, sp := range specials {
		for pre := 0; pre < 20; pre++ {
			for post := 0; post < 20; post++ {
				for _, pad := range []string{"}", "   }", `, "k": [1, 2, 3, 4, 5, 6, 7, 8]}`} {
					in := `{"a":"` + strings.Repeat("x", pre) + sp.s + strings.Repeat("y", post) + `"` + pad
					if who := jsonPathDisagrees([]byte(in), sp.want); who != "" {
						t.Fatalf("%s(%q) = %v, want %v", who, in, !sp.want, sp.want)
					}
					// Same, with the special byte(s) in a key.
					in = `{"` + strings.Repeat("x", pre) + sp.s + strings.Repeat("y", post) + `":0` + pad
					if who := jsonPathDisagrees([]byte(in), sp.want); who != "" {
						t.Fatalf("%s(%q) = %v, want %v", who, in, !sp.want, sp.want)
					}
				}
				// The same string, unterminated, is never valid.
				in := `{"a":"` + strings.Repeat("x", pre) + sp.s + strings.Repeat("y", post)
				if ValidJSONObject([]byte(in)) {
					t.Fatalf("ValidJSONObject(%q) = true for an unterminated string", in)
				}
			}
		}
	}
}

func TestValidJSONObjectDepth(t *testing.T) {
	for _, d := range []int{1, 2, 63, 64, 65, 127, 128, 129, 998, 999, 1000, 1001, 1002, 1023, 1024, 1025, 5000, 20000} {
		want := d <= MaxJSONDepth
		// Objects only.
		obj := strings.Repeat(`{"a":`, d-1) + "{}" + strings.Repeat("}", d-1)
		// An object holding d-1 levels of arrays.
		arr := `{"a":` + strings.Repeat("[", d-1) + strings.Repeat("]", d-1) + "}"
		if d == 1 {
			arr = "{}"
		}
		// Alternating, with whitespace and siblings at every level.
		var alt strings.Builder
		for k := 0; k < d; k++ {
			if k%2 == 0 {
				alt.WriteString(` { "s" : 1 , "k" : `)
			} else {
				alt.WriteString(` [ 1 , `)
			}
		}
		alt.WriteString(`null`)
		for k := d - 1; k >= 0; k-- {
			if k%2 == 0 {
				alt.WriteString(` } `)
			} else {
				alt.WriteString(` ] `)
			}
		}
		for name, in := range map[string]string{"obj": obj, "arr": arr, "alt": alt.String()} {
			if who := jsonPathDisagrees([]byte(in), want); who != "" {
				t.Errorf("depth %d %s: %s says %v, want %v", d, name, who, !want, want)
			}
			if d <= 9000 { // encoding/json has its own limit of 10000
				if got := jsonOracle([]byte(in)); got != want {
					t.Errorf("depth %d %s: oracle got %v, want %v", d, name, got, want)
				}
			}
			// Unclosed: never valid, whatever the depth.
			if ValidJSONObject([]byte(in[:len(in)-2])) {
				t.Errorf("depth %d %s: truncated input accepted", d, name)
			}
		}
	}
	// Many containers in sequence never accumulate depth.
	wide := "{" + strings.Repeat(`"a":[[[{}]]],`, 5000) + `"z":0}`
	if !ValidJSONObject([]byte(wide)) {
		t.Error("wide document rejected")
	}
	// Only opening brackets, far beyond the limit: rejected without
	// scanning the whole thing recursively.
	if ValidJSONObject(bytes.Repeat([]byte("["), 1<<20)) || ValidJSONObject([]byte(`{"a":`+strings.Repeat("[", 1<<20))) {
		t.Error("unbounded nesting accepted")
	}
}

// jsonOracle is the reference: encoding/json's grammar, UTF-8 over the whole
// input (outside strings only ASCII is grammatical, so this adds exactly the
// in-string UTF-8 rule), an object at the top, and the depth limit.
func jsonOracle(b []byte) bool {
	if !json.Valid(b) || !utf8.Valid(b) {
		return false
	}
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	return jsonMaxDepth(b) <= MaxJSONDepth
}

// jsonMaxDepth returns the deepest nesting of b, which must be valid JSON.
func jsonMaxDepth(b []byte) int {
	depth, maxDepth := 0, 0
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case '}', ']':
			depth--
		}
	}
	return maxDepth
}

// jsonGen produces random JSON text that exercises every part of the
// grammar: all escapes, raw multi-byte UTF-8, long ASCII runs that cross
// word boundaries, every number shape, whitespace of all four kinds.
type jsonGen struct {
	r   *rand.Rand
	buf []byte
}

func (g *jsonGen) ws() {
	if g.r.IntN(3) != 0 {
		return
	}
	for k := g.r.IntN(4); k >= 0; k-- {
		g.buf = append(g.buf, " \t\r\n"[g.r.IntN(4)])
	}
}

func (g *jsonGen) str() {
	g.buf = append(g.buf, '"')
	for k := g.r.IntN(8); k > 0; k-- {
		switch g.r.IntN(10) {
		case 0:
			g.buf = append(g.buf, '\\', `"\/bfnrt`[g.r.IntN(8)])
		case 1:
			format := `\u%04x`
			if g.r.IntN(2) == 0 {
				format = `\u%04X`
			}
			g.buf = fmt.Appendf(g.buf, format, g.r.IntN(0x10000))
		case 2:
			r := rune(g.r.IntN(0x110000))
			if !utf8.ValidRune(r) || r < 0x20 || r == '"' || r == '\\' {
				r = 'é'
			}
			g.buf = utf8.AppendRune(g.buf, r)
		case 3:
			g.buf = append(g.buf, []string{"é", "€", "😀", "\u07ff", "\u0800", "\U0010ffff", "\x7f"}[g.r.IntN(7)]...)
		default:
			for m := g.r.IntN(24); m >= 0; m-- {
				g.buf = append(g.buf, byte('a'+g.r.IntN(26)))
			}
		}
	}
	g.buf = append(g.buf, '"')
}

func (g *jsonGen) num() {
	if g.r.IntN(2) == 0 {
		g.buf = append(g.buf, '-')
	}
	if g.r.IntN(3) == 0 {
		g.buf = append(g.buf, '0')
	} else {
		g.buf = strconv.AppendUint(g.buf, g.r.Uint64N(1<<uint(g.r.IntN(64)))+1, 10)
	}
	if g.r.IntN(3) == 0 {
		g.buf = append(g.buf, '.')
		g.buf = strconv.AppendUint(g.buf, g.r.Uint64N(100000), 10)
	}
	if g.r.IntN(4) == 0 {
		g.buf = append(g.buf, "eE"[g.r.IntN(2)])
		if k := g.r.IntN(3); k > 0 {
			g.buf = append(g.buf, "+-"[k-1])
		}
		g.buf = strconv.AppendUint(g.buf, g.r.Uint64N(400), 10)
	}
}

func (g *jsonGen) value(depth int) {
	g.ws()
	k := g.r.IntN(10)
	if depth > 6 {
		k = 4 + g.r.IntN(6)
	}
	switch k {
	case 0, 1:
		g.object(depth + 1)
	case 2, 3:
		g.buf = append(g.buf, '[')
		g.ws()
		for m := g.r.IntN(5); m > 0; m-- {
			g.value(depth + 1)
			if m > 1 {
				g.buf = append(g.buf, ',')
			}
		}
		g.buf = append(g.buf, ']')
	case 4, 5:
		g.str()
	case 6, 7:
		g.num()
	default:
		g.buf = append(g.buf, []string{"true", "false", "null"}[g.r.IntN(3)]...)
	}
	g.ws()
}

func (g *jsonGen) object(depth int) {
	g.buf = append(g.buf, '{')
	g.ws()
	for m := g.r.IntN(5); m > 0; m-- {
		g.str()
		g.ws()
		g.buf = append(g.buf, ':')
		g.value(depth)
		if m > 1 {
			g.buf = append(g.buf, ',')
		}
	}
	g.buf = append(g.buf, '}')
}

// jsonMutate applies a few random edits to b (in place or by copy) and
// returns the result. Replacement bytes favour the ones that matter to the
// grammar and to UTF-8.
func jsonMutate(r *rand.Rand, b []byte) []byte {
	const interesting = "{}[]:,\"\\ \t\r\n\x00\x1f\x7f\x80\xbf\xc0\xc2\xdf\xe0\xed\xef\xf0\xf4\xf5\xffu0-+.eEtfn1a9"
	pick := func() byte {
		if r.IntN(4) == 0 {
			return byte(r.IntN(256))
		}
		return interesting[r.IntN(len(interesting))]
	}
	for k := 1 + r.IntN(3); k > 0; k-- {
		if len(b) == 0 {
			return append(b, pick())
		}
		p := r.IntN(len(b))
		switch r.IntN(7) {
		case 0: // flip one bit
			b[p] ^= 1 << r.IntN(8)
		case 1: // replace
			b[p] = pick()
		case 2: // insert
			b = append(b[:p], append([]byte{pick()}, b[p:]...)...)
		case 3: // delete
			b = append(b[:p], b[p+1:]...)
		case 4: // truncate
			b = b[:p]
		case 5: // duplicate a chunk
			q := min(len(b), p+1+r.IntN(8))
			b = append(b[:q], append(append([]byte(nil), b[p:q]...), b[q:]...)...)
		case 6: // delete a chunk
			q := min(len(b), p+1+r.IntN(8))
			b = append(b[:p], b[q:]...)
		}
	}
	return b
}

func TestValidJSONObjectDifferential(t *testing.T) {
	iters := 100000
	if testing.Short() {
		iters = 20000
	}
	r := rand.New(rand.NewPCG(1, 2))
	g := &jsonGen{r: r}
	var valid, invalid int
	check := func(b []byte) {
		want := jsonOracle(b)
		if who := jsonPathDisagrees(b, want); who != "" {
			t.Fatalf("%s(%q) = %v, oracle says %v", who, b, !want, want)
		}
		if want {
			valid++
		} else {
			invalid++
		}
	}
	for it := 0; it < iters; it++ {
		g.buf = g.buf[:0]
		switch it % 4 {
		case 0: // generated document, as is
			g.ws()
			g.object(0)
			g.ws()
			check(g.buf)
		case 1: // generated top-level value of any kind
			g.value(0)
			check(g.buf)
		case 2: // mutated generated document
			g.object(0)
			check(jsonMutate(r, g.buf))
		case 3: // mutated envelope
			check(jsonMutate(r, []byte(jsonTestEnvelope)))
		}
	}
	t.Logf("%d valid, %d invalid", valid, invalid)
	if valid < iters/10 || invalid < iters/10 {
		t.Errorf("poor coverage: %d valid, %d invalid", valid, invalid)
	}
}

// TestValidJSONObjectAllPrefixes checks every prefix and every one-byte
// deletion of the envelope and of a generated document.
func TestValidJSONObjectAllPrefixes(t *testing.T) {
	g := &jsonGen{r: rand.New(rand.NewPCG(3, 4))}
	g.object(0)
	for _, doc := range [][]byte{[]byte(jsonTestEnvelope), g.buf} {
		for p := 0; p <= len(doc); p++ {
			b := doc[:p]
			if want := jsonOracle(b); jsonPathDisagrees(b, want) != "" {
				t.Fatalf("prefix %q: %s says %v, oracle %v", b, jsonPathDisagrees(b, want), !want, want)
			}
			if p < len(doc) {
				d := append(append([]byte(nil), doc[:p]...), doc[p+1:]...)
				if want := jsonOracle(d); jsonPathDisagrees(d, want) != "" {
					t.Fatalf("deletion %q: %s says %v, oracle %v", d, jsonPathDisagrees(d, want), !want, want)
				}
			}
		}
	}
}
