package peers

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"time"

	"busd/bench/load"
)

// GnetFloor is the smallest gnet server (bench/gnetfloor: one event loop,
// handlers that do nothing): what a gnet-based server costs idle before it
// does anything of its own, measured beside busd by peeridle. Its
// subscribers only hold a connection; it carries no events.
type GnetFloor struct {
	// Bin is the gnetfloor executable; empty: build ./bench/gnetfloor.
	Bin  string
	proc *child
	sock string
}

// GnetFloorName names GnetFloor in results.
const GnetFloorName = "gnet-floor"

func (g *GnetFloor) Name() string { return GnetFloorName }

func (g *GnetFloor) Start(ctx context.Context) error {
	bin := g.Bin
	if bin == "" {
		var err error
		if bin, err = load.BuildCommand("./bench/gnetfloor"); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "busd-peer-gnetfloor-")
	if err != nil {
		return err
	}
	g.sock = filepath.Join(dir, "s")
	if g.proc, _, err = startChild(dir, bin, []string{"--socket", g.sock}, false); err != nil {
		os.RemoveAll(dir)
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", g.sock); err == nil {
			c.Close()
			return nil
		}
		if g.proc.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			g.Stop()
			return errors.New("gnet-floor did not start: " + g.proc.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (g *GnetFloor) Stop() error {
	if g.proc == nil {
		return nil
	}
	err := g.proc.stop()
	g.proc = nil
	return err
}

func (g *GnetFloor) ServerPID() int { return g.proc.cmd.Process.Pid }

func (g *GnetFloor) NewPublisher() (load.Publisher, error) {
	return nil, errors.New("gnet-floor carries no events")
}

func (g *GnetFloor) NewSubscriber(_ []string, _ func([]byte)) (load.Subscriber, error) {
	c, err := net.Dial("unix", g.sock)
	if err != nil {
		return nil, err
	}
	return floorSub{c}, nil
}

// floorSub holds one connection open.
type floorSub struct{ net.Conn }

func (floorSub) Ready(context.Context) error { return nil }
