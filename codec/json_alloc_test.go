//go:build !race

package codec

import (
	"strings"
	"testing"
)

func TestValidJSONObjectAllocs(t *testing.T) {
	inputs := []string{
		jsonTestEnvelope,
		string(benchJSONBody(16 << 10)),
		"{\"a\":\"é€😀\\u00e9\\n\",\"b\":[1,-0.5e3,true,false,null,{}]}",
		strings.Repeat(`{"a":`, MaxJSONDepth-1) + "{}" + strings.Repeat("}", MaxJSONDepth-1),
		strings.Repeat(`{"a":`, MaxJSONDepth) + "{}" + strings.Repeat("}", MaxJSONDepth),
		"",
		"[]",
		`{"a":01}`,
		"{\"a\":\"\xed\xa0\x80\"}",
		`{"a":"\u12"}`,
		`{"a":1}{}`,
	}
	for _, in := range inputs {
		b := []byte(in)
		var sink bool
		if allocs := testing.AllocsPerRun(100, func() { sink = ValidJSONObject(b) }); allocs != 0 {
			t.Errorf("ValidJSONObject(%.40q...) = %v: %v allocs per run, want 0", in, sink, allocs)
		}
	}
}
