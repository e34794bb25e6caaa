//go:build !race

package inspect

import "testing"

// Once its topics, patterns and connections are known, the analysis takes
// records without allocating, subscription changes included: its memory
// follows what the file names, not how many records it holds.
func TestAllocAnalysisRecord(t *testing.T) {
	h, recs := trafficRecords(20_000)
	a := newAnalysis(h)
	for i := range recs {
		a.record(&recs[i])
	}
	allocs := testing.AllocsPerRun(3, func() {
		for i := range recs {
			a.record(&recs[i])
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per pass of %d records", allocs, len(recs))
	}
}
