#include "textflag.h"

// The AVX2 kernel behind jsonTokenize: for each 64-byte block it builds
// masks of quotes, whitespace, structurals and control bytes with byte
// compares and nibble-table lookups, then derives the token bitmap with
// scalar bit arithmetic (see jsonTokenizeGeneric for the definition it
// must match bit for bit).

// Tables for VPSHUFB, indexed by a byte's low nibble (both 128-bit lanes
// hold the same 16 entries).
// jsonSpaceTab[c&15] == c exactly for ' ', '\t', '\n' and '\r'.
DATA jsonSpaceTab<>+0x00(SB)/8, $0x0000000000000020
DATA jsonSpaceTab<>+0x08(SB)/8, $0x00000d00000a0900
DATA jsonSpaceTab<>+0x10(SB)/8, $0x0000000000000020
DATA jsonSpaceTab<>+0x18(SB)/8, $0x00000d00000a0900
GLOBL jsonSpaceTab<>(SB), RODATA|NOPTR, $32

// jsonStructTab[d&15] == d, for d = c|0x20, exactly for ',', ':', '{'/'[' and '}'/']'
// (and for the control bytes 0x0c and 0x1a, which are invalid anyway).
DATA jsonStructTab<>+0x00(SB)/8, $0x0000000000000000
DATA jsonStructTab<>+0x08(SB)/8, $0x00007d2c7b3a0000
DATA jsonStructTab<>+0x10(SB)/8, $0x0000000000000000
DATA jsonStructTab<>+0x18(SB)/8, $0x00007d2c7b3a0000
GLOBL jsonStructTab<>(SB), RODATA|NOPTR, $32

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

DATA jsonCase<>+0x00(SB)/8, $0x2020202020202020
DATA jsonCase<>+0x08(SB)/8, $0x2020202020202020
DATA jsonCase<>+0x10(SB)/8, $0x2020202020202020
DATA jsonCase<>+0x18(SB)/8, $0x2020202020202020
GLOBL jsonCase<>(SB), RODATA|NOPTR, $32

DATA jsonControlMax<>+0x00(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA jsonControlMax<>+0x08(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA jsonControlMax<>+0x10(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA jsonControlMax<>+0x18(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL jsonControlMax<>(SB), RODATA|NOPTR, $32

// MASK64 builds in dst the 64-bit mask of the lanes set in the byte vectors
// lo (bytes 0-31) and hi (bytes 32-63); it clobbers R8.
#define MASK64(lo, hi, dst) \
	VPMOVMSKB lo, dst \
	VPMOVMSKB hi, R8 \
	SHLQ $32, R8 \
	ORQ R8, dst

// func jsonTokenizeAVX2(b []byte, from int, dst []uint64, carry *jsonTokenCarry) uint64
TEXT ·jsonTokenizeAVX2(SB), NOSPLIT, $0-72
	MOVQ b_base+0(FP), SI
	MOVQ from+24(FP), R9
	MOVQ dst_base+32(FP), DI
	MOVQ carry+56(FP), R10
	MOVQ 0(R10), DX          // string carry: all ones inside a string
	MOVQ 8(R10), BX          // scalar-run carry: 1 if the last byte was in one
	VMOVDQU jsonQuotes<>(SB), Y15
	VMOVDQU jsonBackslashes<>(SB), Y14
	VMOVDQU jsonCase<>(SB), Y13
	VMOVDQU jsonSpaceTab<>(SB), Y12
	VMOVDQU jsonStructTab<>(SB), Y11
	VMOVDQU jsonControlMax<>(SB), Y10
	VPXOR X7, X7, X7         // bad control bytes
	VPCMPEQB X5, X5, X5      // all ones, the carry-less multiplier
	SHLQ $6, R9              // R9 = byte offset of the block
	CMPQ dst_len+40(FP), $0
	JEQ done

loop:
	// Load b[R9:R9+64], or for a partial last block b[n-64:n], and
	// shift its masks down by CX = R9+64-n below.
	MOVQ b_len+8(FP), R10
	XORQ CX, CX
	LEAQ 64(R9), R8
	CMPQ R8, R10
	JLE full
	MOVQ R8, CX
	SUBQ R10, CX
	LEAQ -64(SI)(R10*1), R10
	JMP load
full:
	LEAQ (SI)(R9*1), R10
load:
	VMOVDQU (R10), Y0
	VMOVDQU 32(R10), Y1

	// A backslash or a byte >= 0x80 sends the body to the scalar path:
	// stop here rather than tokenize what will not be walked.
	VPCMPEQB Y0, Y14, Y2
	VPCMPEQB Y1, Y14, Y3
	VPOR Y2, Y3, Y2
	VPOR Y0, Y2, Y2
	VPOR Y1, Y2, Y2
	VPMOVMSKB Y2, R8
	TESTL R8, R8
	JNZ scalar

	VPCMPEQB Y0, Y15, Y2
	VPCMPEQB Y1, Y15, Y3
	MASK64(Y2, Y3, AX)       // AX = quotes

	VPSHUFB Y0, Y12, Y2
	VPSHUFB Y1, Y12, Y3
	VPCMPEQB Y0, Y2, Y2
	VPCMPEQB Y1, Y3, Y3
	MASK64(Y2, Y3, R11)      // R11 = whitespace

	VPOR Y0, Y13, Y4
	VPOR Y1, Y13, Y6
	VPSHUFB Y4, Y11, Y2
	VPSHUFB Y6, Y11, Y3
	VPCMPEQB Y4, Y2, Y2
	VPCMPEQB Y6, Y3, Y3
	MASK64(Y2, Y3, R12)      // R12 = structural

	VPMINUB Y0, Y10, Y2
	VPMINUB Y1, Y10, Y3
	VPCMPEQB Y0, Y2, Y2
	VPCMPEQB Y1, Y3, Y3
	MASK64(Y2, Y3, R13)      // R13 = control

	TESTQ CX, CX
	JZ tokens
	SHRQ CX, AX
	SHRQ CX, R11
	SHRQ CX, R12
	SHRQ CX, R13
	MOVQ $-1, R8             // the CX bytes past the end read as spaces
	NEGQ CX
	ADDQ $64, CX
	SHLQ CX, R8
	ORQ R8, R11

tokens:
	// R8 = inside a string: from an opening quote up to, not including,
	// its closing quote (a prefix XOR of the quotes, by carry-less
	// multiplication with all ones).
	VMOVQ AX, X4
	VPCLMULQDQ $0, X5, X4, X4
	VMOVQ X4, R8
	XORQ DX, R8
	MOVQ R8, DX
	SARQ $63, DX

	// Bad: a control byte inside a string, or one that is not whitespace.
	MOVQ R11, R10
	NOTQ R10
	ORQ R8, R10
	ANDQ R13, R10
	VMOVQ R10, X8
	VPOR X8, X7, X7

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
	MOVQ carry+56(FP), R10
	MOVQ DX, 0(R10)
	MOVQ BX, 8(R10)
	// jsonTokensInvalid (2) if any bad control byte, else jsonTokensOK (0).
	XORQ AX, AX
	VMOVQ X7, R8
	TESTQ R8, R8
	SETNE AX
	SHLQ $1, AX
	VZEROUPPER
	MOVQ AX, ret+64(FP)
	RET

scalar:
	VZEROUPPER
	MOVQ $1, ret+64(FP)          // jsonTokensScalar
	RET
