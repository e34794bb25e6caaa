package replay

import "time"

// bucket paces a reader to a number of bytes per second: a token bucket
// on bytes. It holds at most burst tokens, so a reader that was idle does
// not then read a burst faster than its pace for long.
type bucket struct {
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Time
}

// newBucket paces at rate bytes/s. The burst is 20ms of reading, within
// [1 KiB, 256 KiB]: small enough that the kernel's socket buffer, not the
// bucket, holds what the reader has not taken, as with a real slow reader.
func newBucket(rate float64) *bucket {
	return &bucket{rate: rate, burst: min(max(rate/50, 1<<10), 256<<10), last: time.Now()}
}

// allow is how many bytes (at most want) may be read now; when fewer than
// a useful read are available it sleeps until they are, or until stop is
// closed (then 0).
func (b *bucket) allow(want int, stop <-chan struct{}) int {
	need := min(float64(want), b.burst, 512)
	for {
		now := time.Now()
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
		if b.tokens >= need {
			return int(min(b.tokens, float64(want)))
		}
		wait := time.Duration((need - b.tokens) / b.rate * float64(time.Second))
		t := time.NewTimer(max(wait, 100*time.Microsecond))
		select {
		case <-stop:
			t.Stop()
			return 0
		case <-t.C:
		}
	}
}

// took charges n bytes read.
func (b *bucket) took(n int) { b.tokens -= float64(n) }
