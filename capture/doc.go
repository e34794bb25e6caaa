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
//   - record.go: what a file holds (Record, Header, Footer).
//   - writer.go, reader.go, and their encoding: the file format.
//   - recorder.go, lane.go: the daemon side. Event loops hand records to
//     per-loop lock-free lanes; one goroutine drains them into files, so
//     recording never blocks a loop: a full lane drops the record, counts
//     it and marks the gap in the file.
package capture
