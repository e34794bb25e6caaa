// Package fuzz holds busd's fuzz targets. It has no code outside its tests:
// each target checks one package against an independent reference, or the
// whole daemon against hostile streams.
//
// # Targets
//
//   - FuzzFrame: (*codec.Frame).Decode on arbitrary streams never panics;
//     the frames and the final verdict do not depend on where the stream is
//     cut into two reads; every decoded frame survives an encode/decode
//     round trip; decoding allocates nothing (checked without -race).
//   - FuzzJSONObject: codec.ValidJSONObject agrees with a reference built
//     from encoding/json, utf8 and a depth count, also with the input moved
//     behind whitespace so that it reaches the token path at several offsets
//     in a 64-byte block; it never writes to its input, never reads past its
//     end and never allocates. With -tags invariants every verdict is also
//     checked against the other validator.
//   - FuzzTrie: scripts of Add, Remove and Match on three trie.Index
//     configurations (default cache, a tiny cache, no cache) agree with
//     busd/internal/wildcardref, which states the wildcard rules as regular
//     expressions, after every step; trie.Match agrees with it pair by pair.
//   - FuzzRing: scripts of pushes from four producers, pops and closes on a
//     ring.Ring agree step by step with a sequential model of its
//     drop-oldest bounds, and every item is released exactly once.
//   - FuzzByteQueue: scripts of reserves, pops and reads on a
//     ring.ByteQueue agree with a slice of frames after every step.
//   - FuzzBridgeImport: arbitrary NATS messages (subject, origin and hop
//     headers, body) on the import subjects of a real bridge between an
//     embedded NATS server and an in-process daemon: the bridge never
//     forwards what the daemon would refuse (its bus connection is never
//     closed), accounts for every message (imported, or dropped with a
//     cause), and delivers an imported one once, under its mapped topic,
//     with its body verbatim.
//   - FuzzEngine: arbitrary streams, in two writes, into a connection of a
//     real in-process daemon: the daemon keeps running, a healthy
//     publisher/subscriber pair beside it loses nothing and keeps its order,
//     and once the connection is closed the daemon is back to its baseline
//     of connections and goroutines and, with -tags invariants, holds no
//     message reference.
//   - FuzzCaptureReader: arbitrary bytes read as a capture file
//     (capture.NewReader, then Next to the end) never panic and always end,
//     in a clean end or an error matching one of the package's four
//     (not a capture, newer version, corrupted, truncated); a file that
//     reads cleanly, written again in other chunks, reads back the same
//     records, header and footer totals.
//
// # Corpora
//
// Plain go test ./fuzz/ runs every target on its f.Add seeds and on every
// file under testdata/fuzz/<Target>/, so an input the fuzzing engine found
// and wrote there is replayed by every test run from then on. The FuzzFrame
// and FuzzEngine seeds (every hostile frame class of PROTOCOL.md and valid
// frames of every verb) are generated: TestWriteFuzzSeeds fails when one is
// missing or stale, and BUSD_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds
// ./fuzz/ rewrites them.
//
// # Fuzzing
//
// scripts/fuzz runs each target with go test -tags invariants -fuzz, one
// target per invocation, for FUZZTIME each (default 60s); FUZZTARGETS picks
// targets and FUZZPARALLEL the workers. It fails when a target finds
// something, leaving the input under testdata/fuzz/<Target>/.
package fuzz
