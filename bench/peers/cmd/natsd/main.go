// Command natsd runs an embedded NATS server in its own process, so that a
// benchmark can read the server's CPU time and RSS from /proc. It listens on
// 127.0.0.1 only (NATS has no UNIX-socket client listener), on a free port
// unless --port says otherwise, with logging off, and prints one line,
// "listening 127.0.0.1:PORT", once it accepts clients. SIGTERM or SIGINT
// shuts it down.
//
// A client whose unsent backlog passes --max-pending is dropped by NATS as
// a "slow consumer"; the default here is raised from NATS' 64 MiB to 1 GiB
// (as Redis' pub/sub output limit is lifted) so that a flooded subscriber
// is not disconnected outright.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	port := flag.Int("port", -1, "TCP port on 127.0.0.1 (-1: a free one)")
	maxPending := flag.Int64("max-pending", 1<<30, "bytes a client may have pending before the server drops it as a slow consumer")
	writeDeadline := flag.Duration("write-deadline", time.Minute, "how long a write to a client may block")
	version := flag.Bool("version", false, "print the embedded nats-server version and exit")
	flag.Parse()
	if *version {
		fmt.Printf("nats-server %s (embedded)\n", server.VERSION)
		return
	}

	opts := &server.Options{
		Host:          "127.0.0.1",
		Port:          *port,
		NoLog:         true,
		NoSigs:        true,
		MaxPending:    *maxPending,
		WriteDeadline: *writeDeadline,
		MaxConn:       1 << 20,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsd:", err)
		os.Exit(1)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		fmt.Fprintln(os.Stderr, "natsd: server not ready after 10s")
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", s.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	s.Shutdown()
	s.WaitForShutdown()
}
