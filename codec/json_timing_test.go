package codec

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// benchJSONBody builds a deterministic object of about size bytes: the
// envelope's fields around a payload of nested objects and arrays, numbers,
// literals, short keys and long strings (some with escapes).
func benchJSONBody(size int) []byte {
	if size <= len(jsonTestEnvelope) {
		return []byte(jsonTestEnvelope)
	}
	var sb strings.Builder
	sb.WriteString(`{"v": 1, "id": "0123456789abcdef0123456789abcdef", "topic": "decky.d1.state", "type": "state", "ts": 1764190000.123456, "payload": {"items": [`)
	for k := 0; sb.Len() < size-64; k++ {
		if k > 0 {
			sb.WriteString(", ")
		}
		switch k % 4 {
		case 0:
			fmt.Fprintf(&sb, `{"id": %d, "name": "worker-%d", "state": "running", "load": [0.25, 1.5, %d.75], "ok": true, "err": null}`, k, k, k%10)
		case 1:
			fmt.Fprintf(&sb, `{"msg": "%s", "seq": %d}`, strings.Repeat("the quick brown fox jumps over the lazy dog ", 3+k%5), k)
		case 2:
			fmt.Fprintf(&sb, `{"path": "/var/lib/busd/topics/decky.d%d.state", "quoted": "say \"hi\"\n\ttwice", "meta": {"a": {"b": {"c": [1, [2, [3, {"d": false}]]]}}}}`, k)
		case 3:
			sb.WriteString(`[` + strconv.Itoa(k) + `, -12.5e-3, "x", "yy", {"k": "v"}, [], {}]`)
		}
	}
	sb.WriteString(`]}}`)
	return []byte(sb.String())
}

// benchJSONTextBody builds an object of about size bytes that is mostly long
// strings made of unit.
func benchJSONTextBody(size int, unit string) []byte {
	var sb strings.Builder
	sb.WriteString(`{"list": [`)
	for k := 0; sb.Len() < size; k++ {
		if k > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(`"` + strings.Repeat(unit, 8) + `"`)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// benchJSONVariedEnvelopes builds k envelopes of about 220 bytes that differ
// in ids, numbers, string lengths, payload keys and value kinds, so that,
// unlike one envelope validated over and over, the branch predictor cannot
// learn the input.
func benchJSONVariedEnvelopes(k int) [][]byte {
	r := rand.New(rand.NewPCG(7, 8))
	keys := []string{"state", "pid", "tags", "ok", "x", "name", "uptime", "restarts", "exit_code", "cpu", "mem_rss_bytes", "host", "labels", "a", "zone"}
	words := []string{"running", "stopped", "starting", "failed", "ok"}
	out := make([][]byte, k)
	for j := range out {
		var sb strings.Builder
		fmt.Fprintf(&sb, `{"v": 1, "id": "%016x%016x", "topic": "decky.d%d.%s", "type": "%s", "ts": %d.%06d, "payload": {`,
			r.Uint64(), r.Uint64(), r.IntN(1000), words[r.IntN(len(words))], []string{"state", "event", "metric"}[r.IntN(3)],
			1764190000+r.IntN(100000), r.IntN(1000000))
		for m := 3 + r.IntN(5); m > 0; m-- {
			fmt.Fprintf(&sb, `"%s": `, keys[r.IntN(len(keys))])
			switch r.IntN(4) {
			case 0:
				fmt.Fprintf(&sb, `"%s"`, words[r.IntN(len(words))])
			case 1:
				sb.WriteString(strconv.Itoa(r.IntN(100000)))
			case 2:
				sb.WriteString(`["a","bb"]`)
			case 3:
				sb.WriteString([]string{"true", "false", "null"}[r.IntN(3)])
			}
			if m > 1 {
				sb.WriteString(", ")
			}
		}
		sb.WriteString(`}}`)
		out[j] = []byte(sb.String())
	}
	return out
}

type jsonBenchInput struct {
	name   string
	bodies [][]byte // one op validates all of them
}

func jsonBenchInputs() []jsonBenchInput {
	one := func(name string, b []byte) jsonBenchInput { return jsonBenchInput{name, [][]byte{b}} }
	return []jsonBenchInput{
		one("220", benchJSONBody(0)),
		one("1KiB", benchJSONBody(1<<10)),
		one("16KiB", benchJSONBody(16<<10)),
		one("256KiB", benchJSONBody(256<<10)),
		{"220-varied-x1024", benchJSONVariedEnvelopes(1024)},
		one("16KiB-ascii-text", benchJSONTextBody(16<<10, "lorem ipsum dolor sit amet, consectetur ")),
		one("16KiB-utf8-text", benchJSONTextBody(16<<10, "Grüße aus Köln – 東京からこんにちは 🚀 ")),
	}
}

var (
	jsonBenchSink   bool
	jsonBenchResult int
)

func benchJSONValidator(b *testing.B, valid func([]byte) bool) {
	for _, in := range jsonBenchInputs() {
		total := 0
		for _, body := range in.bodies {
			if !valid(body) || !ValidJSONObject(body) || !json.Valid(body) {
				b.Fatalf("size=%s: benchmark body is not valid: %s", in.name, body)
			}
			total += len(body)
		}
		b.Run("size="+in.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			// Wall time suffers when the machine is shared; the thread's
			// CPU time, reported beside it, does not count time spent
			// descheduled.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := jsonThreadCPU()
			for b.Loop() {
				for _, body := range in.bodies {
					jsonBenchSink = valid(body)
				}
			}
			if cpu1 := jsonThreadCPU(); cpu0 >= 0 && cpu1 >= 0 && b.N > 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

func BenchmarkValidJSONObject(b *testing.B) { benchJSONValidator(b, ValidJSONObject) }

// BenchmarkValidJSONObjectScalar is the scalar path alone: ValidJSONObject
// where no vector kernel runs, and the baseline the token path must beat.
func BenchmarkValidJSONObjectScalar(b *testing.B) { benchJSONValidator(b, validJSONObjectScalar) }

// BenchmarkJSONTokenize is the tokenizer alone (the vector kernel where it
// runs), one window at a time over the whole body.
func BenchmarkJSONTokenize(b *testing.B) {
	benchJSONValidator(b, func(body []byte) bool {
		if len(body) < jsonTokensMin {
			return true
		}
		var toks [jsonWindow]uint64
		var carry jsonTokenCarry
		blocks := (len(body) + 63) / 64
		for from := 0; from < blocks; from += jsonWindow {
			jsonBenchResult = jsonTokenize(body, from, toks[:min(jsonWindow, blocks-from)], &carry)
		}
		return true
	})
}

// BenchmarkStdlibValid is the baseline: encoding/json's Valid, which checks
// less (no UTF-8 in strings, any top-level value).
func BenchmarkStdlibValid(b *testing.B) { benchJSONValidator(b, json.Valid) }
