package replay

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// conn is one replayed connection: a recorded one, or one of the copies
// Scale adds of a publisher (copy > 0), which only publishes.
//
// Frames go to buf first and reach the socket when the schedule flushes:
// before it sleeps, before a barrier or a wait, or when buf is large. The
// schedule is the only goroutine that touches buf, expected and syncSeq.
type conn struct {
	plan     *connPlan
	copy     int
	nc       *net.UnixConn
	buf      []byte
	dirty    bool    // in the pass's dirty list
	closed   bool    // the schedule closed it
	rd       *reader // copy 0 of a subscriber; nil otherwise
	expected uint64  // deliveries owed for what was sent
	syncSeq  uint64  // the latest barrier number it subscribed to
}

// flushAt is the buffer size at which a connection is written out at
// once, even while the schedule is behind and batching.
const flushAt = 64 << 10

func dialConn(socket string) (*net.UnixConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.Dial("unix", socket)
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

// name is the connection's HELLO name; copies are told apart by a suffix.
func (c *conn) name() string {
	if c.copy == 0 {
		return c.plan.name
	}
	return c.plan.name + "#" + strconv.Itoa(c.copy+1)
}

func (c *conn) flush() error {
	if len(c.buf) == 0 || c.closed {
		c.buf = c.buf[:0]
		return nil
	}
	_, err := c.nc.Write(c.buf)
	c.buf = c.buf[:0]
	if err != nil {
		return fmt.Errorf("replay: connection %d (%s): %w", c.plan.id, c.name(), err)
	}
	return nil
}
