package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync/atomic"

	"busd/bench/load"
	"busd/trie"
)

// Mosquitto is Debian's mosquitto broker, run as a child process with one
// UNIX-socket listener (mosquitto 2.x: "listener 0 /path"), anonymous
// access, persistence off, and its queue limits lifted so that QoS 0
// deliveries to a busy subscriber are queued rather than dropped at the
// default 1000 messages. The clients speak MQTT 3.1.1 at QoS 0.
type Mosquitto struct {
	proc *child
	sock string
}

var _ load.System = (*Mosquitto)(nil)

func (*Mosquitto) Name() string     { return "mosquitto" }
func (s *Mosquitto) ServerPID() int { return s.proc.pid() }

func (s *Mosquitto) Start(ctx context.Context) error {
	bin, err := lookBin("mosquitto", "mosquitto")
	if err != nil {
		return err
	}
	// Run as root, mosquitto switches to the user named here: keep the
	// current one so it can bind in our private directory.
	who := "mosquitto"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	conf := func(_, sock string) string {
		return fmt.Sprintf(`user %s
listener 0 %s
allow_anonymous true
persistence false
max_queued_messages 1000000
max_queued_bytes 0
max_inflight_messages 20
max_keepalive 65535
log_dest stderr
log_type error
log_type warning
connection_messages false
`, who, sock)
	}
	s.proc, s.sock, err = startConfigured(ctx, "mqtt", bin, conf, func(cf string) []string { return []string{"-c", cf} })
	return err
}

func (s *Mosquitto) Stop() error {
	err := s.proc.stop()
	s.proc = nil
	return err
}

var mqttClientSeq atomic.Int64

// appendVarint appends an MQTT remaining-length.
func appendVarint(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

func appendStr(b []byte, s string) []byte {
	b = append(b, byte(len(s)>>8), byte(len(s)))
	return append(b, s...)
}

type mqttConn struct {
	peerConn
	rb *rbuf
}

// packet reads one MQTT control packet: its first byte and its body.
func (mc *mqttConn) packet() (byte, []byte, error) {
	rb := mc.rb
	if err := rb.need(2); err != nil {
		return 0, nil, err
	}
	// Remaining length: up to 4 bytes after the first.
	n, mult, hl := 0, 1, 1
	for {
		if err := rb.need(hl + 1); err != nil {
			return 0, nil, err
		}
		d := rb.b[rb.r+hl]
		hl++
		n += int(d&0x7f) * mult
		if d&0x80 == 0 {
			break
		}
		mult *= 128
		if hl > 4 {
			return 0, nil, errors.New("mqtt: bad remaining length")
		}
	}
	p, err := rb.take(hl + n)
	if err != nil {
		return 0, nil, err
	}
	return p[0], p[hl:], nil
}

// dial connects and completes CONNECT/CONNACK (clean session, keepalive
// off: the runs are short and QoS 0 needs no session).
func (s *Mosquitto) dial() (*mqttConn, error) {
	c, err := net.Dial("unix", s.sock)
	if err != nil {
		return nil, err
	}
	mc := &mqttConn{rb: newRbuf(c)}
	mc.init(c)
	id := "bench-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(mqttClientSeq.Add(1), 10)
	var vh []byte
	vh = appendStr(vh, "MQTT")
	vh = append(vh, 4, 0x02, 0, 0) // level 4 (3.1.1), clean session, keepalive 0
	vh = appendStr(vh, id)
	pkt := appendVarint([]byte{0x10}, len(vh))
	pkt = append(pkt, vh...)
	mc.w.Write(pkt)
	if err := mc.w.Flush(); err != nil {
		c.Close()
		return nil, err
	}
	typ, body, err := mc.packet()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("mqtt: reading CONNACK: %w", err)
	}
	if typ>>4 != 2 || len(body) < 2 || body[1] != 0 {
		c.Close()
		return nil, fmt.Errorf("mqtt: connection refused (packet %#x %v)", typ, body)
	}
	return mc, nil
}

// mqttPublisher writes QoS 0 PUBLISH packets through a buffered writer,
// translating the topic's '.' to '/' as it goes. QoS 0 has no replies; a
// reader goroutine only notices a closed connection.
type mqttPublisher struct {
	*mqttConn
	scratch []byte
	done    chan struct{}
}

func (s *Mosquitto) NewPublisher() (load.Publisher, error) {
	mc, err := s.dial()
	if err != nil {
		return nil, err
	}
	p := &mqttPublisher{mqttConn: mc, scratch: make([]byte, 0, 256), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			if _, _, err := p.packet(); err != nil {
				return
			}
		}
	}()
	return p, nil
}

func (p *mqttPublisher) Publish(topic string, body []byte) error {
	b := append(p.scratch[:0], 0x30)
	b = appendVarint(b, 2+len(topic)+len(body))
	b = append(b, byte(len(topic)>>8), byte(len(topic)))
	start := len(b)
	b = append(b, topic...)
	for i := start; i < len(b); i++ {
		switch b[i] {
		case '.':
			b[i] = '/'
		case '/', '+', '#', 0:
			return fmt.Errorf("mqtt: topic %q holds a character MQTT reserves", topic)
		}
	}
	p.scratch = b
	p.w.Write(b)
	if _, err := p.w.Write(body); err != nil {
		return err
	}
	return p.loadErr()
}

func (p *mqttPublisher) Flush() error {
	return p.w.Flush()
}

func (p *mqttPublisher) Close() error {
	err := p.w.Flush()
	// DISCONNECT, so the broker closes without a "socket error" path.
	p.c.Write([]byte{0xe0, 0})
	p.c.Close()
	<-p.done
	return err
}

// mqttSubscriber sends one SUBSCRIBE holding every filter (QoS 0) and parses
// PUBLISH packets out of its read buffer without allocating.
type mqttSubscriber struct {
	*mqttConn
	set subSet
	// topic holds the busd spelling of the PUBLISH being filtered; only
	// the read loop uses it.
	topic   []byte
	onEvent func([]byte)
	subscriberLife
}

func (s *Mosquitto) NewSubscriber(patterns []string, onEvent func(body []byte)) (load.Subscriber, error) {
	set, err := newSubSet(patterns, MQTTFilter)
	if err != nil {
		return nil, err
	}
	mc, err := s.dial()
	if err != nil {
		return nil, err
	}
	sub := &mqttSubscriber{mqttConn: mc, set: set, onEvent: onEvent}
	sub.subscriberLife.init()
	var vh []byte
	vh = append(vh, 0, 1) // packet identifier
	for _, f := range set.subs {
		vh = appendStr(vh, f)
		vh = append(vh, 0) // QoS 0
	}
	pkt := appendVarint([]byte{0x82}, len(vh))
	pkt = append(pkt, vh...)
	mc.w.Write(pkt)
	if err := mc.w.Flush(); err != nil {
		mc.c.Close()
		return nil, err
	}
	go sub.readLoop()
	return sub, nil
}

func (s *mqttSubscriber) readLoop() {
	defer close(s.done)
	if err := s.parse(); err != nil && !s.closed.Load() {
		s.setErr(err)
	}
}

func (s *mqttSubscriber) parse() error {
	for {
		typ, body, err := s.packet()
		if err != nil {
			return err
		}
		switch typ >> 4 {
		case 3: // PUBLISH
			if len(body) < 2 {
				return errors.New("mqtt: short PUBLISH")
			}
			tl := int(body[0])<<8 | int(body[1])
			if len(body) < 2+tl {
				return errors.New("mqtt: short PUBLISH topic")
			}
			topic := body[2 : 2+tl]
			off := 2 + tl
			if (typ>>1)&3 != 0 {
				off += 2 // packet identifier (QoS > 0; not subscribed for)
			}
			if s.deliver(topic) {
				s.onEvent(body[off:])
			}
		case 9: // SUBACK
			for _, rc := range body[2:] {
				if rc == 0x80 {
					s.setErr(errors.New("mqtt: a subscription was refused"))
				}
			}
			close(s.ready)
		}
	}
}

// deliver decides whether this PUBLISH is passed on: MQTT's '+' and '#'
// are looser than busd's '*' and '>', so the topic, translated back to busd
// syntax, is checked with busd's semantics. Mosquitto (2.0) sends a client
// one copy of a message however many of its filters match
// (TestOverlapAndLooseMatches holds it to that).
func (s *mqttSubscriber) deliver(mqttTopic []byte) bool {
	s.topic = appendBusdTopic(s.topic[:0], mqttTopic)
	if len(s.set.pats) == 1 {
		return trie.MatchBytes(s.set.pats[0], s.topic)
	}
	return s.set.first(s.topic) >= 0
}

func (s *mqttSubscriber) Ready(ctx context.Context) error {
	return s.awaitReady(ctx, &s.peerConn, "mqtt")
}

func (s *mqttSubscriber) Close() error {
	// Closing first: the broker closes its end once it reads the
	// DISCONNECT, and the read loop must not report that.
	s.closed.Store(true)
	s.c.Write([]byte{0xe0, 0}) // DISCONNECT
	s.end(&s.peerConn)
	return nil
}
