package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"busd/codec"
)

// Event is one event received on a subscription.
//
// Topic comes from the EVT header, never from the body. Body is the body
// exactly as the daemon delivered it; the other fields are decoded from it
// when it is an envelope ({"v": 1, "id": ..., "type": ..., "ts": ...,
// "payload": ...}). A body that is not an envelope is still delivered, with
// only Topic and Body set.
//
// Body and Payload may be shared with other subscriptions that received the
// same event: treat them as read-only.
type Event struct {
	Topic string
	Body  []byte

	V       int
	ID      string
	Type    string
	TS      float64 // seconds since the epoch, as sent
	Payload json.RawMessage
}

// Time is TS as a time.Time (microsecond precision); the zero Time when TS
// is 0.
func (e Event) Time() time.Time {
	if e.TS == 0 {
		return time.Time{}
	}
	sec, frac := math.Modf(e.TS)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3)
}

// envelope is the decoded form of an event body.
type envelope struct {
	V       int             `json:"v"`
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	TS      float64         `json:"ts"`
	Payload json.RawMessage `json:"payload"`
}

// newEvent builds the Event for body on topic, taking ownership of body.
func newEvent(topic string, body []byte) Event {
	ev := Event{Topic: topic, Body: body}
	var env envelope
	if len(body) > 0 && json.Unmarshal(body, &env) == nil {
		ev.V, ev.ID, ev.Type, ev.TS, ev.Payload = env.V, env.ID, env.Type, env.TS, env.Payload
	}
	return ev
}

// Errors of Publish and Subscribe that concern their arguments.
var (
	// ErrInvalidTopic: a topic or pattern that cannot travel in a frame
	// header (empty, too long, or not printable ASCII without spaces).
	ErrInvalidTopic = errors.New("invalid topic")
	// ErrInvalidPayload: a payload that does not encode as JSON, or a raw
	// body that is not exactly one JSON object.
	ErrInvalidPayload = errors.New("invalid payload")
	// ErrTooLarge: the event body exceeds the 1 MiB frame limit.
	ErrTooLarge = errors.New("event body larger than 1 MiB")
)

// maxToken is the longest topic or pattern whose SUB/UNSUB/PUB header
// fits the 4096-byte header limit.
const maxToken = codec.MaxHeader - len("UNSUB \n")

// CheckTopic reports whether s can be used as a topic; what names it in
// the error ("topic" or "pattern"). It returns nil or an error wrapping
// ErrInvalidTopic.
func CheckTopic(s string) error { return checkToken("topic", s) }

// CheckPattern is CheckTopic for subscription patterns.
func CheckPattern(s string) error { return checkToken("pattern", s) }

func checkToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalidTopic, what)
	}
	if len(s) > maxToken {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidTopic, what, maxToken)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: %s %q: only printable ASCII without spaces is allowed", ErrInvalidTopic, what, s)
		}
	}
	return nil
}

// marshalPayload encodes payload for the envelope: nil is {}, a
// json.RawMessage is used as is (after checking it), anything else goes
// through encoding/json.
func marshalPayload(payload any) ([]byte, error) {
	switch p := payload.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		if len(bytes.TrimSpace(p)) == 0 {
			return []byte("{}"), nil
		}
		if !json.Valid(p) || !utf8.Valid(p) {
			return nil, fmt.Errorf("%w: json.RawMessage is not valid JSON", ErrInvalidPayload)
		}
		return p, nil
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return b, nil
}

// AppendEnvelope appends the event envelope of the wire contract,
//
//	{"v": 1, "id": "<32 hex>", "topic": "...", "type": "...", "ts": <epoch s>, "payload": ...}
//
// with a fresh random id and ts with microseconds. payload must be one JSON
// value.
func AppendEnvelope(dst []byte, topic, eventType string, ts time.Time, payload []byte) []byte {
	dst = append(dst, `{"v": 1, "id": "`...)
	dst = codec.AppendEventID(dst)
	dst = append(dst, `", "topic": `...)
	dst = strconv.AppendQuote(dst, topic) // topics are printable ASCII: Go and JSON quoting agree
	dst = append(dst, `, "type": `...)
	t, _ := json.Marshal(eventType) // a string always encodes
	dst = append(dst, t...)
	dst = append(dst, `, "ts": `...)
	dst = codec.AppendEpoch(dst, ts, 6)
	dst = append(dst, `, "payload": `...)
	dst = append(dst, payload...)
	return append(dst, '}')
}

// buildEnvelope checks the arguments of Publish and returns the body.
func buildEnvelope(topic string, payload any, eventType string) ([]byte, error) {
	if err := CheckTopic(topic); err != nil {
		return nil, err
	}
	p, err := marshalPayload(payload)
	if err != nil {
		return nil, err
	}
	body := AppendEnvelope(make([]byte, 0, len(p)+len(topic)+len(eventType)+128), topic, eventType, time.Now(), p)
	if len(body) > codec.MaxBody {
		return nil, ErrTooLarge
	}
	return body, nil
}

// checkRawBody accepts an empty body or exactly one JSON object, by the
// daemon's own rule (codec.ValidJSONObject: valid UTF-8 throughout, nesting
// within codec.MaxJSONDepth), so a body it accepts is one the daemon does.
func checkRawBody(body []byte) error {
	if len(body) > codec.MaxBody {
		return ErrTooLarge
	}
	if len(body) == 0 {
		return nil
	}
	if !codec.ValidJSONObject(body) {
		return fmt.Errorf("%w: body is not one JSON object", ErrInvalidPayload)
	}
	return nil
}
