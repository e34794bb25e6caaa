package codec

// Limits of the wire contract (PROTOCOL.md, "Frame").
const (
	// MaxHeader is the longest header line, LF included.
	MaxHeader = 4096
	// MaxBody is the largest body a frame may announce.
	MaxBody = 1 << 20
	// lengthSize is the size of the big-endian body length.
	lengthSize = 4
	// MaxEventFrame is the largest EVT frame the server can emit.
	MaxEventFrame = MaxHeader + lengthSize + MaxBody
)
