// Command gnetfloor is the smallest gnet server: one event loop on a UNIX
// socket, no ticker, handlers that do nothing. Measured idle beside busd
// (bench/decisions/engine.md, "Idle: the floor under busd"), it shows the
// wakeups that come with gnet itself rather than with busd. With "relay"
// it is the raw relay on gnet (relay.go): what carrying an event costs a
// gnet server before it does anything of its own.
//
//	go run ./bench/gnetfloor --socket /tmp/floor.sock
//	go run ./bench/gnetfloor relay --socket /tmp/relay.sock
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/panjf2000/gnet/v2"
)

type handler struct{ gnet.BuiltinEventEngine }

func main() {
	if len(os.Args) > 1 && os.Args[1] == "relay" {
		os.Exit(relayMain(os.Args[2:]))
	}
	socket := flag.String("socket", "/tmp/gnetfloor.sock", "UNIX socket path")
	flag.String("log-level", "", "ignored (accepted so that busd's measurement scripts can run it)")
	flag.Parse()
	os.Remove(*socket)
	if err := gnet.Run(&handler{}, "unix://"+*socket, gnet.WithNumEventLoop(1)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
