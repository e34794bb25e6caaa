// Package replay plays a capture file back into a running daemon, at the
// recorded pace or faster, and measures what the daemon did with it: every
// delivery it owed, the drops it noticed, how far the sender fell behind
// its schedule and the daemon's CPU time. FindMax raises the speed until
// the daemon stops keeping up, which is the host's headroom for that
// traffic.
//
// Where things are:
//
//   - options.go: what a replay is asked to do; report.go: what it found.
//   - plan.go: the pre-pass over the file (duration, counts, paces);
//     audience.go: who each PUB reaches, the one rule both sides count by.
//   - run.go, pass.go: one replay, pass by pass, on one schedule.
//   - conn.go, reader.go, bucket.go: a replayed connection and its reader.
//   - barrier.go: making sure the daemon applied a subscription before
//     the events that depend on it are sent.
//   - frame.go, filler.go: encoding PUBs, bodies for shape-only files.
//   - hist.go, cpu.go: lag statistics, the daemon's CPU time.
//   - findmax.go: the headroom search.
package replay
