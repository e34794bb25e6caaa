package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func frameBytes(header string, body string) []byte {
	b := append([]byte(header), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[len(header):], uint32(len(body)))
	return append(b, body...)
}

func TestDecode(t *testing.T) {
	long := string(bytes.Repeat([]byte("a"), MaxHeader-len("PUB \n")))
	cases := []struct {
		name string
		in   []byte
		verb Verb
		args string
		body string
		err  error
	}{
		{"hello", frameBytes("HELLO worker-1\n", ""), VerbHELLO, "worker-1", "", nil},
		{"hello without args", frameBytes("HELLO\n", ""), VerbHELLO, "", "", nil},
		{"sub", frameBytes("SUB a.>\n", ""), VerbSUB, "a.>", "", nil},
		{"unsub", frameBytes("UNSUB a.*\n", ""), VerbUNSUB, "a.*", "", nil},
		{"pub", frameBytes("PUB t\n", "{}"), VerbPUB, "t", "{}", nil},
		{"evt", frameBytes("EVT t\n", "{}"), VerbEVT, "t", "{}", nil},
		{"bye", frameBytes("BYE\n", ""), VerbBYE, "", "", nil},
		{"CR tolerated", frameBytes("SUB x\r\n", ""), VerbSUB, "x", "", nil},
		{"args trimmed", frameBytes("SUB  \t x.y \t\n", ""), VerbSUB, "x.y", "", nil},
		{"split at first space only", frameBytes("HELLO a b c\n", ""), VerbHELLO, "a b c", "", nil},
		{"verb then blank", frameBytes("SUB \n", ""), VerbSUB, "", "", nil},
		{"body on control verb", frameBytes("SUB x\n", "junk"), VerbSUB, "x", "junk", nil},
		{"header of exactly 4096", frameBytes("PUB "+long+"\n", ""), VerbPUB, long, "", nil},
		{"largest body", frameBytes("PUB t\n", string(make([]byte, MaxBody))), VerbPUB, "t", string(make([]byte, MaxBody)), nil},
		{"empty header", frameBytes("\n", ""), 0, "", "", ErrEmptyHeader},
		{"CR only", frameBytes("\r\n", ""), 0, "", "", ErrEmptyHeader},
		{"unknown verb", frameBytes("PING\n", ""), 0, "", "", ErrUnknownVerb},
		{"lowercase verb", frameBytes("sub x\n", ""), 0, "", "", ErrUnknownVerb},
		{"leading space", frameBytes(" SUB x\n", ""), 0, "", "", ErrUnknownVerb},
		{"non-ASCII args", frameBytes("SUB caf\xc3\xa9\n", ""), 0, "", "", ErrNotASCII},
		{"non-ASCII before LF", []byte("SUB \x80"), 0, "", "", ErrNotASCII},
		{"header of 4097", frameBytes("PUB "+long+"a\n", ""), 0, "", "", ErrHeaderTooLong},
		{"4096 bytes, no LF", bytes.Repeat([]byte("A"), MaxHeader), 0, "", "", ErrHeaderTooLong},
		{"body over 1 MiB", append([]byte("PUB t\n"), 0, 0x10, 0, 1), 0, "", "", ErrBodyTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f Frame
			n, need, err := f.Decode(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				if n != 0 || need != 0 {
					t.Fatalf("n=%d need=%d on error", n, need)
				}
				return
			}
			if n != len(tc.in) || f.Verb != tc.verb || string(f.Args) != tc.args || string(f.Body) != tc.body {
				t.Fatalf("got n=%d %v %q %q", n, f.Verb, f.Args, f.Body)
			}
		})
	}
}

// Every strict prefix of a valid frame is incomplete, never an error, and
// says how much it needs once the header is in.
func TestDecodeIncomplete(t *testing.T) {
	full := frameBytes("PUB decky.d1.state\n", `{"v": 1}`)
	var f Frame
	for i := range len(full) {
		n, need, err := f.Decode(full[:i])
		if err != nil || n != 0 {
			t.Fatalf("prefix %d: n=%d err=%v", i, n, err)
		}
		headerDone := i > bytes.IndexByte(full, '\n')
		if headerDone && need != len(full) && !(need == len("PUB decky.d1.state\n")+4 && i < need) {
			t.Fatalf("prefix %d: need=%d", i, need)
		}
	}
	// Two frames back to back: the first one decodes alone.
	two := append(append([]byte{}, full...), full...)
	n, _, err := f.Decode(two)
	if err != nil || n != len(full) {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

func TestAppendFrameRoundTrip(t *testing.T) {
	for _, v := range []Verb{VerbHELLO, VerbSUB, VerbUNSUB, VerbPUB, VerbEVT, VerbBYE} {
		b := AppendFrame([]byte("prefix"), v, "a.b", []byte(`{"x": 1}`))
		var f Frame
		n, _, err := f.Decode(b[len("prefix"):])
		if err != nil || n != len(b)-len("prefix") || f.Verb != v || string(f.Args) != "a.b" || string(f.Body) != `{"x": 1}` {
			t.Fatalf("%v: %v %d %+v", v, err, n, f)
		}
	}
	if got := string(AppendFrame(nil, VerbBYE, "", nil)); got != "BYE\n\x00\x00\x00\x00" {
		t.Fatalf("BYE encodes as %q", got)
	}
}

// Decode reuses one Frame: a frame left from the previous call never shows
// through a partial or hostile one.
func TestDecodeReusesFrame(t *testing.T) {
	full := AppendFrame(nil, VerbPUB, "a.b", []byte(`{"x": 1}`))
	var f Frame
	for _, in := range [][]byte{full[:len(full)-1], full[:3], []byte("NOPE a\n\x00\x00\x00\x00")} {
		if n, _, err := f.Decode(full); n != len(full) || err != nil || f.Verb != VerbPUB {
			t.Fatalf("full frame: n=%d err=%v %+v", n, err, f)
		}
		if n, _, _ := f.Decode(in); n != 0 || f.Verb != VerbNone || f.Args != nil || f.Body != nil {
			t.Fatalf("%q after a full frame: n=%d, frame %+v, want the zero Frame", in, n, f)
		}
	}
}

func TestEventFrame(t *testing.T) {
	topic, body := []byte("a.b"), []byte(`{}`)
	buf := make([]byte, EventFrameSize(topic, len(body)))
	off := PutEventHeader(buf, topic, len(body))
	copy(buf[off:], body)
	if !bytes.Equal(buf, AppendFrame(nil, VerbEVT, "a.b", body)) {
		t.Fatalf("PutEventHeader gives %q", buf)
	}
}

func TestMessageRefcount(t *testing.T) {
	m := NewMessage(100)
	if len(m.Frame()) != 100 || m.Refs() != 1 {
		t.Fatal("fresh message")
	}
	m.Retain()
	m.Release()
	if m.Refs() != 1 {
		t.Fatal("retain/release")
	}
	m.Release()
	defer func() {
		if recover() == nil {
			t.Fatal("over-release did not panic")
		}
	}()
	m.Release()
}

func TestNewMessageRefs(t *testing.T) {
	m := NewMessageRefs(300, 3)
	if len(m.Frame()) != 300 || m.Refs() != 3 {
		t.Fatalf("fresh message: %d bytes, %d refs; want 300, 3", len(m.Frame()), m.Refs())
	}
	m.Release()
	m.Release()
	if m.Refs() != 1 {
		t.Fatalf("after two releases: %d refs, want 1", m.Refs())
	}
	m.Release()
	defer func() {
		if recover() == nil {
			t.Fatal("a message with no reference was created")
		}
	}()
	NewMessageRefs(10, 0)
}

func TestMessageSizeClasses(t *testing.T) {
	for _, n := range []int{0, 1, 512, 513, 4096, MaxEventFrame} {
		m := NewMessage(n)
		if len(m.Frame()) != n || cap(m.Frame()) < n {
			t.Fatalf("size %d: len %d cap %d", n, len(m.Frame()), cap(m.Frame()))
		}
		m.Release()
	}
}

func TestIsBridgeName(t *testing.T) {
	for name, want := range map[string]bool{
		"busd-bridge": true, "busd-bridge h1": true, "busd-bridge  x y": true,
		"busd-bridged": false, "busd-bridg": false, "": false, " busd-bridge": false, "collector": false,
	} {
		if got := IsBridgeName([]byte(name)); got != want {
			t.Errorf("IsBridgeName(%q) = %v, want %v", name, got, want)
		}
	}
}
