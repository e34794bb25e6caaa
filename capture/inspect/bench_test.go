package inspect

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"busd/capture"
)

// trafficRecords is a steady mix like the deployment's (PROTOCOL.md,
// "Typical traffic"): pubs bodies of 150-400 bytes over topics, subscribers
// mostly on ">" tails and one "*", a few samples and subscription changes.
func trafficRecords(n int) (capture.Header, []capture.Record) {
	h := capture.Header{Payload: capture.PayloadShape, Sequence: 1, Start: time.Unix(0, 0)}
	patterns := []string{"decky.>", "decky.*.state", "topology.>", "identity.>", "campaign.>", ">"}
	for c := range 20 {
		h.Conns = append(h.Conns, capture.Conn{Conn: uint64(c + 1), Name: fmt.Sprint("sub", c),
			Patterns: []string{patterns[c%len(patterns)], patterns[(c+2)%len(patterns)]}})
	}
	var topics [][]byte
	for _, root := range []string{"decky", "topology", "identity", "campaign", "system"} {
		for i := range 40 {
			topics = append(topics, fmt.Appendf(nil, "%s.d%d.state", root, i))
		}
	}
	recs := make([]capture.Record, 0, n)
	for i := range n {
		t := int64(i) * 50_000 // 20k records/s
		switch {
		case i%1000 == 999:
			recs = append(recs, capture.Record{Kind: capture.KindSub, Time: t, Conn: uint64(i/1000%20 + 1), Text: []byte("decky.>")})
		case i%1000 == 499:
			recs = append(recs, capture.Record{Kind: capture.KindUnsub, Time: t, Conn: uint64(i/1000%20 + 1), Text: []byte("decky.>")})
		case i%250 == 7:
			recs = append(recs, capture.Record{Kind: capture.KindOut, Time: t, Conn: 3, State: capture.OutState(1 + i/250%2),
				EventsOut: uint64(i), BytesOut: uint64(i) * 300, Drops: uint64(i / 1000)})
		default:
			recs = append(recs, capture.Record{Kind: capture.KindPub, Time: t, Conn: uint64(21 + i%4),
				Text: topics[(i*7)%len(topics)], Size: uint32(150 + i%250)})
		}
	}
	return h, recs
}

func trafficFile(b *testing.B, n int) []byte {
	h, recs := trafficRecords(n)
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, h, capture.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range recs {
		if err := w.Append(&recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(recs[len(recs)-1].Time, "stopped"); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkAnalyze is a whole file, read and analysed.
func BenchmarkAnalyze(b *testing.B) {
	const n = 200_000
	file := trafficFile(b, n)
	b.ReportAllocs()
	for b.Loop() {
		r, err := capture.NewReader(bytes.NewReader(file), capture.ReaderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s, err := Analyze(r)
		if err != nil || s.Records != n {
			b.Fatal(err, s.Records)
		}
		r.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAnalysisRecord is the analysis alone, per record, once every
// topic has been seen.
func BenchmarkAnalysisRecord(b *testing.B) {
	h, recs := trafficRecords(100_000)
	a := newAnalysis(h)
	for i := range recs {
		a.record(&recs[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.record(&recs[i])
		if i++; i == len(recs) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
