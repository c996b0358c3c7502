// Tiny constexpr builders for eBPF programs in tests, after the Linux kernel's BPF_ALU64_IMM / BPF_MOV64_REG /
// BPF_JMP_IMM / BPF_LDX_MEM / BPF_ST_MEM / BPF_STX_MEM / BPF_ATOMIC_OP / BPF_LD_IMM64 / BPF_EXIT_INSN macros
// (include/linux/filter.h), in snake_case.
//
// Opcode bytes are never written here: every builder names an isa::Op and takes the opcode and discriminating field
// from isa/opcode_table.def. isa::info() is not constexpr, so this header expands the same table into a constexpr
// mirror (kRows); tests/unit/vm/semantics_test.cpp checks that the mirror equals isa::info() for every Op.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "isa/instruction.hpp"
#include "isa/opcodes.hpp"

namespace xbpf::test {

using isa::Op;
using isa::RawInsn;

namespace detail {

/// The fields of one opcode-table row that the builders need.
struct Row {
    std::uint8_t opcode;
    isa::Disc disc;
    std::int32_t disc_value;
};

/// opcode_table.def expanded at compile time, indexed by Op (the table is in enum order; opcodes.cpp asserts it).
inline constexpr std::array<Row, isa::kNumOps> kRows = {{
#define X(name, opcode, disc, disc_value, shape, width, text, mnemonic) {opcode, isa::Disc::disc, disc_value},
#include "isa/opcode_table.def"
#undef X
}};

}  // namespace detail

/// Opcode byte of an Op, from the opcode table.
constexpr std::uint8_t opcode_of(Op op) { return detail::kRows[static_cast<std::size_t>(op)].opcode; }

/// One slot for `op` with the given fields; the discriminating field (off for sdiv/movsx, imm for endian/atomics,
/// src for calls) is set from the table and overrides the argument.
constexpr RawInsn make(Op op, std::uint8_t dst = 0, std::uint8_t src = 0, std::int16_t off = 0, std::int32_t imm = 0) {
    const detail::Row& row = detail::kRows[static_cast<std::size_t>(op)];
    RawInsn raw;
    raw.opcode = row.opcode;
    raw.dst = dst & 0xf;
    raw.src = src & 0xf;
    raw.off = off;
    raw.imm = imm;
    switch (row.disc) {
        case isa::Disc::Off: raw.off = static_cast<std::int16_t>(row.disc_value); break;
        case isa::Disc::Imm: raw.imm = row.disc_value; break;
        case isa::Disc::Src: raw.src = static_cast<std::uint8_t>(row.disc_value); break;
        case isa::Disc::None: break;
    }
    return raw;
}

/// Register numbers, as in the kernel's BPF_REG_n.
enum Reg : std::uint8_t { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

/// ALU operations (the BPF_OP field of BPF_ALU/BPF_ALU64), with the cpu v4 signed forms as their own entries.
enum class Alu : std::uint8_t { Add, Sub, Mul, Div, SDiv, Or, And, Lsh, Rsh, Mod, SMod, Xor, Mov, Arsh };

/// Conditional jump operations (the BPF_OP field of BPF_JMP/BPF_JMP32).
enum class Jmp : std::uint8_t { Jeq, Jgt, Jge, Jset, Jne, Jsgt, Jsge, Jlt, Jle, Jslt, Jsle };

/// Access sizes (BPF_B, BPF_H, BPF_W, BPF_DW).
enum class Size : std::uint8_t { B, H, W, DW };

/// Atomic operations (the imm field of BPF_STX|BPF_ATOMIC).
enum class Atomic : std::uint8_t { Add, Or, And, Xor, FetchAdd, FetchOr, FetchAnd, FetchXor, Xchg, Cmpxchg };

/// Bytes of an access size.
constexpr int size_bytes(Size s) { return 1 << static_cast<int>(s); }

/// The Op of an ALU operation: 32- or 64-bit, immediate or register source.
constexpr Op alu_op(Alu a, bool is64, bool reg) {
    // Each row lists {64 imm, 64 reg, 32 imm, 32 reg}.
    constexpr Op kOps[][4] = {
        {Op::Add64Imm, Op::Add64Reg, Op::Add32Imm, Op::Add32Reg},
        {Op::Sub64Imm, Op::Sub64Reg, Op::Sub32Imm, Op::Sub32Reg},
        {Op::Mul64Imm, Op::Mul64Reg, Op::Mul32Imm, Op::Mul32Reg},
        {Op::Div64Imm, Op::Div64Reg, Op::Div32Imm, Op::Div32Reg},
        {Op::SDiv64Imm, Op::SDiv64Reg, Op::SDiv32Imm, Op::SDiv32Reg},
        {Op::Or64Imm, Op::Or64Reg, Op::Or32Imm, Op::Or32Reg},
        {Op::And64Imm, Op::And64Reg, Op::And32Imm, Op::And32Reg},
        {Op::Lsh64Imm, Op::Lsh64Reg, Op::Lsh32Imm, Op::Lsh32Reg},
        {Op::Rsh64Imm, Op::Rsh64Reg, Op::Rsh32Imm, Op::Rsh32Reg},
        {Op::Mod64Imm, Op::Mod64Reg, Op::Mod32Imm, Op::Mod32Reg},
        {Op::SMod64Imm, Op::SMod64Reg, Op::SMod32Imm, Op::SMod32Reg},
        {Op::Xor64Imm, Op::Xor64Reg, Op::Xor32Imm, Op::Xor32Reg},
        {Op::Mov64Imm, Op::Mov64Reg, Op::Mov32Imm, Op::Mov32Reg},
        {Op::Arsh64Imm, Op::Arsh64Reg, Op::Arsh32Imm, Op::Arsh32Reg},
    };
    return kOps[static_cast<std::size_t>(a)][(is64 ? 0 : 2) + (reg ? 1 : 0)];
}

/// The Op of a conditional jump: JMP (64-bit) or JMP32, immediate or register source.
constexpr Op jmp_op(Jmp j, bool is64, bool reg) {
    constexpr Op kOps[][4] = {
        {Op::Jeq64Imm, Op::Jeq64Reg, Op::Jeq32Imm, Op::Jeq32Reg},
        {Op::Jgt64Imm, Op::Jgt64Reg, Op::Jgt32Imm, Op::Jgt32Reg},
        {Op::Jge64Imm, Op::Jge64Reg, Op::Jge32Imm, Op::Jge32Reg},
        {Op::Jset64Imm, Op::Jset64Reg, Op::Jset32Imm, Op::Jset32Reg},
        {Op::Jne64Imm, Op::Jne64Reg, Op::Jne32Imm, Op::Jne32Reg},
        {Op::Jsgt64Imm, Op::Jsgt64Reg, Op::Jsgt32Imm, Op::Jsgt32Reg},
        {Op::Jsge64Imm, Op::Jsge64Reg, Op::Jsge32Imm, Op::Jsge32Reg},
        {Op::Jlt64Imm, Op::Jlt64Reg, Op::Jlt32Imm, Op::Jlt32Reg},
        {Op::Jle64Imm, Op::Jle64Reg, Op::Jle32Imm, Op::Jle32Reg},
        {Op::Jslt64Imm, Op::Jslt64Reg, Op::Jslt32Imm, Op::Jslt32Reg},
        {Op::Jsle64Imm, Op::Jsle64Reg, Op::Jsle32Imm, Op::Jsle32Reg},
    };
    return kOps[static_cast<std::size_t>(j)][(is64 ? 0 : 2) + (reg ? 1 : 0)];
}

/// The Op of an atomic operation on a 32- or 64-bit word.
constexpr Op atomic_op_of(Atomic a, bool is64) {
    constexpr Op kOps[][2] = {
        {Op::AtomicAdd64, Op::AtomicAdd32},           {Op::AtomicOr64, Op::AtomicOr32},
        {Op::AtomicAnd64, Op::AtomicAnd32},           {Op::AtomicXor64, Op::AtomicXor32},
        {Op::AtomicFetchAdd64, Op::AtomicFetchAdd32}, {Op::AtomicFetchOr64, Op::AtomicFetchOr32},
        {Op::AtomicFetchAnd64, Op::AtomicFetchAnd32}, {Op::AtomicFetchXor64, Op::AtomicFetchXor32},
        {Op::AtomicXchg64, Op::AtomicXchg32},         {Op::AtomicCmpxchg64, Op::AtomicCmpxchg32},
    };
    return kOps[static_cast<std::size_t>(a)][is64 ? 0 : 1];
}

// ---- ALU ----

/// BPF_ALU64_IMM: dst op= (s64)imm.
constexpr RawInsn alu64_imm(Alu a, std::uint8_t dst, std::int32_t imm) {
    return make(alu_op(a, true, false), dst, 0, 0, imm);
}
/// BPF_ALU64_REG: dst op= src.
constexpr RawInsn alu64_reg(Alu a, std::uint8_t dst, std::uint8_t src) { return make(alu_op(a, true, true), dst, src); }
/// BPF_ALU32_IMM: wdst op= (u32)imm, zero-extended.
constexpr RawInsn alu32_imm(Alu a, std::uint8_t dst, std::int32_t imm) {
    return make(alu_op(a, false, false), dst, 0, 0, imm);
}
/// BPF_ALU32_REG: wdst op= wsrc, zero-extended.
constexpr RawInsn alu32_reg(Alu a, std::uint8_t dst, std::uint8_t src) {
    return make(alu_op(a, false, true), dst, src);
}
/// BPF_MOV64_IMM.
constexpr RawInsn mov64_imm(std::uint8_t dst, std::int32_t imm) { return alu64_imm(Alu::Mov, dst, imm); }
/// BPF_MOV64_REG.
constexpr RawInsn mov64_reg(std::uint8_t dst, std::uint8_t src) { return alu64_reg(Alu::Mov, dst, src); }
/// BPF_MOV32_IMM.
constexpr RawInsn mov32_imm(std::uint8_t dst, std::int32_t imm) { return alu32_imm(Alu::Mov, dst, imm); }
/// BPF_MOV32_REG.
constexpr RawInsn mov32_reg(std::uint8_t dst, std::uint8_t src) { return alu32_reg(Alu::Mov, dst, src); }
/// dst = -dst (64-bit).
constexpr RawInsn neg64(std::uint8_t dst) { return make(Op::Neg64, dst); }
/// wdst = -wdst, zero-extended.
constexpr RawInsn neg32(std::uint8_t dst) { return make(Op::Neg32, dst); }

/// dst = (s<bits>)src for bits 8, 16 or 32 (BPF_MOVSX64_REG).
constexpr RawInsn movsx64(std::uint8_t dst, std::uint8_t src, int bits) {
    return make(bits == 8 ? Op::MovSx8To64 : bits == 16 ? Op::MovSx16To64 : Op::MovSx32To64, dst, src);
}
/// wdst = (s<bits>)wsrc for bits 8 or 16, zero-extended (BPF_MOVSX32_REG).
constexpr RawInsn movsx32(std::uint8_t dst, std::uint8_t src, int bits) {
    return make(bits == 8 ? Op::MovSx8To32 : Op::MovSx16To32, dst, src);
}
/// dst = le<bits>(dst): truncation to `bits` on a little-endian host.
constexpr RawInsn le(std::uint8_t dst, int bits) {
    return make(bits == 16 ? Op::Le16 : bits == 32 ? Op::Le32 : Op::Le64, dst);
}
/// dst = be<bits>(dst): byte swap of the low `bits` on a little-endian host, zero-extended.
constexpr RawInsn be(std::uint8_t dst, int bits) {
    return make(bits == 16 ? Op::Be16 : bits == 32 ? Op::Be32 : Op::Be64, dst);
}
/// dst = bswap<bits>(dst): unconditional byte swap of the low `bits`, zero-extended (cpu v4).
constexpr RawInsn bswap(std::uint8_t dst, int bits) {
    return make(bits == 16 ? Op::Bswap16 : bits == 32 ? Op::Bswap32 : Op::Bswap64, dst);
}

// ---- JMP / JMP32 ----

/// BPF_JMP_IMM: if dst op (s64)imm goto pc + 1 + off.
constexpr RawInsn jmp_imm(Jmp j, std::uint8_t dst, std::int32_t imm, std::int16_t off) {
    return make(jmp_op(j, true, false), dst, 0, off, imm);
}
/// BPF_JMP_REG: if dst op src goto pc + 1 + off.
constexpr RawInsn jmp_reg(Jmp j, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return make(jmp_op(j, true, true), dst, src, off);
}
/// BPF_JMP32_IMM: if wdst op (u32)imm goto pc + 1 + off.
constexpr RawInsn jmp32_imm(Jmp j, std::uint8_t dst, std::int32_t imm, std::int16_t off) {
    return make(jmp_op(j, false, false), dst, 0, off, imm);
}
/// BPF_JMP32_REG: if wdst op wsrc goto pc + 1 + off.
constexpr RawInsn jmp32_reg(Jmp j, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return make(jmp_op(j, false, true), dst, src, off);
}
/// BPF_JMP_A: goto pc + 1 + off.
constexpr RawInsn ja(std::int16_t off) { return make(Op::Ja, 0, 0, off); }
/// BPF_JMP32_A (gotol): goto pc + 1 + imm.
constexpr RawInsn gotol(std::int32_t imm) { return make(Op::Gotol, 0, 0, 0, imm); }
/// BPF_EMIT_CALL: call the helper with this id.
constexpr RawInsn call_helper(std::int32_t id) { return make(Op::Call, 0, 0, 0, id); }
/// BPF_CALL_REL: call the sub-program at pc + 1 + imm.
constexpr RawInsn call_local(std::int32_t imm) { return make(Op::CallLocal, 0, 0, 0, imm); }
/// BPF_EXIT_INSN.
constexpr RawInsn exit_insn() { return make(Op::Exit); }

// ---- memory ----

/// BPF_LDX_MEM: dst = *(u<size> *)(src + off), zero-extended.
constexpr RawInsn ldx_mem(Size s, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    constexpr Op kOps[] = {Op::LdxB, Op::LdxH, Op::LdxW, Op::LdxDW};
    return make(kOps[static_cast<std::size_t>(s)], dst, src, off);
}
/// BPF_LDX_MEMSX: dst = *(s<size> *)(src + off), sign-extended to 64 bits (size B, H or W; cpu v4).
constexpr RawInsn ldx_memsx(Size s, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    constexpr Op kOps[] = {Op::LdxSB, Op::LdxSH, Op::LdxSW, Op::LdxSW};
    return make(kOps[static_cast<std::size_t>(s)], dst, src, off);
}
/// BPF_ST_MEM: *(u<size> *)(dst + off) = imm (DW stores the sign-extended imm).
constexpr RawInsn st_mem(Size s, std::uint8_t dst, std::int16_t off, std::int32_t imm) {
    constexpr Op kOps[] = {Op::StB, Op::StH, Op::StW, Op::StDW};
    return make(kOps[static_cast<std::size_t>(s)], dst, 0, off, imm);
}
/// BPF_STX_MEM: *(u<size> *)(dst + off) = src.
constexpr RawInsn stx_mem(Size s, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    constexpr Op kOps[] = {Op::StxB, Op::StxH, Op::StxW, Op::StxDW};
    return make(kOps[static_cast<std::size_t>(s)], dst, src, off);
}
/// BPF_ATOMIC_OP: atomic `a` on *(u<size> *)(dst + off) with src (size W or DW).
constexpr RawInsn atomic_op(Size s, Atomic a, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return make(atomic_op_of(a, s == Size::DW), dst, src, off);
}
/// BPF_LD_ABS: r0 = ntoh(*(u<size> *)(packet + imm)) (size B, H or W).
constexpr RawInsn ld_abs(Size s, std::int32_t imm) {
    constexpr Op kOps[] = {Op::LdAbsB, Op::LdAbsH, Op::LdAbsW, Op::LdAbsW};
    return make(kOps[static_cast<std::size_t>(s)], 0, 0, 0, imm);
}
/// BPF_LD_IND: r0 = ntoh(*(u<size> *)(packet + src + imm)) (size B, H or W).
constexpr RawInsn ld_ind(Size s, std::uint8_t src, std::int32_t imm) {
    constexpr Op kOps[] = {Op::LdIndB, Op::LdIndH, Op::LdIndW, Op::LdIndW};
    return make(kOps[static_cast<std::size_t>(s)], 0, src, 0, imm);
}

/// One or two slots: what a builder yields (two only for lddw), so programs can be written as one list.
struct Slots {
    std::array<RawInsn, 2> insn{};
    std::uint8_t count = 0;

    constexpr Slots(RawInsn one) : insn{one, RawInsn{}}, count(1) {}  // NOLINT(google-explicit-constructor)
    constexpr Slots(RawInsn first, RawInsn second) : insn{first, second}, count(2) {}
};

/// BPF_LD_IMM64: dst = imm64 (two slots).
constexpr Slots ld_imm64(std::uint8_t dst, std::uint64_t value) {
    RawInsn tail;
    tail.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(value >> 32));
    return Slots(
        make(Op::Lddw, dst, isa::kPseudoImm64, 0, static_cast<std::int32_t>(static_cast<std::uint32_t>(value))), tail);
}

/// A program from a list of builders: `program({mov64_imm(R0, 1), ld_imm64(R1, x), exit_insn()})`.
inline std::vector<RawInsn> program(std::initializer_list<Slots> parts) {
    std::vector<RawInsn> out;
    for (const Slots& s : parts)
        for (std::uint8_t i = 0; i < s.count; ++i) out.push_back(s.insn[i]);
    return out;
}

/// Appends one builder's slots to `out`.
inline void append(std::vector<RawInsn>& out, const Slots& s) {
    for (std::uint8_t i = 0; i < s.count; ++i) out.push_back(s.insn[i]);
}

}  // namespace xbpf::test
