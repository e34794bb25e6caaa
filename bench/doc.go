// Package bench holds the end-to-end benchmarks of busd (e2e_test.go):
// every standard workload of bench/load run against a fresh busd process
// per benchmark, reporting throughput, loss, server and client CPU per
// million events, server RSS and, for the rate workloads, latency
// percentiles.
//
//	go test -run '^$' -bench . ./bench/                   # a few seconds per workload
//	go test -run '^$' -bench 'workload=W1w$' -benchtime 5s ./bench/
//
// The measurement time of each benchmark is -benchtime (a duration), and
// a short fixed time for an iteration count such as -benchtime=1x (CI's
// smoke run). Each benchmark is one run, whatever b.N: ns/op is the
// measurement time per delivered event.
package bench
