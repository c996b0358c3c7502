// The eBPF opcode space (RFC 9669 §3-§5) and the Op enum generated from opcode_table.def.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace xbpf::isa {

// Instruction classes (RFC 9669 §3.3), the low three bits of the opcode.
inline constexpr std::uint8_t kClassLd = 0x00;
inline constexpr std::uint8_t kClassLdx = 0x01;
inline constexpr std::uint8_t kClassSt = 0x02;
inline constexpr std::uint8_t kClassStx = 0x03;
inline constexpr std::uint8_t kClassAlu = 0x04;
inline constexpr std::uint8_t kClassJmp = 0x05;
inline constexpr std::uint8_t kClassJmp32 = 0x06;
inline constexpr std::uint8_t kClassAlu64 = 0x07;

// Pseudo source values of the 64-bit immediate load (RFC 9669 §5.4).
inline constexpr std::uint8_t kPseudoImm64 = 0;        ///< dst = imm64
inline constexpr std::uint8_t kPseudoMapFd = 1;        ///< dst = map_by_fd(imm)
inline constexpr std::uint8_t kPseudoMapValue = 2;     ///< dst = map_val(map_by_fd(imm)) + next_imm
inline constexpr std::uint8_t kPseudoBtfId = 3;        ///< dst = var_addr(imm)
inline constexpr std::uint8_t kPseudoFunc = 4;         ///< dst = code_addr(imm)
inline constexpr std::uint8_t kPseudoMapIdx = 5;       ///< dst = map_by_idx(imm)
inline constexpr std::uint8_t kPseudoMapIdxValue = 6;  ///< dst = map_val(map_by_idx(imm)) + next_imm

// Atomic operation bits in imm (RFC 9669 §5.3).
inline constexpr std::int32_t kAtomicFetch = 0x01;

/// Registers r0..r10; r10 is the read-only frame pointer.
inline constexpr std::uint8_t kNumRegisters = 11;
inline constexpr std::uint8_t kFramePointer = 10;
/// Bytes of stack per frame, and the deepest call chain (RFC 9669 §2; the kernel's MAX_CALL_FRAMES).
inline constexpr std::uint32_t kStackSize = 512;
inline constexpr std::uint32_t kMaxCallDepth = 8;

/// Which field, besides the opcode, tells apart instructions sharing an opcode.
enum class Disc : std::uint8_t { None, Off, Imm, Src };

/// Operand shape: decides the reserved-field rules, the assembler grammar and the printed form.
enum class Shape : std::uint8_t {
    AluImm,     ///< dst op= imm
    AluReg,     ///< dst op= src
    Neg,        ///< dst = -dst
    MovSx,      ///< dst = (sN) src
    Endian,     ///< dst = le/be/bswapN dst
    Ja,         ///< goto +off
    Gotol,      ///< gotol +imm (JMP32 JA)
    JmpImm,     ///< if dst op imm goto +off
    JmpReg,     ///< if dst op src goto +off
    Call,       ///< call helper imm
    CallLocal,  ///< call pc + imm + 1
    CallKfunc,  ///< call kernel function by BTF id imm
    Callx,      ///< call the address in dst
    Exit,       ///< return r0
    Lddw,       ///< dst = imm64 (two slots), src selects the pseudo form
    LdAbs,      ///< r0 = ntoh(*(uN *)(packet + imm))
    LdInd,      ///< r0 = ntoh(*(uN *)(packet + src + imm))
    Ldx,        ///< dst = *(uN *)(src + off)
    LdxSx,      ///< dst = *(sN *)(src + off)
    St,         ///< *(uN *)(dst + off) = imm
    Stx,        ///< *(uN *)(dst + off) = src
    Atomic,     ///< atomic read-modify-write on *(uN *)(dst + off)
};

/// Every distinct operation of the ISA; one enumerator per row of opcode_table.def.
enum class Op : std::uint8_t {
#define X(name, opcode, disc, disc_value, shape, width, text, mnemonic) name,
#include "isa/opcode_table.def"
#undef X
};

/// Number of Op enumerators.
inline constexpr std::size_t kNumOps = 0
#define X(name, opcode, disc, disc_value, shape, width, text, mnemonic) +1
#include "isa/opcode_table.def"
#undef X
    ;

/// One row of the opcode table.
struct OpInfo {
    Op op;
    std::string_view name;  ///< enumerator name, for diagnostics
    std::uint8_t opcode;
    Disc disc;
    std::int32_t disc_value;
    Shape shape;
    std::uint8_t width;         ///< see opcode_table.def
    std::string_view text;      ///< pseudo-C operator
    std::string_view mnemonic;  ///< uBPF-style mnemonic
};

/// The rows, in enum order (opcodes.cpp checks it): info(op) is a plain index, inline for the JIT's and the
/// loaders' per-instruction loops.
inline constexpr std::array<OpInfo, kNumOps> kOpTable = {{
#define X(name, opcode, disc, disc_value, shape, width, text, mnemonic) \
    {Op::name, #name, opcode, Disc::disc, disc_value, Shape::shape, width, text, mnemonic},
#include "isa/opcode_table.def"
#undef X
}};

/// The table row for an Op. Never fails: every Op has a row.
inline const OpInfo& info(Op op) { return kOpTable[static_cast<std::size_t>(op)]; }

/// All rows, in table order.
std::span<const OpInfo> all_ops();

/// The Op for the given raw fields, or nullopt when no row matches (an invalid encoding).
std::optional<Op> lookup(std::uint8_t opcode, std::uint8_t src, std::int16_t off, std::int32_t imm);

/// Instruction class of an opcode.
constexpr std::uint8_t op_class(std::uint8_t opcode) { return opcode & 0x07; }

/// True for the 32-bit forms: ALU (class 4), JMP32 (class 6) and 32-bit atomics. Their results are zero-extended.
bool is_32bit(Op op);

}  // namespace xbpf::isa
