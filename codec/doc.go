// Package codec is busd's wire layer: the frames of PROTOCOL.md ("Frame"),
// decoded without copying and encoded by appending; the check that a PUB
// body is one JSON object; and the pooled, reference-counted EVT messages
// the daemon fans out.
//
// # Zero-copy results and how long they stay valid
//
// Two things in the package hand out memory they do not copy:
//
//   - Frame.Args and Frame.Body, as (*Frame).Decode fills them, alias the
//     buffer given to Decode. They are valid until that buffer is reused,
//     compacted or discarded (for the engine: until OnTraffic returns).
//     Copy anything that must outlive it.
//   - (*Message).Frame aliases the message's pooled buffer. It is valid
//     while the caller holds a reference; after the Release that drops the
//     last one the buffer belongs to its pool again.
//
// Nothing else returns or retains the caller's memory: the Append functions
// extend dst as append does, PutEventHeader writes into dst, and
// ValidJSONObject only reads b.
//
// Decoding, validation, appending into a buffer with room and a pool hit of
// NewMessage allocate nothing; the tests assert it with
// testing.AllocsPerRun. Errors are sentinels for the same reason: a hostile
// stream must not make the error path allocate.
//
// # The life cycle of a Message
//
// NewMessage (or NewMessageRefs, for a fan-out that knows its holder count)
// takes a buffer of the right size class from a pool, with its references
// owned by the caller. The builder writes the whole EVT frame (e.g.
// PutEventHeader, then the body) before handing the message out; from then
// on the frame is never modified. Every holder (a queue slot, a pending
// write) owns one reference: Retain adds one for a new holder, Release drops
// one, and the Release that drops the count to zero returns the buffer to
// its pool. Releasing more often than retained panics.
//
// # The invariants build tag
//
// Builds with -tags invariants (the test suite, scripts/fuzz) set
// Invariants, which turns on audits that cost too much in production:
// LiveMessages counts the messages out of their pools (so tests can prove
// that closed connections leave no reference behind), a released frame is
// cleared (a use after release reads zeros, not a stale event), and
// ValidJSONObject checks every token-path verdict against the scalar
// validator and panics when they differ. Without the tag these compile
// away; a test that needs them says so when it skips.
//
// # Two JSON validators, one verdict
//
// ValidJSONObject has two implementations that must agree on every input.
// The scalar validator (json_scalar.go) is a goto state machine over the
// grammar, reading a byte (or an eight-byte word inside strings) at a time.
// The token path (json_tokens.go) walks bitmaps of token starts that a
// vector kernel (json_tokenize_amd64.s, AVX2 and PCLMULQDQ) builds 64 bytes
// at a time, checking strings' escapes, control bytes and UTF-8 as it goes,
// so a string is one token whatever its length. Where the kernel runs,
// bodies of 64 bytes or more take the token path; shorter bodies, and every
// body on other CPUs, take the scalar one. The two walkers repeat the number
// grammar inline on purpose (bench/decisions/codec.md). The tests check
// both paths on every input against a reference built from encoding/json,
// and the kernel bit for bit against jsonTokenizeGeneric, its
// byte-at-a-time reference.
package codec
