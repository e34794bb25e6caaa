package codec

import "encoding/binary"

// AppendFrame appends one encoded frame to dst and returns the extended
// slice. The caller keeps args within MaxHeader and body within MaxBody; a
// verb with empty args is encoded without the space.
func AppendFrame(dst []byte, verb Verb, args string, body []byte) []byte {
	dst = append(dst, verbNames[verb]...)
	if args != "" {
		dst = append(dst, ' ')
		dst = append(dst, args...)
	}
	dst = append(dst, '\n')
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...)
}

// EventFrameSize is the length of the EVT frame carrying body on topic.
func EventFrameSize(topic []byte, bodyLen int) int {
	return len("EVT ") + len(topic) + 1 + lengthSize + bodyLen
}

// PutEventHeader writes the EVT header and body length for topic into the
// start of dst (at least EventFrameSize(topic, bodyLen) long) and returns the
// offset where the body goes.
func PutEventHeader(dst []byte, topic []byte, bodyLen int) int {
	n := copy(dst, "EVT ")
	n += copy(dst[n:], topic)
	dst[n] = '\n'
	n++
	binary.BigEndian.PutUint32(dst[n:], uint32(bodyLen))
	return n + lengthSize
}
