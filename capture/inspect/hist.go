package inspect

import (
	"math"
	"math/bits"
	"slices"
)

// sizeHist counts body sizes in fixed memory, whatever the number of
// PUBs: every size below exactBelow has its own counter; above, each power
// of two is split into subBuckets equal slots, so a quantile read from a
// slot is within 1/subBuckets of the true size.
type sizeHist struct {
	slots    [exactBelow + (32-exactBits)*subBuckets]uint64
	pow2     [33]uint64 // by bits.Len32(size): 0, 1, 2-3, 4-7, ...
	count    uint64
	min, max uint32
}

const (
	exactBits  = 10
	exactBelow = 1 << exactBits
	subBits    = 7
	subBuckets = 1 << subBits
)

func (h *sizeHist) add(size uint32) {
	if h.count == 0 || size < h.min {
		h.min = size
	}
	h.max = max(h.max, size)
	h.count++
	h.pow2[bits.Len32(size)]++
	h.slots[slotOf(size)]++
}

// slotOf is size's slot: itself below exactBelow; above, its power of two
// and the subBits bits after its leading one.
func slotOf(size uint32) int {
	if size < exactBelow {
		return int(size)
	}
	exp := bits.Len32(size) - 1 // >= exactBits
	sub := int(size>>(exp-subBits)) & (subBuckets - 1)
	return exactBelow + (exp-exactBits)*subBuckets + sub
}

// slotTop is the largest size in slot i.
func slotTop(i int) uint64 {
	if i < exactBelow {
		return uint64(i)
	}
	exp := (i-exactBelow)/subBuckets + exactBits
	sub := uint64((i - exactBelow) % subBuckets)
	return (subBuckets+sub+1)<<(exp-subBits) - 1
}

// quantile is the nearest-rank q-quantile: the smallest size that at least
// q of the bodies do not exceed (a slot's top, capped at the largest size
// seen).
func (h *sizeHist) quantile(q float64) uint64 {
	if h.count == 0 {
		return 0
	}
	rank := nearestRank(q, h.count)
	var seen uint64
	for i, n := range h.slots {
		seen += n
		if seen >= rank {
			return min(slotTop(i), uint64(h.max))
		}
	}
	return uint64(h.max)
}

func (h *sizeHist) sizes() Sizes {
	s := Sizes{Count: h.count, Min: uint64(h.min), Max: uint64(h.max), Buckets: []SizeBucket{}}
	if h.count == 0 {
		return s
	}
	s.P50, s.P90, s.P99 = h.quantile(0.5), h.quantile(0.9), h.quantile(0.99)
	for n, c := range h.pow2 {
		if c == 0 {
			continue
		}
		b := SizeBucket{Count: c}
		if n > 0 {
			b.Min, b.Max = 1<<(n-1), 1<<n-1
		}
		s.Buckets = append(s.Buckets, b)
	}
	return s
}

// nearestRank is the 1-based rank of the q-quantile among n values.
func nearestRank(q float64, n uint64) uint64 {
	return max(1, uint64(math.Ceil(q*float64(n))))
}

// rateCounter counts PUBs per second of the file. Records come in time
// order, so it keeps the current second's count and, for the seconds
// behind it, the counts of the busy ones and how many were quiet.
type rateCounter struct {
	second int64 // the current second, from the file's start
	count  uint64
	busy   []uint64 // counts of the finished seconds that had PUBs
	quiet  int64    // finished seconds without any
}

// pub counts a PUB at t nanoseconds from the file's start.
func (r *rateCounter) pub(t int64) {
	sec := max(t/1e9, r.second) // a record out of order stays in the current second
	if sec != r.second {
		r.finish(sec)
	}
	r.count++
}

// finish moves on to second sec.
func (r *rateCounter) finish(sec int64) {
	if r.count > 0 {
		r.busy = append(r.busy, r.count)
		r.quiet += sec - r.second - 1
	} else {
		r.quiet += sec - r.second
	}
	r.second, r.count = sec, 0
}

// rate is the per-second rate over the whole seconds of a file that lasted
// duration nanoseconds and held publishes PUBs.
func (r *rateCounter) rate(duration int64, publishes uint64) Rate {
	var out Rate
	if duration > 0 {
		out.Mean = float64(publishes) / (float64(duration) / 1e9)
	}
	whole := duration / 1e9
	if whole == 0 {
		return out
	}
	if r.second < whole {
		r.finish(whole) // the seconds up to the end, and none of the trailing fraction
	}
	out.Seconds = int(whole)
	counts := slices.Clone(r.busy)
	slices.Sort(counts)
	n := uint64(whole)
	// The quiet seconds are the smallest counts (zeros) in rank order.
	at := func(q float64) uint64 {
		rank := nearestRank(q, n)
		if rank <= uint64(r.quiet) {
			return 0
		}
		return counts[rank-uint64(r.quiet)-1]
	}
	out.Min, out.Median, out.P99 = at(0), at(0.5), at(0.99)
	if len(counts) > 0 {
		out.Max = counts[len(counts)-1]
	}
	return out
}
