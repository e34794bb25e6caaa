package load

import (
	"math/bits"
	"time"
)

// Histogram is a log-linear latency histogram: exact below 64 ns, then 32
// buckets per power of two (at most ~3% relative error), fixed size, so
// recording is one index computation and an increment.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	max    int64
}

const (
	histSubBits = 5
	histSub     = 1 << histSubBits             // buckets per power of two
	histBuckets = (64 - histSubBits) * histSub // values are below 2^63
)

func histIndex(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	return shift*histSub + int(v>>shift)
}

// histBounds is the range [lo, hi] of values of bucket i.
func histBounds(i int) (lo, hi uint64) {
	if i < 2*histSub {
		return uint64(i), uint64(i)
	}
	shift := i/histSub - 1
	top := uint64(i%histSub + histSub)
	return top << shift, (top+1)<<shift - 1
}

// Record adds one latency; negative values count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[histIndex(uint64(v))]++
	h.total++
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Quantile returns the value below which a fraction q of the recordings
// fall: the middle of the bucket holding that rank, capped at Max. 0 when
// nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := histBounds(i)
			return time.Duration(min(int64(lo+(hi-lo)/2), h.max))
		}
	}
	return time.Duration(h.max)
}
