//go:build !race

package bridge

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// The bridge's own per-event work allocates nothing once its buffers have
// grown: exporting (rules, subject, outbox) and importing (checks, topic,
// batch). nats.go's own allocations per message are outside it.
func TestAllocPerEvent(t *testing.T) {
	br := benchBridge(t)
	var batch outBatch
	warm := func(f func()) {
		for range 2048 {
			f()
		}
	}
	export := func() {
		br.exportEvent(benchTopic, benchBody)
		if ev, _ := br.out.len(); ev >= 512 {
			br.out.take(&batch)
		}
	}
	warm(export)
	if n := testing.AllocsPerRun(2000, export); n != 0 {
		t.Errorf("exporting an event: %v allocations, want 0", n)
	}
	m := &nats.Msg{Subject: "hosts.h2.decky.d1.traffic", Header: exportHeader("h2"), Data: benchBody}
	imp := func() {
		br.in.handle(0, m)
		if br.in.filling.Len() >= 512 {
			br.in.filling.Reset()
		}
	}
	warm(imp)
	if n := testing.AllocsPerRun(2000, imp); n != 0 {
		t.Errorf("importing a message: %v allocations, want 0", n)
	}
	if st := br.Stats(); st.ExportDropped != (ExportDrops{}) || st.ImportDropped != (ImportDrops{}) {
		t.Errorf("the benchmark events were refused: %+v", st)
	}
}
