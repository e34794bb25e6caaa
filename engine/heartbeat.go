package engine

import (
	"os"
	"strconv"
	"time"

	"busd/codec"
)

var healthTopic = []byte("system.bus.health")

// heartbeat publishes system.bus.health (PROTOCOL.md, "Heartbeat") to every
// matching subscriber. It runs on the ticker goroutine, which belongs to no
// loop, so every subscriber is woken through its loop's inbox.
func (s *Server) heartbeat(now time.Time) {
	subs := s.index.Match(healthTopic)
	s.heartbeats.Add(1)
	if len(subs) == 0 {
		return
	}
	payload := make([]byte, 0, 96)
	payload = append(payload, `{"pid": `...)
	payload = strconv.AppendInt(payload, int64(os.Getpid()), 10)
	payload = append(payload, `, "uptime_sec": `...)
	payload = strconv.AppendFloat(payload, now.Sub(s.start).Seconds(), 'f', 3, 64)
	payload = append(payload, `, "ts": `...)
	payload = codec.AppendEpoch(payload, now, 6)
	payload = append(payload, '}')
	body := codec.AppendEnvelope(make([]byte, 0, 256), healthTopic, "bus.health", now, payload)
	s.fanOut(nil, nil, healthTopic, body, subs)
}
