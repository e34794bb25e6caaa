package load

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mode is how publishers pace themselves.
type Mode int

const (
	// ClosedLoop: each publisher stays at most a window of events ahead of
	// the slowest counted subscriber, so nothing is dropped and the result
	// is the lossless throughput. The window is Window events (shared by
	// the publishers) and at most WindowBytes of bodies.
	ClosedLoop Mode = iota
	// OpenLoop: publishers flood as fast as the socket takes their writes;
	// whatever the server drops shows up as Lost.
	OpenLoop
	// Rate: each publisher sends Workload.Rate events per second and the
	// subscribers record the end-to-end latency of every event.
	Rate
)

func (m Mode) String() string {
	switch m {
	case ClosedLoop:
		return "closed"
	case OpenLoop:
		return "open"
	case Rate:
		return "rate"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode is the inverse of Mode.String.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "closed":
		return ClosedLoop, nil
	case "open":
		return OpenLoop, nil
	case "rate":
		return Rate, nil
	}
	return 0, fmt.Errorf("unknown mode %q (closed, open or rate)", s)
}

const (
	// Window is how many events the publishers of a closed-loop workload
	// may have in flight to the slowest subscriber, all publishers
	// together. It is below busd's default queue bound (1024 events), so a
	// closed loop is lossless by construction.
	Window = 1000
	// WindowBytes bounds the same window in body bytes (large payloads),
	// well below busd's default 4 MiB per-subscriber queue.
	WindowBytes = 2 << 20
	// DefaultSize is the default event body: a typical envelope.
	DefaultSize = 220
	// DefaultDuration is the default measurement time.
	DefaultDuration = 3 * time.Second
	// MaxPublishers is the most publishers a workload may have (the
	// publisher index travels as 3 hex digits in the event id).
	MaxPublishers = 0xfff
)

// Workload is one load shape.
type Workload struct {
	Name string
	// Publishers and Subscribers are the counted connections. Every
	// subscriber must receive every publisher's events (the warm-up checks
	// it): loss is counted per publisher and subscriber.
	Publishers, Subscribers int
	// Topic is the topic of event seq of publisher pub. It is called once
	// per event, so it must not allocate (return precomputed strings).
	Topic func(pub, seq int) string
	// Patterns are subscribed by each counted (and each slow) subscriber.
	Patterns []string
	// IdleSubs idle subscriptions (patterns that match nothing published)
	// spread over IdleConns extra connections (W4).
	IdleSubs, IdleConns int
	// Size is the event body in bytes (DefaultSize when 0).
	Size int
	Mode Mode
	// Rate is events per second per publisher in Rate mode.
	Rate int
	// Duration of the measurement (DefaultDuration when 0). Publishing
	// stops after it; the drain that follows is bounded too.
	Duration time.Duration
	// SlowSubscribers connect, subscribe to Patterns and never read (W6).
	// They are not counted; their server queues must drop.
	SlowSubscribers int
}

// BodySize is Size, or DefaultSize when Size is 0.
func (w Workload) BodySize() int { return w.size() }

func (w Workload) size() int {
	if w.Size <= 0 {
		return DefaultSize
	}
	return w.Size
}

func (w Workload) duration() time.Duration {
	if w.Duration <= 0 {
		return DefaultDuration
	}
	return w.Duration
}

// window is the per-publisher window of a closed loop.
func (w Workload) window() uint64 {
	n := Window
	if byBytes := WindowBytes / w.size(); byBytes < n {
		n = byBytes
	}
	n /= max(w.Publishers, 1)
	return uint64(max(n, 1))
}

// Validate reports what makes the workload unusable.
func (w Workload) Validate() error {
	switch {
	case w.Publishers < 1 || w.Publishers > MaxPublishers:
		return fmt.Errorf("workload %s: %d publishers (1 to %d)", w.Name, w.Publishers, MaxPublishers)
	case w.Subscribers < 1:
		return fmt.Errorf("workload %s: needs at least one counted subscriber", w.Name)
	case w.Topic == nil:
		return fmt.Errorf("workload %s: no Topic function", w.Name)
	case len(w.Patterns) == 0:
		return fmt.Errorf("workload %s: no patterns", w.Name)
	case w.IdleSubs > 0 && w.IdleConns < 1:
		return fmt.Errorf("workload %s: %d idle subscriptions need IdleConns", w.Name, w.IdleSubs)
	case w.size() < MinSize || w.size() > MaxSize:
		return fmt.Errorf("workload %s: size %d (%d to %d bytes)", w.Name, w.size(), MinSize, MaxSize)
	case w.Mode == Rate && w.Rate < 1:
		return fmt.Errorf("workload %s: rate mode needs Rate > 0", w.Name)
	case w.Mode < ClosedLoop || w.Mode > Rate:
		return fmt.Errorf("workload %s: unknown mode %d", w.Name, int(w.Mode))
	}
	return nil
}

// ConstTopic returns a Topic function that always returns topic.
func ConstTopic(topic string) func(pub, seq int) string {
	return func(int, int) string { return topic }
}

// PerPublisherTopic returns a Topic function giving publisher i the topic
// fmt.Sprintf(format, i), precomputed for n publishers.
func PerPublisherTopic(format string, n int) func(pub, seq int) string {
	topics := make([]string, n)
	for i := range topics {
		topics[i] = fmt.Sprintf(format, i)
	}
	return func(pub, _ int) string { return topics[pub] }
}

// IdlePatterns returns n distinct patterns of mixed shapes (exact topics,
// a '*' inside, '>' tails) in the platform's topic families, none of which
// matches a topic the standard workloads publish on (decky.d1.state,
// topology.tN.status).
func IdlePatterns(n int) []string {
	families := [...]string{"decky", "topology", "attacker", "canary", "orchestrator"}
	out := make([]string, n)
	for i := range out {
		fam := families[i%len(families)]
		id := strconv.Itoa(1000 + i)
		switch (i / len(families)) % 3 {
		case 0: // exact
			out[i] = fam + ".i" + id + ".state"
		case 1: // '*' inside: the third token never matches a published one
			out[i] = fam + ".*.x" + id
		default: // '>' tail under an id nobody publishes on
			out[i] = fam + ".i" + id + ".>"
		}
	}
	return out
}

// Workloads is the standard set: W1–W4 in closed loop (W1w…W4w) and open
// loop (W1f…W4f), W5 latency at 20k and 1k events/s, and W6 (a slow
// subscriber beside a fast one). Duration is left 0 (DefaultDuration).
func Workloads() []Workload {
	w1 := Workload{Publishers: 1, Subscribers: 1,
		Topic: ConstTopic("decky.d1.state"), Patterns: []string{"decky.d1.state"}}
	w2 := Workload{Publishers: 1, Subscribers: 8,
		Topic: ConstTopic("decky.d1.state"), Patterns: []string{"decky.*.state"}}
	w3 := Workload{Publishers: 4, Subscribers: 1,
		Topic: PerPublisherTopic("topology.t%d.status", 4), Patterns: []string{"topology.>"}}
	w4 := w1
	w4.IdleSubs, w4.IdleConns = 10000, 100

	var out []Workload
	for _, m := range []struct {
		suffix string
		mode   Mode
	}{{"w", ClosedLoop}, {"f", OpenLoop}} {
		for i, w := range []Workload{w1, w2, w3, w4} {
			w.Name = fmt.Sprintf("W%d%s", i+1, m.suffix)
			w.Mode = m.mode
			out = append(out, w)
		}
	}
	for _, r := range []struct {
		name string
		rate int
	}{{"W5-20k", 20000}, {"W5-1k", 1000}} {
		w := w1
		w.Name, w.Mode, w.Rate = r.name, Rate, r.rate
		out = append(out, w)
	}
	w6 := w1
	w6.Name, w6.Mode, w6.SlowSubscribers = "W6", ClosedLoop, 1
	return append(out, w6)
}

// SweepSizes are the body sizes of PayloadSweep.
var SweepSizes = []int{64, 220, 1 << 10, 16 << 10, 256 << 10}

// PayloadSweep is W1w at each of SweepSizes, named "W1w-64B", "W1w-1KiB"...
func PayloadSweep() []Workload {
	var w1w Workload
	for _, w := range Workloads() {
		if w.Name == "W1w" {
			w1w = w
		}
	}
	out := make([]Workload, len(SweepSizes))
	for i, s := range SweepSizes {
		w := w1w
		w.Name = "W1w-" + SizeName(s)
		w.Size = s
		out[i] = w
	}
	return out
}

// SizeName is a byte count as in the sweep's names: 64B, 1KiB, 256KiB.
func SizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// Lookup finds a workload of Workloads or PayloadSweep by name.
func Lookup(name string) (Workload, bool) {
	for _, w := range append(Workloads(), PayloadSweep()...) {
		if w.Name == name {
			return w, true
		}
	}
	return Workload{}, false
}

// LookupList returns the workloads of a comma-separated list of names, in
// its order, or an error naming the first unknown one.
func LookupList(names string) ([]Workload, error) {
	var ws []Workload
	for _, name := range strings.Split(names, ",") {
		w, ok := Lookup(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("unknown workload %q", name)
		}
		ws = append(ws, w)
	}
	return ws, nil
}
