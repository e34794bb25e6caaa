#include "textflag.h"

// The AVX2 kernel behind jsonTokenize. For each 64-byte block it builds, with
// byte compares and nibble-table lookups, masks of quotes, backslashes,
// whitespace, structurals and control bytes, checks UTF-8 where there are
// bytes from 0x80 up, and derives the token bitmap with scalar bit
// arithmetic. jsonTokenizeGeneric defines the result; this must match it
// bit for bit.

// VPSHUFB tables are indexed by a byte's low nibble; both 128-bit lanes hold
// the same 16 entries.
// 
// jsonSpaceTab[c&15] == c exactly for ' ', '\t', '\n' and '\r'.
DATA jsonSpaceTab<>+0x00(SB)/8, $0x0000000000000020
DATA jsonSpaceTab<>+0x08(SB)/8, $0x00000d00000a0900
DATA jsonSpaceTab<>+0x10(SB)/8, $0x0000000000000020
DATA jsonSpaceTab<>+0x18(SB)/8, $0x00000d00000a0900
GLOBL jsonSpaceTab<>(SB), RODATA|NOPTR, $32

// jsonStructTab[d&15] == d, for d = c|0x20, exactly for ',', ':', '{' or '[',
// and '}' or ']' (and for the control bytes 0x0c and 0x1a, invalid anyway).
DATA jsonStructTab<>+0x00(SB)/8, $0x0000000000000000
DATA jsonStructTab<>+0x08(SB)/8, $0x00007d2c7b3a0000
DATA jsonStructTab<>+0x10(SB)/8, $0x0000000000000000
DATA jsonStructTab<>+0x18(SB)/8, $0x00007d2c7b3a0000
GLOBL jsonStructTab<>(SB), RODATA|NOPTR, $32

// The characters that may follow a backslash, one bit each (" / b f n r t u):
// jsonEscapeLow by low nibble, jsonEscapeHigh by high nibble; a byte is one of
// them when the two entries share a bit.
DATA jsonEscapeLow<>+0x00(SB)/8, $0x0008804000250000
DATA jsonEscapeLow<>+0x08(SB)/8, $0x0210000000000000
DATA jsonEscapeLow<>+0x10(SB)/8, $0x0008804000250000
DATA jsonEscapeLow<>+0x18(SB)/8, $0x0210000000000000
GLOBL jsonEscapeLow<>(SB), RODATA|NOPTR, $32

DATA jsonEscapeHigh<>+0x00(SB)/8, $0xe01c000000030000
DATA jsonEscapeHigh<>+0x08(SB)/8, $0x0000000000000000
DATA jsonEscapeHigh<>+0x10(SB)/8, $0xe01c000000030000
DATA jsonEscapeHigh<>+0x18(SB)/8, $0x0000000000000000
GLOBL jsonEscapeHigh<>(SB), RODATA|NOPTR, $32

// UTF-8 validation by lookup: each table maps a nibble (of the previous byte's
// high or low half, or of this byte's high half) to the errors it allows; a
// byte is wrong where the three share a bit that is not explained by it having
// to be the second or later continuation byte. Error bits: 0x01 too short,
// 0x02 too long, 0x04 overlong 3-byte, 0x08 too large, 0x10 surrogate, 0x20
// overlong 2-byte, 0x40 too large (above U+10FFFF) or overlong 4-byte, 0x80
// two continuation bytes in a row.
DATA jsonUTF8Byte1High<>+0x00(SB)/8, $0x0202020202020202
DATA jsonUTF8Byte1High<>+0x08(SB)/8, $0x4915012180808080
DATA jsonUTF8Byte1High<>+0x10(SB)/8, $0x0202020202020202
DATA jsonUTF8Byte1High<>+0x18(SB)/8, $0x4915012180808080
GLOBL jsonUTF8Byte1High<>(SB), RODATA|NOPTR, $32

DATA jsonUTF8Byte1Low<>+0x00(SB)/8, $0xcbcbcb8b8383a3e7
DATA jsonUTF8Byte1Low<>+0x08(SB)/8, $0xcbcbdbcbcbcbcbcb
DATA jsonUTF8Byte1Low<>+0x10(SB)/8, $0xcbcbcb8b8383a3e7
DATA jsonUTF8Byte1Low<>+0x18(SB)/8, $0xcbcbdbcbcbcbcbcb
GLOBL jsonUTF8Byte1Low<>(SB), RODATA|NOPTR, $32

DATA jsonUTF8Byte2High<>+0x00(SB)/8, $0x0101010101010101
DATA jsonUTF8Byte2High<>+0x08(SB)/8, $0x01010101babaaee6
DATA jsonUTF8Byte2High<>+0x10(SB)/8, $0x0101010101010101
DATA jsonUTF8Byte2High<>+0x18(SB)/8, $0x01010101babaaee6
GLOBL jsonUTF8Byte2High<>(SB), RODATA|NOPTR, $32

DATA jsonQuotes<>+0x00(SB)/8, $0x2222222222222222
DATA jsonQuotes<>+0x08(SB)/8, $0x2222222222222222
DATA jsonQuotes<>+0x10(SB)/8, $0x2222222222222222
DATA jsonQuotes<>+0x18(SB)/8, $0x2222222222222222
GLOBL jsonQuotes<>(SB), RODATA|NOPTR, $32

DATA jsonBackslashes<>+0x00(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA jsonBackslashes<>+0x08(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA jsonBackslashes<>+0x10(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA jsonBackslashes<>+0x18(SB)/8, $0x5c5c5c5c5c5c5c5c
GLOBL jsonBackslashes<>(SB), RODATA|NOPTR, $32

// 0x20: a space (padding), and the bit that folds ASCII case.
DATA jsonSpaces<>+0x00(SB)/8, $0x2020202020202020
DATA jsonSpaces<>+0x08(SB)/8, $0x2020202020202020
DATA jsonSpaces<>+0x10(SB)/8, $0x2020202020202020
DATA jsonSpaces<>+0x18(SB)/8, $0x2020202020202020
GLOBL jsonSpaces<>(SB), RODATA|NOPTR, $32

DATA jsonControlMax<>+0x00(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA jsonControlMax<>+0x08(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA jsonControlMax<>+0x10(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA jsonControlMax<>+0x18(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL jsonControlMax<>(SB), RODATA|NOPTR, $32

DATA jsonNibble<>+0x00(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA jsonNibble<>+0x08(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA jsonNibble<>+0x10(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA jsonNibble<>+0x18(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL jsonNibble<>(SB), RODATA|NOPTR, $32

DATA jsonUs<>+0x00(SB)/8, $0x7575757575757575
DATA jsonUs<>+0x08(SB)/8, $0x7575757575757575
DATA jsonUs<>+0x10(SB)/8, $0x7575757575757575
DATA jsonUs<>+0x18(SB)/8, $0x7575757575757575
GLOBL jsonUs<>(SB), RODATA|NOPTR, $32

DATA jsonZeros<>+0x00(SB)/8, $0x3030303030303030
DATA jsonZeros<>+0x08(SB)/8, $0x3030303030303030
DATA jsonZeros<>+0x10(SB)/8, $0x3030303030303030
DATA jsonZeros<>+0x18(SB)/8, $0x3030303030303030
GLOBL jsonZeros<>(SB), RODATA|NOPTR, $32

DATA jsonNine<>+0x00(SB)/8, $0x0909090909090909
DATA jsonNine<>+0x08(SB)/8, $0x0909090909090909
DATA jsonNine<>+0x10(SB)/8, $0x0909090909090909
DATA jsonNine<>+0x18(SB)/8, $0x0909090909090909
GLOBL jsonNine<>(SB), RODATA|NOPTR, $32

DATA jsonLowerA<>+0x00(SB)/8, $0x6161616161616161
DATA jsonLowerA<>+0x08(SB)/8, $0x6161616161616161
DATA jsonLowerA<>+0x10(SB)/8, $0x6161616161616161
DATA jsonLowerA<>+0x18(SB)/8, $0x6161616161616161
GLOBL jsonLowerA<>(SB), RODATA|NOPTR, $32

DATA jsonFive<>+0x00(SB)/8, $0x0505050505050505
DATA jsonFive<>+0x08(SB)/8, $0x0505050505050505
DATA jsonFive<>+0x10(SB)/8, $0x0505050505050505
DATA jsonFive<>+0x18(SB)/8, $0x0505050505050505
GLOBL jsonFive<>(SB), RODATA|NOPTR, $32

// A saturating subtraction leaves bit 7 set exactly for bytes from 0xe0 (the
// byte two before a third byte) and from 0xf0 (three before a fourth).
DATA jsonThirdByte<>+0x00(SB)/8, $0x6060606060606060
DATA jsonThirdByte<>+0x08(SB)/8, $0x6060606060606060
DATA jsonThirdByte<>+0x10(SB)/8, $0x6060606060606060
DATA jsonThirdByte<>+0x18(SB)/8, $0x6060606060606060
GLOBL jsonThirdByte<>(SB), RODATA|NOPTR, $32

DATA jsonFourthByte<>+0x00(SB)/8, $0x7070707070707070
DATA jsonFourthByte<>+0x08(SB)/8, $0x7070707070707070
DATA jsonFourthByte<>+0x10(SB)/8, $0x7070707070707070
DATA jsonFourthByte<>+0x18(SB)/8, $0x7070707070707070
GLOBL jsonFourthByte<>(SB), RODATA|NOPTR, $32

DATA jsonHighBits<>+0x00(SB)/8, $0x8080808080808080
DATA jsonHighBits<>+0x08(SB)/8, $0x8080808080808080
DATA jsonHighBits<>+0x10(SB)/8, $0x8080808080808080
DATA jsonHighBits<>+0x18(SB)/8, $0x8080808080808080
GLOBL jsonHighBits<>(SB), RODATA|NOPTR, $32

// jsonTailMask: 64 bytes 0x00, then 64 bytes 0xff; the 64 bytes from
// jsonTailMask+64-k select the bytes from k up.
DATA jsonTailMask<>+0x00(SB)/8, $0x0000000000000000
DATA jsonTailMask<>+0x08(SB)/8, $0x0000000000000000
DATA jsonTailMask<>+0x10(SB)/8, $0x0000000000000000
DATA jsonTailMask<>+0x18(SB)/8, $0x0000000000000000
DATA jsonTailMask<>+0x20(SB)/8, $0x0000000000000000
DATA jsonTailMask<>+0x28(SB)/8, $0x0000000000000000
DATA jsonTailMask<>+0x30(SB)/8, $0x0000000000000000
DATA jsonTailMask<>+0x38(SB)/8, $0x0000000000000000
DATA jsonTailMask<>+0x40(SB)/8, $0xffffffffffffffff
DATA jsonTailMask<>+0x48(SB)/8, $0xffffffffffffffff
DATA jsonTailMask<>+0x50(SB)/8, $0xffffffffffffffff
DATA jsonTailMask<>+0x58(SB)/8, $0xffffffffffffffff
DATA jsonTailMask<>+0x60(SB)/8, $0xffffffffffffffff
DATA jsonTailMask<>+0x68(SB)/8, $0xffffffffffffffff
DATA jsonTailMask<>+0x70(SB)/8, $0xffffffffffffffff
DATA jsonTailMask<>+0x78(SB)/8, $0xffffffffffffffff
GLOBL jsonTailMask<>(SB), RODATA|NOPTR, $128

DATA jsonOnes<>+0x00(SB)/8, $0xffffffffffffffff
DATA jsonOnes<>+0x08(SB)/8, $0xffffffffffffffff
GLOBL jsonOnes<>(SB), RODATA|NOPTR, $16

// MASK64 builds in dst the 64-bit mask of the lanes set in the byte vectors
// lo (bytes 0-31) and hi (bytes 32-63), using tmp.
#define MASK64(lo, hi, dst, tmp) \
	VPMOVMSKB lo, dst \
	VPMOVMSKB hi, tmp \
	SHLQ $32, tmp \
	ORQ tmp, dst

// UTF8 checks the 32 bytes in in, which follow the 32 bytes in prev, and ORs
// a non-zero byte into Y8 wherever a byte is not where valid UTF-8 may have
// it. Clobbers Y2-Y6.
#define UTF8(prev, in) \
	VPERM2I128 $0x21, in, prev, Y2 \
	VPALIGNR $15, Y2, in, Y3 \
	VPALIGNR $14, Y2, in, Y4 \
	VPALIGNR $13, Y2, in, Y5 \
	VPSUBUSB jsonThirdByte<>(SB), Y4, Y4 \
	VPSUBUSB jsonFourthByte<>(SB), Y5, Y5 \
	VPOR Y4, Y5, Y4 \
	VPAND jsonHighBits<>(SB), Y4, Y4 \
	VPSRLW $4, Y3, Y5 \
	VPAND jsonNibble<>(SB), Y5, Y5 \
	VMOVDQU jsonUTF8Byte1High<>(SB), Y6 \
	VPSHUFB Y5, Y6, Y5 \
	VPAND jsonNibble<>(SB), Y3, Y3 \
	VMOVDQU jsonUTF8Byte1Low<>(SB), Y6 \
	VPSHUFB Y3, Y6, Y3 \
	VPAND Y3, Y5, Y5 \
	VPSRLW $4, in, Y3 \
	VPAND jsonNibble<>(SB), Y3, Y3 \
	VMOVDQU jsonUTF8Byte2High<>(SB), Y6 \
	VPSHUFB Y3, Y6, Y3 \
	VPAND Y3, Y5, Y5 \
	VPXOR Y4, Y5, Y5 \
	VPOR Y5, Y8, Y8

// NOTESCAPE sets in out the bytes of in that may not follow a backslash.
// Clobbers Y2 and Y3.
#define NOTESCAPE(in, out) \
	VMOVDQU jsonEscapeLow<>(SB), Y2 \
	VPSHUFB in, Y2, Y2 \
	VPSRLW $4, in, Y3 \
	VPAND jsonNibble<>(SB), Y3, Y3 \
	VMOVDQU jsonEscapeHigh<>(SB), out \
	VPSHUFB Y3, out, out \
	VPAND Y2, out, out \
	VPXOR Y3, Y3, Y3 \
	VPCMPEQB Y3, out, out

// HEX sets in out the bytes of in that are hexadecimal digits: c-'0' <= 9 or
// (c|0x20)-'a' <= 5, unsigned. Clobbers Y2 and Y3.
#define HEX(in, out) \
	VPSUBB jsonZeros<>(SB), in, Y2 \
	VPMINUB jsonNine<>(SB), Y2, out \
	VPCMPEQB Y2, out, out \
	VPOR jsonSpaces<>(SB), in, Y2 \
	VPSUBB jsonLowerA<>(SB), Y2, Y2 \
	VPMINUB jsonFive<>(SB), Y2, Y3 \
	VPCMPEQB Y2, Y3, Y3 \
	VPOR Y3, out, out

// func jsonTokenizeAVX2(b []byte, from int, dst []uint64, carry *jsonTokenCarry) uint64
//
// Registers across the loop: SI = b, R9 = offset of the block, DI = next
// entry of dst, DX = string carry, BX = scalar-run carry, Y9 = the previous
// 32 bytes, Y8 = UTF-8 errors, X7 = other errors, Y10-Y15 = constants. The
// frame stages a partial last block whose 64-byte read would cross into the
// next page.
TEXT ·jsonTokenizeAVX2(SB), NOSPLIT, $128-72
	MOVQ b_base+0(FP), SI
	MOVQ from+24(FP), R9
	MOVQ dst_base+32(FP), DI
	MOVQ carry+56(FP), CX
	MOVQ 0(CX), DX
	MOVQ 8(CX), BX
	VMOVDQU 32(CX), Y9
	VMOVDQU jsonQuotes<>(SB), Y15
	VMOVDQU jsonBackslashes<>(SB), Y14
	VMOVDQU jsonSpaces<>(SB), Y13
	VMOVDQU jsonSpaceTab<>(SB), Y12
	VMOVDQU jsonStructTab<>(SB), Y11
	VMOVDQU jsonControlMax<>(SB), Y10
	VPXOR Y8, Y8, Y8
	VPXOR X7, X7, X7
	SHLQ $6, R9
	CMPQ dst_len+40(FP), $0
	JEQ done

loop:
	MOVQ b_len+8(FP), R10
	LEAQ 64(R9), R8
	CMPQ R8, R10
	JLE full
	// The partial last block b[R9:n], padded with spaces. Where reading
	// 64 bytes from its start stays in one page, read them (the bytes
	// past n are mapped, if not ours) and blend spaces over those.
	LEAQ (SI)(R9*1), R8
	MOVQ R8, R11
	ANDQ $4095, R11
	CMPQ R11, $4032
	JHI stage
	VMOVDQU (R8), Y0
	VMOVDQU 32(R8), Y1
	SUBQ R9, R10             // R10 = bytes of b in the block
	LEAQ jsonTailMask<>+64(SB), R11
	SUBQ R10, R11
	VMOVDQU jsonSpaces<>(SB), Y4
	VMOVDQU (R11), Y2
	VPBLENDVB Y2, Y4, Y0, Y0
	VMOVDQU 32(R11), Y2
	VPBLENDVB Y2, Y4, Y1, Y1
	JMP loaded
stage:
	// Otherwise put b[n-64:n] at 0(SP) and spaces at 64(SP), and read
	// the block from 64+R9-n(SP).
	LEAQ -64(SI)(R10*1), R8
	VMOVDQU (R8), Y0
	VMOVDQU 32(R8), Y1
	VMOVDQU Y0, 0(SP)
	VMOVDQU Y1, 32(SP)
	VMOVDQU jsonSpaces<>(SB), Y2
	VMOVDQU Y2, 64(SP)
	VMOVDQU Y2, 96(SP)
	MOVQ R9, R8
	SUBQ R10, R8
	LEAQ 64(SP)(R8*1), R10
	JMP load
full:
	LEAQ (SI)(R9*1), R10
load:
	VMOVDQU (R10), Y0
	VMOVDQU 32(R10), Y1
loaded:
	// AX = quotes. Most blocks need neither a UTF-8 check nor escape
	// handling: test for both at once (bytes from 0x80 up here or in the
	// 32 bytes before, which a sequence may run on from; backslashes; an
	// escape or \u left open by the previous block).
	VPCMPEQB Y0, Y15, Y2
	VPCMPEQB Y1, Y15, Y3
	MASK64(Y2, Y3, AX, R8)
	VPCMPEQB Y0, Y14, Y4
	VPCMPEQB Y1, Y14, Y5
	VPOR Y0, Y1, Y2
	VPOR Y9, Y2, Y2
	VPOR Y4, Y2, Y3
	VPOR Y5, Y3, Y3
	VPMOVMSKB Y3, R8
	MOVQ carry+56(FP), CX
	ORQ 16(CX), R8
	ORQ 24(CX), R8
	JZ plain

	MASK64(Y4, Y5, R10, R8)  // R10 = backslashes
	VPMOVMSKB Y2, R8
	TESTL R8, R8
	JZ escapes
	UTF8(Y9, Y0)             // clobbers Y2-Y6
	UTF8(Y0, Y1)
escapes:
	MOVQ 16(CX), R8
	ORQ 24(CX), R8
	ORQ R10, R8
	JZ plain

	// Escapes. R12 = the bytes a backslash escapes: those after an odd
	// run of backslashes, found by adding each run's first bit to the
	// run and keeping where the carry lands at the other parity. A run
	// left odd at bit 63 escapes the next block's first byte.
	MOVQ 16(CX), R8          // R8 = 1 if bit 0 is escaped
	MOVQ R8, R11
	NOTQ R11
	ANDQ R10, R11            // R11 = backslashes that may escape
	MOVQ R11, R12
	SHLQ $1, R12
	NOTQ R12
	ANDQ R11, R12            // R12 = first bit of each run
	MOVQ $0xaaaaaaaaaaaaaaaa, R13
	ANDQ R12, R13            // R13 = runs starting at an odd bit
	XORQ R13, R12            // R12 = runs starting at an even bit
	MOVQ $0, 16(CX)
	ADDQ R11, R13
	SETCS 16(CX)             // an odd run ends at bit 63
	ADDQ R11, R12
	NOTQ R11
	ANDQ R11, R13            // where odd-start runs end
	ANDQ R11, R12            // where even-start runs end
	MOVQ $0x5555555555555555, R11
	ANDQ R11, R13            // ... at an even bit: odd length
	NOTQ R11
	ANDQ R11, R12            // ... at an odd bit: odd length
	ORQ R13, R12
	MOVQ R10, R11
	NOTQ R11
	ANDQ R8, R11
	ORQ R11, R12             // R12 = escaped bytes
	MOVQ R12, R11
	NOTQ R11
	ANDQ R11, AX             // an escaped quote is no quote

	// An escaped byte must be one of " / b f n r t u; four hex digits
	// must follow each u.
	NOTESCAPE(Y0, Y4)
	NOTESCAPE(Y1, Y5)
	MASK64(Y4, Y5, R11, R8)
	ANDQ R12, R11
	VMOVQ R11, X2
	VPOR X2, X7, X7
	VPCMPEQB jsonUs<>(SB), Y0, Y4
	VPCMPEQB jsonUs<>(SB), Y1, Y5
	MASK64(Y4, Y5, R11, R8)
	ANDQ R12, R11            // R11 = escaped u
	MOVQ 24(CX), R8          // R8 = bytes that must be hex digits
	MOVQ R11, R13
	SHLQ $1, R13
	ORQ R13, R8
	SHLQ $1, R13
	ORQ R13, R8
	SHLQ $1, R13
	ORQ R13, R8
	SHLQ $1, R13
	ORQ R13, R8
	MOVQ R11, R13
	SHRQ $60, R13
	MOVQ R11, R12
	SHRQ $61, R12
	ORQ R12, R13
	MOVQ R11, R12
	SHRQ $62, R12
	ORQ R12, R13
	SHRQ $63, R11
	ORQ R11, R13
	MOVQ R13, 24(CX)         // the next block's first bytes
	HEX(Y0, Y4)
	HEX(Y1, Y5)
	MASK64(Y4, Y5, R11, R13)
	NOTQ R11
	ANDQ R11, R8
	VMOVQ R8, X2
	VPOR X2, X7, X7

plain:
	VMOVDQA Y1, Y9
	VPSHUFB Y0, Y12, Y2
	VPSHUFB Y1, Y12, Y3
	VPCMPEQB Y0, Y2, Y2
	VPCMPEQB Y1, Y3, Y3
	MASK64(Y2, Y3, R11, R8)  // R11 = whitespace

	VPOR Y0, Y13, Y4
	VPOR Y1, Y13, Y6
	VPSHUFB Y4, Y11, Y2
	VPSHUFB Y6, Y11, Y3
	VPCMPEQB Y4, Y2, Y2
	VPCMPEQB Y6, Y3, Y3
	MASK64(Y2, Y3, R12, R8)  // R12 = structural

	VPMINUB Y0, Y10, Y2
	VPMINUB Y1, Y10, Y3
	VPCMPEQB Y0, Y2, Y2
	VPCMPEQB Y1, Y3, Y3
	MASK64(Y2, Y3, R13, R8)  // R13 = control

	// R8 = inside a string: from an opening quote up to, not including,
	// its closing quote (a prefix XOR of the quotes, by carry-less
	// multiplication with all ones).
	VMOVQ AX, X4
	VPCLMULQDQ $0, jsonOnes<>(SB), X4, X4
	VMOVQ X4, R8
	XORQ DX, R8
	MOVQ R8, DX
	SARQ $63, DX

	// A control byte inside a string, or one that is not whitespace.
	MOVQ R11, R10
	NOTQ R10
	ORQ R8, R10
	ANDQ R13, R10
	VMOVQ R10, X2
	VPOR X2, X7, X7

	// R10 = scalar bytes: outside strings, not whitespace, structural or
	// a quote. CX = the first byte of each run of them.
	MOVQ AX, R10
	ORQ R12, R10
	ORQ R11, R10
	ORQ R8, R10
	NOTQ R10
	MOVQ R10, CX
	SHLQ $1, CX
	ORQ BX, CX
	MOVQ R10, BX
	SHRQ $63, BX
	NOTQ CX
	ANDQ R10, CX

	// Tokens: structurals outside strings, opening quotes, scalar starts.
	ANDQ R8, AX
	NOTQ R8
	ANDQ R8, R12
	ORQ AX, CX
	ORQ R12, CX
	MOVQ CX, (DI)
	ADDQ $8, DI
	ADDQ $64, R9
	DECQ dst_len+40(FP)
	JNZ loop

done:
	MOVQ carry+56(FP), CX
	MOVQ DX, 0(CX)
	MOVQ BX, 8(CX)
	VMOVDQU Y9, 32(CX)
	// jsonTokensInvalid if any error, else jsonTokensOK.
	VPTEST Y8, Y8
	SETNE AX
	VMOVQ X7, R8
	TESTQ R8, R8
	SETNE BX
	ORB BX, AX
	MOVBQZX AX, AX
	VZEROUPPER
	MOVQ AX, ret+64(FP)
	RET
