#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "isa/assembler.hpp"
#include "isa/disassembler.hpp"
#include "isa/helper_names.hpp"

namespace xbpf::isa {
namespace {

RawInsn raw(std::uint8_t opcode, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    RawInsn r;
    r.opcode = opcode;
    r.dst = dst;
    r.src = src;
    r.off = off;
    r.imm = imm;
    return r;
}

std::string show(const RawInsn& r) {
    return fmt::format("{{op={:#04x} dst={} src={} off={} imm={}}}", r.opcode, static_cast<int>(r.dst),
                       static_cast<int>(r.src), r.off, r.imm);
}

std::string show(const std::vector<RawInsn>& v) {
    std::string s;
    for (const RawInsn& r : v) s += show(r) + " ";
    return s;
}

// Assemble and fail the test with the error text if it does not assemble.
std::vector<RawInsn> ok(std::string_view text) {
    auto r = assemble(text);
    EXPECT_TRUE(r.has_value()) << "input: " << text << "\nerror: " << (r ? "" : r.error().to_string());
    return r ? *r : std::vector<RawInsn>{};
}

// ---- Expected encodings, from the table (never hand-written opcode bytes in the loop tests) ----

// Operands used for every row. Offsets are negative for memory and positive for jumps; imm negative to exercise
// sign handling.
struct Operands {
    std::uint8_t dst = 3;
    std::uint8_t src = 4;
    std::int16_t mem_off = -4;
    std::int16_t jump_off = 7;
    std::int32_t imm = -9;
    std::uint64_t imm64 = 0x1122334455667788ull;
};

Instruction expected_insn(const OpInfo& row, const Operands& o) {
    Instruction insn;
    insn.op = row.op;
    switch (row.shape) {
        case Shape::AluImm: insn.dst = o.dst, insn.imm = o.imm; break;
        case Shape::AluReg:
        case Shape::MovSx: insn.dst = o.dst, insn.src = o.src; break;
        case Shape::Neg:
        case Shape::Endian:
        case Shape::Callx: insn.dst = o.dst; break;
        case Shape::Ja: insn.off = o.jump_off; break;
        case Shape::Gotol: insn.imm = 100000; break;
        case Shape::JmpImm: insn.dst = o.dst, insn.imm = o.imm, insn.off = o.jump_off; break;
        case Shape::JmpReg: insn.dst = o.dst, insn.src = o.src, insn.off = o.jump_off; break;
        case Shape::Call: insn.imm = 5; break;
        case Shape::CallLocal: insn.imm = o.jump_off; break;
        case Shape::CallKfunc: insn.imm = 1234; break;
        case Shape::Exit: break;
        case Shape::Lddw:
            insn.dst = o.dst;
            insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(o.imm64));
            insn.next_imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(o.imm64 >> 32));
            break;
        case Shape::LdAbs: insn.imm = 12; break;
        case Shape::LdInd: insn.src = o.src, insn.imm = 12; break;
        case Shape::Ldx:
        case Shape::LdxSx:
        case Shape::Stx:
        case Shape::Atomic:
            insn.dst = o.dst, insn.src = o.src, insn.off = o.mem_off;
            if (row.shape == Shape::Ldx || row.shape == Shape::LdxSx) std::swap(insn.dst, insn.src);
            break;
        case Shape::St: insn.dst = o.dst, insn.off = o.mem_off, insn.imm = o.imm; break;
    }
    return insn;
}

std::vector<RawInsn> expected_raw(const OpInfo& row, const Operands& o) {
    std::vector<RawInsn> out;
    encode_one(expected_insn(row, o), out);
    return out;
}

std::string signed_off(std::int64_t v) { return fmt::format("{:+d}", v); }

std::string c_address(std::uint8_t base, std::int16_t off) {
    return fmt::format("r{} {} {}", base, off < 0 ? '-' : '+', off < 0 ? -off : off);
}

// The pseudo-C text of a row, written independently of the disassembler.
std::string pseudo_c_text(const OpInfo& row, const Operands& o) {
    const char r = is_32bit(row.op) ? 'w' : 'r';
    const std::string_view t = row.text;
    switch (row.shape) {
        case Shape::AluImm: return fmt::format("{}{} {} {}", r, o.dst, t, o.imm);
        case Shape::AluReg: return fmt::format("{0}{1} {2} {0}{3}", r, o.dst, t, o.src);
        case Shape::Neg: return fmt::format("{0}{1} = -{0}{1}", r, o.dst);
        case Shape::MovSx: return fmt::format("{0}{1} = ({2}){0}{3}", r, o.dst, t, o.src);
        case Shape::Endian: return fmt::format("r{0} = {1}{2} r{0}", o.dst, t, row.width);
        case Shape::Ja: return fmt::format("goto {}", signed_off(o.jump_off));
        case Shape::Gotol: return "gotol +100000";
        case Shape::JmpImm: return fmt::format("if {}{} {} {} goto {}", r, o.dst, t, o.imm, signed_off(o.jump_off));
        case Shape::JmpReg:
            return fmt::format("if {0}{1} {2} {0}{3} goto {4}", r, o.dst, t, o.src, signed_off(o.jump_off));
        case Shape::Call: return "call 5";
        case Shape::CallLocal: return fmt::format("call {}", signed_off(o.jump_off));
        case Shape::CallKfunc: return "call kfunc 1234";
        case Shape::Callx: return fmt::format("callx r{}", o.dst);
        case Shape::Exit: return "exit";
        case Shape::Lddw: return fmt::format("r{} = {:#x} ll", o.dst, o.imm64);
        case Shape::LdAbs: return fmt::format("r0 = *({} *)skb[12]", t);
        case Shape::LdInd: return fmt::format("r0 = *({} *)skb[r{} + 12]", t, o.src);
        case Shape::Ldx:
        case Shape::LdxSx: return fmt::format("r{} = *({} *)({})", o.src, t, c_address(o.dst, o.mem_off));
        case Shape::St: return fmt::format("*({} *)({}) = {}", t, c_address(o.dst, o.mem_off), o.imm);
        case Shape::Stx: return fmt::format("*({} *)({}) = r{}", t, c_address(o.dst, o.mem_off), o.src);
        case Shape::Atomic: {
            const char v = row.width == 32 ? 'w' : 'r';
            const std::string mem = c_address(o.dst, o.mem_off);
            if (t.ends_with('=')) return fmt::format("lock *(u{} *)({}) {} {}{}", row.width, mem, t, v, o.src);
            if (t == "xchg")
                return fmt::format("{0}{1} = xchg{2}_{3}({4}, {0}{1})", v, o.src, row.width == 32 ? "32" : "",
                                   row.width, mem);
            if (t == "cmpxchg")
                return fmt::format("{0}0 = cmpxchg{1}_{2}({3}, {0}0, {0}{4})", v, row.width == 32 ? "32" : "",
                                   row.width, mem, o.src);
            return fmt::format("{0}{1} = atomic_fetch_{2}((u{3} *)({4}), {0}{1})", v, o.src, t, row.width, mem);
        }
    }
    return "?";
}

// The uBPF / bpf_conformance text of a row. `percent` writes registers as %rN.
std::string mnemonic_text(const OpInfo& row, const Operands& o, bool percent) {
    const std::string_view p = percent ? "%" : "";
    const std::string_view m = row.mnemonic;
    const std::string mem = fmt::format("[{}r{}{:+d}]", p, o.dst, o.mem_off);
    switch (row.shape) {
        case Shape::AluImm: return fmt::format("{} {}r{}, {}", m, p, o.dst, o.imm);
        case Shape::AluReg:
        case Shape::MovSx: return fmt::format("{0} {1}r{2}, {1}r{3}", m, p, o.dst, o.src);
        case Shape::Neg:
        case Shape::Endian:
        case Shape::Callx: return fmt::format("{} {}r{}", m, p, o.dst);
        case Shape::Ja: return fmt::format("ja {}", signed_off(o.jump_off));
        case Shape::Gotol: return "ja32 +100000";
        case Shape::JmpImm: return fmt::format("{} {}r{}, {}, {}", m, p, o.dst, o.imm, signed_off(o.jump_off));
        case Shape::JmpReg: return fmt::format("{0} {1}r{2}, {1}r{3}, {4}", m, p, o.dst, o.src, signed_off(o.jump_off));
        case Shape::Call: return "call 5";
        case Shape::CallLocal: return fmt::format("call local {}", signed_off(o.jump_off));
        case Shape::CallKfunc: return "call runtime 1234";
        case Shape::Exit: return "exit";
        case Shape::Lddw: return fmt::format("lddw {}r{}, {:#x}", p, o.dst, o.imm64);
        case Shape::LdAbs: return fmt::format("{} 12", m);
        case Shape::LdInd: return fmt::format("{} {}r{}, 12", m, p, o.src);
        case Shape::Ldx:
        case Shape::LdxSx: return fmt::format("{} {}r{}, [{}r{}{:+d}]", m, p, o.src, p, o.dst, o.mem_off);
        case Shape::St: return fmt::format("{} {}, {}", m, mem, o.imm);
        case Shape::Stx: return fmt::format("{} {}, {}r{}", m, mem, p, o.src);
        case Shape::Atomic: {
            // bpf_conformance writes "lock fetch add32"; the table spells the same "fetch_add32".
            std::string name(m);
            if (name.starts_with("fetch_")) name = "fetch " + name.substr(6);
            return fmt::format("lock {} {}, {}r{}", name, mem, p, o.src);
        }
    }
    return "?";
}

// ---- Every row of the opcode table, both syntaxes ----

class AssemblerEveryOp : public ::testing::TestWithParam<Operands> {};

TEST_P(AssemblerEveryOp, PseudoC) {
    for (const OpInfo& row : all_ops()) {
        const std::string text = pseudo_c_text(row, GetParam());
        const auto want = expected_raw(row, GetParam());
        auto got = assemble(text);
        ASSERT_TRUE(got) << row.name << ": " << text << ": " << got.error().to_string();
        EXPECT_EQ(*got, want) << row.name << ": " << text << "\n got  " << show(*got) << "\n want " << show(want);
    }
}

TEST_P(AssemblerEveryOp, Mnemonic) {
    for (const bool percent : {true, false}) {
        for (const OpInfo& row : all_ops()) {
            const std::string text = mnemonic_text(row, GetParam(), percent);
            const auto want = expected_raw(row, GetParam());
            auto got = assemble(text);
            ASSERT_TRUE(got) << row.name << ": " << text << ": " << got.error().to_string();
            EXPECT_EQ(*got, want) << row.name << ": " << text << "\n got  " << show(*got) << "\n want " << show(want);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Operands, AssemblerEveryOp,
                         ::testing::Values(Operands{}, Operands{0, 10, 0x7fff, -32768, 0x7fffffff, ~0ull},
                                           Operands{10, 0, -32768, 32767, INT32_MIN, 0}));

TEST(AssemblerEveryOp, TableTextIsUsedNotOpcodeBytes) {
    // Every row is reachable from text: the number of distinct encodings equals the number of rows.
    std::vector<RawInsn> firsts;
    for (const OpInfo& row : all_ops()) {
        auto got = assemble(pseudo_c_text(row, Operands{}));
        ASSERT_TRUE(got);
        for (const RawInsn& seen : firsts) EXPECT_FALSE(seen == got->front()) << row.name;
        firsts.push_back(got->front());
    }
    EXPECT_EQ(firsts.size(), kNumOps);
}

// ---- The forms from llvm-objdump, spelled out ----

struct Case {
    std::string_view text;
    RawInsn want;
};

TEST(AssemblerPseudoC, LlvmObjdumpForms) {
    const Case cases[] = {
        {"r0 = 1", raw(0xb7, 0, 0, 0, 1)},
        {"w1 += w2", raw(0x0c, 1, 2, 0, 0)},
        {"r1 s>>= 3", raw(0xc7, 1, 0, 0, 3)},
        {"r0 = -r0", raw(0x87, 0, 0, 0, 0)},
        {"w0 = -w0", raw(0x84, 0, 0, 0, 0)},
        {"r2 = be16 r2", raw(0xdc, 2, 0, 0, 16)},
        {"r2 = le32 r2", raw(0xd4, 2, 0, 0, 32)},
        {"r2 = bswap64 r2", raw(0xd7, 2, 0, 0, 64)},
        {"r1 = (s8)r2", raw(0xbf, 1, 2, 8, 0)},
        {"w1 = (s16)w2", raw(0xbc, 1, 2, 16, 0)},
        {"r1 = (s32)r2", raw(0xbf, 1, 2, 32, 0)},
        {"r1 s/= r2", raw(0x3f, 1, 2, 1, 0)},
        {"w1 s%= 3", raw(0x94, 1, 0, 1, 3)},
        {"r1 /= 3", raw(0x37, 1, 0, 0, 3)},
        {"if r1 s> 5 goto +2", raw(0x65, 1, 0, 2, 5)},
        {"if w1 == w2 goto -3", raw(0x1e, 1, 2, -3, 0)},
        {"if r1 & 0x8 goto +1", raw(0x45, 1, 0, 1, 8)},
        {"if r1 s<= -1 goto +0", raw(0xd5, 1, 0, 0, -1)},
        {"goto +5", raw(0x05, 0, 0, 5, 0)},
        {"gotol +100000", raw(0x06, 0, 0, 0, 100000)},
        {"gotol -2", raw(0x06, 0, 0, 0, -2)},
        {"*(u32 *)(r10 - 4) = r1", raw(0x63, 10, 1, -4, 0)},
        {"*(u32 *)(r10 - 4) = w1", raw(0x63, 10, 1, -4, 0)},
        {"*(u64 *)(r10 - 8) = 7", raw(0x7a, 10, 0, -8, 7)},
        {"*(u8 *)(r1 + 0) = -1", raw(0x72, 1, 0, 0, -1)},
        {"r2 = *(u16 *)(r1 + 12)", raw(0x69, 2, 1, 12, 0)},
        {"w2 = *(u32 *)(r1 + 0x10)", raw(0x61, 2, 1, 16, 0)},
        {"r2 = *(s8 *)(r1 + 12)", raw(0x91, 2, 1, 12, 0)},
        {"r2 = *(u64 *)(r1)", raw(0x79, 2, 1, 0, 0)},
        {"lock *(u64 *)(r1 + 0) += r2", raw(0xdb, 1, 2, 0, 0x00)},
        {"lock *(u32 *)(r1 + 4) |= w2", raw(0xc3, 1, 2, 4, 0x40)},
        {"lock *(u32 *)(r1 + 0) += r2", raw(0xc3, 1, 2, 0, 0x00)},  // llvm-objdump 14 without alu32
        {"lock *(u64 *)(r1 + 0) &= r2", raw(0xdb, 1, 2, 0, 0x50)},
        {"lock *(u64 *)(r1 + 0) ^= r2", raw(0xdb, 1, 2, 0, 0xa0)},
        {"r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)", raw(0xdb, 1, 2, 0, 0x01)},
        {"w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)", raw(0xc3, 1, 2, 0, 0x01)},
        {"r3 = atomic_fetch_xor((u64 *)(r1 - 8), r3)", raw(0xdb, 1, 3, -8, 0xa1)},
        {"r2 = xchg_64(r1 + 8, r2)", raw(0xdb, 1, 2, 8, 0xe1)},
        {"w2 = xchg32_32(r1 + 8, w2)", raw(0xc3, 1, 2, 8, 0xe1)},
        {"r0 = cmpxchg_64(r1 + 0, r0, r2)", raw(0xdb, 1, 2, 0, 0xf1)},
        {"w0 = cmpxchg32_32(r1 + 0, w0, w2)", raw(0xc3, 1, 2, 0, 0xf1)},
        {"r2 = atomic64_xchg((u64 *)(r1 +0), r2)", raw(0xdb, 1, 2, 0, 0xe1)},          // kernel verifier log
        {"r0 = atomic64_cmpxchg((u64 *)(r1 -8), r0, r2)", raw(0xdb, 1, 2, -8, 0xf1)},  // kernel verifier log
        {"r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)", raw(0xdb, 1, 2, 0, 0x01)},     // kernel verifier log
        {"r0 = *(u8 *)skb[12]", raw(0x30, 0, 0, 0, 12)},
        {"r0 = *(u16 *)skb[r1 + 12]", raw(0x48, 0, 1, 0, 12)},
        {"r0 = *(u32 *)skb[r3]", raw(0x40, 0, 3, 0, 0)},
        {"call 1", raw(0x85, 0, 0, 0, 1)},
        {"call bpf_map_lookup_elem", raw(0x85, 0, 0, 0, 1)},
        {"call map_lookup_elem", raw(0x85, 0, 0, 0, 1)},
        {"call bpf_ktime_get_ns#5", raw(0x85, 0, 0, 0, 5)},  // kernel verifier log
        {"call +3", raw(0x85, 0, 1, 0, 3)},
        {"call -1", raw(0x85, 0, 1, 0, -1)},
        {"call pc+3", raw(0x85, 0, 1, 0, 3)},  // kernel verifier log
        {"call kfunc 17", raw(0x85, 0, 2, 0, 17)},
        {"call kfunc 17, 5", raw(0x85, 0, 2, 5, 17)},
        {"callx r1", raw(0x8d, 1, 0, 0, 0)},
        {"exit", raw(0x95, 0, 0, 0, 0)},
        {"goto +2 <LBB0_2>", raw(0x05, 0, 0, 2, 0)},
        {"if r1 == 0x0 goto +0x2 <prog+0x28>", raw(0x15, 1, 0, 2, 0)},
        {"r0 = 0xffffffff", raw(0xb7, 0, 0, 0, -1)},
        {"w0 = -0x80000000", raw(0xb4, 0, 0, 0, INT32_MIN)},
        {"r0 = +5", raw(0xb7, 0, 0, 0, 5)},
    };
    for (const Case& c : cases) {
        const auto got = ok(c.text);
        ASSERT_EQ(got.size(), 1u) << c.text;
        EXPECT_EQ(got[0], c.want) << c.text << "\n got  " << show(got[0]) << "\n want " << show(c.want);
    }
}

TEST(AssemblerPseudoC, Lddw) {
    EXPECT_EQ(ok("r1 = 0x1122334455667788 ll"),
              (std::vector{raw(0x18, 1, 0, 0, 0x55667788), raw(0, 0, 0, 0, 0x11223344)}));
    EXPECT_EQ(ok("r1 = 1234605616436508552 ll"), ok("r1 = 0x1122334455667788 ll"));
    EXPECT_EQ(ok("r0 = -1 ll"), (std::vector{raw(0x18, 0, 0, 0, -1), raw(0, 0, 0, 0, -1)}));
    EXPECT_EQ(ok("r0 = 0xffffffffffffffff ll"), ok("r0 = -1 ll"));
    EXPECT_EQ(ok("r0 = -0x8000000000000000 ll"), (std::vector{raw(0x18, 0, 0, 0, 0), raw(0, 0, 0, 0, INT32_MIN)}));
    // Pseudo sources (RFC 9669 §5.4).
    EXPECT_EQ(ok("r1 = map_by_fd(3) ll"), (std::vector{raw(0x18, 1, 1, 0, 3), raw(0, 0, 0, 0, 0)}));
    EXPECT_EQ(ok("r1 = map_val(map_by_fd(3)) + 8 ll"), (std::vector{raw(0x18, 1, 2, 0, 3), raw(0, 0, 0, 0, 8)}));
    EXPECT_EQ(ok("r1 = var_addr(7)"), (std::vector{raw(0x18, 1, 3, 0, 7), raw(0, 0, 0, 0, 0)}));
    EXPECT_EQ(ok("r1 = map_by_idx(0) ll"), (std::vector{raw(0x18, 1, 5, 0, 0), raw(0, 0, 0, 0, 0)}));
    EXPECT_EQ(ok("r1 = map_val(map_by_idx(2)) + 16"), (std::vector{raw(0x18, 1, 6, 0, 2), raw(0, 0, 0, 0, 16)}));
    EXPECT_EQ(ok("r1 = code_addr(f) ll\nexit\nf: exit"),
              (std::vector{raw(0x18, 1, 4, 0, 2), raw(0, 0, 0, 0, 0), raw(0x95, 0, 0, 0, 0), raw(0x95, 0, 0, 0, 0)}));
    // llvm-objdump's LD_pseudo.
    EXPECT_EQ(ok("ld_pseudo\tr1, 1, 3"), (std::vector{raw(0x18, 1, 1, 0, 3), raw(0, 0, 0, 0, 0)}));
}

// ---- Mnemonic syntax (uBPF, bpf_conformance) ----

TEST(AssemblerMnemonic, ConformanceForms) {
    const Case cases[] = {
        {"mov32 %r0, 0", raw(0xb4, 0, 0, 0, 0)},
        {"add r1, 2", raw(0x07, 1, 0, 0, 2)},
        {"add %r1, %r2", raw(0x0f, 1, 2, 0, 0)},
        {"mov %r1, -1", raw(0xb7, 1, 0, 0, -1)},
        {"jeq r1, 0, +3", raw(0x15, 1, 0, 3, 0)},
        {"jne32 %r1, %r0, -1", raw(0x5e, 1, 0, -1, 0)},
        {"jsgt %r1, 0xffffffff, +1", raw(0x65, 1, 0, 1, -1)},
        {"ldxw r0, [r1+4]", raw(0x61, 0, 1, 4, 0)},
        {"ldxdw %r0, [%r1]", raw(0x79, 0, 1, 0, 0)},
        {"ldxsb %r2, [%r1+0x7eef]", raw(0x91, 2, 1, 0x7eef, 0)},
        {"stxdw [%r10-8], %r1", raw(0x7b, 10, 1, -8, 0)},
        {"stw [r10-4], 5", raw(0x62, 10, 0, -4, 5)},
        {"stdw [%r10-4], 0xCCBBAA99", raw(0x7a, 10, 0, -4, static_cast<std::int32_t>(0xCCBBAA99u))},
        {"sth [%r1+0xfffe], 1", raw(0x6a, 1, 0, -2, 1)},  // GNU as prints negative offsets unsigned
        {"call 1", raw(0x85, 0, 0, 0, 1)},
        {"call helper 5", raw(0x85, 0, 0, 0, 5)},
        {"call bpf_map_lookup_elem", raw(0x85, 0, 0, 0, 1)},
        {"call local +2", raw(0x85, 0, 1, 0, 2)},
        {"call local 0xfffffffe", raw(0x85, 0, 1, 0, -2)},  // uBPF's disassembler prints imm unsigned
        {"call runtime 7", raw(0x85, 0, 2, 0, 7)},
        {"call %r2", raw(0x8d, 2, 0, 0, 0)},  // bpf_conformance's callx
        {"callx r3", raw(0x8d, 3, 0, 0, 0)},
        {"exit", raw(0x95, 0, 0, 0, 0)},
        {"neg r0", raw(0x87, 0, 0, 0, 0)},
        {"neg32 r0", raw(0x84, 0, 0, 0, 0)},
        {"le16 r0", raw(0xd4, 0, 0, 0, 16)},
        {"be32 r0", raw(0xdc, 0, 0, 0, 32)},
        {"bswap64 %r0", raw(0xd7, 0, 0, 0, 64)},
        {"swap16 %r0", raw(0xd7, 0, 0, 0, 16)},  // bpf_conformance's name before RFC 9669
        {"ja +1", raw(0x05, 0, 0, 1, 0)},
        {"ja32 +70000", raw(0x06, 0, 0, 0, 70000)},
        {"sdiv %r1, 3", raw(0x37, 1, 0, 1, 3)},
        {"smod32 %r1, %r2", raw(0x9c, 1, 2, 1, 0)},
        {"movsx864 %r1, %r2", raw(0xbf, 1, 2, 8, 0)},
        {"movsx1632 %r1, %r2", raw(0xbc, 1, 2, 16, 0)},
        {"movsx3264 %r1, %r2", raw(0xbf, 1, 2, 32, 0)},
        {"ldabsh 12", raw(0x28, 0, 0, 0, 12)},
        {"ldindw %r3, 0x0", raw(0x40, 0, 3, 0, 0)},
        {"lock add [%r1+0], %r2", raw(0xdb, 1, 2, 0, 0x00)},
        {"lock add32 [%r1], %r2", raw(0xc3, 1, 2, 0, 0x00)},
        {"lock fetch add32 [%r10-8], %r1", raw(0xc3, 10, 1, -8, 0x01)},
        {"lock fetch_or [%r1+8], %r2", raw(0xdb, 1, 2, 8, 0x41)},  // xbpf disasm's spelling
        {"lock xchg [%r10-8], %r1", raw(0xdb, 10, 1, -8, 0xe1)},
        {"lock fetch xchg32 [%r10-8], %r1", raw(0xc3, 10, 1, -8, 0xe1)},
        {"lock cmpxchg [%r10-8], %r1", raw(0xdb, 10, 1, -8, 0xf1)},
        {"lock cmpxchg32 [%r10-8], %r1", raw(0xc3, 10, 1, -8, 0xf1)},
    };
    for (const Case& c : cases) {
        const auto got = ok(c.text);
        ASSERT_EQ(got.size(), 1u) << c.text;
        EXPECT_EQ(got[0], c.want) << c.text << "\n got  " << show(got[0]) << "\n want " << show(c.want);
    }
}

TEST(AssemblerMnemonic, Lddw) {
    EXPECT_EQ(ok("lddw r0, 0x1122334455667788"),
              (std::vector{raw(0x18, 0, 0, 0, 0x55667788), raw(0, 0, 0, 0, 0x11223344)}));
    EXPECT_EQ(ok("lddw %r1, map_by_fd(3)"), (std::vector{raw(0x18, 1, 1, 0, 3), raw(0, 0, 0, 0, 0)}));
    // The xbpf disassembler's keyword forms.
    EXPECT_EQ(ok("lddw %r1, map_fd 5"), (std::vector{raw(0x18, 1, 1, 0, 5), raw(0, 0, 0, 0, 0)}));
    EXPECT_EQ(ok("lddw %r1, map_value 5, 8"), (std::vector{raw(0x18, 1, 2, 0, 5), raw(0, 0, 0, 0, 8)}));
    EXPECT_EQ(ok("lddw %r1, btf_id 7"), (std::vector{raw(0x18, 1, 3, 0, 7), raw(0, 0, 0, 0, 0)}));
    EXPECT_EQ(ok("lddw %r1, func +3"), (std::vector{raw(0x18, 1, 4, 0, 3), raw(0, 0, 0, 0, 0)}));
    EXPECT_EQ(ok("lddw %r1, map_idx 0"), (std::vector{raw(0x18, 1, 5, 0, 0), raw(0, 0, 0, 0, 0)}));
    EXPECT_EQ(ok("lddw %r1, map_idx_value 1, 4"), (std::vector{raw(0x18, 1, 6, 0, 1), raw(0, 0, 0, 0, 4)}));
}

TEST(AssemblerMnemonic, ConformanceProgram) {
    // tests/call_local.data and lock_fetch_add32.data of bpf_conformance, abridged: '#' comments, labels, the
    // implicit "exit" label, upper-case hex.
    const char* text = R"(# Copyright header
lddw %r0, 0x123456789abcdef0
stxdw [%r10-8], %r0
mov %r1, 1
lock fetch add32 [%r10-8], %r1
jne32 %r1, %r0, exit
call local func1
jne %r0, 15, failed
mov %r0, 1
exit
failed:
mov %r0, -1
exit
# Function sets %r0 = %r1 + %r2
func1:
mov %r0, 0
add %r0, %r1
stdw [%r10-4], 0xCCBBAA99
exit
)";
    const auto got = ok(text);
    ASSERT_EQ(got.size(), 16u);
    EXPECT_EQ(got[5], raw(0x5e, 1, 0, 3, 0));   // jne32 -> first exit at slot 9
    EXPECT_EQ(got[6], raw(0x85, 0, 1, 0, 5));   // call local func1 at slot 12
    EXPECT_EQ(got[7], raw(0x55, 0, 0, 2, 15));  // jne -> failed at slot 10
}

// ---- Labels ----

TEST(AssemblerLabels, ForwardAndBackward) {
    const auto got = ok(R"(
start:
    r0 = 0
loop:
    r0 += 1
    if r0 < 10 goto loop
    if r0 == 10 goto done
    goto start
done:
    exit
)");
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got[2].off, -2);  // slot 2 -> loop (1)
    EXPECT_EQ(got[3].off, 1);   // slot 3 -> done (5)
    EXPECT_EQ(got[4].off, -5);  // slot 4 -> start (0)
}

TEST(AssemblerLabels, LddwTakesTwoSlots) {
    const auto got = ok(R"(
    goto after
    r1 = 0x100000000 ll
    lddw r2, 1
after: r0 = 0
    if r0 == 0 goto back
back:
    goto after
    exit
)");
    ASSERT_EQ(got.size(), 9u);
    EXPECT_EQ(got[0].off, 4);   // slot 0 -> after (5)
    EXPECT_EQ(got[6].off, 0);   // slot 6 -> back (7)
    EXPECT_EQ(got[7].off, -3);  // slot 7 -> after (5)
    EXPECT_EQ(got[1], raw(0x18, 1, 0, 0, 0));
    EXPECT_EQ(got[2], raw(0, 0, 0, 0, 1));
}

TEST(AssemblerLabels, CallsAndLongJumps) {
    const auto got = ok(R"(
    call fn
    gotol end
    call local fn
fn: r0 = 1
    call bpf_ktime_get_ns
end:
    exit
)");
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got[0], raw(0x85, 0, 1, 0, 2));  // label wins: local call
    EXPECT_EQ(got[1], raw(0x06, 0, 0, 0, 3));
    EXPECT_EQ(got[2], raw(0x85, 0, 1, 0, 0));
    EXPECT_EQ(got[4], raw(0x85, 0, 0, 0, 5));
}

TEST(AssemblerLabels, LabelNamedLikeHelperIsALocalCall) {
    const auto got = ok("call loop\nexit\nloop: exit");
    EXPECT_EQ(got[0], raw(0x85, 0, 1, 0, 1));
    EXPECT_EQ(ok("call helper loop")[0], raw(0x85, 0, 0, 0, 181));
}

TEST(AssemblerLabels, DottedLlvmLabelsAndSeveralOnALine) {
    const auto got = ok("goto .LBB0_2\n.LBB0_1: a: b: r0 = 0\n.LBB0_2:\nexit");
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].off, 1);
}

TEST(AssemblerLabels, OffsetRangeIsChecked) {
    std::string text = "goto far\n";
    for (int i = 0; i < 32767; ++i) text += "r0 = 0\n";
    text += "far: exit\n";
    ASSERT_TRUE(assemble(text));  // exactly +32767
    text.insert(text.find("far:"), "r0 = 0\n");
    auto r = assemble(text);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("jump offset out of range"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().where.line, 1);
    EXPECT_EQ(r.error().where.column, 6);
    // gotol reaches it.
    text.replace(0, 4, "gotol");
    EXPECT_TRUE(assemble(text));
}

// ---- Comments and listings ----

TEST(AssemblerInput, Comments) {
    const auto got = ok(R"(
# full-line hash comment
; full-line semicolon comment
// full-line slash comment
r0 = 1 ; trailing
r0 += 2 // trailing
mov r0, 3 # trailing
   # indented

exit)");
    EXPECT_EQ(got.size(), 4u);
    // '#' glued to a word is not a comment: the kernel log's "call name#id".
    EXPECT_EQ(ok("call bpf_get_current_pid_tgid#14")[0].imm, 14);
}

TEST(AssemblerInput, CrlfLineEndings) { EXPECT_EQ(ok("r0 = 1\r\nexit\r\n").size(), 2u); }

TEST(AssemblerInput, LlvmObjdumpListing) {
    const char* listing = R"(
prog.o:	file format elf64-bpf

Disassembly of section .text:

0000000000000000 <prog>:
       0:	b7 00 00 00 00 00 00 00	r0 = 0
       1:	18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11	r1 = 0x1122334455667788 ll
		0000000000000008:  R_BPF_64_64	my_map
       3:	15 01 02 00 00 00 00 00	if r1 == 0 goto +2 <LBB0_2>
       4:	85 00 00 00 05 00 00 00	call 5
       5:	05 00 00 00 00 00 00 00	goto +0 <LBB0_2>

0000000000000030 <LBB0_2>:
       6:	95 00 00 00 00 00 00 00	exit
)";
    const auto got = ok(listing);
    ASSERT_EQ(got.size(), 7u);
    EXPECT_EQ(got[0], raw(0xb7, 0, 0, 0, 0));
    EXPECT_EQ(got[3], raw(0x15, 1, 0, 2, 0));
    EXPECT_EQ(got[6], raw(0x95, 0, 0, 0, 0));
    // Labels from symbol headers can be used too.
    EXPECT_EQ(ok("0000000000000000 <prog>:\n  goto LBB0_2\n<LBB0_2>:\n  exit")[0].off, 0);
    // GNU objdump: hex byte addresses and mnemonic text.
    EXPECT_EQ(ok("  a8:\t79 12 00 00 00 00 00 00 \tldxdw %r2,[%r1+0x0]")[0], raw(0x79, 2, 1, 0, 0));
    // A label that looks like hex is still a label when no bytes follow it.
    EXPECT_EQ(ok("add: r0 = 0\ngoto add").back().off, -2);
}

TEST(AssemblerInput, RealLlvmObjdump14Listing) {
    // llvm-objdump 14 -d -r -S of tests/golden/objdump/atomics.bpf.c (-mcpu=v3), abridged: source lines as ';'
    // comments, relocations, symbol headers, a lossy 32-bit fetch-add and <unknown> slots.
    const char* listing = R"(
atomics.v3.o:	file format elf64-bpf

Disassembly of section tc:

0000000000000000 <atomic_add>:
; {
       0:	79 12 00 00 00 00 00 00	r2 = *(u64 *)(r1 + 0)
;     __sync_fetch_and_add(&g64, v);
       1:	18 03 00 00 00 00 00 00 00 00 00 00 00 00 00 00	r3 = 0 ll
		0000000000000008:  R_BPF_64_64	g64
       3:	db 23 00 00 00 00 00 00	lock *(u64 *)(r3 + 0) += r2
       4:	c3 34 00 00 01 00 00 00	lock *(u32 *)(r4 + 0) += r3
       5:	c3 24 00 00 41 00 00 00	<unknown>
       6:	b4 00 00 00 00 00 00 00	w0 = 0
       7:	95 00 00 00 00 00 00 00	exit
)";
    EXPECT_EQ(ok(listing), (std::vector{raw(0x79, 2, 1, 0, 0), raw(0x18, 3, 0, 0, 0), raw(0, 0, 0, 0, 0),
                                        raw(0xdb, 3, 2, 0, 0), raw(0xc3, 4, 3, 0, 0x01), raw(0xc3, 4, 2, 0, 0x41),
                                        raw(0xb4, 0, 0, 0, 0), raw(0x95, 0, 0, 0, 0)}));
}

TEST(AssemblerInput, ListingBytesDisambiguateCalls) {
    // llvm-objdump prints helper, local and kfunc calls alike: "call N". The raw bytes decide.
    EXPECT_EQ(ok("0:\t85 10 00 00 03 00 00 00\tcall 3")[0], raw(0x85, 0, 1, 0, 3));
    EXPECT_EQ(ok("0:\t85 20 05 00 11 00 00 00\tcall 17")[0], raw(0x85, 0, 2, 5, 17));
    EXPECT_EQ(ok("0:\t85 00 00 00 03 00 00 00\tcall 3")[0], raw(0x85, 0, 0, 0, 3));
    // Edited text wins over stale bytes when they disagree.
    EXPECT_EQ(ok("0:\t85 10 00 00 03 00 00 00\tcall 4")[0], raw(0x85, 0, 0, 0, 4));
    // LLVM 14 prints the 32-bit fetch-add like the plain add; ld_pseudo does not show the second slot's imm.
    EXPECT_EQ(ok("63:\tc3 34 00 00 01 00 00 00\tlock *(u32 *)(r4 + 0) += r3")[0], raw(0xc3, 4, 3, 0, 0x01));
    EXPECT_EQ(ok("lock *(u32 *)(r4 + 0) += r3")[0], raw(0xc3, 4, 3, 0, 0x00));
    EXPECT_EQ(ok("0:\t18 21 00 00 03 00 00 00 00 00 00 00 08 00 00 00\tld_pseudo\tr1, 2, 3"),
              (std::vector{raw(0x18, 1, 2, 0, 3), raw(0, 0, 0, 0, 8)}));
    // "<unknown>" slots are re-emitted from their bytes.
    EXPECT_EQ(ok("0:\tff 12 34 00 78 56 34 12\t<unknown>")[0], raw(0xff, 2, 1, 0x34, 0x12345678));
    EXPECT_FALSE(assemble("<unknown>"));
}

std::vector<RawInsn> every_op_program() {
    std::vector<RawInsn> program;
    for (const OpInfo& row : all_ops()) {
        const auto slots = expected_raw(row, Operands{});
        program.insert(program.end(), slots.begin(), slots.end());
    }
    // Pseudo sources of lddw.
    for (std::uint8_t src = 1; src <= kPseudoMapIdxValue; ++src) {
        Instruction insn;
        insn.op = Op::Lddw;
        insn.dst = 1;
        insn.src = src;
        insn.imm = 3;
        encode_one(insn, program);
    }
    return program;
}

TEST(AssemblerInput, DisassemblyRoundTrips) {
    const auto program = every_op_program();
    for (const Syntax syntax : {Syntax::PseudoC, Syntax::Mnemonic}) {
        for (const bool hex : {false, true}) {
            for (const bool alu32 : {false, true}) {
                DisasmOptions options;
                options.syntax = syntax;
                options.hex_immediates = hex;
                options.alu32 = alu32;
                options.labels = {{0, "prog"}, {5, "LBB0_5"}};
                const std::string listing = disassemble(program, options);
                auto back = assemble(listing);
                ASSERT_TRUE(back) << back.error().to_string() << "\n" << listing;
                EXPECT_EQ(*back, program) << listing;
                for (std::size_t i = 0; i < std::min(back->size(), program.size()); ++i)
                    EXPECT_EQ((*back)[i], program[i])
                        << "slot " << i << ": " << show((*back)[i]) << " vs " << show(program[i]);
            }
        }
    }
}

TEST(AssemblerInput, DisassemblyRoundTripsWithoutBytes) {
    // Without raw bytes, pseudo-C "call N" means a helper, and ld_pseudo drops the second slot's imm; every other
    // instruction comes back exactly, and the mnemonic syntax is unambiguous.
    const auto program = every_op_program();
    for (const Syntax syntax : {Syntax::PseudoC, Syntax::Mnemonic}) {
        DisasmOptions options;
        options.syntax = syntax;
        options.show_bytes = false;
        const std::string listing = disassemble(program, options);
        auto back = assemble(listing);
        ASSERT_TRUE(back) << back.error().to_string() << "\n" << listing;
        ASSERT_EQ(back->size(), program.size());
        for (std::size_t i = 0; i < program.size(); ++i) {
            const auto op = lookup(program[i].opcode, program[i].src, program[i].off, program[i].imm);
            if (syntax == Syntax::PseudoC && op && (*op == Op::CallLocal || *op == Op::CallKfunc)) continue;
            EXPECT_EQ((*back)[i], program[i]) << "slot " << i << ": " << show((*back)[i]) << " vs " << show(program[i]);
        }
    }
}

// ---- Errors: message, line and column ----

struct ErrorCase {
    std::string_view text;
    int line;
    int column;
    std::string_view message;  // substring
};

TEST(AssemblerErrors, LineColumnAndMessage) {
    const ErrorCase cases[] = {
        {"r0 = 1\nr11 = 2", 2, 1, "unknown register 'r11'"},
        {"r0 = 1\n  mov r0 0", 2, 10, "expected ',' after destination register"},
        {"r0 = 0x1ffffffff", 1, 6, "immediate 0x1ffffffff does not fit in 32 bits"},
        {"r0 = -0x80000001", 1, 6, "immediate -0x80000001 does not fit in 32 bits"},
        {"r0 = 0x10000000000000000 ll", 1, 6, "does not fit in 64 bits"},
        {"exit\ngoto foo", 2, 6, "undefined label 'foo'"},
        {"if r1 == 0 goto +40000", 1, 17, "jump offset out of range"},
        {"goto -32769", 1, 6, "jump offset out of range"},
        {"gotol +0x80000000", 1, 7, "jump offset out of range"},
        {"  frob r1", 1, 3, "unknown instruction 'frob'"},
        {"r0 = 1 garbage", 1, 8, "unexpected 'garbage' after instruction"},
        {"x:\nexit\n x:", 3, 2, "duplicate label 'x' (first defined on line 1)"},
        {"r0 += w1", 1, 7, "register width mismatch"},
        {"r0 = @", 1, 6, "unexpected character '@'"},
        {"ldxw r0, [r1+70000]", 1, 13, "offset +70000 does not fit in 16 bits"},
        {"r1 = *(u64 *)(w1 + 0)", 1, 15, "base register must be 64-bit"},
        {"call nosuchthing", 1, 6, "undefined label or unknown helper 'nosuchthing'"},
        {"call helper nosuch", 1, 13, "unknown helper 'nosuch'"},
        {"r0 = -r1", 1, 7, "same register"},
        {"r1 = *(u8 *)skb[0]", 1, 1, "packet loads always write r0"},
        {"w1 = *(u64 *)(r1 + 0)", 1, 1, "64-bit destination"},
        {"r1 = cmpxchg_64(r2 + 0, r0, r3)", 1, 1, "cmpxchg always writes r0"},
        {"r1 = xchg_64(r2 + 0, r3)", 1, 22, "returns the old value in its source register"},
        {"lock *(u16 *)(r1 + 0) += r2", 1, 8, "atomic operations take u32 or u64"},
        {"lock frob [r1], r2", 1, 6, "unknown atomic operation 'frob'"},
        {"if r1 ~ 3 goto +1", 1, 7, "expected comparison operator"},
        {"if r1 == 3 +1", 1, 12, "expected 'goto' after comparison"},
        {"r0 = 12abc", 1, 6, "invalid number '12abc'"},
        {"r0 =", 1, 5, "expected value after 'r0 =', found end of line"},
        {"jeq r1, 0", 1, 10, "expected ',' before jump target"},
        {"w1 = 5 ll", 1, 1, "64-bit register"},
        {"r1 = (s64)r2", 1, 7, "no sign-extending move"},
        {"r1 = be8 r1", 1, 6, "expected value"},
        {"*(s8 *)(r1 + 0) = 1", 1, 3, "stores take u8, u16, u32 or u64"},
    };
    for (const ErrorCase& c : cases) {
        AsmOptions options;
        options.file_name = "prog.s";
        auto r = assemble(c.text, options);
        ASSERT_FALSE(r) << c.text;
        const Error& e = r.error();
        EXPECT_EQ(e.where.line, c.line) << c.text << ": " << e.to_string();
        EXPECT_EQ(e.where.column, c.column) << c.text << ": " << e.to_string();
        EXPECT_EQ(e.where.file, "prog.s") << c.text;
        EXPECT_NE(e.message.find(c.message), std::string::npos) << c.text << ": " << e.to_string();
    }
}

TEST(AssemblerErrors, Codes) {
    EXPECT_EQ(assemble("goto nowhere").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(assemble("r0 = ").error().code, ErrorCode::kParse);
    EXPECT_NE(assemble("r0 = 1\nr0 = x", {"f.s"}).error().to_string().find("f.s:2:6"), std::string::npos);
}

TEST(AssemblerErrors, ImmediateLimitsAreInclusive) {
    EXPECT_TRUE(assemble("r0 = 0xffffffff"));
    EXPECT_TRUE(assemble("r0 = -2147483648"));
    EXPECT_FALSE(assemble("r0 = 4294967296"));
    EXPECT_TRUE(assemble("goto -32768"));
    EXPECT_TRUE(assemble("goto +32767"));
    EXPECT_TRUE(assemble("r0 = *(u8 *)(r1 - 32768)"));
    EXPECT_FALSE(assemble("r0 = *(u8 *)(r1 - 32769)"));
    EXPECT_TRUE(assemble("r0 = 18446744073709551615 ll"));
    EXPECT_FALSE(assemble("r0 = 18446744073709551616 ll"));
    EXPECT_TRUE(assemble("r10 = 0"));
    EXPECT_FALSE(assemble("r16 = 0"));
    EXPECT_FALSE(assemble("r99999 = 0"));
}

TEST(AssemblerErrors, EmptyInputIsAnEmptyProgram) {
    EXPECT_TRUE(ok("").empty());
    EXPECT_TRUE(ok("\n\n  ; nothing\n").empty());
}

// ---- Robustness: arbitrary input returns a Result, never throws or crashes ----

TEST(AssemblerFuzz, RandomAndTruncatedInputNeverCrash) {
    const std::vector<std::string> seeds = {
        "r0 = 1",
        "w1 += w2",
        "r1 s>>= 3",
        "r2 = be16 r2",
        "r1 = (s8)r2",
        "if r1 s> 5 goto +2",
        "*(u32 *)(r10 - 4) = r1",
        "r2 = *(u16 *)(r1 + 12)",
        "lock *(u64 *)(r1 + 0) += r2",
        "r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)",
        "r0 = cmpxchg_64(r1 + 0, r0, r2)",
        "r1 = 0x1122334455667788 ll",
        "r0 = *(u16 *)skb[r1 + 12]",
        "call bpf_map_lookup_elem",
        "lddw r1, map_val(map_by_fd(3)) + 8",
        "lock fetch add32 [%r10-8], %r1",
        "jeq %r1, %r2, label",
        "       0:\tb7 00 00 00 01 00 00 00\tr0 = 1",
        "0000000000000050 <LBB0_2>:",
        "goto +2 <LBB0_2>",
        "call local fn",
        "lddw %r1, map_value 5, 8",
        "ld_pseudo r1, 2, 3",
        "r1 = code_addr(x) ll",
    };
    std::size_t errors = 0;
    std::size_t successes = 0;
    const auto check = [&](const std::string& text) {
        Result<std::vector<RawInsn>> r = std::unexpected(Error{});
        EXPECT_NO_THROW(r = assemble(text)) << text;
        if (r) {
            ++successes;
        } else {
            ++errors;
            EXPECT_GE(r.error().where.line, 1) << text;
            EXPECT_GE(r.error().where.column, 1) << text;
            EXPECT_FALSE(r.error().message.empty()) << text;
        }
    };
    for (const std::string& seed : seeds)
        for (std::size_t n = 0; n <= seed.size(); ++n) check(seed.substr(0, n));

    std::mt19937 rng(12345);
    const std::string alphabet = "rw0123456789 \t=+-*/%<>&|^!~()[],:;#.xlsuk_%bgotifeaclpmdqnhv\"'\\\x01\xff\n";
    for (int i = 0; i < 3000; ++i) {
        std::string text;
        const std::size_t len = rng() % 40;
        for (std::size_t k = 0; k < len; ++k) text += alphabet[rng() % alphabet.size()];
        check(text);
    }
    // Seeds with one random byte replaced.
    for (int i = 0; i < 3000; ++i) {
        std::string text = seeds[rng() % seeds.size()];
        text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
        check(text);
    }
    EXPECT_GT(errors, 0u);
    EXPECT_GT(successes, 0u);
}

// ---- Helper names ----

TEST(HelperNames, KnownIds) {
    EXPECT_EQ(helper_id("map_lookup_elem"), 1);
    EXPECT_EQ(helper_id("bpf_map_lookup_elem"), 1);
    EXPECT_EQ(helper_id("map_update_elem"), 2);
    EXPECT_EQ(helper_id("map_delete_elem"), 3);
    EXPECT_EQ(helper_id("probe_read"), 4);
    EXPECT_EQ(helper_id("ktime_get_ns"), 5);
    EXPECT_EQ(helper_id("trace_printk"), 6);
    EXPECT_EQ(helper_id("get_prandom_u32"), 7);
    EXPECT_EQ(helper_id("bpf_get_current_pid_tgid"), 14);
    EXPECT_EQ(helper_id("perf_event_output"), 25);
    EXPECT_EQ(helper_id("probe_read_user"), 112);
    EXPECT_EQ(helper_id("ringbuf_output"), 130);
    EXPECT_EQ(helper_id("loop"), 181);
    EXPECT_EQ(helper_id("user_ringbuf_drain"), 209);
    EXPECT_EQ(helper_id("cgrp_storage_delete"), 211);
    EXPECT_EQ(helper_name(1), "map_lookup_elem");
    EXPECT_EQ(helper_name(5), "ktime_get_ns");
    EXPECT_EQ(helper_name(14), "get_current_pid_tgid");
    EXPECT_EQ(helper_name(130), "ringbuf_output");
    EXPECT_EQ(helper_name(181), "loop");
}

TEST(HelperNames, UnknownAndEdgeCases) {
    EXPECT_FALSE(helper_id("unspec"));
    EXPECT_FALSE(helper_id("bpf_unspec"));
    EXPECT_FALSE(helper_id(""));
    EXPECT_FALSE(helper_id("bpf_"));
    EXPECT_FALSE(helper_id("no_such_helper"));
    EXPECT_FALSE(helper_id("MAP_LOOKUP_ELEM"));
    EXPECT_EQ(helper_name(0), "");
    EXPECT_EQ(helper_name(-1), "");
    EXPECT_EQ(helper_name(kMaxHelperId + 1), "");
    EXPECT_EQ(helper_name(1 << 30), "");
}

TEST(HelperNames, EveryIdRoundTrips) {
    for (std::int32_t id = 1; id <= kMaxHelperId; ++id) {
        const std::string_view name = helper_name(id);
        ASSERT_FALSE(name.empty()) << id;
        EXPECT_FALSE(name.starts_with("bpf_")) << name;
        EXPECT_EQ(helper_id(name), id) << name;
        EXPECT_EQ(helper_id("bpf_" + std::string(name)), id) << name;
    }
}

}  // namespace
}  // namespace xbpf::isa
