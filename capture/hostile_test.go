package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// frames splits a file into its frames' decompressed contents.
func frames(t testing.TB, data []byte) [][]byte {
	t.Helper()
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	src := bufio.NewReader(bytes.NewReader(data))
	var out [][]byte
	for {
		frame, err := readFrame(src, nil)
		if err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatal(err)
		}
		content, err := dec.DecodeAll(frame, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, content)
	}
}

// joinFrames compresses each content into a frame of its own.
func joinFrames(t testing.TB, contents ...[]byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out []byte
	for _, c := range contents {
		out = enc.EncodeAll(c, out)
	}
	return out
}

// block builds a sealed block of a payload.
func block(tag byte, payload []byte) []byte {
	return sealBlock(append(appendBlockHead(nil, tag), payload...), 0)
}

// blockHead builds a block head declaring size, with no payload after it.
func blockHead(tag byte, size uint32) []byte {
	return binary.LittleEndian.AppendUint32([]byte{tag}, size)
}

func smallFile(t testing.TB, payload Payload) []byte {
	return writeFile(t, testHeader(payload), WriterOptions{ChunkBytes: 64}, everyKind())
}

func TestForeignDataIsNotACapture(t *testing.T) {
	random := make([]byte, 1000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("hello, a gzip file"))
	zw.Close()
	for name, data := range map[string][]byte{
		"plain text":           []byte("PUB decky.d1.state\n{}\n"),
		"one byte":             []byte("x"),
		"gzip":                 gz.Bytes(),
		"zstd of random bytes": joinFrames(t, random),
		"zstd of nothing":      joinFrames(t, nil),
		"zstd of half a magic": joinFrames(t, []byte("BUSD")),
		"zstd of json":         joinFrames(t, []byte(`{"version":1}`)),
	} {
		res := readAll(data)
		if !errors.Is(res.err, ErrNotCapture) {
			t.Errorf("%s: %v, want ErrNotCapture", name, res.err)
		}
	}
	for name, data := range map[string][]byte{
		"empty":              nil,
		"part of zstd magic": {0x28, 0xb5, 0x2f},
	} {
		if res := readAll(data); !errors.Is(res.err, ErrTruncated) {
			t.Errorf("%s: %v, want ErrTruncated", name, res.err)
		}
	}
}

func TestNewerVersionIsRecognised(t *testing.T) {
	contents := frames(t, smallFile(t, PayloadFull))
	binary.LittleEndian.PutUint16(contents[0][len(magic):], Version+1)
	data := joinFrames(t, contents...)
	res := readAll(data)
	var verr *VersionError
	if !errors.Is(res.err, ErrVersion) || !errors.As(res.err, &verr) || verr.Version != Version+1 {
		t.Fatalf("%v, want a VersionError for %d", res.err, Version+1)
	}
	if strings.Contains(res.err.Error(), "\n") {
		t.Fatalf("error %q is not one line", res.err)
	}
	// A newer header may be anything after its version.
	future := append(appendPreamble(nil), "a header this version cannot parse"...)
	binary.LittleEndian.PutUint16(future[len(magic):], 9)
	if res := readAll(joinFrames(t, future)); !errors.As(res.err, &verr) || verr.Version != 9 {
		t.Fatalf("%v, want a VersionError for 9", res.err)
	}
}

func TestHugeDeclaredLengthsAreRefusedUnallocated(t *testing.T) {
	header := frames(t, smallFile(t, PayloadShape))[0]
	preamble := appendPreamble(nil)
	cases := map[string][]byte{
		"header over its limit": joinFrames(t, append(preamble, blockHead(blockHeader, MaxHeaderBlock+1)...)),
		"header of 4 GiB":       joinFrames(t, append(preamble, blockHead(blockHeader, 1<<32-1)...)),
		// Within the limit, but no data behind the length.
		"header of 64 MiB, empty": joinFrames(t, append(preamble, blockHead(blockHeader, MaxHeaderBlock)...)),
		"chunk of 4 GiB":          joinFrames(t, header, blockHead(blockChunk, 1<<32-1)),
		"chunk over its limit":    joinFrames(t, header, blockHead(blockChunk, MaxChunkBlock+1)),
		"footer of 4 GiB":         joinFrames(t, header, blockHead(blockFooter, 1<<32-1)),
		"unknown block":           joinFrames(t, header, block('X', nil)),
		"second header":           joinFrames(t, header, header),
		"chunk without records":   joinFrames(t, header, block(blockChunk, chunkHead(1, 0, 0))),
		"record count 2^32-1":     joinFrames(t, header, block(blockChunk, append(chunkHead(1<<32-1, 0, 0), byte(KindBye), 0, 0))),
		"sub with text length 2^60": joinFrames(t, header, block(blockChunk,
			binary.AppendUvarint(append(chunkHead(1, 0, 0), byte(KindSub), 0, 0), 1<<60))),
	}
	for name, data := range cases {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res := readAll(data)
		runtime.ReadMemStats(&after)
		if !errors.Is(res.err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, res.err)
		}
		// The decoder's own buffers and the Reader's: far below any
		// of the declared lengths.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
			t.Errorf("%s: allocated %d bytes", name, grew)
		}
	}
}

// chunkHead builds a chunk payload's head.
func chunkHead(count uint32, first, last int64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, count)
	b = binary.LittleEndian.AppendUint64(b, uint64(first))
	return binary.LittleEndian.AppendUint64(b, uint64(last))
}

func TestDamagedBlocksAreCorrupt(t *testing.T) {
	contents := frames(t, smallFile(t, PayloadFull))
	last := len(contents) - 1
	damage := map[string]func(c [][]byte){
		"chunk crc": func(c [][]byte) { c[1][blockHeadBytes+chunkHeadBytes] ^= 1 },
		"footer crc": func(c [][]byte) {
			c[last][blockHeadBytes+2] ^= 1
		},
		"footer disagrees": func(c [][]byte) {
			f := bytes.Replace(c[last][blockHeadBytes:len(c[last])-crcBytes], []byte(`"records":14`), []byte(`"records":15`), 1)
			c[last] = block(blockFooter, f)
		},
		"chunk dropped": func(c [][]byte) { c[1] = c[2] },
		"chunks swapped": func(c [][]byte) {
			c[1], c[2] = c[2], c[1]
		},
		"data after the block": func(c [][]byte) { c[1] = append(c[1], 0) },
		"data after the footer": func(c [][]byte) {
			c[last] = append(c[last], 0)
		},
		"header payload mode": func(c [][]byte) {
			h := bytes.Replace(c[0][preambleBytes+blockHeadBytes:len(c[0])-crcBytes], []byte(`"payload":"full"`), []byte(`"payload":"wat"`), 1)
			c[0] = append(appendPreamble(nil), block(blockHeader, h)...)
		},
		"version 0": func(c [][]byte) { c[0][len(magic)] = 0 },
	}
	for name, f := range damage {
		c := make([][]byte, len(contents))
		for i := range contents {
			c[i] = bytes.Clone(contents[i])
		}
		f(c)
		res := readAll(joinFrames(t, c...))
		if !errors.Is(res.err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, res.err)
		}
	}
	// Bytes after the last frame.
	res := readAll(append(smallFile(t, PayloadFull), "trailing"...))
	if !errors.Is(res.err, ErrCorrupt) {
		t.Errorf("trailing bytes: %v, want ErrCorrupt", res.err)
	}
}

// recordsBefore is the records of the chunks that end at or before cut.
func recordsBefore(f Footer, records []Record, cut int64) []Record {
	n := 0
	for _, c := range f.Chunks {
		if c.Offset+c.Length <= cut {
			n += int(c.Records)
		}
	}
	return records[:n]
}

func TestTruncatedAtEveryByte(t *testing.T) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		data := smallFile(t, payload)
		whole := readAll(data)
		if whole.err != nil {
			t.Fatal(whole.err)
		}
		for cut := range int64(len(data)) {
			res := readAll(data[:cut])
			if !errors.Is(res.err, ErrTruncated) {
				t.Fatalf("%s cut at %d of %d: %v, want ErrTruncated", payload, cut, len(data), res.err)
			}
			if strings.Contains(res.err.Error(), "\n") {
				t.Fatalf("error %q is not one line", res.err)
			}
			if diff := sameRecords(res.records, recordsBefore(whole.footer, whole.records, cut)); diff != "" {
				t.Fatalf("%s cut at %d: %s", payload, cut, diff)
			}
		}
	}
}

func TestDamagedByteNeverYieldsAWrongRecord(t *testing.T) {
	for _, payload := range []Payload{PayloadFull, PayloadShape} {
		data := smallFile(t, payload)
		whole := readAll(data)
		for at := range data {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				damaged := bytes.Clone(data)
				damaged[at] ^= mask
				res := readAll(damaged)
				if res.err == nil {
					// Possible only where zstd ignores the bits
					// (a frame's window size): the same records.
					if diff := sameRecords(res.records, whole.records); diff != "" {
						t.Fatalf("%s byte %d ^ %#x read cleanly but %s", payload, at, mask, diff)
					}
					continue
				}
				if !errors.Is(res.err, ErrCorrupt) && !errors.Is(res.err, ErrTruncated) &&
					!errors.Is(res.err, ErrNotCapture) && !errors.Is(res.err, ErrVersion) {
					t.Fatalf("%s byte %d ^ %#x: unclassified %v", payload, at, mask, res.err)
				}
				if len(res.records) > len(whole.records) {
					t.Fatalf("%s byte %d ^ %#x: %d records", payload, at, mask, len(res.records))
				}
				if diff := sameRecords(res.records, whole.records[:len(res.records)]); diff != "" {
					t.Fatalf("%s byte %d ^ %#x: %s", payload, at, mask, diff)
				}
			}
		}
	}
}
