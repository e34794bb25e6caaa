package main

import (
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"

	"busd/capture"
)

// start is the capture's wall clock at Time 0: fixed, so that the file
// depends on the config alone.
var start = time.Date(2025, 11, 27, 10, 0, 0, 0, time.UTC)

type stats struct {
	records, pubs uint64
	size          int64
}

// generate writes the capture cfg describes to w.
func generate(w io.Writer, cfg config) (stats, error) {
	p := newPlatform(cfg)
	recs := records(p, cfg)
	h := capture.Header{
		Host:        "platform-sim",
		BusdVersion: "capgen",
		Start:       start,
		Payload:     capture.PayloadShape,
		Sequence:    1,
	}
	for _, c := range p.resident() {
		h.Conns = append(h.Conns, capture.Conn{Conn: c.id, Name: c.name, Patterns: c.patterns, PID: int32(4000 + c.id), UID: 1000})
	}
	cw, err := capture.NewWriter(w, h, capture.WriterOptions{Level: zstd.SpeedBestCompression})
	if err != nil {
		return stats{}, err
	}
	var st stats
	for i := range recs {
		if err := cw.Append(&recs[i]); err != nil {
			return st, err
		}
		st.records++
		if recs[i].Kind == capture.KindPub {
			st.pubs++
		}
	}
	if err := cw.Close(int64(cfg.Duration), "duration"); err != nil {
		return st, err
	}
	st.size = cw.Size()
	return st, nil
}

// records is every record of the capture, in time order. Each process
// draws from its own random stream (seeded from cfg.Seed and its place), so
// that changing one process leaves the others' records as they were.
func records(p *platform, cfg config) []capture.Record {
	g := &gen{end: int64(cfg.Duration), topics: map[string][]byte{}}
	stream := uint64(0)
	next := func() *rand.Rand {
		stream++
		return rand.New(rand.NewPCG(cfg.Seed, stream))
	}
	for t := range cfg.Topologies {
		g.rng = next()
		g.traffic(p, t)
		g.rng = next()
		g.control(p, t)
	}
	g.rng = next()
	g.logs(p)
	g.operator(p)
	sortByTime(g.recs)
	g.recs = append(g.recs, slowSamples([]client{p.archiver, p.siem}, g.recs, g.end)...)
	sortByTime(g.recs)
	return g.recs
}

// sortByTime orders records by time, keeping the order of those at the
// same time.
func sortByTime(recs []capture.Record) {
	slices.SortStableFunc(recs, func(a, b capture.Record) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
}
