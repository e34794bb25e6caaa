package replay

import (
	"errors"
	"fmt"
	"math"
	"time"

	"busd/trie"
)

// Options say what to replay and how fast.
type Options struct {
	// Socket is the target daemon's bus socket.
	Socket string
	// Speed: 1 replays at the recorded pace, N at N times it; 0 or +Inf
	// sends as fast as possible, with no schedule.
	Speed float64
	// Scale K (≥ 1, 0 means 1) replays K copies of every connection that
	// publishes. Copies beyond the first only publish: the fan-out per
	// event is the recorded one and the publish rate is K times it.
	Scale int
	// Topics, when not empty, replays only the PUBs whose topic matches
	// one of these patterns.
	Topics []string
	// Loop replays the capture again and again until the context ends,
	// each pass starting where the previous one's schedule ended.
	Loop bool
	// Window replays only the first Window of capture time; 0: all.
	Window time.Duration
	// Settle: at the end of a pass, the replay waits for the deliveries
	// still owed until none has arrived for this long. Default 500ms.
	Settle time.Duration
	// Progress, if set, is called about once a second from another
	// goroutine.
	Progress func(Progress)
}

// DefaultSettle is Options.Settle's default.
const DefaultSettle = 500 * time.Millisecond

// Progress is a replay's state while it runs.
type Progress struct {
	Done      float64       // fraction of the schedule replayed (of this pass when looping)
	Pass      int           // 1 for the first
	ETA       time.Duration // until the end of the schedule; 0 when looping
	Sent      uint64        // PUBs sent so far
	Delivered uint64        // deliveries received so far
	Lag       time.Duration // the latest PUB's lag behind its schedule
	MaxLag    time.Duration
}

// maxSpeed reports whether speed means "no schedule".
func maxSpeed(speed float64) bool { return speed == 0 || math.IsInf(speed, 1) }

func (o *Options) normalize() error {
	if o.Socket == "" {
		return errors.New("replay: no socket")
	}
	if math.IsNaN(o.Speed) || o.Speed < 0 {
		return fmt.Errorf("replay: speed %v: must be positive, or 0 for as fast as possible", o.Speed)
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.Scale < 1 {
		return fmt.Errorf("replay: scale %d: must be at least 1", o.Scale)
	}
	if o.Window < 0 {
		return fmt.Errorf("replay: window %v: must not be negative", o.Window)
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	for _, p := range o.Topics {
		if p == "" {
			return errors.New("replay: empty topic pattern")
		}
	}
	return nil
}

// wantsTopic applies the Topics filter.
func (o *Options) wantsTopic(topic []byte) bool {
	if len(o.Topics) == 0 {
		return true
	}
	for _, p := range o.Topics {
		if trie.MatchBytes(p, topic) {
			return true
		}
	}
	return false
}
