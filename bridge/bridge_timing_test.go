package bridge

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// benchBridge is a Bridge with the platform's rules and nothing connected:
// enough to run the per-event paths.
func benchBridge(tb testing.TB) *Bridge {
	cfg := DefaultConfig()
	cfg.Socket, cfg.NATS, cfg.HostID = "/nonexistent", []string{"nats://127.0.0.1:4222"}, "h1"
	cfg.Rules = []Rule{
		{Pattern: "decky.*.traffic", Direction: Export, RemotePrefix: "hosts.{host}"},
		{Pattern: "attacker.observed", Direction: Export, RemotePrefix: "hosts.{host}"},
		{Pattern: "decky.*.traffic", Direction: Import, RemotePrefix: "hosts.*"},
	}
	b, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var (
	benchTopic = []byte("decky.d1.traffic")
	benchBody  = []byte(`{"v": 1, "id": "0123456789abcdef0123456789abcdef", "topic": "decky.d1.traffic", "type": "traffic", "ts": 1764190000.123456, "payload": {"src": "203.0.113.7", "dst_port": 22, "bytes": 1834}}`)
)

// BenchmarkExportEvent is the bus reader's share of an exported event:
// match the rules, map the subject, queue it in the outbox.
func BenchmarkExportEvent(b *testing.B) {
	br := benchBridge(b)
	var batch outBatch
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	i := 0
	for b.Loop() {
		br.exportEvent(benchTopic, benchBody)
		if i++; i == 1024 {
			br.out.take(&batch) // what the sender does
			i = 0
		}
	}
}

// BenchmarkImportHandle is an import route's share of an imported message
// (nats.go's parsing excluded): loop guard, rule ownership, topic mapping,
// body validation and batching.
func BenchmarkImportHandle(b *testing.B) {
	br := benchBridge(b)
	m := &nats.Msg{Subject: "hosts.h2.decky.d1.traffic", Header: exportHeader("h2"), Data: benchBody}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	i := 0
	for b.Loop() {
		br.in.handle(0, m)
		if i++; i == 1024 {
			br.in.filling.Reset() // what the writer does
			i = 0
		}
	}
}
