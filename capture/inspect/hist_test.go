package inspect

import (
	"math"
	"slices"
	"testing"
)

// Quantiles are exact below 1 KiB and at most 1% over the true size above,
// never under it.
func TestSizeQuantiles(t *testing.T) {
	var h sizeHist
	var all []uint64
	rng := uint64(7)
	for range 20000 {
		rng = rng*6364136223846793005 + 1442695040888963407
		size := uint32(rng>>40) % (1 << 20)
		if rng&1 == 0 {
			size %= 1024
		}
		h.add(size)
		all = append(all, uint64(size))
	}
	slices.Sort(all)
	for _, q := range []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1} {
		exact := all[nearestRank(q, uint64(len(all)))-1]
		got := h.quantile(q)
		if got < exact || (exact < exactBelow && got != exact) || float64(got-exact) > float64(exact)/100 {
			t.Errorf("q%v: %d, exactly %d", q, got, exact)
		}
	}
	s := h.sizes()
	if s.Min != all[0] || s.Max != all[len(all)-1] || s.Count != uint64(len(all)) {
		t.Errorf("%+v", s)
	}
	var n uint64
	for _, b := range s.Buckets {
		n += b.Count
	}
	if n != s.Count {
		t.Errorf("buckets hold %d of %d", n, s.Count)
	}
}

func TestSlotsCoverEverySize(t *testing.T) {
	prev := -1
	for _, size := range []uint32{0, 1, 1023, 1024, 1025, 2047, 2048, 1 << 20, math.MaxUint32} {
		i := slotOf(size)
		if i < prev || i >= len(sizeHist{}.slots) || slotTop(i) < uint64(size) {
			t.Errorf("size %d: slot %d (top %d)", size, i, slotTop(i))
		}
		prev = i
	}
}

func TestRateQuietStartAndShortFile(t *testing.T) {
	var r rateCounter
	// Seconds 0-2 quiet, 3 holds 4 PUBs, 4 quiet, the end at 5.5s.
	for range 4 {
		r.pub(3*sec + 1)
	}
	got := r.rate(5*sec+sec/2, 4)
	want := Rate{Seconds: 5, Mean: 4 / 5.5, Min: 0, Median: 0, P99: 4, Max: 4}
	if got != want {
		t.Errorf("%+v, want %+v", got, want)
	}
	var short rateCounter
	short.pub(1)
	if got := short.rate(sec/2, 1); got != (Rate{Mean: 2}) {
		t.Errorf("half a second: %+v", got)
	}
}
