package peers

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"busd/bench/load"
)

// Redis is Debian's redis-server, run as a child process listening on a
// UNIX socket only (port 0), with persistence off and the pub/sub client
// output buffer unlimited (by default Redis disconnects a subscriber whose
// backlog passes 32 MiB for 60 s or 8 MiB for 60 s — a flood would lose
// whole subscribers, not events).
//
// A fresh server per workload matters for Redis in particular: it keeps
// paying for patterns that were removed.
type Redis struct {
	proc *child
	sock string
}

var _ load.System = (*Redis)(nil)

func (*Redis) Name() string     { return "redis" }
func (s *Redis) ServerPID() int { return s.proc.pid() }

func (s *Redis) Start(ctx context.Context) error {
	bin, err := lookBin("redis-server", "redis-server")
	if err != nil {
		return err
	}
	conf := func(dir, sock string) string {
		return fmt.Sprintf(`port 0
unixsocket %s
unixsocketperm 700
daemonize no
supervised no
save ""
appendonly no
protected-mode no
client-output-buffer-limit pubsub 0 0 0
maxclients 100000
loglevel warning
logfile ""
dir %s
`, sock, dir)
	}
	s.proc, s.sock, err = startConfigured(ctx, "redis", bin, conf, func(cf string) []string { return []string{cf} })
	return err
}

func (s *Redis) Stop() error {
	err := s.proc.stop()
	s.proc = nil
	return err
}

type redisConn struct {
	peerConn
}

func (s *Redis) dial() (*redisConn, error) {
	c, err := net.Dial("unix", s.sock)
	if err != nil {
		return nil, err
	}
	rc := &redisConn{}
	rc.init(c)
	return rc, nil
}

// appendBulk appends a RESP bulk string.
func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// redisPublisher pipelines PUBLISH commands; a reader goroutine consumes
// the integer replies (so the socket never fills) and records errors.
type redisPublisher struct {
	*redisConn
	scratch []byte
	done    chan struct{}
}

func (s *Redis) NewPublisher() (load.Publisher, error) {
	rc, err := s.dial()
	if err != nil {
		return nil, err
	}
	p := &redisPublisher{redisConn: rc, scratch: make([]byte, 0, 256), done: make(chan struct{})}
	go p.readLoop()
	return p, nil
}

func (p *redisPublisher) readLoop() {
	defer close(p.done)
	rb := newRbuf(p.c)
	for {
		l, err := rb.line()
		if err != nil {
			return
		}
		if len(l) > 0 && l[0] == '-' {
			p.setErr(fmt.Errorf("redis: server: %s", l))
		}
	}
}

func (p *redisPublisher) Publish(topic string, body []byte) error {
	b := append(p.scratch[:0], "*3\r\n$7\r\nPUBLISH\r\n"...)
	b = appendBulk(b, topic)
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, '\r', '\n')
	p.scratch = b
	p.w.Write(b)
	p.w.Write(body)
	if _, err := p.w.WriteString("\r\n"); err != nil {
		return err
	}
	return p.loadErr()
}

func (p *redisPublisher) Flush() error {
	if err := p.w.Flush(); err != nil {
		return err
	}
	return p.loadErr()
}

func (p *redisPublisher) Close() error {
	err := p.w.Flush()
	p.c.Close()
	<-p.done
	return err
}

// redisSubscriber holds exact topics as SUBSCRIBE channels and wildcard
// patterns as PSUBSCRIBE globs, and parses message/pmessage pushes out of
// its read buffer without allocating.
type redisSubscriber struct {
	*redisConn
	set     subSet
	chans   map[string]int // SUBSCRIBE channel → subscription index
	globs   map[string]int // PSUBSCRIBE glob → subscription index
	want    int            // subscribe confirmations expected
	onEvent func([]byte)
	subscriberLife
}

func (s *Redis) NewSubscriber(patterns []string, onEvent func(body []byte)) (load.Subscriber, error) {
	// A subscription is named "c:channel" or "p:glob" in the set, so an
	// exact channel and a glob of the same spelling stay apart.
	set, err := newSubSet(patterns, func(p string) (string, error) {
		g, exact := RedisPattern(p)
		if exact {
			return "c:" + g, nil
		}
		return "p:" + g, nil
	})
	if err != nil {
		return nil, err
	}
	sub := &redisSubscriber{set: set, chans: make(map[string]int), globs: make(map[string]int),
		want: len(set.subs), onEvent: onEvent}
	sub.subscriberLife.init()
	var chans, globs []string
	for k, t := range set.subs {
		if t[0] == 'c' {
			sub.chans[t[2:]] = k
			chans = append(chans, t[2:])
		} else {
			sub.globs[t[2:]] = k
			globs = append(globs, t[2:])
		}
	}
	rc, err := s.dial()
	if err != nil {
		return nil, err
	}
	sub.redisConn = rc
	var b []byte
	for _, cmd := range []struct {
		verb string
		args []string
	}{{"SUBSCRIBE", chans}, {"PSUBSCRIBE", globs}} {
		if len(cmd.args) == 0 {
			continue
		}
		b = append(b[:0], '*')
		b = strconv.AppendInt(b, int64(len(cmd.args)+1), 10)
		b = append(b, '\r', '\n')
		b = appendBulk(b, cmd.verb)
		for _, a := range cmd.args {
			b = appendBulk(b, a)
		}
		rc.w.Write(b)
	}
	if err := rc.w.Flush(); err != nil {
		rc.c.Close()
		return nil, err
	}
	go sub.readLoop()
	return sub, nil
}

// bulk reads one RESP bulk string ($len\r\nbytes\r\n).
func bulk(rb *rbuf) ([]byte, error) {
	l, err := rb.line()
	if err != nil {
		return nil, err
	}
	if len(l) < 2 || l[0] != '$' {
		return nil, fmt.Errorf("redis: expected a bulk string, got %q", l)
	}
	n := atoi(l[1:])
	if n < 0 {
		return nil, fmt.Errorf("redis: bad bulk length %q", l)
	}
	b, err := rb.take(n + 2)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

func (s *redisSubscriber) readLoop() {
	defer close(s.done)
	err := s.parse()
	if err != nil && !s.closed.Load() {
		s.setErr(err)
	}
}

func (s *redisSubscriber) parse() error {
	rb := newRbuf(s.c)
	confirmed := 0
	if s.want == 0 {
		close(s.ready)
	}
	for {
		l, err := rb.line()
		if err != nil {
			return err
		}
		if len(l) == 0 {
			continue
		}
		if l[0] == '-' {
			return fmt.Errorf("redis: server: %s", l)
		}
		if l[0] != '*' {
			continue
		}
		n := atoi(l[1:])
		kind, err := bulk(rb)
		if err != nil {
			return err
		}
		switch {
		case n == 3 && string(kind) == "message":
			ch, err := bulk(rb)
			if err != nil {
				return err
			}
			// Decide before the next read may move the buffer.
			k, ok := s.chans[string(ch)]
			deliver := ok && (len(s.set.pats) == 1 || s.set.deliverVia(k, ch))
			body, err := bulk(rb)
			if err != nil {
				return err
			}
			if deliver {
				s.onEvent(body)
			}
		case n == 4 && string(kind) == "pmessage":
			pat, err := bulk(rb)
			if err != nil {
				return err
			}
			k, ok := s.globs[string(pat)]
			ch, err := bulk(rb)
			if err != nil {
				return err
			}
			// A glob is looser than busd's pattern: always check.
			deliver := ok && s.set.deliverVia(k, ch)
			body, err := bulk(rb)
			if err != nil {
				return err
			}
			if deliver {
				s.onEvent(body)
			}
		case n == 3 && (string(kind) == "subscribe" || string(kind) == "psubscribe"):
			if _, err := bulk(rb); err != nil {
				return err
			}
			if _, err := rb.line(); err != nil { // :count
				return err
			}
			confirmed++
			if confirmed == s.want {
				close(s.ready)
			}
		default:
			// Unknown push: skip its remaining elements.
			for k := 1; k < n; k++ {
				el, err := rb.line()
				if err != nil {
					return err
				}
				if len(el) > 0 && el[0] == '$' {
					if m := atoi(el[1:]); m >= 0 {
						if _, err := rb.take(m + 2); err != nil {
							return err
						}
					}
				}
			}
		}
	}
}

func (s *redisSubscriber) Ready(ctx context.Context) error {
	return s.awaitReady(ctx, &s.peerConn, "redis")
}

func (s *redisSubscriber) Close() error {
	s.end(&s.peerConn)
	return nil
}
