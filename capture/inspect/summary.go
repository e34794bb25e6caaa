// Package inspect analyses a capture file in one pass: what was published,
// by whom, to how many subscribers, what was dropped and who read slowly.
// busd capture inspect prints its Summary.
//
// Memory grows with the number of distinct topics, patterns and
// connections in the file (and with its duration in seconds, for the PUB
// rate), never with the number of records.
package inspect

import (
	"cmp"
	"slices"
	"time"
)

// Summary is what Analyze finds in one capture file. Its JSON form is the
// output of busd capture inspect --json. Times (…_ns) are nanoseconds since
// the capture started, as in the file's records; durations are
// nanoseconds.
type Summary struct {
	// From the header.
	Host         string    `json:"host"`
	BusdVersion  string    `json:"busd_version"`
	Start        time.Time `json:"start"`
	Payload      string    `json:"payload"`       // full or shape
	TopicFilters []string  `json:"topic_filters"` // empty: every topic was recorded
	Sequence     int       `json:"sequence"`      // the file's number in its capture, from 1
	OffsetNs     int64     `json:"offset_ns"`     // when the file starts

	// Complete is true when the footer was found; then EndReason is why
	// the file ended. Otherwise Cut says where the readable part ends.
	Complete   bool   `json:"complete"`
	EndReason  string `json:"end_reason,omitempty"`
	Cut        *Cut   `json:"cut,omitempty"`
	Chunks     int    `json:"chunks"`      // complete chunks read
	DurationNs int64  `json:"duration_ns"` // from the file's start to its end (or its last record when cut)

	Records   uint64            `json:"records"`
	Kinds     map[string]uint64 `json:"records_by_kind"` // kind name (capture.Kind.String) → records
	Publishes uint64            `json:"publishes"`       // PUB records
	BodyBytes uint64            `json:"body_bytes"`      // sum of PUB body sizes
	PubRate   Rate              `json:"pub_rate"`

	Topics     map[string]uint64 `json:"topics"`      // topic → PUBs
	TopicBytes map[string]uint64 `json:"topic_bytes"` // topic → body bytes
	BodySizes  Sizes             `json:"body_sizes"`

	// Publishers: every connection that published, most PUBs first.
	Publishers []Publisher `json:"publishers"`
	// Subscriptions: every pattern held during the file, by pattern.
	Subscriptions []Subscription `json:"subscriptions"`
	// Deliveries is the fan-out the PUBs asked for: for each PUB, each
	// other connection with at least one matching pattern (PROTOCOL.md:
	// never the publisher itself, once however many patterns match).
	// What the daemon delivered is this minus its drops.
	Deliveries  uint64       `json:"deliveries"`
	Drops       Drops        `json:"drops"`
	SlowReaders []SlowReader `json:"slow_readers"`
	Connections Churn        `json:"connections"`
}

// Cut describes a file that ends without its footer.
type Cut struct {
	// Reason is "truncated" (the file stops, as one cut short by a crash
	// or a full disk does), "corrupt" (damaged bytes follow) or
	// "unreadable" (reading the file failed).
	Reason string `json:"reason"`
	Chunks int    `json:"chunks"`  // complete chunks before the cut
	LastNs int64  `json:"last_ns"` // Time of the last record read
	Error  string `json:"error"`   // the reader's words
}

// Rate is the PUB rate over the whole seconds of the file (the trailing
// fraction of a second is left out, so that it does not read as a dip).
// Quantiles are nearest-rank over those seconds, quiet ones included.
type Rate struct {
	Seconds int     `json:"seconds"`
	Mean    float64 `json:"mean"` // Publishes over the whole duration, per second
	Min     uint64  `json:"min"`
	Median  uint64  `json:"median"`
	P99     uint64  `json:"p99"`
	Max     uint64  `json:"max"`
}

// Sizes is the distribution of PUB body sizes in bytes. Quantiles are
// nearest-rank, exact below 1 KiB and within 1% above (sizeHist).
type Sizes struct {
	Count   uint64       `json:"count"`
	Min     uint64       `json:"min"`
	P50     uint64       `json:"p50"`
	P90     uint64       `json:"p90"`
	P99     uint64       `json:"p99"`
	Max     uint64       `json:"max"`
	Buckets []SizeBucket `json:"buckets"` // powers of two, the non-empty ones, smallest first
}

// SizeBucket counts the bodies of Min to Max bytes, both included.
type SizeBucket struct {
	Min   uint64 `json:"min"`
	Max   uint64 `json:"max"`
	Count uint64 `json:"count"`
}

// Publisher is one connection's PUBs.
type Publisher struct {
	Conn      uint64 `json:"conn"`
	Name      string `json:"name"`
	Publishes uint64 `json:"publishes"`
	Bytes     uint64 `json:"bytes"`
	Topics    int    `json:"topics"` // distinct topics
}

// Subscription is one pattern.
type Subscription struct {
	Pattern string `json:"pattern"`
	// Subscribers: connections that held it at some point of the file.
	Subscribers int `json:"subscribers"`
	// Deliveries: the events it matched for them. An event that two
	// patterns of one connection match counts for both patterns, and
	// once in Summary.Deliveries.
	Deliveries uint64 `json:"deliveries"`
}

// Drops are the events lost, by the recorder and by the daemon.
type Drops struct {
	// Recorder: records the recorder could not keep, in Gaps gaps.
	Recorder uint64 `json:"recorder"`
	Gaps     uint64 `json:"gaps"`
	// Daemon: events the daemon dropped for slow subscribers while the
	// file was written (ByConn: each such connection, most first).
	Daemon uint64      `json:"daemon"`
	ByConn []ConnDrops `json:"by_conn"`
}

// ConnDrops is one connection's daemon drops during the file: its last
// sample's total minus its total when the file started (from the header,
// 0 for a connection opened in the file, its first sample for one the file
// never introduced).
type ConnDrops struct {
	Conn  uint64 `json:"conn"`
	Name  string `json:"name"`
	Drops uint64 `json:"drops"`
}

// SlowReader is a connection whose socket backed up during the file.
type SlowReader struct {
	Conn    uint64 `json:"conn"`
	Name    string `json:"name"`
	Stalls  int    `json:"stalls"`  // times it backed up
	Stalled bool   `json:"stalled"` // still backed up at the end of the file
	// BytesPerSecond: its reading pace (capture.Pace); 0 when no stall
	// ended within the file.
	BytesPerSecond float64 `json:"bytes_per_second"`
	Drops          uint64  `json:"drops"`
	Deliveries     uint64  `json:"deliveries"` // events the PUBs of the file asked for it
}

// Churn is how connections came and went.
type Churn struct {
	AtStart        int    `json:"at_start"` // open when the file started (the header's)
	Opens          uint64 `json:"opens"`
	Closes         uint64 `json:"closes"`
	ProtocolErrors uint64 `json:"protocol_errors"` // closes for a hostile frame
	AtEnd          int    `json:"at_end"`          // still open at the end of the file
}

// TopicCount is one topic's PUBs and bytes.
type TopicCount struct {
	Topic     string
	Publishes uint64
	Bytes     uint64
}

// TopTopics is the n topics with the most PUBs, or with the most body
// bytes; ties go by the other count, then by name, so the order is always
// the same.
func (s *Summary) TopTopics(n int, byBytes bool) []TopicCount {
	all := make([]TopicCount, 0, len(s.Topics))
	for t, pubs := range s.Topics {
		all = append(all, TopicCount{Topic: t, Publishes: pubs, Bytes: s.TopicBytes[t]})
	}
	slices.SortFunc(all, func(a, b TopicCount) int {
		first, second := cmp.Compare(b.Publishes, a.Publishes), cmp.Compare(b.Bytes, a.Bytes)
		if byBytes {
			first, second = second, first
		}
		return cmp.Or(first, second, cmp.Compare(a.Topic, b.Topic))
	})
	return all[:min(n, len(all))]
}
