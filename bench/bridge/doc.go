// Package bridge benchmarks busd's bridge onto NATS (bridge_test.go):
//
//	host A publisher → busd A → busd bridge A → NATS → busd bridge B → busd B → host B subscriber
//
// beside plain nats.go publisher → NATS → nats.go subscriber on the same
// NATS server, in the same run, rounds interleaved. It reports the rate
// each path delivers (medians), their ratio, and the CPU the two bridge
// processes spend per delivered event.
//
//	go test -run '^$' -bench Bridge -benchtime 3s ./bench/bridge/
//	go test -run '^$' -bench Bridge -benchtime 3s -bridge.rounds 6 ./bench/bridge/
//
// busd's daemons and bridges are child processes (./cmd/busd, built
// once); NATS is embedded in the benchmark's process on 127.0.0.1, as are
// both paths' publishers and subscribers, so the machine's cores are shared
// the same way by both paths.
package bridge
