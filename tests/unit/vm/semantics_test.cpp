// Independent semantic oracle for the interpreter: one test per instruction class, with every expected value
// derived by hand from RFC 9669 (§4 arithmetic and jumps, §5 load and store) and the Linux kernel's behaviour
// (kernel/bpf/core.c, the verifier's div/mod rewrites), never by running the interpreter.
//
// Every safe program runs in checked and unchecked mode; both must agree on r0 and on the memory they leave.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "unit/vm/semantics_support.hpp"

namespace xbpf::test {
namespace {

// ---------------------------------------------------------------------------------------------------------------
// The builder's constexpr opcode mirror is the opcode table.

TEST(SemanticsBuilder, MirrorMatchesOpcodeTable) {
    for (const isa::OpInfo& row : isa::all_ops()) {
        const detail::Row& mine = detail::kRows[static_cast<std::size_t>(row.op)];
        EXPECT_EQ(mine.opcode, row.opcode) << row.name;
        EXPECT_EQ(mine.disc, row.disc) << row.name;
        EXPECT_EQ(mine.disc_value, row.disc_value) << row.name;
        const RawInsn raw = make(row.op);
        EXPECT_EQ(isa::lookup(raw.opcode, raw.src, raw.off, raw.imm), row.op) << row.name;
    }
    // A few encodings as the kernel's macros produce them (include/linux/filter.h).
    static_assert(opcode_of(Op::Add64Imm) == 0x07);
    static_assert(opcode_of(Op::Exit) == 0x95);
    constexpr RawInsn sdiv = alu64_reg(Alu::SDiv, R1, R2);
    static_assert(sdiv.opcode == 0x3f && sdiv.off == 1 && sdiv.dst == 1 && sdiv.src == 2);
    constexpr Slots lddw = ld_imm64(R3, 0x1122334455667788ull);
    static_assert(lddw.count == 2 && lddw.insn[0].imm == 0x55667788 && lddw.insn[1].imm == 0x11223344);
}

// ---------------------------------------------------------------------------------------------------------------
// ALU and ALU64 (RFC 9669 §4.1). Each case runs as `dst op= imm` and as `dst op= src` with src holding the
// immediate as the instruction would see it: sign-extended for ALU64; for 32-bit ALU, src's upper half is filled
// with garbage that must be ignored. 32-bit results are zero-extended.

struct BinCase {
    Alu op;
    bool is64;
    std::uint64_t dst;
    std::int32_t imm;
    std::uint64_t expected;
};

// clang-format off
const BinCase kBinCases[] = {
    // ---- ALU64 ----
    {Alu::Add, k64, 1, 2, 3},
    {Alu::Add, k64, 0xffffffffffffffff, 1, 0},
    {Alu::Add, k64, 5, -3, 2},                                     // imm sign-extended
    {Alu::Add, k64, 0x00000000ffffffff, 1, 0x0000000100000000},    // no 32-bit wrap
    {Alu::Add, k64, 0x7fffffffffffffff, 1, 0x8000000000000000},
    {Alu::Sub, k64, 10, 3, 7},
    {Alu::Sub, k64, 0, 1, 0xffffffffffffffff},
    {Alu::Sub, k64, 3, -5, 8},
    {Alu::Sub, k64, 0x0000000100000000, 1, 0x00000000ffffffff},
    {Alu::Mul, k64, 6, 7, 42},
    {Alu::Mul, k64, 0x100000000, 0x10, 0x1000000000},
    {Alu::Mul, k64, 0xfffffffffffffffe, 3, 0xfffffffffffffffa},    // -2 * 3
    {Alu::Mul, k64, 0x8000000000000000, 2, 0},
    {Alu::Mul, k64, 3, -1, 0xfffffffffffffffd},
    {Alu::Mul, k64, 0x123456789, 0x10000, 0x1234567890000},
    {Alu::Div, k64, 42, 5, 8},
    {Alu::Div, k64, 7, 0, 0},                                      // division by zero gives 0
    {Alu::Div, k64, 0xffffffffffffffff, 2, 0x7fffffffffffffff},    // unsigned
    {Alu::Div, k64, 100, -1, 0},                                   // divisor 0xffffffffffffffff
    {Alu::Div, k64, 0xffffffffffffffff, -1, 1},
    {Alu::Div, k64, 0xfffffffffffffff6, 3, 0x5555555555555552},
    {Alu::SDiv, k64, 0xfffffffffffffff9, 2, 0xfffffffffffffffd},   // -7 / 2 = -3 (truncated)
    {Alu::SDiv, k64, 7, -2, 0xfffffffffffffffd},                   // 7 / -2 = -3
    {Alu::SDiv, k64, 0xfffffffffffffff9, -2, 3},                   // -7 / -2 = 3
    {Alu::SDiv, k64, 0x8000000000000000, -1, 0x8000000000000000},  // INT64_MIN / -1 = INT64_MIN
    {Alu::SDiv, k64, 0xfffffffffffffffb, 0, 0},                    // signed division by zero gives 0
    {Alu::SDiv, k64, 42, 5, 8},
    {Alu::SDiv, k64, 0xfffffffffffffff6, 3, 0xfffffffffffffffd},   // -10 / 3 = -3
    {Alu::Mod, k64, 42, 5, 2},
    {Alu::Mod, k64, 0xffffffff00000007, 0, 0xffffffff00000007},    // modulo by zero leaves dst
    {Alu::Mod, k64, 100, -1, 100},                                 // divisor 0xffffffffffffffff
    {Alu::Mod, k64, 0xfffffffffffffff7, 3, 1},
    {Alu::SMod, k64, 0xfffffffffffffff9, 2, 0xffffffffffffffff},   // -7 % 2 = -1 (sign of the dividend)
    {Alu::SMod, k64, 7, -2, 1},
    {Alu::SMod, k64, 0xfffffffffffffff9, -2, 0xffffffffffffffff},  // -7 % -2 = -1
    {Alu::SMod, k64, 0x8000000000000000, -1, 0},                   // INT64_MIN % -1 = 0
    {Alu::SMod, k64, 0xfffffffffffffffb, 0, 0xfffffffffffffffb},   // smod by zero leaves dst
    {Alu::SMod, k64, 13, 3, 1},
    {Alu::SMod, k64, 0xfffffffffffffff3, 3, 0xffffffffffffffff},   // -13 % 3 = -1
    {Alu::Or, k64, 0xf0, 0x0f, 0xff},
    {Alu::Or, k64, 0x100000000, -1, 0xffffffffffffffff},
    {Alu::Or, k64, 0xff00000000000000, 1, 0xff00000000000001},
    {Alu::And, k64, 0xff00ff, 0x000ff0, 0xf0},
    {Alu::And, k64, 0xffffffffffffffff, 0x7fffffff, 0x7fffffff},
    {Alu::And, k64, 0x123456789abcdef7, -16, 0x123456789abcdef0},
    {Alu::Lsh, k64, 1, 63, 0x8000000000000000},
    {Alu::Lsh, k64, 1, 65, 2},                                     // shift counts are masked to 6 bits
    {Alu::Lsh, k64, 1, 64, 1},
    {Alu::Lsh, k64, 3, 32, 0x300000000},
    {Alu::Lsh, k64, 0xffffffffffffffff, 4, 0xfffffffffffffff0},
    {Alu::Rsh, k64, 0x8000000000000000, 63, 1},
    {Alu::Rsh, k64, 0xff00000000000000, 4, 0x0ff0000000000000},
    {Alu::Rsh, k64, 0x10, 68, 1},
    {Alu::Rsh, k64, 0x10, 64, 0x10},
    {Alu::Arsh, k64, 0x8000000000000000, 63, 0xffffffffffffffff},
    {Alu::Arsh, k64, 0xf000000000000000, 4, 0xff00000000000000},
    {Alu::Arsh, k64, 0x7000000000000000, 4, 0x0700000000000000},
    {Alu::Arsh, k64, 0x8000000000000000, 64, 0x8000000000000000},
    {Alu::Arsh, k64, 0x8000000000000000, 65, 0xc000000000000000},
    {Alu::Xor, k64, 0xff, 0x0f, 0xf0},
    {Alu::Xor, k64, 0, -1, 0xffffffffffffffff},
    {Alu::Xor, k64, 0xffffffff00000000, -1, 0x00000000ffffffff},
    {Alu::Mov, k64, 0x1234, -1, 0xffffffffffffffff},               // mov64 sign-extends imm
    {Alu::Mov, k64, 0xffffffffffffffff, 0x7fffffff, 0x7fffffff},
    {Alu::Mov, k64, 0, INT_MIN, 0xffffffff80000000},
    // ---- ALU (32-bit; upper half of dst ignored, result zero-extended) ----
    {Alu::Add, k32, 0xdeadbeef00000001, 2, 3},
    {Alu::Add, k32, 0x00000000ffffffff, 1, 0},
    {Alu::Add, k32, 0x000000017fffffff, 1, 0x80000000},
    {Alu::Add, k32, 5, -3, 2},
    {Alu::Sub, k32, 0x0000000100000000, 1, 0xffffffff},
    {Alu::Sub, k32, 10, 3, 7},
    {Alu::Sub, k32, 0xffffffff00000003, 5, 0xfffffffe},
    {Alu::Mul, k32, 0x10000, 0x10000, 0},
    {Alu::Mul, k32, 0xffffffff, 2, 0xfffffffe},
    {Alu::Mul, k32, 0xfffffffffffffffd, 3, 0xfffffff7},
    {Alu::Mul, k32, 0x100000006, 7, 42},
    {Alu::Div, k32, 42, 5, 8},
    {Alu::Div, k32, 0xffffffff00000010, 4, 4},
    {Alu::Div, k32, 0xdeadbeef00000007, 0, 0},                    // division by zero gives 0
    {Alu::Div, k32, 0xffffffff, -1, 1},                            // divisor (u32)imm = 0xffffffff
    {Alu::Div, k32, 100, -1, 0},
    {Alu::Div, k32, 0x80000000, 2, 0x40000000},                    // unsigned
    {Alu::SDiv, k32, 0x12345678fffffff9, 2, 0xfffffffd},           // -7 / 2 = -3, zero-extended
    {Alu::SDiv, k32, 0x80000000, -1, 0x80000000},                  // INT32_MIN / -1 = INT32_MIN
    {Alu::SDiv, k32, 7, -2, 0xfffffffd},
    {Alu::SDiv, k32, 0xfffffff9, -2, 3},
    {Alu::SDiv, k32, 0xfffffff9, 0, 0},
    {Alu::SDiv, k32, 0xffffffff80000000, 2, 0xc0000000},
    {Alu::Mod, k32, 42, 5, 2},
    {Alu::Mod, k32, 0xdeadbeef00000007, 0, 7},                     // mod32 by zero: dst, zero-extended
    {Alu::Mod, k32, 0x100000003, 2, 1},
    {Alu::Mod, k32, 0xffffffff, -1, 0},
    {Alu::Mod, k32, 100, -1, 100},
    {Alu::SMod, k32, 0xfffffff9, 2, 0xffffffff},                   // -7 % 2 = -1
    {Alu::SMod, k32, 7, -2, 1},
    {Alu::SMod, k32, 0x80000000, -1, 0},                           // INT32_MIN % -1 = 0
    {Alu::SMod, k32, 0xaaaaaaaafffffffb, 0, 0xfffffffb},           // smod32 by zero: dst, zero-extended
    {Alu::SMod, k32, 0xfffffff3, 3, 0xffffffff},                   // -13 % 3 = -1
    {Alu::Or, k32, 0xffffffff000000f0, 0x0f, 0xff},
    {Alu::Or, k32, 0, -1, 0xffffffff},
    {Alu::And, k32, 0xffffffffffffffff, -1, 0xffffffff},
    {Alu::And, k32, 0x12345678, 0xff00, 0x5600},
    {Alu::Lsh, k32, 1, 31, 0x80000000},
    {Alu::Lsh, k32, 1, 32, 1},                                     // shift counts are masked to 5 bits
    {Alu::Lsh, k32, 1, 33, 2},
    {Alu::Lsh, k32, 0xffffffff, 4, 0xfffffff0},
    {Alu::Lsh, k32, 0x80000001, 1, 2},
    {Alu::Rsh, k32, 0xffffffff80000000, 31, 1},
    {Alu::Rsh, k32, 0x80000000, 32, 0x80000000},
    {Alu::Rsh, k32, 0x80000000, 35, 0x10000000},
    {Alu::Arsh, k32, 0x80000000, 31, 0xffffffff},
    {Alu::Arsh, k32, 0x80000000, 4, 0xf8000000},
    {Alu::Arsh, k32, 0x170000000, 4, 0x07000000},
    {Alu::Arsh, k32, 0x80000000, 33, 0xc0000000},
    {Alu::Arsh, k32, 0xffffffff80000000, 1, 0xc0000000},
    {Alu::Xor, k32, 0xffffffffffffffff, 0x0f, 0xfffffff0},
    {Alu::Xor, k32, 0xffffffff00000000, -1, 0xffffffff},
    {Alu::Mov, k32, 0x1234567812345678, -1, 0xffffffff},           // w0 = -1 gives 0xffffffff
    {Alu::Mov, k32, 0xffffffffffffffff, 0, 0},
    {Alu::Mov, k32, 0, INT_MIN, 0x80000000},
};
// clang-format on

std::string describe(const BinCase& c, bool reg) {
    return fmt::format("{} {} dst={:#x} {}={:#x} expect {:#x}", isa::info(alu_op(c.op, c.is64, reg)).name,
                       reg ? "reg" : "imm", c.dst, reg ? "src(imm)" : "imm", c.imm, c.expected);
}

TEST(SemanticsAlu, EveryOpImmediate) {
    for (const BinCase& c : kBinCases) {
        SCOPED_TRACE(describe(c, false));
        const RawInsn insn = c.is64 ? alu64_imm(c.op, R0, c.imm) : alu32_imm(c.op, R0, c.imm);
        EXPECT_EQ(run(program({ld_imm64(R0, c.dst), insn, exit_insn()})), c.expected);
    }
}

TEST(SemanticsAlu, EveryOpRegister) {
    for (const BinCase& c : kBinCases) {
        SCOPED_TRACE(describe(c, true));
        // ALU32 must ignore the upper half of src.
        const std::uint64_t src = c.is64 ? sext(c.imm) : 0xdeadbeef00000000ull | static_cast<std::uint32_t>(c.imm);
        const RawInsn insn = c.is64 ? alu64_reg(c.op, R0, R1) : alu32_reg(c.op, R0, R1);
        EXPECT_EQ(run(program({ld_imm64(R0, c.dst), ld_imm64(R1, src), insn, exit_insn()})), c.expected);
        // The source register is not changed.
        EXPECT_EQ(run(program({ld_imm64(R0, c.dst), ld_imm64(R1, src), insn, mov64_reg(R0, R1), exit_insn()})), src);
    }
}

struct RegCase {
    Alu op;
    bool is64;
    std::uint64_t dst;
    std::uint64_t src;
    std::uint64_t expected;
};

// Register operands no immediate can express.
// clang-format off
const RegCase kRegCases[] = {
    {Alu::Div, k32, 99, 0x100000000, 0},                          // the 32-bit divisor is (u32)src == 0
    {Alu::Mod, k32, 0xdeadbeef00000063, 0x100000000, 0x63},       // ... and mod leaves (u32)dst, zero-extended
    {Alu::Div, k64, 0x500000000, 0x100000000, 5},
    {Alu::Mod, k64, 0x500000007, 0x100000000, 7},
    {Alu::Div, k64, 0xffffffffffffffff, 0x8000000000000000, 1},
    {Alu::Lsh, k64, 1, 0xffffffffffffff01, 2},                    // src & 63
    {Alu::Lsh, k32, 1, 0xffffffffffffff21, 2},                    // src & 31
    {Alu::Rsh, k64, 0x8000000000000000, 0x7f, 1},
    {Alu::Arsh, k64, 0x8000000000000000, 0x40, 0x8000000000000000},
    {Alu::Arsh, k32, 0x80000000, 0x3f, 0xffffffff},
    {Alu::Mov, k32, 0, 0xffffffff12345678, 0x12345678},
    {Alu::Mov, k64, 0, 0xffffffff12345678, 0xffffffff12345678},
    {Alu::SDiv, k64, 0x8000000000000000, 0xffffffffffffffff, 0x8000000000000000},
    {Alu::SMod, k64, 0x8000000000000000, 0xffffffffffffffff, 0},
    {Alu::SDiv, k32, 0x80000000, 0x00000000ffffffff, 0x80000000},  // (s32)src == -1
    {Alu::SMod, k32, 0x80000000, 0x12345678ffffffff, 0},
    {Alu::SDiv, k64, 0x7fffffffffffffff, 0x8000000000000000, 0},
    {Alu::SMod, k64, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff},
    {Alu::Mul, k64, 0xffffffffffffffff, 0xffffffffffffffff, 1},
    {Alu::Sub, k32, 0, 0xffffffff00000001, 0xffffffff},
};
// clang-format on

TEST(SemanticsAlu, RegisterOnlyOperands) {
    for (const RegCase& c : kRegCases) {
        SCOPED_TRACE(fmt::format("{} dst={:#x} src={:#x} expect {:#x}", isa::info(alu_op(c.op, c.is64, true)).name,
                                 c.dst, c.src, c.expected));
        const RawInsn insn = c.is64 ? alu64_reg(c.op, R0, R1) : alu32_reg(c.op, R0, R1);
        EXPECT_EQ(run(program({ld_imm64(R0, c.dst), ld_imm64(R1, c.src), insn, exit_insn()})), c.expected);
    }
}

TEST(SemanticsAlu, SameRegisterAsSourceAndDestination) {
    EXPECT_EQ(run(program({ld_imm64(R0, 0x123456789), alu64_reg(Alu::Sub, R0, R0), exit_insn()})), 0u);
    EXPECT_EQ(run(program({ld_imm64(R0, 0x123456789), alu64_reg(Alu::Xor, R0, R0), exit_insn()})), 0u);
    EXPECT_EQ(run(program({ld_imm64(R0, 7), alu64_reg(Alu::Div, R0, R0), exit_insn()})), 1u);
    EXPECT_EQ(run(program({mov64_imm(R0, 0), alu64_reg(Alu::Div, R0, R0), exit_insn()})), 0u);
    EXPECT_EQ(run(program({mov64_imm(R0, 0), alu64_reg(Alu::Mod, R0, R0), exit_insn()})), 0u);
    EXPECT_EQ(run(program({ld_imm64(R0, 0x100000003), alu32_reg(Alu::Mul, R0, R0), exit_insn()})), 9u);
    EXPECT_EQ(run(program({mov64_imm(R0, 3), alu64_reg(Alu::Lsh, R0, R0), exit_insn()})), 24u);
}

TEST(SemanticsAlu, Neg) {
    struct Case {
        bool is64;
        std::uint64_t dst, expected;
    };
    const Case cases[] = {
        {k64, 5, 0xfffffffffffffffb},
        {k64, 0, 0},
        {k64, 0x8000000000000000, 0x8000000000000000},
        {k64, 0xffffffffffffffff, 1},
        {k32, 0xffffffff00000005, 0xfffffffb},
        {k32, 0x80000000, 0x80000000},
        {k32, 0x100000000, 0},
        {k32, 0xffffffff, 1},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(fmt::format("neg{} {:#x}", c.is64 ? 64 : 32, c.dst));
        EXPECT_EQ(run(program({ld_imm64(R0, c.dst), c.is64 ? neg64(R0) : neg32(R0), exit_insn()})), c.expected);
    }
}

TEST(SemanticsAlu, MovSx) {
    struct Case {
        bool is64;
        int bits;
        std::uint64_t src, expected;
    };
    const Case cases[] = {
        {k64, 8, 0x12345680, 0xffffffffffffff80},
        {k64, 8, 0x7f, 0x7f},
        {k64, 8, 0xffffffffffffff00, 0},
        {k64, 16, 0xabcd8001, 0xffffffffffff8001},
        {k64, 16, 0xffff7fff, 0x7fff},
        {k64, 32, 0x180000000, 0xffffffff80000000},
        {k64, 32, 0xffffffff7fffffff, 0x7fffffff},
        {k32, 8, 0x80, 0xffffff80},  // sign-extended to 32 bits, then zero-extended
        {k32, 8, 0x7f, 0x7f},
        {k32, 8, 0xffffffffffffff81, 0xffffff81},
        {k32, 16, 0x8000, 0xffff8000},
        {k32, 16, 0x12347fff, 0x7fff},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(fmt::format("movsx{}to{} {:#x}", c.bits, c.is64 ? 64 : 32, c.src));
        const RawInsn insn = c.is64 ? movsx64(R0, R1, c.bits) : movsx32(R0, R1, c.bits);
        EXPECT_EQ(run(program({ld_imm64(R0, 0x5555555555555555), ld_imm64(R1, c.src), insn, exit_insn()})), c.expected);
    }
}

TEST(SemanticsAlu, Endianness) {
    constexpr std::uint64_t kValue = 0x0123456789abcdef;
    struct Case {
        RawInsn insn;
        std::uint64_t expected;
    };
    // On a little-endian host, le is a truncation and be a byte swap; bswap always swaps (RFC 9669 §4.2).
    const Case cases[] = {
        {le(R0, 16), 0xcdef},    {le(R0, 32), 0x89abcdef},    {le(R0, 64), 0x0123456789abcdef},
        {be(R0, 16), 0xefcd},    {be(R0, 32), 0xefcdab89},    {be(R0, 64), 0xefcdab8967452301},
        {bswap(R0, 16), 0xefcd}, {bswap(R0, 32), 0xefcdab89}, {bswap(R0, 64), 0xefcdab8967452301},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(op_name(c.insn));
        EXPECT_EQ(run(program({ld_imm64(R0, kValue), c.insn, exit_insn()})), c.expected);
    }
}

TEST(SemanticsAlu, Lddw) {
    EXPECT_EQ(run(program({ld_imm64(R0, 0x123456789abcdef0), exit_insn()})), 0x123456789abcdef0u);
    EXPECT_EQ(run(program({ld_imm64(R0, 0x00000001ffffffff), exit_insn()})), 0x00000001ffffffffu);  // low imm not sext
    EXPECT_EQ(run(program({ld_imm64(R0, 0xffffffff00000000), exit_insn()})), 0xffffffff00000000u);
    EXPECT_EQ(run(program({ld_imm64(R5, 0x8000000000000000), mov64_reg(R0, R5), exit_insn()})), 0x8000000000000000u);
}

// ---------------------------------------------------------------------------------------------------------------
// JMP and JMP32 (RFC 9669 §4.3): r0 = 1; if dst op src/imm goto +1; r0 = 0; exit.

struct JmpCase {
    Jmp op;
    bool is64;
    std::uint64_t dst;
    std::int32_t imm;
    bool taken;
};

// clang-format off
const JmpCase kJmpCases[] = {
    // ---- JMP: 64-bit compares, imm sign-extended ----
    {Jmp::Jeq, k64, 5, 5, true},
    {Jmp::Jeq, k64, 5, 6, false},
    {Jmp::Jeq, k64, 0xffffffffffffffff, -1, true},
    {Jmp::Jeq, k64, 0x00000000ffffffff, -1, false},
    {Jmp::Jne, k64, 5, 6, true},
    {Jmp::Jne, k64, 5, 5, false},
    {Jmp::Jne, k64, 0x00000000ffffffff, -1, true},
    {Jmp::Jgt, k64, 6, 5, true},
    {Jmp::Jgt, k64, 5, 5, false},
    {Jmp::Jgt, k64, 0xffffffffffffffff, 1, true},                  // unsigned
    {Jmp::Jgt, k64, 1, -1, false},
    {Jmp::Jgt, k64, 0x100000000, 0x7fffffff, true},
    {Jmp::Jge, k64, 5, 5, true},
    {Jmp::Jge, k64, 4, 5, false},
    {Jmp::Jge, k64, 0xffffffffffffffff, -1, true},
    {Jmp::Jge, k64, 0x80000000, -1, false},
    {Jmp::Jlt, k64, 4, 5, true},
    {Jmp::Jlt, k64, 5, 5, false},
    {Jmp::Jlt, k64, 1, -1, true},
    {Jmp::Jlt, k64, 0xffffffffffffffff, 0, false},
    {Jmp::Jle, k64, 5, 5, true},
    {Jmp::Jle, k64, 6, 5, false},
    {Jmp::Jle, k64, 0xfffffffffffffffe, -1, true},
    {Jmp::Jle, k64, 0xffffffffffffffff, -2, false},
    {Jmp::Jsgt, k64, 1, -1, true},
    {Jmp::Jsgt, k64, 0xffffffffffffffff, 1, false},
    {Jmp::Jsgt, k64, 5, 5, false},
    {Jmp::Jsgt, k64, 0x8000000000000000, 0, false},
    {Jmp::Jsgt, k64, 0x7fffffffffffffff, INT_MIN, true},
    {Jmp::Jsge, k64, 0xffffffffffffffff, -1, true},
    {Jmp::Jsge, k64, 0xfffffffffffffffe, -1, false},
    {Jmp::Jsge, k64, 0, -1, true},
    {Jmp::Jslt, k64, 0xffffffffffffffff, 1, true},
    {Jmp::Jslt, k64, 1, -1, false},
    {Jmp::Jslt, k64, 0x8000000000000000, INT_MIN, true},
    {Jmp::Jslt, k64, 5, 5, false},
    {Jmp::Jsle, k64, 0xffffffffffffffff, -1, true},
    {Jmp::Jsle, k64, 0, -1, false},
    {Jmp::Jsle, k64, 0x8000000000000000, 0, true},
    {Jmp::Jset, k64, 0b1010, 0b0100, false},
    {Jmp::Jset, k64, 0b1010, 0b0010, true},
    {Jmp::Jset, k64, 0x100000000, -1, true},
    {Jmp::Jset, k64, 0x100000000, 0x7fffffff, false},
    // ---- JMP32: compares of the low halves ----
    {Jmp::Jeq, k32, 0xdeadbeef00000005, 5, true},
    {Jmp::Jeq, k32, 0x500000000, 5, false},
    {Jmp::Jeq, k32, 0x00000000ffffffff, -1, true},
    {Jmp::Jeq, k32, 0xffffffff00000000, 0, true},
    {Jmp::Jne, k32, 0x100000005, 5, false},
    {Jmp::Jne, k32, 6, 5, true},
    {Jmp::Jgt, k32, 0x80000000, 1, true},                          // unsigned
    {Jmp::Jgt, k32, 0x100000000, 0, false},
    {Jmp::Jgt, k32, 0xffffffff, -1, false},
    {Jmp::Jgt, k32, 0xffffffff, -2, true},
    {Jmp::Jge, k32, 0xffffffff00000005, 5, true},
    {Jmp::Jge, k32, 4, 5, false},
    {Jmp::Jlt, k32, 1, -1, true},
    {Jmp::Jlt, k32, 0xffffffff00000002, 1, false},
    {Jmp::Jlt, k32, 0x100000000, 1, true},
    {Jmp::Jle, k32, 0xffffffff, -1, true},
    {Jmp::Jle, k32, 0x80000000, 0x7fffffff, false},
    {Jmp::Jsgt, k32, 0x80000000, 1, false},                        // signed: INT32_MIN
    {Jmp::Jsgt, k32, 1, -1, true},
    {Jmp::Jsgt, k32, 0x7fffffff00000001, 0, true},
    {Jmp::Jsgt, k32, 0x00000000ffffffff, 0, false},
    {Jmp::Jsge, k32, 0xffffffff, -1, true},
    {Jmp::Jsge, k32, 0x80000000, 0x7fffffff, false},
    {Jmp::Jslt, k32, 0x80000000, 0, true},
    {Jmp::Jslt, k32, 0xffffffff7fffffff, 0, false},
    {Jmp::Jsle, k32, 0xffffffff, -1, true},
    {Jmp::Jsle, k32, 0x100000000, -1, false},
    {Jmp::Jset, k32, 0xffffffff00000000, -1, false},
    {Jmp::Jset, k32, 0x80000000, INT_MIN, true},
};
// clang-format on

TEST(SemanticsJmp, EveryConditionImmediate) {
    for (const JmpCase& c : kJmpCases) {
        SCOPED_TRACE(fmt::format("{} dst={:#x} imm={:#x} taken={}", isa::info(jmp_op(c.op, c.is64, false)).name, c.dst,
                                 c.imm, c.taken));
        const RawInsn jump = c.is64 ? jmp_imm(c.op, R1, c.imm, 1) : jmp32_imm(c.op, R1, c.imm, 1);
        EXPECT_EQ(run(program({ld_imm64(R1, c.dst), mov64_imm(R0, 1), jump, mov64_imm(R0, 0), exit_insn()})),
                  c.taken ? 1u : 0u);
    }
}

TEST(SemanticsJmp, EveryConditionRegister) {
    for (const JmpCase& c : kJmpCases) {
        const std::uint64_t src = c.is64 ? sext(c.imm) : 0xcafebabe00000000ull | static_cast<std::uint32_t>(c.imm);
        SCOPED_TRACE(fmt::format("{} dst={:#x} src={:#x} taken={}", isa::info(jmp_op(c.op, c.is64, true)).name, c.dst,
                                 src, c.taken));
        const RawInsn jump = c.is64 ? jmp_reg(c.op, R1, R2, 1) : jmp32_reg(c.op, R1, R2, 1);
        EXPECT_EQ(run(program(
                      {ld_imm64(R1, c.dst), ld_imm64(R2, src), mov64_imm(R0, 1), jump, mov64_imm(R0, 0), exit_insn()})),
                  c.taken ? 1u : 0u);
    }
}

TEST(SemanticsJmp, RegisterOnlyOperands) {
    struct Case {
        Jmp op;
        bool is64;
        std::uint64_t dst, src;
        bool taken;
    };
    const Case cases[] = {
        {Jmp::Jsgt, k64, 0x7fffffffffffffff, 0x8000000000000000, true},
        {Jmp::Jgt, k64, 0x7fffffffffffffff, 0x8000000000000000, false},
        {Jmp::Jgt, k64, 0x8000000000000000, 0x7fffffffffffffff, true},
        {Jmp::Jslt, k64, 0x8000000000000000, 0x7fffffffffffffff, true},
        {Jmp::Jset, k64, 0x100000000, 0x100000000, true},
        {Jmp::Jeq, k32, 0x100000007, 0x200000007, true},
        {Jmp::Jeq, k64, 0x100000007, 0x200000007, false},
        {Jmp::Jlt, k32, 0xffffffff00000001, 2, true},
        {Jmp::Jsle, k32, 0x0000000080000000, 0x7fffffff80000000, true},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(fmt::format("{} dst={:#x} src={:#x}", isa::info(jmp_op(c.op, c.is64, true)).name, c.dst, c.src));
        const RawInsn jump = c.is64 ? jmp_reg(c.op, R1, R2, 1) : jmp32_reg(c.op, R1, R2, 1);
        EXPECT_EQ(run(program({ld_imm64(R1, c.dst), ld_imm64(R2, c.src), mov64_imm(R0, 1), jump, mov64_imm(R0, 0),
                               exit_insn()})),
                  c.taken ? 1u : 0u);
    }
}

TEST(SemanticsJmp, UnconditionalAndLoops) {
    // ja +1 skips one instruction; ja +0 is a no-op.
    EXPECT_EQ(run(program({mov64_imm(R0, 1), ja(1), mov64_imm(R0, 2), exit_insn()})), 1u);
    EXPECT_EQ(run(program({mov64_imm(R0, 1), ja(0), mov64_imm(R0, 2), exit_insn()})), 2u);
    // gotol: 32-bit offset in imm.
    EXPECT_EQ(run(program({mov64_imm(R0, 1), gotol(1), mov64_imm(R0, 2), exit_insn()})), 1u);
    // A backward conditional loop: r0 = 0; r1 = 10; do { r0 += 2; r1 -= 1; } while (r1 != 0).
    EXPECT_EQ(run(program({mov64_imm(R0, 0), mov64_imm(R1, 10), alu64_imm(Alu::Add, R0, 2), alu64_imm(Alu::Sub, R1, 1),
                           jmp_imm(Jmp::Jne, R1, 0, -3), exit_insn()})),
              20u);
    // A backward ja: jump over the exit to a block that jumps back.
    EXPECT_EQ(run(program({mov64_imm(R0, 1), ja(2), alu64_imm(Alu::Add, R0, 10), exit_insn(),
                           alu64_imm(Alu::Add, R0, 100), ja(-4)})),
              111u);
    // gotol beyond the 16-bit range of off.
    std::vector<RawInsn> far = program({mov64_imm(R0, 7), gotol(40000)});
    for (int i = 0; i < 40000; ++i) far.push_back(mov64_imm(R0, 0));
    far.push_back(exit_insn());
    EXPECT_EQ(run(far), 7u);
}

// ---------------------------------------------------------------------------------------------------------------
// Loads and stores (RFC 9669 §5.1-§5.2) on the run_raw memory (r1 = mem, r2 = size) and the stack.

std::vector<std::uint8_t> load_test_memory() {
    return {0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,   // 0: sign bits set
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x08,   // 8: sign bits clear
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};  // 16
}

TEST(SemanticsMem, LoadsOfEverySize) {
    struct Case {
        RawInsn insn;
        std::uint64_t expected;
    };
    const Case cases[] = {
        {ldx_mem(Size::DW, R0, R1, 0), 0xffeeddccbbaa9988},
        {ldx_mem(Size::W, R0, R1, 0), 0xbbaa9988},
        {ldx_mem(Size::H, R0, R1, 0), 0x9988},
        {ldx_mem(Size::B, R0, R1, 0), 0x88},
        {ldx_mem(Size::W, R0, R1, 4), 0xffeeddcc},
        {ldx_mem(Size::B, R0, R1, 7), 0xff},
        {ldx_mem(Size::DW, R0, R1, 8), 0x0877665544332211},
        {ldx_mem(Size::H, R0, R1, 1), 0xaa99},  // unaligned: allowed by the ISA
        {ldx_memsx(Size::B, R0, R1, 0), 0xffffffffffffff88},
        {ldx_memsx(Size::H, R0, R1, 0), 0xffffffffffff9988},
        {ldx_memsx(Size::W, R0, R1, 0), 0xffffffffbbaa9988},
        {ldx_memsx(Size::B, R0, R1, 8), 0x11},
        {ldx_memsx(Size::H, R0, R1, 8), 0x2211},
        {ldx_memsx(Size::W, R0, R1, 8), 0x44332211},
        {ldx_memsx(Size::B, R0, R1, 15), 0x08},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(fmt::format("{} off {}", op_name(c.insn), c.insn.off));
        std::vector<std::uint8_t> mem = load_test_memory();
        // dst starts with garbage: loads replace all 64 bits.
        EXPECT_EQ(run(program({ld_imm64(R0, 0x5a5a5a5a5a5a5a5a), c.insn, exit_insn()}), &mem), c.expected);
        EXPECT_EQ(mem, load_test_memory()) << "a load changed memory";
    }
    // Negative offsets from a pointer into the middle of the buffer.
    std::vector<std::uint8_t> mem = load_test_memory();
    EXPECT_EQ(run(program({mov64_reg(R2, R1), alu64_imm(Alu::Add, R2, 16), ldx_mem(Size::DW, R0, R2, -8), exit_insn()}),
                  &mem),
              0x0877665544332211u);
}

TEST(SemanticsMem, StoresOfEverySize) {
    struct Case {
        RawInsn insn;
        std::vector<std::uint8_t> expected_first8;
    };
    const Case cases[] = {
        // ST: immediate, truncated to the access size; DW stores the sign-extended imm.
        {st_mem(Size::B, R1, 0, 0x1ff), {0xff, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee}},
        {st_mem(Size::H, R1, 0, 0x12345), {0x45, 0x23, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee}},
        {st_mem(Size::W, R1, 0, -1), {0xff, 0xff, 0xff, 0xff, 0xee, 0xee, 0xee, 0xee}},
        {st_mem(Size::DW, R1, 0, -2), {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {st_mem(Size::DW, R1, 0, 0x7fffffff), {0xff, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x00, 0x00}},
        {st_mem(Size::B, R1, 3, 0x42), {0xee, 0xee, 0xee, 0x42, 0xee, 0xee, 0xee, 0xee}},
        // STX: register r2 = 0x1122334455667788.
        {stx_mem(Size::B, R1, R2, 0), {0x88, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee}},
        {stx_mem(Size::H, R1, R2, 0), {0x88, 0x77, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee}},
        {stx_mem(Size::W, R1, R2, 0), {0x88, 0x77, 0x66, 0x55, 0xee, 0xee, 0xee, 0xee}},
        {stx_mem(Size::DW, R1, R2, 0), {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}},
        {stx_mem(Size::W, R1, R2, 4), {0xee, 0xee, 0xee, 0xee, 0x88, 0x77, 0x66, 0x55}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(fmt::format("{} off {} imm {:#x}", op_name(c.insn), c.insn.off, c.insn.imm));
        std::vector<std::uint8_t> mem(16, 0xee);
        EXPECT_EQ(run(program({ld_imm64(R2, 0x1122334455667788), mov64_imm(R0, 3), c.insn, exit_insn()}), &mem), 3u);
        std::vector<std::uint8_t> expected = c.expected_first8;
        expected.resize(16, 0xee);
        EXPECT_EQ(mem, expected);
    }
}

TEST(SemanticsMem, Stack) {
    // Store and reload through r10, at the top and the bottom of the 512-byte frame.
    EXPECT_EQ(run(program({ld_imm64(R1, 0x0102030405060708), stx_mem(Size::DW, R10, R1, -8),
                           ldx_mem(Size::DW, R0, R10, -8), exit_insn()})),
              0x0102030405060708u);
    EXPECT_EQ(run(program({ld_imm64(R1, 0x0102030405060708), stx_mem(Size::DW, R10, R1, -512),
                           ldx_mem(Size::W, R0, R10, -508), exit_insn()})),
              0x01020304u);
    EXPECT_EQ(run(program({st_mem(Size::W, R10, -4, -2), ldx_memsx(Size::H, R0, R10, -4), exit_insn()})),
              0xfffffffffffffffeu);
    EXPECT_EQ(run(program({st_mem(Size::B, R10, -1, 0x80), ldx_memsx(Size::B, R0, R10, -1), exit_insn()})),
              0xffffffffffffff80u);
    // A copy of r10 works as a base too.
    EXPECT_EQ(run(program({mov64_reg(R2, R10), alu64_imm(Alu::Sub, R2, 16), st_mem(Size::DW, R2, 0, 77),
                           ldx_mem(Size::DW, R0, R10, -16), exit_insn()})),
              77u);
}

}  // namespace
}  // namespace xbpf::test
