// Disassembler: the printed form of every Op in both syntaxes, llvm-objdump's edge cases (immediates, offsets,
// lddw pseudo sources, --print-imm-hex, --mattr=+alu32), the listing layout and labels. The text itself is checked
// against llvm-objdump 14 by tests/golden (ObjdumpGolden.*); these tests pin it without needing LLVM.
#include <gtest/gtest.h>

#include <climits>
#include <map>
#include <string>
#include <vector>

#include "isa/assembler.hpp"
#include "isa/disassembler.hpp"

namespace xbpf::isa {
namespace {

RawInsn raw(std::uint8_t opcode, std::uint8_t dst = 0, std::uint8_t src = 0, std::int16_t off = 0,
            std::int32_t imm = 0) {
    RawInsn r;
    r.opcode = opcode;
    r.dst = dst;
    r.src = src;
    r.off = off;
    r.imm = imm;
    return r;
}

// A representative encoding of a table row: r1/r2 operands, imm -5, memory at r10 - 8 or r1 + 8, jumps -3 / +3.
RawInsn canonical(const OpInfo& row) {
    RawInsn r;
    r.opcode = row.opcode;
    switch (row.shape) {
        case Shape::AluImm: r.dst = 1, r.imm = -5; break;
        case Shape::AluReg:
        case Shape::MovSx: r.dst = 1, r.src = 2; break;
        case Shape::Neg:
        case Shape::Endian:
        case Shape::Callx: r.dst = 1; break;
        case Shape::Ja: r.off = 3; break;
        case Shape::Gotol: r.imm = 70000; break;
        case Shape::JmpImm: r.dst = 1, r.imm = 5, r.off = -3; break;
        case Shape::JmpReg: r.dst = 1, r.src = 2, r.off = 3; break;
        case Shape::Call: r.imm = 1; break;
        case Shape::CallLocal: r.imm = 3; break;
        case Shape::CallKfunc: r.imm = 17; break;
        case Shape::Exit: break;
        case Shape::Lddw: r.dst = 1, r.imm = 0x55667788; break;
        case Shape::LdAbs: r.imm = 12; break;
        case Shape::LdInd: r.src = 3; break;
        case Shape::Ldx:
        case Shape::LdxSx: r.dst = 1, r.src = 10, r.off = -8; break;
        case Shape::St: r.dst = 10, r.off = -8, r.imm = 100; break;
        case Shape::Stx: r.dst = 10, r.src = 1, r.off = -8; break;
        case Shape::Atomic: r.dst = 1, r.src = 2, r.off = 8; break;
    }
    switch (row.disc) {
        case Disc::Off: r.off = static_cast<std::int16_t>(row.disc_value); break;
        case Disc::Imm: r.imm = row.disc_value; break;
        case Disc::Src: r.src = static_cast<std::uint8_t>(row.disc_value); break;
        case Disc::None: break;
    }
    return r;
}

// The one instruction of `slots` (a lddw takes two), decoded alone: jump targets are not checked.
Instruction decoded(const std::vector<RawInsn>& slots) {
    auto insn = decode_one(slots.at(0), 0);
    EXPECT_TRUE(insn.has_value()) << insn.error().to_string();
    if (!insn) return Instruction{};
    if (insn->op == Op::Lddw) {
        insn->next_imm = slots.at(1).imm;
        insn->imm64 = static_cast<std::uint32_t>(insn->imm) |
                      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(insn->next_imm)) << 32);
    }
    return *insn;
}

std::string pseudo_c(const std::vector<RawInsn>& slots, FormatOptions options = {}) {
    return format_instruction(decoded(slots), 0, options);
}

std::string mnemonic(const std::vector<RawInsn>& slots) {
    return format_instruction(decoded(slots), 0, Syntax::Mnemonic);
}

struct Expected {
    const char* pseudo_c;
    const char* mnemonic;
};

// Every row of opcode_table.def, in table order.
const std::map<std::string, Expected>& every_op() {
    static const std::map<std::string, Expected> table = {
        {"Add64Imm", {"r1 += -5", "add %r1, -0x5"}},
        {"Add64Reg", {"r1 += r2", "add %r1, %r2"}},
        {"Sub64Imm", {"r1 -= -5", "sub %r1, -0x5"}},
        {"Sub64Reg", {"r1 -= r2", "sub %r1, %r2"}},
        {"Mul64Imm", {"r1 *= -5", "mul %r1, -0x5"}},
        {"Mul64Reg", {"r1 *= r2", "mul %r1, %r2"}},
        {"Div64Imm", {"r1 /= -5", "div %r1, -0x5"}},
        {"Div64Reg", {"r1 /= r2", "div %r1, %r2"}},
        {"SDiv64Imm", {"r1 s/= -5", "sdiv %r1, -0x5"}},
        {"SDiv64Reg", {"r1 s/= r2", "sdiv %r1, %r2"}},
        {"Or64Imm", {"r1 |= -5", "or %r1, -0x5"}},
        {"Or64Reg", {"r1 |= r2", "or %r1, %r2"}},
        {"And64Imm", {"r1 &= -5", "and %r1, -0x5"}},
        {"And64Reg", {"r1 &= r2", "and %r1, %r2"}},
        {"Lsh64Imm", {"r1 <<= -5", "lsh %r1, -0x5"}},
        {"Lsh64Reg", {"r1 <<= r2", "lsh %r1, %r2"}},
        {"Rsh64Imm", {"r1 >>= -5", "rsh %r1, -0x5"}},
        {"Rsh64Reg", {"r1 >>= r2", "rsh %r1, %r2"}},
        {"Neg64", {"r1 = -r1", "neg %r1"}},
        {"Mod64Imm", {"r1 %= -5", "mod %r1, -0x5"}},
        {"Mod64Reg", {"r1 %= r2", "mod %r1, %r2"}},
        {"SMod64Imm", {"r1 s%= -5", "smod %r1, -0x5"}},
        {"SMod64Reg", {"r1 s%= r2", "smod %r1, %r2"}},
        {"Xor64Imm", {"r1 ^= -5", "xor %r1, -0x5"}},
        {"Xor64Reg", {"r1 ^= r2", "xor %r1, %r2"}},
        {"Mov64Imm", {"r1 = -5", "mov %r1, -0x5"}},
        {"Mov64Reg", {"r1 = r2", "mov %r1, %r2"}},
        {"MovSx8To64", {"r1 = (s8)r2", "movsx864 %r1, %r2"}},
        {"MovSx16To64", {"r1 = (s16)r2", "movsx1664 %r1, %r2"}},
        {"MovSx32To64", {"r1 = (s32)r2", "movsx3264 %r1, %r2"}},
        {"Arsh64Imm", {"r1 s>>= -5", "arsh %r1, -0x5"}},
        {"Arsh64Reg", {"r1 s>>= r2", "arsh %r1, %r2"}},
        {"Bswap16", {"r1 = bswap16 r1", "bswap16 %r1"}},
        {"Bswap32", {"r1 = bswap32 r1", "bswap32 %r1"}},
        {"Bswap64", {"r1 = bswap64 r1", "bswap64 %r1"}},
        {"Add32Imm", {"w1 += -5", "add32 %r1, -0x5"}},
        {"Add32Reg", {"w1 += w2", "add32 %r1, %r2"}},
        {"Sub32Imm", {"w1 -= -5", "sub32 %r1, -0x5"}},
        {"Sub32Reg", {"w1 -= w2", "sub32 %r1, %r2"}},
        {"Mul32Imm", {"w1 *= -5", "mul32 %r1, -0x5"}},
        {"Mul32Reg", {"w1 *= w2", "mul32 %r1, %r2"}},
        {"Div32Imm", {"w1 /= -5", "div32 %r1, -0x5"}},
        {"Div32Reg", {"w1 /= w2", "div32 %r1, %r2"}},
        {"SDiv32Imm", {"w1 s/= -5", "sdiv32 %r1, -0x5"}},
        {"SDiv32Reg", {"w1 s/= w2", "sdiv32 %r1, %r2"}},
        {"Or32Imm", {"w1 |= -5", "or32 %r1, -0x5"}},
        {"Or32Reg", {"w1 |= w2", "or32 %r1, %r2"}},
        {"And32Imm", {"w1 &= -5", "and32 %r1, -0x5"}},
        {"And32Reg", {"w1 &= w2", "and32 %r1, %r2"}},
        {"Lsh32Imm", {"w1 <<= -5", "lsh32 %r1, -0x5"}},
        {"Lsh32Reg", {"w1 <<= w2", "lsh32 %r1, %r2"}},
        {"Rsh32Imm", {"w1 >>= -5", "rsh32 %r1, -0x5"}},
        {"Rsh32Reg", {"w1 >>= w2", "rsh32 %r1, %r2"}},
        {"Neg32", {"w1 = -w1", "neg32 %r1"}},
        {"Mod32Imm", {"w1 %= -5", "mod32 %r1, -0x5"}},
        {"Mod32Reg", {"w1 %= w2", "mod32 %r1, %r2"}},
        {"SMod32Imm", {"w1 s%= -5", "smod32 %r1, -0x5"}},
        {"SMod32Reg", {"w1 s%= w2", "smod32 %r1, %r2"}},
        {"Xor32Imm", {"w1 ^= -5", "xor32 %r1, -0x5"}},
        {"Xor32Reg", {"w1 ^= w2", "xor32 %r1, %r2"}},
        {"Mov32Imm", {"w1 = -5", "mov32 %r1, -0x5"}},
        {"Mov32Reg", {"w1 = w2", "mov32 %r1, %r2"}},
        {"MovSx8To32", {"w1 = (s8)w2", "movsx832 %r1, %r2"}},
        {"MovSx16To32", {"w1 = (s16)w2", "movsx1632 %r1, %r2"}},
        {"Arsh32Imm", {"w1 s>>= -5", "arsh32 %r1, -0x5"}},
        {"Arsh32Reg", {"w1 s>>= w2", "arsh32 %r1, %r2"}},
        {"Le16", {"r1 = le16 r1", "le16 %r1"}},
        {"Le32", {"r1 = le32 r1", "le32 %r1"}},
        {"Le64", {"r1 = le64 r1", "le64 %r1"}},
        {"Be16", {"r1 = be16 r1", "be16 %r1"}},
        {"Be32", {"r1 = be32 r1", "be32 %r1"}},
        {"Be64", {"r1 = be64 r1", "be64 %r1"}},
        {"Ja", {"goto +3", "ja +3"}},
        {"Jeq64Imm", {"if r1 == 5 goto -3", "jeq %r1, 0x5, -3"}},
        {"Jeq64Reg", {"if r1 == r2 goto +3", "jeq %r1, %r2, +3"}},
        {"Jgt64Imm", {"if r1 > 5 goto -3", "jgt %r1, 0x5, -3"}},
        {"Jgt64Reg", {"if r1 > r2 goto +3", "jgt %r1, %r2, +3"}},
        {"Jge64Imm", {"if r1 >= 5 goto -3", "jge %r1, 0x5, -3"}},
        {"Jge64Reg", {"if r1 >= r2 goto +3", "jge %r1, %r2, +3"}},
        {"Jset64Imm", {"if r1 & 5 goto -3", "jset %r1, 0x5, -3"}},
        {"Jset64Reg", {"if r1 & r2 goto +3", "jset %r1, %r2, +3"}},
        {"Jne64Imm", {"if r1 != 5 goto -3", "jne %r1, 0x5, -3"}},
        {"Jne64Reg", {"if r1 != r2 goto +3", "jne %r1, %r2, +3"}},
        {"Jsgt64Imm", {"if r1 s> 5 goto -3", "jsgt %r1, 0x5, -3"}},
        {"Jsgt64Reg", {"if r1 s> r2 goto +3", "jsgt %r1, %r2, +3"}},
        {"Jsge64Imm", {"if r1 s>= 5 goto -3", "jsge %r1, 0x5, -3"}},
        {"Jsge64Reg", {"if r1 s>= r2 goto +3", "jsge %r1, %r2, +3"}},
        {"Jlt64Imm", {"if r1 < 5 goto -3", "jlt %r1, 0x5, -3"}},
        {"Jlt64Reg", {"if r1 < r2 goto +3", "jlt %r1, %r2, +3"}},
        {"Jle64Imm", {"if r1 <= 5 goto -3", "jle %r1, 0x5, -3"}},
        {"Jle64Reg", {"if r1 <= r2 goto +3", "jle %r1, %r2, +3"}},
        {"Jslt64Imm", {"if r1 s< 5 goto -3", "jslt %r1, 0x5, -3"}},
        {"Jslt64Reg", {"if r1 s< r2 goto +3", "jslt %r1, %r2, +3"}},
        {"Jsle64Imm", {"if r1 s<= 5 goto -3", "jsle %r1, 0x5, -3"}},
        {"Jsle64Reg", {"if r1 s<= r2 goto +3", "jsle %r1, %r2, +3"}},
        {"Call", {"call 1", "call 1"}},
        {"CallLocal", {"call 3", "call local +3"}},
        {"CallKfunc", {"call 17", "call kfunc 17"}},
        {"Callx", {"callx r1", "callx %r1"}},
        {"Exit", {"exit", "exit"}},
        {"Gotol", {"gotol +70000", "ja32 +70000"}},
        {"Jeq32Imm", {"if w1 == 5 goto -3", "jeq32 %r1, 0x5, -3"}},
        {"Jeq32Reg", {"if w1 == w2 goto +3", "jeq32 %r1, %r2, +3"}},
        {"Jgt32Imm", {"if w1 > 5 goto -3", "jgt32 %r1, 0x5, -3"}},
        {"Jgt32Reg", {"if w1 > w2 goto +3", "jgt32 %r1, %r2, +3"}},
        {"Jge32Imm", {"if w1 >= 5 goto -3", "jge32 %r1, 0x5, -3"}},
        {"Jge32Reg", {"if w1 >= w2 goto +3", "jge32 %r1, %r2, +3"}},
        {"Jset32Imm", {"if w1 & 5 goto -3", "jset32 %r1, 0x5, -3"}},
        {"Jset32Reg", {"if w1 & w2 goto +3", "jset32 %r1, %r2, +3"}},
        {"Jne32Imm", {"if w1 != 5 goto -3", "jne32 %r1, 0x5, -3"}},
        {"Jne32Reg", {"if w1 != w2 goto +3", "jne32 %r1, %r2, +3"}},
        {"Jsgt32Imm", {"if w1 s> 5 goto -3", "jsgt32 %r1, 0x5, -3"}},
        {"Jsgt32Reg", {"if w1 s> w2 goto +3", "jsgt32 %r1, %r2, +3"}},
        {"Jsge32Imm", {"if w1 s>= 5 goto -3", "jsge32 %r1, 0x5, -3"}},
        {"Jsge32Reg", {"if w1 s>= w2 goto +3", "jsge32 %r1, %r2, +3"}},
        {"Jlt32Imm", {"if w1 < 5 goto -3", "jlt32 %r1, 0x5, -3"}},
        {"Jlt32Reg", {"if w1 < w2 goto +3", "jlt32 %r1, %r2, +3"}},
        {"Jle32Imm", {"if w1 <= 5 goto -3", "jle32 %r1, 0x5, -3"}},
        {"Jle32Reg", {"if w1 <= w2 goto +3", "jle32 %r1, %r2, +3"}},
        {"Jslt32Imm", {"if w1 s< 5 goto -3", "jslt32 %r1, 0x5, -3"}},
        {"Jslt32Reg", {"if w1 s< w2 goto +3", "jslt32 %r1, %r2, +3"}},
        {"Jsle32Imm", {"if w1 s<= 5 goto -3", "jsle32 %r1, 0x5, -3"}},
        {"Jsle32Reg", {"if w1 s<= w2 goto +3", "jsle32 %r1, %r2, +3"}},
        {"Lddw", {"r1 = 1234605616436508552 ll", "lddw %r1, 0x1122334455667788"}},
        {"LdAbsB", {"r0 = *(u8 *)skb[12]", "ldabsb 0xc"}},
        {"LdAbsH", {"r0 = *(u16 *)skb[12]", "ldabsh 0xc"}},
        {"LdAbsW", {"r0 = *(u32 *)skb[12]", "ldabsw 0xc"}},
        {"LdIndB", {"r0 = *(u8 *)skb[r3]", "ldindb %r3, 0x0"}},
        {"LdIndH", {"r0 = *(u16 *)skb[r3]", "ldindh %r3, 0x0"}},
        {"LdIndW", {"r0 = *(u32 *)skb[r3]", "ldindw %r3, 0x0"}},
        {"LdxB", {"r1 = *(u8 *)(r10 - 8)", "ldxb %r1, [%r10-8]"}},
        {"LdxH", {"r1 = *(u16 *)(r10 - 8)", "ldxh %r1, [%r10-8]"}},
        {"LdxW", {"r1 = *(u32 *)(r10 - 8)", "ldxw %r1, [%r10-8]"}},
        {"LdxDW", {"r1 = *(u64 *)(r10 - 8)", "ldxdw %r1, [%r10-8]"}},
        {"LdxSB", {"r1 = *(s8 *)(r10 - 8)", "ldxsb %r1, [%r10-8]"}},
        {"LdxSH", {"r1 = *(s16 *)(r10 - 8)", "ldxsh %r1, [%r10-8]"}},
        {"LdxSW", {"r1 = *(s32 *)(r10 - 8)", "ldxsw %r1, [%r10-8]"}},
        {"StB", {"*(u8 *)(r10 - 8) = 100", "stb [%r10-8], 0x64"}},
        {"StH", {"*(u16 *)(r10 - 8) = 100", "sth [%r10-8], 0x64"}},
        {"StW", {"*(u32 *)(r10 - 8) = 100", "stw [%r10-8], 0x64"}},
        {"StDW", {"*(u64 *)(r10 - 8) = 100", "stdw [%r10-8], 0x64"}},
        {"StxB", {"*(u8 *)(r10 - 8) = r1", "stxb [%r10-8], %r1"}},
        {"StxH", {"*(u16 *)(r10 - 8) = r1", "stxh [%r10-8], %r1"}},
        {"StxW", {"*(u32 *)(r10 - 8) = r1", "stxw [%r10-8], %r1"}},
        {"StxDW", {"*(u64 *)(r10 - 8) = r1", "stxdw [%r10-8], %r1"}},
        {"AtomicAdd32", {"lock *(u32 *)(r1 + 8) += r2", "lock add32 [%r1+8], %r2"}},
        {"AtomicOr32", {"lock *(u32 *)(r1 + 8) |= w2", "lock or32 [%r1+8], %r2"}},
        {"AtomicAnd32", {"lock *(u32 *)(r1 + 8) &= w2", "lock and32 [%r1+8], %r2"}},
        {"AtomicXor32", {"lock *(u32 *)(r1 + 8) ^= w2", "lock xor32 [%r1+8], %r2"}},
        {"AtomicFetchAdd32", {"w2 = atomic_fetch_add((u32 *)(r1 + 8), w2)", "lock fetch_add32 [%r1+8], %r2"}},
        {"AtomicFetchOr32", {"w2 = atomic_fetch_or((u32 *)(r1 + 8), w2)", "lock fetch_or32 [%r1+8], %r2"}},
        {"AtomicFetchAnd32", {"w2 = atomic_fetch_and((u32 *)(r1 + 8), w2)", "lock fetch_and32 [%r1+8], %r2"}},
        {"AtomicFetchXor32", {"w2 = atomic_fetch_xor((u32 *)(r1 + 8), w2)", "lock fetch_xor32 [%r1+8], %r2"}},
        {"AtomicXchg32", {"w2 = xchg32_32(r1 + 8, w2)", "lock xchg32 [%r1+8], %r2"}},
        {"AtomicCmpxchg32", {"w0 = cmpxchg32_32(r1 + 8, w0, w2)", "lock cmpxchg32 [%r1+8], %r2"}},
        {"AtomicAdd64", {"lock *(u64 *)(r1 + 8) += r2", "lock add [%r1+8], %r2"}},
        {"AtomicOr64", {"lock *(u64 *)(r1 + 8) |= r2", "lock or [%r1+8], %r2"}},
        {"AtomicAnd64", {"lock *(u64 *)(r1 + 8) &= r2", "lock and [%r1+8], %r2"}},
        {"AtomicXor64", {"lock *(u64 *)(r1 + 8) ^= r2", "lock xor [%r1+8], %r2"}},
        {"AtomicFetchAdd64", {"r2 = atomic_fetch_add((u64 *)(r1 + 8), r2)", "lock fetch_add [%r1+8], %r2"}},
        {"AtomicFetchOr64", {"r2 = atomic_fetch_or((u64 *)(r1 + 8), r2)", "lock fetch_or [%r1+8], %r2"}},
        {"AtomicFetchAnd64", {"r2 = atomic_fetch_and((u64 *)(r1 + 8), r2)", "lock fetch_and [%r1+8], %r2"}},
        {"AtomicFetchXor64", {"r2 = atomic_fetch_xor((u64 *)(r1 + 8), r2)", "lock fetch_xor [%r1+8], %r2"}},
        {"AtomicXchg64", {"r2 = xchg_64(r1 + 8, r2)", "lock xchg [%r1+8], %r2"}},
        {"AtomicCmpxchg64", {"r0 = cmpxchg_64(r1 + 8, r0, r2)", "lock cmpxchg [%r1+8], %r2"}},
    };
    return table;
}

TEST(Disasm, EveryOpHasBothForms) {
    EXPECT_EQ(every_op().size(), kNumOps);
    for (const OpInfo& row : all_ops()) {
        const auto it = every_op().find(std::string(row.name));
        ASSERT_NE(it, every_op().end()) << "no expected text for " << row.name;
        std::vector<RawInsn> slots = {canonical(row)};
        if (row.shape == Shape::Lddw) slots.push_back(raw(0, 0, 0, 0, 0x11223344));
        EXPECT_EQ(pseudo_c(slots), it->second.pseudo_c) << row.name;
        EXPECT_EQ(mnemonic(slots), it->second.mnemonic) << row.name;
    }
}

// The assembler reads back what the disassembler prints. The mnemonic syntax is lossless; llvm's pseudo-C is not
// for calls ("call 3" does not say helper, local or kfunc) and for ld_pseudo (the second slot's imm is not shown).
TEST(Disasm, TextAssemblesBackToTheSameBytes) {
    for (const OpInfo& row : all_ops()) {
        std::vector<RawInsn> slots = {canonical(row)};
        if (row.shape == Shape::Lddw) slots.push_back(raw(0, 0, 0, 0, 0x11223344));
        const bool lossy_pseudo_c = row.shape == Shape::CallLocal || row.shape == Shape::CallKfunc;
        for (const Syntax syntax : {Syntax::Mnemonic, Syntax::PseudoC}) {
            if (syntax == Syntax::PseudoC && lossy_pseudo_c) continue;
            DisasmOptions options;
            options.syntax = syntax;
            const std::string text = disassemble(slots, options);
            const auto back = assemble(text);
            ASSERT_TRUE(back.has_value()) << row.name << ": " << text << back.error().to_string();
            EXPECT_EQ(*back, slots) << row.name << ": " << text;
        }
    }
}

TEST(Disasm, ImmediatesAreSignedDecimalByDefault) {
    EXPECT_EQ(pseudo_c({raw(0xb7, 0, 0, 0, 1)}), "r0 = 1");
    EXPECT_EQ(pseudo_c({raw(0xb7, 1, 0, 0, -1)}), "r1 = -1");
    EXPECT_EQ(pseudo_c({raw(0xb4, 1, 0, 0, INT32_MIN)}), "w1 = -2147483648");
    EXPECT_EQ(pseudo_c({raw(0x07, 1, 0, 0, INT32_MAX)}), "r1 += 2147483647");
    EXPECT_EQ(pseudo_c({raw(0x57, 1, 0, 0, 0xff)}), "r1 &= 255");
    EXPECT_EQ(pseudo_c({raw(0x65, 1, 0, 2, 5)}), "if r1 s> 5 goto +2");
    EXPECT_EQ(pseudo_c({raw(0xa6, 3, 0, 0, -7)}), "if w3 < -7 goto +0");
    EXPECT_EQ(pseudo_c({raw(0x85, 0, 0, 0, -1)}), "call -1");
    EXPECT_EQ(pseudo_c({raw(0x85, 0, 1, 0, -9)}), "call -9");
    EXPECT_EQ(pseudo_c({raw(0x20, 0, 0, 0, -1)}), "r0 = *(u32 *)skb[-1]");
    // llvm-objdump drops LD_IND's imm (clang never sets it); xbpf shows a nonzero one.
    EXPECT_EQ(pseudo_c({raw(0x48, 0, 3, 0, 12)}), "r0 = *(u16 *)skb[r3 + 12]");
    EXPECT_EQ(pseudo_c({raw(0x48, 0, 3, 0, -4)}), "r0 = *(u16 *)skb[r3 - 4]");
}

TEST(Disasm, OffsetsAtTheirLimits) {
    EXPECT_EQ(pseudo_c({raw(0x05, 0, 0, -32768)}), "goto -32768");
    EXPECT_EQ(pseudo_c({raw(0x05, 0, 0, 32767)}), "goto +32767");
    EXPECT_EQ(pseudo_c({raw(0x05, 0, 0, -3)}), "goto -3");
    EXPECT_EQ(pseudo_c({raw(0x79, 1, 10, -32768)}), "r1 = *(u64 *)(r10 - 32768)");
    EXPECT_EQ(pseudo_c({raw(0x79, 1, 10, 32767)}), "r1 = *(u64 *)(r10 + 32767)");
    EXPECT_EQ(pseudo_c({raw(0x61, 2, 1, 12)}), "r2 = *(u32 *)(r1 + 12)");
    EXPECT_EQ(pseudo_c({raw(0x7b, 10, 1, 0)}), "*(u64 *)(r10 + 0) = r1");
    EXPECT_EQ(pseudo_c({raw(0x06, 0, 0, 0, INT32_MIN)}), "gotol -2147483648");
    EXPECT_EQ(mnemonic({raw(0x79, 1, 10, -32768)}), "ldxdw %r1, [%r10-32768]");
    EXPECT_EQ(mnemonic({raw(0x7b, 10, 1, 0)}), "stxdw [%r10+0], %r1");
    EXPECT_EQ(mnemonic({raw(0x05, 0, 0, -32768)}), "ja -32768");
    EXPECT_EQ(mnemonic({raw(0x05, 0, 0, 0)}), "ja +0");
}

TEST(Disasm, HexImmediatesAsPrintImmHex) {
    FormatOptions hex;
    hex.hex_immediates = true;
    EXPECT_EQ(pseudo_c({raw(0xb7, 0, 0, 0, 0)}, hex), "r0 = 0x0");
    EXPECT_EQ(pseudo_c({raw(0xb7, 1, 0, 0, -1)}, hex), "r1 = -0x1");
    EXPECT_EQ(pseudo_c({raw(0xb4, 1, 0, 0, INT32_MIN)}, hex), "w1 = -0x80000000");
    EXPECT_EQ(pseudo_c({raw(0x65, 1, 0, 2, 5)}, hex), "if r1 s> 0x5 goto +0x2");
    EXPECT_EQ(pseudo_c({raw(0x05, 0, 0, -32768)}, hex), "goto -0x8000");
    EXPECT_EQ(pseudo_c({raw(0x79, 1, 10, -8)}, hex), "r1 = *(u64 *)(r10 - 0x8)");
    EXPECT_EQ(pseudo_c({raw(0x30, 0, 0, 0, 12)}, hex), "r0 = *(u8 *)skb[0xc]");
    EXPECT_EQ(pseudo_c({raw(0x85, 0, 0, 0, 14)}, hex), "call 0xe");
    EXPECT_EQ(pseudo_c({raw(0xdc, 0, 0, 0, 16)}, hex), "r0 = be16 r0");
    EXPECT_EQ(pseudo_c({raw(0x18, 1, 0, 0, 0x55667788), raw(0, 0, 0, 0, 0x11223344)}, hex),
              "r1 = 0x1122334455667788 ll");
    EXPECT_EQ(pseudo_c({raw(0x18, 1, 0, 0, 0), raw(0, 0, 0, 0, INT32_MIN)}, hex), "r1 = -0x8000000000000000 ll");
    EXPECT_EQ(pseudo_c({raw(0x18, 1, 1, 0, 5), raw(0, 0, 0, 0, 0)}, hex), "ld_pseudo\tr1, 0x1, 0x5");
}

TEST(Disasm, Alu32NamesSubRegistersOfNarrowMemoryAccesses) {
    FormatOptions alu32;
    alu32.alu32 = true;
    EXPECT_EQ(pseudo_c({raw(0x61, 1, 10, -8)}), "r1 = *(u32 *)(r10 - 8)");
    EXPECT_EQ(pseudo_c({raw(0x61, 1, 10, -8)}, alu32), "w1 = *(u32 *)(r10 - 8)");
    EXPECT_EQ(pseudo_c({raw(0x71, 1, 10, -8)}, alu32), "w1 = *(u8 *)(r10 - 8)");
    EXPECT_EQ(pseudo_c({raw(0x79, 1, 10, -8)}, alu32), "r1 = *(u64 *)(r10 - 8)");
    EXPECT_EQ(pseudo_c({raw(0x91, 1, 10, -8)}, alu32), "r1 = *(s8 *)(r10 - 8)");
    EXPECT_EQ(pseudo_c({raw(0x6b, 10, 1, -8)}, alu32), "*(u16 *)(r10 - 8) = w1");
    EXPECT_EQ(pseudo_c({raw(0x7b, 10, 1, -8)}, alu32), "*(u64 *)(r10 - 8) = r1");
    EXPECT_EQ(pseudo_c({raw(0x62, 10, 0, -8, 7)}, alu32), "*(u32 *)(r10 - 8) = 7");
    EXPECT_EQ(pseudo_c({raw(0xc3, 1, 2, 0, 0x00)}), "lock *(u32 *)(r1 + 0) += r2");
    EXPECT_EQ(pseudo_c({raw(0xc3, 1, 2, 0, 0x00)}, alu32), "lock *(u32 *)(r1 + 0) += w2");
    EXPECT_EQ(pseudo_c({raw(0xc3, 1, 2, 0, 0x40)}, alu32), "lock *(u32 *)(r1 + 0) |= w2");
    EXPECT_EQ(pseudo_c({raw(0xc3, 1, 2, 0, 0x01)}, alu32), "w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)");
    EXPECT_EQ(pseudo_c({raw(0xdb, 1, 2, 0, 0x01)}, alu32), "r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)");
    EXPECT_EQ(pseudo_c({raw(0xc3, 1, 2, 0, 0xf1)}, alu32), "w0 = cmpxchg32_32(r1 + 0, w0, w2)");
}

TEST(Disasm, LddwImmediatesAndPseudoSources) {
    EXPECT_EQ(pseudo_c({raw(0x18, 0, 0, 0, 1), raw(0, 0, 0, 0, 0)}), "r0 = 1 ll");
    EXPECT_EQ(pseudo_c({raw(0x18, 0, 0, 0, -1), raw(0, 0, 0, 0, -1)}), "r0 = -1 ll");
    EXPECT_EQ(pseudo_c({raw(0x18, 0, 0, 0, INT32_MIN), raw(0, 0, 0, 0, 0)}), "r0 = 2147483648 ll");
    EXPECT_EQ(pseudo_c({raw(0x18, 0, 0, 0, 0), raw(0, 0, 0, 0, INT32_MIN)}), "r0 = -9223372036854775808 ll");
    EXPECT_EQ(mnemonic({raw(0x18, 0, 0, 0, -1), raw(0, 0, 0, 0, -1)}), "lddw %r0, 0xffffffffffffffff");
    EXPECT_EQ(mnemonic({raw(0x18, 0, 0, 0, 0), raw(0, 0, 0, 0, 0)}), "lddw %r0, 0x0");

    // llvm-objdump prints the pseudo kind and the first imm, zero-extended; a relocated lddw in an object file has
    // src 0 and imm 0 and prints "r1 = 0 ll".
    EXPECT_EQ(pseudo_c({raw(0x18, 1, 0, 0, 0), raw(0, 0, 0, 0, 0)}), "r1 = 0 ll");
    const struct {
        std::uint8_t src;
        std::int32_t imm;
        std::int32_t next_imm;
        const char* pseudo_c;
        const char* mnemonic;
    } pseudo[] = {
        {kPseudoMapFd, 5, 0, "ld_pseudo\tr1, 1, 5", "lddw %r1, map_fd 5"},
        {kPseudoMapValue, 5, 8, "ld_pseudo\tr1, 2, 5", "lddw %r1, map_value 5, 8"},
        {kPseudoBtfId, 77, 0, "ld_pseudo\tr1, 3, 77", "lddw %r1, btf_id 77"},
        {kPseudoFunc, -4, 0, "ld_pseudo\tr1, 4, 4294967292", "lddw %r1, func -4"},
        {kPseudoMapIdx, 0, 0, "ld_pseudo\tr1, 5, 0", "lddw %r1, map_idx 0"},
        {kPseudoMapIdxValue, 1, 16, "ld_pseudo\tr1, 6, 1", "lddw %r1, map_idx_value 1, 16"},
    };
    for (const auto& p : pseudo) {
        const std::vector<RawInsn> slots = {raw(0x18, 1, p.src, 0, p.imm), raw(0, 0, 0, 0, p.next_imm)};
        EXPECT_EQ(pseudo_c(slots), p.pseudo_c) << int{p.src};
        EXPECT_EQ(mnemonic(slots), p.mnemonic) << int{p.src};
    }
}

TEST(Disasm, LddwTailHasNoText) {
    auto program = decode(std::vector<RawInsn>{raw(0x18, 1, 0, 0, 1), raw(0, 0, 0, 0, 0)});
    ASSERT_TRUE(program.has_value());
    ASSERT_EQ(program->size(), 2u);
    EXPECT_TRUE((*program)[1].is_lddw_tail);
    EXPECT_EQ(format_instruction((*program)[1], 1), "");
    EXPECT_EQ(format_instruction((*program)[1], 1, Syntax::Mnemonic), "");
}

TEST(Disasm, MnemonicImmediatesAreSignedHex) {
    EXPECT_EQ(mnemonic({raw(0xb4, 0, 0, 0, 1)}), "mov32 %r0, 0x1");
    EXPECT_EQ(mnemonic({raw(0x07, 1, 0, 0, 2)}), "add %r1, 0x2");
    EXPECT_EQ(mnemonic({raw(0xb7, 1, 0, 0, 0)}), "mov %r1, 0x0");
    EXPECT_EQ(mnemonic({raw(0xb7, 1, 0, 0, INT32_MIN)}), "mov %r1, -0x80000000");
    EXPECT_EQ(mnemonic({raw(0x15, 1, 0, 3, 0)}), "jeq %r1, 0x0, +3");
    EXPECT_EQ(mnemonic({raw(0x61, 0, 1, 4)}), "ldxw %r0, [%r1+4]");
    EXPECT_EQ(mnemonic({raw(0x7b, 10, 1, -8)}), "stxdw [%r10-8], %r1");
    EXPECT_EQ(mnemonic({raw(0x62, 10, 0, -4, -1)}), "stw [%r10-4], -0x1");
    EXPECT_EQ(mnemonic({raw(0xd4, 0, 0, 0, 16)}), "le16 %r0");
    EXPECT_EQ(mnemonic({raw(0x85, 0, 0, 0, 1)}), "call 1");
    EXPECT_EQ(mnemonic({raw(0x85, 0, 2, 3, 1234)}), "call kfunc 1234, 3");
    EXPECT_EQ(mnemonic({raw(0x95)}), "exit");
}

TEST(Disasm, ListingLayoutMatchesLlvmObjdump) {
    const std::vector<RawInsn> program = {raw(0x61, 2, 1, 12), raw(0x18, 1, 0, 0, 5), raw(0, 0, 0, 0, 0),
                                          raw(0x15, 1, 0, -4, 0), raw(0x95)};
    EXPECT_EQ(disassemble(program),
              "       0:\t61 12 0c 00 00 00 00 00\tr2 = *(u32 *)(r1 + 12)\n"
              "       1:\t18 01 00 00 05 00 00 00 00 00 00 00 00 00 00 00\tr1 = 5 ll\n"
              "       3:\t15 01 fc ff 00 00 00 00\tif r1 == 0 goto -4\n"
              "       4:\t95 00 00 00 00 00 00 00\texit\n");
    DisasmOptions bare;
    bare.show_bytes = false;
    bare.show_index = false;
    EXPECT_EQ(disassemble(program, bare), "r2 = *(u32 *)(r1 + 12)\nr1 = 5 ll\nif r1 == 0 goto -4\nexit\n");
    DisasmOptions no_bytes;
    no_bytes.show_bytes = false;
    no_bytes.syntax = Syntax::Mnemonic;
    EXPECT_EQ(disassemble(program, no_bytes),
              "       0:\tldxw %r2, [%r1+12]\n"
              "       1:\tlddw %r1, 0x5\n"
              "       3:\tjeq %r1, 0x0, -4\n"
              "       4:\texit\n");
    std::vector<RawInsn> big(100000, raw(0x95));
    EXPECT_NE(disassemble(big).find("\n   99999:\t95 00"), std::string::npos);
}

TEST(Disasm, UndecodableSlotsPrintUnknown) {
    DisasmOptions bare;
    bare.show_bytes = false;
    bare.show_index = false;
    // An unknown opcode, a reserved field in use, a bad register, a lddw whose second slot is an instruction
    // (the add is then printed on its own) and a lddw cut off by the end of the program.
    const std::vector<RawInsn> program = {raw(0xff),
                                          raw(0x00),
                                          raw(0x07, 1, 0, 3, 5),
                                          raw(0x07, 11, 0, 0, 1),
                                          raw(0x37, 1, 0, 2, 1),
                                          raw(0x18, 1, 0, 0, 1),
                                          raw(0x07, 1, 0, 0, 8),
                                          raw(0x18, 1, 7, 0, 0),
                                          raw(0),
                                          raw(0x18, 1, 0, 0, 1)};
    EXPECT_EQ(disassemble(program, bare),
              "<unknown>\n<unknown>\n<unknown>\n<unknown>\n<unknown>\n<unknown>\nr1 += 8\n<unknown>\n<unknown>\n"
              "<unknown>\n");
    EXPECT_EQ(disassemble(std::vector<RawInsn>{raw(0xff, 1, 2, 3, 4)}),
              "       0:\tff 21 03 00 04 00 00 00\t<unknown>\n");
    EXPECT_EQ(disassemble(std::vector<RawInsn>{}), "");
}

TEST(Disasm, LabelsNameJumpTargetsLikeLlvmObjdump) {
    const std::vector<RawInsn> program = {
        raw(0x15, 1, 0, 2, 0), raw(0xb7, 0, 0, 0, 1),  raw(0x05, 0, 0, 1), raw(0xb7, 0, 0, 0, 2),
        raw(0x05, 0, 0, -5),   raw(0x85, 0, 1, 0, -3), raw(0x95)};
    DisasmOptions options;
    options.show_bytes = false;
    options.labels = {{0, "prog"}, {3, "LBB0_2"}};
    EXPECT_EQ(disassemble(program, options),
              "<prog>:\n"
              "       0:\tif r1 == 0 goto +2 <LBB0_2>\n"
              "       1:\tr0 = 1\n"
              "       2:\tgoto +1 <LBB0_2+0x8>\n"
              "\n<LBB0_2>:\n"
              "       3:\tr0 = 2\n"
              "       4:\tgoto -5 <prog>\n"
              "       5:\tcall -3\n"
              "       6:\texit\n");

    // No label at or below the target: no suffix. A negative target wraps around (llvm-objdump's addresses are
    // unsigned) and so lands above every label.
    const Labels labels = {{2, "f"}};
    FormatOptions format;
    format.labels = &labels;
    Instruction back = decoded({raw(0x05, 0, 0, -3)});
    EXPECT_EQ(format_instruction(back, 2, format), "goto -3");
    EXPECT_EQ(format_instruction(back, 1, format), "goto -3 <f+0xffffffffffffffe8>");
    EXPECT_EQ(format_instruction(back, 4, format), "goto -3 <f>");
    EXPECT_EQ(format_instruction(decoded({raw(0x06, 0, 0, 0, 7)}), 2, format), "gotol +7 <f+0x40>");
    format.syntax = Syntax::Mnemonic;
    EXPECT_EQ(format_instruction(back, 4, format), "ja -3");
}

}  // namespace
}  // namespace xbpf::isa
