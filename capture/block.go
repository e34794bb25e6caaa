package capture

import (
	"encoding/binary"
	"hash/crc32"
)

// A file's decompressed stream is a sequence of blocks, one per zstd frame:
//
//	tag     1 byte   blockHeader, blockChunk or blockFooter
//	length  uint32   little-endian, bytes of payload
//	payload length bytes
//	crc     uint32   little-endian CRC-32C (Castagnoli) of payload
//
// The header frame opens with the preamble (magic, then the format version
// as a little-endian uint16) before its block, so that a reader knows a
// foreign file or a newer version before it reads anything else.
const (
	blockHeader byte = 'H'
	blockChunk  byte = 'C'
	blockFooter byte = 'F'

	magic          = "BUSDCAP\x00"
	preambleBytes  = len(magic) + 2
	blockHeadBytes = 1 + 4
	crcBytes       = 4

	// chunkHeadBytes opens a chunk payload: the record count (uint32),
	// then the first and last record Time (int64), little-endian.
	chunkHeadBytes = 4 + 8 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// blockLimit is the largest payload a block of this tag may have; 0 for an
// unknown tag.
func blockLimit(tag byte) int {
	switch tag {
	case blockHeader:
		return MaxHeaderBlock
	case blockChunk:
		return MaxChunkBlock
	case blockFooter:
		return MaxFooterBlock
	}
	return 0
}

// appendPreamble appends the magic and the format version.
func appendPreamble(dst []byte) []byte {
	dst = append(dst, magic...)
	return binary.LittleEndian.AppendUint16(dst, Version)
}

// appendBlockHead appends a block's tag and a length to fill in later with
// sealBlock.
func appendBlockHead(dst []byte, tag byte) []byte {
	return append(dst, tag, 0, 0, 0, 0)
}

// sealBlock completes the block that starts at dst[start:]: its length,
// and its CRC appended.
func sealBlock(dst []byte, start int) []byte {
	payload := dst[start+blockHeadBytes:]
	binary.LittleEndian.PutUint32(dst[start+1:], uint32(len(payload)))
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
}
