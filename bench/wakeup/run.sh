#!/usr/bin/env bash
# Where the CPU of a read batch goes: busd at a fixed rate low enough that
# every event is a read batch of its own (1 publisher → 1 subscriber), the
# capacity model's per-read-batch term measured directly and split into
# the kernel's share and the rest, with the context switches, migrations
# and system calls behind each batch (perf stat). Prints one markdown table.
#
#   bench/wakeup/run.sh [--busd BIN] [--busbench BIN] [--rate 20000] [--duration 10s]
#
# One run on a fresh daemon: run time from /proc/<pid>/task/*/schedstat
# (through busbench), user and kernel time from /proc/<pid>/stat (10 ms
# ticks, hundreds of them over the run), context switches, migrations and
# system calls from perf stat. Needs perf (Debian: linux-perf).
set -euo pipefail
cd "$(dirname "$0")/../.."

busd="" busbench="" rate=20000 duration=10s
while [ $# -gt 0 ]; do
	case $1 in
	--busd) busd=$2; shift 2 ;;
	--busbench) busbench=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	*) echo "usage: $0 [--busd BIN] [--busbench BIN] [--rate N] [--duration D]" >&2; exit 2 ;;
	esac
done
command -v perf >/dev/null || { echo "wakeup: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/busd-wakeup.XXXXXX")
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ -z "$busd" ]; then go build -o "$tmp/busd" ./cmd/busd; busd=$tmp/busd; fi
if [ -z "$busbench" ]; then go build -o "$tmp/busbench" ./cmd/busbench; busbench=$tmp/busbench; fi

"$busd" --socket "$tmp/s" --log-level warn &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/s" ] && break; sleep 0.05; done

# ticks reads utime and stime (fields 14 and 15; the command name before
# them may hold spaces), in clock ticks.
ticks() { sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12, $13}'; }
secs=${duration%s}

# field reads a number from a one-line JSON document.
field() { grep -o "\"$1\":[0-9.e+-]*" <<<"$2" | head -n 1 | cut -d: -f2; }
# batches is the daemon's count of read batches (its admin socket).
batches() { field read_batches "$("$busd" stats --socket "$tmp/s" --json)"; }

read -r u0 s0 < <(ticks)
b0=$(batches)
# Tracepoints count the system calls without slowing them (strace -c
# perturbs the very hand-offs measured here: under it the futex calls all
# but vanish).
calls=(epoll_pwait epoll_wait read write futex nanosleep tgkill getpid sched_yield madvise)
events=(context-switches cpu-migrations raw_syscalls:sys_enter)
for c in "${calls[@]}"; do events+=("syscalls:sys_enter_$c"); done
perf stat -x, -e "$(IFS=,; echo "${events[*]}")" -p "$pid" -o "$tmp/perf" -- sleep "$((secs + 2))" &
perfpid=$!
"$busbench" --socket "$tmp/s" --pid "$pid" --json --mode rate --rate "$rate" --duration "$duration" >"$tmp/run.json"
wait "$perfpid"
read -r u1 s1 < <(ticks)
b1=$(batches)

# The CPU is busbench's measurement window; the ticks, switches, calls and
# batches span perf's, which holds it and the run's setup (whose few
# batches, a HELLO and a SUB, are counted too).
batches=$((b1 - b0))
delivered=$(field delivered "$(cat "$tmp/run.json")")
cpu=$(field server_cpu_seconds "$(cat "$tmp/run.json")")
count() { awk -F, -v e="$1" '$3 == e {print $1}' "$tmp/perf"; }

awk -v b="$batches" -v e="$delivered" -v cpu="$cpu" -v u=$((u1 - u0)) -v s=$((s1 - s0)) \
	-v cs="$(count context-switches)" -v mig="$(count cpu-migrations)" -v sys="$(count raw_syscalls:sys_enter)" \
	-v rate="$rate" -v d="$duration" '
BEGIN {
	us = cpu / b * 1e6
	kshare = s / (u + s)
	printf "busd, %d events/s, 1 publisher → 1 subscriber, %s: %d events in %d read batches.\n\n", rate, d, e, b
	print "| per read batch | |"
	print "|---|--:|"
	printf "| CPU (run time) | %.1f µs |\n", us
	printf "| in the kernel (stime share %.0f %%) | %.1f µs |\n", 100 * kshare, us * kshare
	printf "| in the process (utime share %.0f %%) | %.1f µs |\n", 100 * (1 - kshare), us * (1 - kshare)
	printf "| context switches | %.2f |\n", cs / b
	printf "| CPU migrations | %.2f |\n", mig / b
	printf "| system calls | %.2f |\n", sys / b
}'
for c in "${calls[@]}"; do
	n=$(count "syscalls:sys_enter_$c")
	[ -n "$n" ] && [ "$n" != "<not" ] && [ "$n" -gt 0 ] 2>/dev/null || continue
	awk -v c="$c" -v n="$n" -v b="$batches" 'BEGIN { printf "| %s | %.2f |\n", c, n / b }'
done
