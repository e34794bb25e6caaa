#!/usr/bin/env bash
# Formats the output of "go test -bench . ./bench/bridge" as the markdown
# section of BENCHMARKS.md on the bridge (scripts/benchmarks, phase bridge).
#
#   bench/bridge/table.sh bridge.txt ROUNDS
set -euo pipefail
in=$1 rounds=$2

# metric BENCH UNIT: the value reported in UNIT on BENCH's result line.
metric() {
	awk -v b="$1" -v u="$2" '$1 ~ "^"b"-[0-9]+$" { for (i = 3; i < NF; i++) if ($(i+1) == u) { print $i; exit } }' "$in"
}
fmt() { printf "%.${2:-2}f" "$1"; }

nats=$(metric BenchmarkBridge nats-msgs/s)
bridge=$(metric BenchmarkBridge bridge-msgs/s)
[ -n "$nats" ] && [ -n "$bridge" ] || { echo "table.sh: no BenchmarkBridge result in $in" >&2; exit 1; }

cat <<TEXT
\`go test -bench . ./bench/bridge\`: one NATS server (embedded in the benchmark, on
127.0.0.1); two daemons and two \`busd bridge\` processes, one exporting \`bench.>\` from
host A, one importing it into host B. Each round floods both paths in turn for the same
time with the same $(fmt "$(metric BenchmarkBridge event-bytes)" 0)-byte event, publishers handing over 64 events at a time, and
counts what the subscriber receives until it has been quiet for 300 ms. The rate is
delivered events over the time from the first publish to the last delivery. Medians of
$rounds interleaved rounds.

| path | delivered/s | lost |
|---|--:|--:|
| plain NATS: nats.go → NATS → nats.go | $(fmt "$nats" 0) | $(fmt "$(metric BenchmarkBridge nats-loss-%)" 1) % |
| busd client → busd A → bridge A → NATS → bridge B → busd B → busd client | $(fmt "$bridge" 0) | $(fmt "$(metric BenchmarkBridge bridge-loss-%)" 1) % |

The bridge's path delivers **$(fmt "$(metric BenchmarkBridge bridge/nats)") ×** plain NATS's rate (the target is at
least 0.5). Its two bridge processes spend **$(fmt "$(metric BenchmarkBridge bridge-cpu-µs/event)") µs of CPU per bridged event**
together (export and import), the two daemons $(fmt "$(metric BenchmarkBridge daemons-cpu-µs/event)") µs. What the flood
loses is dropped where at-most-once delivery drops under overload, and counted there:
the oldest events in daemon A's queue for the bridge when the bridge falls behind,
or in the bridge's outbox, never by blocking a publisher.

The daemon with a bridge attached (with the platform's rules: exporting
\`decky.*.traffic\` and \`attacker.observed\`, importing \`topology.*.mutation.>\`, none of
which the workload publishes) beside the same daemon without it, rounds interleaved;
each figure is the ratio of the medians (1 = unchanged):

| workload | msgs/s | server CPU per event | p50 | p99 |
|---|--:|--:|--:|--:|
TEXT
for w in W1w W5-20k; do
	b="BenchmarkDaemonBridgeAttached/workload=$w"
	row="| $w | $(fmt "$(metric "$b" with/without-msgs/s)")"
	row+=" | $(fmt "$(metric "$b" with/without-srv-cpu)")"
	p50=$(metric "$b" with/without-p50)
	p99=$(metric "$b" with/without-p99)
	for v in "$p50" "$p99"; do
		if [ -n "$v" ]; then row+=" | $(fmt "$v")"; else row+=" | —"; fi
	done
	row+=" |"
	echo "$row"
done
