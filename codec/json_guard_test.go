//go:build linux

package codec

import (
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
)

// jsonGuard is a buffer whose end abuts an inaccessible page: an input
// placed flush against the end makes any read past it fault.
type jsonGuard struct {
	mem  []byte
	size int
}

func newJSONGuard(t *testing.T, size int) *jsonGuard {
	page := os.Getpagesize()
	size = (size + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	return &jsonGuard{mem: mem, size: size}
}

// place copies b so that it ends right before the inaccessible page.
func (g *jsonGuard) place(b []byte) []byte {
	dst := g.mem[g.size-len(b) : g.size : g.size]
	copy(dst, b)
	return dst
}

// check runs ValidJSONObject on a guarded copy of b and compares it with the
// reference; a read past the end panics (see debug.SetPanicOnFault).
func (g *jsonGuard) check(t *testing.T, b []byte) {
	t.Helper()
	if len(b) > g.size {
		t.Fatalf("input of %d bytes does not fit the guarded buffer", len(b))
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("ValidJSONObject(%q) read past the end of its input: %v", b, r)
		}
	}()
	if got, want := ValidJSONObject(g.place(b)), jsonOracle(b); got != want {
		t.Fatalf("ValidJSONObject(%q) = %v, oracle says %v", b, got, want)
	}
}

// TestValidJSONObjectNoOverread runs inputs, and every prefix of many of
// them, flush against an unmapped page: ValidJSONObject reads the input
// without bounds checks, so this is what proves it stays inside.
func TestValidJSONObjectNoOverread(t *testing.T) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	g := newJSONGuard(t, 1<<20)

	// The guard itself works.
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("reading the guard page did not fault")
			}
		}()
		jsonBenchSink = g.mem[g.size] == 0
	}()

	prefixes := func(b []byte) {
		for k := 0; k <= len(b); k++ {
			g.check(t, b[:k])
		}
	}
	for _, tc := range jsonCases {
		prefixes([]byte(tc.in))
	}
	prefixes([]byte(jsonTestEnvelope))
	prefixes(benchJSONBody(4 << 10))
	for _, s := range []string{`\"`, `\u00e9`, "é", "€", "😀", "\xed\xa0\x80", "\xf4\x90\x80\x80"} {
		for pre := 0; pre < 10; pre++ {
			prefixes([]byte(`{"a":"` + strings.Repeat("x", pre) + s + `"}`))
			prefixes([]byte(`{"` + strings.Repeat("x", pre) + s + `":0}`))
		}
	}
	deep := strings.Repeat(`{"a":[`, MaxJSONDepth/2) + strings.Repeat("]}", MaxJSONDepth/2)
	prefixes([]byte(deep))
	g.check(t, []byte(strings.Repeat("[", 1<<20-1)))

	r := rand.New(rand.NewPCG(5, 6))
	gen := &jsonGen{r: r}
	docs, muts := 600, 50000
	if testing.Short() {
		docs, muts = 200, 10000
	}
	for k := 0; k < docs; k++ {
		gen.buf = gen.buf[:0]
		gen.object(0)
		prefixes(gen.buf)
	}
	for k := 0; k < muts; k++ {
		gen.buf = gen.buf[:0]
		gen.object(0)
		g.check(t, jsonMutate(r, gen.buf))
	}
}
