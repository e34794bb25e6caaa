package admin

import (
	"bytes"
	"encoding/json"
	"testing"

	"busd/engine"
	"busd/trie"
)

// stubSource serves fixed figures.
type stubSource struct{ st engine.Stats }

func (s stubSource) Stats() engine.Stats               { return s.st }
func (s stubSource) Connections() []engine.ConnInfo    { return nil }
func (s stubSource) IndexStats() trie.Stats            { return trie.Stats{} }
func (s stubSource) with(f func(*engine.Stats)) Source { f(&s.st); return s }

// Each limit's counter reaches its own metric.
func TestLimitMetrics(t *testing.T) {
	src := stubSource{}.with(func(st *engine.Stats) {
		st.SubsRefusedConnLimit = 11
		st.SubsRefusedTotalLimit = 12
		st.PendingBytes = 13
		st.PendingCloses = 14
		st.FrameTimeouts = 15
		st.MemoryReleases = 16
	})
	var b bytes.Buffer
	writeBusMetrics(&b, src, "v")
	samples, types := parseMetrics(t, b.String())
	for name, want := range map[string]float64{
		`busd_subscriptions_refused_total{reason="conn_limit"}`:  11,
		`busd_subscriptions_refused_total{reason="total_limit"}`: 12,
		"busd_pending_bytes":         13,
		"busd_pending_closes_total":  14,
		"busd_frame_timeouts_total":  15,
		"busd_memory_releases_total": 16,
	} {
		if got, ok := samples[name]; !ok || got != want {
			t.Errorf("%s = %v (present %t), want %v", name, got, ok, want)
		}
	}
	for name, typ := range map[string]string{
		"busd_subscriptions_refused_total": "counter", "busd_pending_bytes": "gauge", "busd_pending_closes_total": "counter",
		"busd_frame_timeouts_total": "counter", "busd_memory_releases_total": "counter",
	} {
		if types[name] != typ {
			t.Errorf("%s: type %q, want %q", name, types[name], typ)
		}
	}
}

// /statsz carries each limit's counter under its own name.
func TestLimitStatsz(t *testing.T) {
	got := statsOf(engine.Stats{
		SubsRefusedConnLimit:  21,
		SubsRefusedTotalLimit: 22,
		PendingBytes:          23,
		PendingCloses:         24,
		FrameTimeouts:         25,
		MemoryReleases:        26,
	})
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{
		"subs_refused_conn_limit": 21, "subs_refused_total_limit": 22, "pending_bytes": 23,
		"pending_closes": 24, "frame_timeouts": 25, "memory_releases": 26,
	} {
		if v, ok := doc[key].(float64); !ok || v != want {
			t.Errorf("/statsz %s = %v, want %v", key, doc[key], want)
		}
	}
}
