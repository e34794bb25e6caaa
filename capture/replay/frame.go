package replay

import (
	"encoding/binary"

	"busd/codec"
)

// appendHeader appends a frame's header line and body length (the body
// follows). The topic or pattern stays a []byte, as the capture reader
// yields it: codec.AppendFrame takes args as a string, which would copy
// every topic once per PUB.
func appendHeader(dst []byte, verb codec.Verb, args []byte, bodyLen int) []byte {
	dst = append(dst, verb.String()...)
	if len(args) > 0 {
		dst = append(dst, ' ')
		dst = append(dst, args...)
	}
	dst = append(dst, '\n')
	return binary.BigEndian.AppendUint32(dst, uint32(bodyLen))
}

// appendPub appends a PUB of topic: with body when the capture kept it,
// else with a filler of size bytes.
func appendPub(dst []byte, topic, body []byte, size uint32, shape bool) []byte {
	if !shape {
		dst = appendHeader(dst, codec.VerbPUB, topic, len(body))
		return append(dst, body...)
	}
	dst = appendHeader(dst, codec.VerbPUB, topic, fillerSize(int(size)))
	return appendFiller(dst, int(size))
}

// appendControl appends a frame without a body (HELLO, SUB, UNSUB, BYE).
func appendControl(dst []byte, verb codec.Verb, args []byte) []byte {
	return appendHeader(dst, verb, args, 0)
}
