package load

import (
	"strings"
	"time"
)

// SmokeDuration is a benchmark's measurement time when -benchtime is an
// iteration count (-benchtime=1x in CI): long enough for a steady state,
// short enough that a whole suite takes well under a minute.
const SmokeDuration = 300 * time.Millisecond

// MeasureTime is a measurement time from a -benchtime value ("" when the
// flag is absent): the duration it gives (at least 100 ms), SmokeDuration
// for an iteration count, one second when absent. The end-to-end
// benchmarks run once for that long, whatever b.N.
func MeasureTime(benchtime string) (time.Duration, error) {
	switch {
	case benchtime == "":
		return time.Second, nil
	case strings.HasSuffix(benchtime, "x"):
		return SmokeDuration, nil
	}
	d, err := time.ParseDuration(benchtime)
	if err != nil {
		return 0, err
	}
	return max(d, 100*time.Millisecond), nil
}
