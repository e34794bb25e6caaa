package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/panjf2000/gnet/v2"

	"busd/bench/load"
	"busd/codec"
)

// relayHandler is the raw relay of bench/load (load.Raw) on one gnet event
// loop: a connection's first frame is HELLO pub or HELLO sub; a
// subscriber gets the readiness probe, and every whole frame a publisher
// sends goes to every subscriber, one write per subscriber per read. No
// patterns, no queues, nothing parsed past frame boundaries: what a
// gnet-based server costs per event before it does anything of its own,
// beside busd at the same rate.
//
// Ownership: everything here belongs to the one event loop.
type relayHandler struct {
	gnet.BuiltinEventEngine
	subs map[gnet.Conn]struct{}
}

// relayRole is a connection's context once its HELLO has arrived.
type relayRole int

const (
	rolePublisher relayRole = iota + 1
	roleSubscriber
)

// probeFrame is load.RawProbe's frame, which tells a subscriber it is
// registered.
var probeFrame = codec.AppendFrame(nil, codec.VerbEVT, load.RawProbe, nil)

func (h *relayHandler) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	role, _ := c.Context().(relayRole)
	var f codec.Frame
	from, consumed := 0, 0 // buf[from:consumed]: whole frames past the HELLO
	for {
		n, _, err := f.Decode(buf[consumed:])
		if err != nil {
			fmt.Fprintf(os.Stderr, "gnetfloor relay: %v\n", err)
			return gnet.Close
		}
		if n == 0 {
			break
		}
		consumed += n
		if role != 0 {
			continue
		}
		switch {
		case f.Verb == codec.VerbHELLO && string(f.Args) == "pub":
			role = rolePublisher
		case f.Verb == codec.VerbHELLO && string(f.Args) == "sub":
			role = roleSubscriber
			h.subs[c] = struct{}{}
			_, _ = c.Write(probeFrame)
		default:
			fmt.Fprintln(os.Stderr, "gnetfloor relay: the first frame must be HELLO pub or HELLO sub")
			return gnet.Close
		}
		c.SetContext(role)
		from = consumed
	}
	if role == rolePublisher && consumed > from {
		for s := range h.subs {
			_, _ = s.Write(buf[from:consumed])
		}
	}
	if consumed > 0 {
		_, _ = c.Discard(consumed) // Discard(0) would drop everything buffered
	}
	return gnet.None
}

func (h *relayHandler) OnClose(c gnet.Conn, _ error) gnet.Action {
	delete(h.subs, c)
	return gnet.None
}

// relayMain runs "relay --socket PATH", the arguments load.Raw starts a
// relay binary with.
func relayMain(args []string) int {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	socket := fs.String("socket", "", "UNIX socket `path` to listen on")
	if err := fs.Parse(args); err != nil || *socket == "" {
		fmt.Fprintln(os.Stderr, "usage: gnetfloor relay --socket PATH")
		return 2
	}
	os.Remove(*socket)
	h := &relayHandler{subs: map[gnet.Conn]struct{}{}}
	if err := gnet.Run(h, "unix://"+*socket, gnet.WithNumEventLoop(1)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
