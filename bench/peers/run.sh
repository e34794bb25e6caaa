#!/usr/bin/env bash
# Compares busd with NATS, Redis and Mosquitto on the standard workloads
# and prints one markdown table (see README.md in this directory).
#
#   bench/peers/run.sh                          # 3 s per run, every system × workload
#   bench/peers/run.sh --duration 1s --json /tmp/peers.json
#   bench/peers/run.sh --systems busd,redis --workloads W1w,W5-1k
#   bench/peers/run.sh idle --duration 20s --rounds 3   # idle cost instead (cmd/peeridle)
#
# Arguments are passed to peertable. PEERS_MAX_TIME (default 40m; Ns, Nm or Nh)
# bounds the whole comparison. Installs the Debian peers (redis-server, mosquitto) when
# missing, and stops any system-wide instance of them first: the benchmark
# runs its own, on UNIX sockets in temporary directories.
set -euo pipefail
cd "$(dirname "$0")"

max_time=${PEERS_MAX_TIME:-40m}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		echo "run.sh: need root (or sudo) for: $*" >&2
		return 1
	fi
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

if ! have redis-server || ! have mosquitto; then
	echo "run.sh: installing redis-server and mosquitto (apt)" >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		redis-server mosquitto >/dev/null
fi

# A system-wide instance (apt may start one on a TCP port) would compete
# for the CPU: stop it, through its service script or by its pid file.
stop_service() {
	local svc=$1 pidfile=$2 pid
	if [ -r "$pidfile" ]; then
		pid=$(cat "$pidfile" 2>/dev/null || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			echo "run.sh: stopping the system-wide $svc (pid $pid)" >&2
			as_root service "$svc" stop >/dev/null 2>&1 || as_root kill "$pid" || true
		fi
	fi
}
stop_service redis-server /run/redis/redis-server.pid
stop_service mosquitto /run/mosquitto/mosquitto.pid

bin=$(mktemp -d "${TMPDIR:-/tmp}/busd-peers-run.XXXXXX")
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/natsd" ./cmd/natsd
go build -o "$bin/peertable" ./cmd/peertable
go build -o "$bin/peeridle" ./cmd/peeridle
(cd ../.. && go build -o "$bin/busd" ./cmd/busd && go build -o "$bin/busbench" ./cmd/busbench &&
	go build -o "$bin/gnetfloor" ./bench/gnetfloor)

if [ "${1:-}" = idle ]; then
	shift
	exec "$bin/peeridle" --natsd "$bin/natsd" --busd "$bin/busd" "$@"
fi

# peertable stops starting runs at --max-time; timeout is the backstop.
to_secs() {
	case $1 in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
timeout --signal=INT --kill-after=30s "$(($(to_secs "$max_time") + 120))" \
	"$bin/peertable" --max-time "$max_time" --natsd "$bin/natsd" --busd "$bin/busd" --busbench "$bin/busbench" --gnetfloor "$bin/gnetfloor" "$@"
