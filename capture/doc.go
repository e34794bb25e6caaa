// Package capture records what a busd daemon carries into zstd capture
// files, and reads them back.
//
// A capture file is a multi-frame zstd stream (zstdcat reads it): a header
// frame, then one frame per chunk of records, then a footer frame with the
// totals and an index of the chunks. Each chunk is complete on its own, so a
// file cut short by a crash or a full disk reads up to its last complete
// chunk. docs/capture-format.md is the byte-level description.
//
// Where things are:
//
//   - record.go: what a file holds (Record, Header, Footer); pace.go: a
//     subscriber's reading speed from its stall and resume records.
//   - The file format: writer.go and reader.go, on block.go and frame.go
//     (the zstd frames and CRC-checked blocks), recordcodec.go (records in
//     a chunk), drops.go (the footer's daemon drops), limits.go and
//     errors.go (what a reader refuses, and how it says so).
//   - The daemon side: recorder.go, with options.go, files.go (names,
//     0600, rotation) and conntable.go (the connections a rotated file's
//     header lists); tap.go, lane.go and entry.go: the event loops hand
//     records to per-loop lock-free lanes and one goroutine drains them
//     into files, so recording never blocks a loop: a full lane drops the
//     record, counts it and marks the gap in the file.
package capture
