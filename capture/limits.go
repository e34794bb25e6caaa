package capture

import "busd/codec"

// Limits of the format. A Writer never writes past them and a Reader
// refuses anything past them before allocating for it, so no file, however
// hostile, makes a Reader hold more than the largest of them.
const (
	// MaxText is the longest Text: a topic, pattern or client name fits
	// the protocol's header line.
	MaxText = codec.MaxHeader
	// MaxBody is the largest PUB body (and Size) the protocol allows.
	MaxBody = codec.MaxBody

	// MaxChunkBytes is the largest WriterOptions.ChunkBytes. A chunk is
	// cut once its records reach ChunkBytes, so it holds at most
	// ChunkBytes plus one record of at most maxRecordBytes: MaxChunkBlock
	// leaves room for that.
	MaxChunkBytes = 2 << 20
	// MaxChunkBlock is the largest chunk block payload.
	MaxChunkBlock = 4 << 20
	// MaxHeaderBlock is the largest header block payload. The header
	// lists every open connection with its patterns, so it may be far
	// larger than a chunk; a Writer refuses a header past it.
	MaxHeaderBlock = 64 << 20
	// MaxFooterBlock is the largest footer block payload: MaxChunks
	// index entries of the longest JSON form still fit.
	MaxFooterBlock = 64 << 20
	// MaxChunks is the most chunks one file holds, so that its footer
	// fits MaxFooterBlock. Append returns ErrFull past it; the file must
	// then be closed and the capture continue in a new one.
	MaxChunks = 1 << 18
	// MaxReason is the longest Footer.Reason; a Writer cuts a longer one.
	MaxReason = 1024

	// DefaultChunkBytes and DefaultChunkAge are WriterOptions' defaults.
	DefaultChunkBytes = 256 << 10
	DefaultChunkAge   = 1_000_000_000 // one second of record Time

	// maxRecordBytes bounds one encoded record: kind, three uvarints,
	// a text and a body with their lengths, and the numbers of the
	// largest kind.
	maxRecordBytes = 1 + 3*binaryMaxVarint + MaxText + binaryMaxVarint + MaxBody + 4*binaryMaxVarint
	// encoderWindow is the window a Writer compresses with; a Reader
	// accepts windows up to maxDecoderWindow, twice that.
	encoderWindow    = 4 << 20
	maxDecoderWindow = 8 << 20
	// maxFrameBytes bounds one compressed frame: the largest block,
	// stored raw, plus zstd's per-block and per-frame overhead.
	maxFrameBytes = MaxHeaderBlock + MaxHeaderBlock/(zstdMaxBlock/4) + 1<<10

	binaryMaxVarint = 10 // binary.MaxVarintLen64
)

// The chunk limit must hold the largest chunk a Writer can build.
var _ [MaxChunkBlock - (chunkHeadBytes + MaxChunkBytes + maxRecordBytes)]struct{}
