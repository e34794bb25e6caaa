package codec

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"time"
)

// AppendEnvelope appends the event envelope of PROTOCOL.md:
//
//	{"v": 1, "id": "<32 hex>", "topic": "...", "type": "...", "ts": <epoch s>, "payload": ...}
//
// payload must already be one JSON value; topic and typ are escaped here.
// It is used for the events the daemon itself builds (heartbeats, empty PUB
// bodies); client bodies are forwarded verbatim.
func AppendEnvelope(dst []byte, topic []byte, typ string, ts time.Time, payload []byte) []byte {
	dst = append(dst, `{"v": 1, "id": "`...)
	dst = AppendEventID(dst)
	dst = append(dst, `", "topic": `...)
	dst = AppendJSONString(dst, topic)
	dst = append(dst, `, "type": `...)
	dst = AppendJSONString(dst, []byte(typ))
	dst = append(dst, `, "ts": `...)
	dst = AppendEpoch(dst, ts, 6)
	dst = append(dst, `, "payload": `...)
	dst = append(dst, payload...)
	return append(dst, '}')
}

// AppendEventID appends a fresh random identifier: 32 lowercase hex digits.
func AppendEventID(dst []byte) []byte {
	var raw [16]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		raw[i] = byte(a >> (8 * i))
		raw[8+i] = byte(b >> (8 * i))
	}
	return hex.AppendEncode(dst, raw[:])
}

// AppendEpoch appends t as seconds since the epoch with the given number of
// decimals (at most 9), formatted from integers so no float rounding shows.
func AppendEpoch(dst []byte, t time.Time, decimals int) []byte {
	ns := t.UnixNano()
	dst = strconv.AppendInt(dst, ns/1e9, 10)
	if decimals <= 0 {
		return dst
	}
	frac := ns % 1e9
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	dst = append(dst, '.')
	return append(dst, digits[:min(decimals, 9)]...)
}

// AppendJSONString appends s as a JSON string literal. Bytes that are not
// printable ASCII are escaped as \u00XX, so the result is ASCII whatever s
// holds (topics are ASCII by the frame rules).
func AppendJSONString(dst []byte, s []byte) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c >= 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
