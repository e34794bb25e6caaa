package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"busd/capture/inspect"
)

// The human form of busd capture inspect: fixed-width columns that fit an
// 80-column terminal (long topics, patterns and names are clipped with
// "..."), in an order that depends only on the file.

const (
	reportWidth = 80
	labelWidth  = 15 // "capture file   "
	nameWidth   = 40 // topic and pattern columns
)

func printInspect(w io.Writer, path string, s *inspect.Summary, top int) {
	field := func(label, text string) { fmt.Fprint(w, wrapField(label, text)) }
	field("capture file", path)
	field("host", fmt.Sprintf("%s, busd %s", orDash(s.Host), orDash(s.BusdVersion)))
	field("started", fmt.Sprintf("%s (file %d of its capture, from %s)",
		s.Start.UTC().Format(time.RFC3339), s.Sequence, nsDuration(s.OffsetNs)))
	filters := "every topic"
	if len(s.TopicFilters) > 0 {
		filters = "topics " + strings.Join(s.TopicFilters, " ")
	}
	field("payload", s.Payload+", "+filters)
	if s.Complete {
		field("status", fmt.Sprintf("complete (%s), %d chunks", s.EndReason, s.Chunks))
	} else {
		field("status", cutLine(s.Cut))
	}
	field("duration", nsDuration(s.DurationNs))
	var kinds []string
	for _, k := range []string{"pub", "sub", "unsub", "hello", "bye", "open", "close", "out", "gap", "unknown"} {
		if n := s.Kinds[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
	}
	field("records", fmt.Sprintf("%d (%s)", s.Records, strings.Join(kinds, ", ")))
	field("publishes", fmt.Sprintf("%d, %s of bodies", s.Publishes, humanBytes(s.BodyBytes)))
	rate := fmt.Sprintf("mean %.1f/s", s.PubRate.Mean)
	if s.PubRate.Seconds > 0 {
		r := s.PubRate
		rate += fmt.Sprintf("; per second over %d s: min %d, median %d, p99 %d, max %d",
			r.Seconds, r.Min, r.Median, r.P99, r.Max)
	}
	field("pub rate", rate)

	if len(s.Topics) > 0 {
		for _, byBytes := range []bool{false, true} {
			by := "events"
			if byBytes {
				by = "bytes"
			}
			fmt.Fprintf(w, "\nTop %d topics by %s (of %d)\n", top, by, len(s.Topics))
			fmt.Fprintf(w, "  %-*s %12s %12s\n", nameWidth, "TOPIC", "EVENTS", "BYTES")
			for _, t := range s.TopTopics(top, byBytes) {
				fmt.Fprintf(w, "  %-*s %12d %12s\n", nameWidth, clipColumn(t.Topic, nameWidth), t.Publishes, humanBytes(t.Bytes))
			}
		}
	}

	if b := s.BodySizes; b.Count > 0 {
		fmt.Fprintf(w, "\nBody sizes (bytes): min %d, p50 %d, p90 %d, p99 %d, max %d\n", b.Min, b.P50, b.P90, b.P99, b.Max)
		var most uint64
		for _, k := range b.Buckets {
			most = max(most, k.Count)
		}
		for _, k := range b.Buckets {
			bar := strings.Repeat("#", int((k.Count*40+most-1)/most))
			fmt.Fprintf(w, "  %9d - %-9d %10d %s\n", k.Min, k.Max, k.Count, bar)
		}
	}

	if len(s.Publishers) > 0 {
		fmt.Fprintf(w, "\nPublishers (%d)\n", len(s.Publishers))
		fmt.Fprintf(w, "  %8s %-24s %12s %12s %8s\n", "CONN", "NAME", "PUBLISHES", "BYTES", "TOPICS")
		for _, p := range s.Publishers[:min(top, len(s.Publishers))] {
			fmt.Fprintf(w, "  %8d %-24s %12d %12s %8d\n", p.Conn, clipColumn(orDash(p.Name), 24), p.Publishes, humanBytes(p.Bytes), p.Topics)
		}
		more(w, len(s.Publishers)-top)
	}

	fmt.Fprintf(w, "\nFan-out: %d deliveries asked for (per PUB, each other connection with a\nmatching pattern, once however many of its patterns match)\n", s.Deliveries)
	if len(s.Subscriptions) > 0 {
		fmt.Fprintf(w, "  %-*s %12s %12s\n", nameWidth, "PATTERN", "SUBSCRIBERS", "DELIVERIES")
		for _, p := range busiestPatterns(s.Subscriptions, top) {
			fmt.Fprintf(w, "  %-*s %12d %12d\n", nameWidth, clipColumn(p.Pattern, nameWidth), p.Subscribers, p.Deliveries)
		}
		more(w, len(s.Subscriptions)-top)
	}

	fmt.Fprintln(w, "\nDrops")
	fmt.Fprintf(w, "  recorder  %s lost in %s\n", plural(s.Drops.Recorder, "record"), plural(s.Drops.Gaps, "gap"))
	fmt.Fprintf(w, "  daemon    %s dropped for slow subscribers\n", plural(s.Drops.Daemon, "event"))
	if len(s.Drops.ByConn) > 0 {
		fmt.Fprintf(w, "  %8s %-24s %12s\n", "CONN", "NAME", "DROPS")
		for _, d := range s.Drops.ByConn[:min(top, len(s.Drops.ByConn))] {
			fmt.Fprintf(w, "  %8d %-24s %12d\n", d.Conn, clipColumn(orDash(d.Name), 24), d.Drops)
		}
		more(w, len(s.Drops.ByConn)-top)
	}

	if len(s.SlowReaders) > 0 {
		fmt.Fprintf(w, "\nSlow readers (%d; pace: how fast each read while backed up)\n", len(s.SlowReaders))
		fmt.Fprintf(w, "  %8s %-20s %6s %12s %10s %12s\n", "CONN", "NAME", "STALLS", "PACE", "DROPS", "DELIVERIES")
		for _, r := range s.SlowReaders[:min(top, len(s.SlowReaders))] {
			pace := "unknown"
			if r.BytesPerSecond > 0 {
				pace = humanBytes(uint64(r.BytesPerSecond)) + "/s"
			}
			stalls := fmt.Sprint(r.Stalls)
			if r.Stalled {
				stalls += "+" // still backed up at the end
			}
			fmt.Fprintf(w, "  %8d %-20s %6s %12s %10d %12d\n", r.Conn, clipColumn(orDash(r.Name), 20), stalls, pace, r.Drops, r.Deliveries)
		}
		more(w, len(s.SlowReaders)-top)
	}

	c := s.Connections
	fmt.Fprintln(w)
	field("connections", fmt.Sprintf("%d at start, %d opened, %d closed (%d for a protocol error), %d at end",
		c.AtStart, c.Opens, c.Closes, c.ProtocolErrors, c.AtEnd))
}

// busiestPatterns is the n patterns with the most deliveries (ties by
// pattern: the summary lists them by pattern, and the sort is stable).
func busiestPatterns(subs []inspect.Subscription, n int) []inspect.Subscription {
	subs = slices.Clone(subs)
	slices.SortStableFunc(subs, func(a, b inspect.Subscription) int { return cmp.Compare(b.Deliveries, a.Deliveries) })
	return subs[:min(n, len(subs))]
}

// wrapField is "label   text", text wrapped at spaces to the report's
// width under itself.
func wrapField(label, text string) string {
	var b strings.Builder
	line := fmt.Sprintf("%-*s", labelWidth-1, label)
	for _, word := range strings.Fields(text) {
		if len(line) > labelWidth-1 && len(line)+1+len(word) > reportWidth {
			b.WriteString(line + "\n")
			line = strings.Repeat(" ", labelWidth-1)
		}
		line += " " + word
	}
	b.WriteString(line + "\n")
	return b.String()
}

// plural is "1 gap", "2 gaps".
func plural(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func more(w io.Writer, n int) {
	if n > 0 {
		fmt.Fprintf(w, "  ... and %d more (--top, --json)\n", n)
	}
}

// clipColumn cuts s to at most n bytes, at a rune's start, marking the cut.
func clipColumn(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// nsDuration is a record Time or a duration for people.
func nsDuration(ns int64) string {
	return time.Duration(ns).Round(time.Millisecond).String()
}
