package fuzz

import (
	"bytes"
	"testing"

	"busd/ring"
)

// FuzzByteQueue runs a script of reserves, pops and reads against a ByteQueue
// queue and a plain slice of frames, and compares them after every step.
//
// Script: byte 0 picks maxEvents (1..16), byte 1 maxBytes (1..256 × 64),
// then each operation byte b is read as:
//
//	b%4 in 0..1: reserve a frame of 1 + the next byte × (1 + b>>2&7) bytes
//	b%4 == 2:    Front(limit = the next byte × 64), checked, then Pop of
//	             what it returned
//	b%4 == 3:    Free
//
// The model drops what the bounds require; the ByteQueue may drop more only when
// its buffer is as large as it may grow and has no contiguous room left.
func FuzzByteQueue(f *testing.F) {
	f.Add([]byte{3, 1, 0, 10, 0, 20, 1, 30, 0, 40, 2, 255, 2, 0})
	f.Add([]byte{15, 4, 0, 200, 0xfc, 255, 0, 100, 2, 3, 0, 250, 0x1c, 255, 2, 255, 3, 0, 7})
	f.Add([]byte{0, 0, 0, 1, 0, 255, 2, 0, 3, 0, 2})
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) < 2 {
			return
		}
		maxEvents, maxBytes := 1+int(script[0]%16), 64*(1+int(script[1]))
		q := ring.NewByteQueue(maxEvents, maxBytes)
		var model [][]byte
		modelBytes, largest := 0, 0
		seq := 0
		next := func(i int) (byte, int) {
			if i+1 < len(script) {
				return script[i+1], i + 1
			}
			return 0, i
		}
		for i := 2; i < len(script) && i < 4096; i++ {
			b := script[i]
			var arg byte
			switch b % 4 {
			case 0, 1:
				arg, i = next(i)
				n := 1 + int(arg)*(1+int(b>>2&7))
				largest = max(largest, n)
				want := 0
				for len(model) > 0 && (len(model) >= maxEvents || modelBytes+n > maxBytes) {
					modelBytes -= len(model[0])
					model = model[1:]
					want++
				}
				dst, dropped := q.Reserve(n)
				if dropped < want {
					t.Fatalf("step %d: reserve %d dropped %d, the bounds need %d", i, n, dropped, want)
				}
				if extra := dropped - want; extra > 0 {
					if q.Cap() < max(maxBytes, n) {
						t.Fatalf("step %d: reserve %d dropped %d beyond the bounds with a buffer of %d that may grow to %d", i, n, extra, q.Cap(), max(maxBytes, n))
					}
					if extra > len(model) {
						t.Fatalf("step %d: dropped %d, only %d queued", i, dropped, len(model))
					}
					for _, fr := range model[:extra] {
						modelBytes -= len(fr)
					}
					model = model[extra:]
				}
				if len(dst) != n {
					t.Fatalf("step %d: reserve %d returned %d bytes", i, n, len(dst))
				}
				seq++
				for j := range dst {
					dst[j] = byte(seq + j)
				}
				model = append(model, bytes.Clone(dst))
				modelBytes += n
			case 2:
				arg, i = next(i)
				limit := int(arg) * 64
				got, k := q.Front(limit)
				if len(model) == 0 {
					if k != 0 || len(got) != 0 {
						t.Fatalf("step %d: Front of an empty queue: %d frames", i, k)
					}
					break
				}
				if k < 1 || k > len(model) {
					t.Fatalf("step %d: Front(%d) returned %d frames of %d", i, limit, k, len(model))
				}
				if k > 1 && len(got) > limit {
					t.Fatalf("step %d: Front(%d) returned %d bytes in %d frames", i, limit, len(got), k)
				}
				if want := bytes.Join(model[:k], nil); !bytes.Equal(got, want) {
					t.Fatalf("step %d: Front returned other bytes than the %d oldest frames", i, k)
				}
				q.Pop(k)
				for _, fr := range model[:k] {
					modelBytes -= len(fr)
				}
				model = model[k:]
			case 3:
				q.Free()
			}
			if q.Len() != len(model) || q.Bytes() != modelBytes {
				t.Fatalf("step %d: Len %d Bytes %d, model %d and %d", i, q.Len(), q.Bytes(), len(model), modelBytes)
			}
			if q.Len() > maxEvents {
				t.Fatalf("step %d: %d frames over a bound of %d", i, q.Len(), maxEvents)
			}
			if q.Cap() > max(maxBytes, largest) {
				t.Fatalf("step %d: buffer of %d over max(%d, %d)", i, q.Cap(), maxBytes, largest)
			}
		}
		// Everything still queued comes out in order.
		for len(model) > 0 {
			got, k := q.Front(1 << 30)
			if k < 1 || !bytes.Equal(got, bytes.Join(model[:k], nil)) {
				t.Fatalf("final drain: %d frames that are not the oldest", k)
			}
			q.Pop(k)
			model = model[k:]
		}
	})
}
