package bridge

import "sync/atomic"

// Why an exported event was dropped.
const (
	dropExportFull           = iota // the outbox was full: the oldest gave way
	dropExportTooOld                // older than the age bound when NATS could take it
	dropExportTooLarge              // larger than the outbox or NATS's max payload
	dropExportInvalidSubject        // its topic is not a valid NATS subject
	numExportDrops
)

// Why an imported message was dropped.
const (
	dropImportLoop           = iota // it came from this bridge's own host id
	dropImportHops                  // past the hop limit, or a malformed count
	dropImportTooLarge              // over the bus's 1 MiB body limit
	dropImportInvalidTopic          // its subject maps to no valid bus topic
	dropImportInvalidBody           // not empty and not one JSON object
	dropImportBusUnavailable        // the bus connection was down
	numImportDrops
)

// counters are the bridge's running totals, updated lock-free on the hot
// paths and read by Stats.
type counters struct {
	exported    atomic.Uint64
	imported    atomic.Uint64
	reconnects  atomic.Uint64
	exportDrops [numExportDrops]atomic.Uint64
	importDrops [numImportDrops]atomic.Uint64
}

// Stats is a snapshot of the bridge, as its admin socket serves it.
type Stats struct {
	HostID string `json:"host_id"`
	// NATS is "connected", "reconnecting", "connecting" or "closed";
	// NATSServer the server it is connected to, credentials redacted.
	NATS       string `json:"nats"`
	NATSServer string `json:"nats_server,omitempty"`
	// Bus is "connected" or "reconnecting".
	Bus        string `json:"bus"`
	Reconnects uint64 `json:"reconnects"`
	Exported   uint64 `json:"exported"`
	Imported   uint64 `json:"imported"`
	// BufferedEvents and BufferedBytes are what the outbox holds.
	BufferedEvents int         `json:"buffered_events"`
	BufferedBytes  int         `json:"buffered_bytes"`
	ExportDropped  ExportDrops `json:"export_dropped"`
	ImportDropped  ImportDrops `json:"import_dropped"`
}

// ExportDrops counts exported events dropped, by cause.
type ExportDrops struct {
	Full           uint64 `json:"buffer_full"`
	TooOld         uint64 `json:"too_old"`
	TooLarge       uint64 `json:"too_large"`
	InvalidSubject uint64 `json:"invalid_subject"`
}

// ImportDrops counts imported messages dropped, by cause. SlowConsumer is
// what NATS's client library dropped because the bridge did not keep up
// with an import subscription (its pending limits).
type ImportDrops struct {
	Loop           uint64 `json:"loop"`
	Hops           uint64 `json:"hops"`
	TooLarge       uint64 `json:"too_large"`
	InvalidTopic   uint64 `json:"invalid_topic"`
	InvalidBody    uint64 `json:"invalid_body"`
	BusUnavailable uint64 `json:"bus_unavailable"`
	SlowConsumer   uint64 `json:"slow_consumer"`
}

func (c *counters) exportDropsSnapshot() ExportDrops {
	d := &c.exportDrops
	return ExportDrops{
		Full:           d[dropExportFull].Load(),
		TooOld:         d[dropExportTooOld].Load(),
		TooLarge:       d[dropExportTooLarge].Load(),
		InvalidSubject: d[dropExportInvalidSubject].Load(),
	}
}

func (c *counters) importDropsSnapshot() ImportDrops {
	d := &c.importDrops
	return ImportDrops{
		Loop:           d[dropImportLoop].Load(),
		Hops:           d[dropImportHops].Load(),
		TooLarge:       d[dropImportTooLarge].Load(),
		InvalidTopic:   d[dropImportInvalidTopic].Load(),
		InvalidBody:    d[dropImportInvalidBody].Load(),
		BusUnavailable: d[dropImportBusUnavailable].Load(),
	}
}
