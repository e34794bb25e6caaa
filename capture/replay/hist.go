package replay

import (
	"math/bits"
	"time"
)

// histogram counts durations in log-linear buckets: 16 per power of two
// (about 6% relative error at worst), exact below 32 ns. Fixed size, so a
// record is an index computation and an increment: it sits on the
// replay's send path, once per PUB.
type histogram struct {
	counts [lagBuckets]uint64
	total  uint64
	max    int64
}

const (
	lagSubBits = 4
	lagSub     = 1 << lagSubBits
	lagBuckets = (64 - lagSubBits) * lagSub
)

func lagIndex(v uint64) int {
	if v < 2*lagSub {
		return int(v)
	}
	shift := bits.Len64(v) - lagSubBits - 1
	return shift*lagSub + int(v>>shift)
}

// lagUpper is the largest value bucket i holds.
func lagUpper(i int) uint64 {
	if i < 2*lagSub {
		return uint64(i)
	}
	shift := i/lagSub - 1
	return (uint64(i%lagSub+lagSub)+1)<<shift - 1
}

// record adds one value; negative ones (sent ahead of schedule) count as 0.
func (h *histogram) record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[lagIndex(uint64(v))]++
	h.total++
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// quantile is the upper bound of the bucket holding rank q (so never
// optimistic), capped at the maximum; 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := min(max(uint64(q*float64(h.total)+0.5), 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return time.Duration(min(int64(lagUpper(i)), h.max))
		}
	}
	return time.Duration(h.max)
}
