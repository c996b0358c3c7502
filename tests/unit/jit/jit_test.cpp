// The x86-64 JIT against the interpreter: every lowering class on edge values with every register pair (the
// register juggling around div/mod, shifts and the atomics' rax/cl needs), local calls up to the depth limit,
// helpers, callbacks, tail calls (33), callx, checked-mode faults and budget, constant blinding, the verifier's
// facts, the fallback of Object::load, and W^X of the generated code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "jit/jit.hpp"
#include "maps/prog_array.hpp"
#include "support/engine_diff.hpp"
#include "support/insn_builder.hpp"
#include "vm/object.hpp"
#include "vm/vm.hpp"

namespace xbpf::jit {
namespace {

using namespace xbpf::test;  // NOLINT(google-build-using-namespace)
using u64 = std::uint64_t;

enum class Engine { Interp, JitChecked, JitUnchecked, JitBlinded };
constexpr Engine kAllJit[] = {Engine::JitChecked, Engine::JitUnchecked, Engine::JitBlinded};

const char* name(Engine e) {
    switch (e) {
        case Engine::Interp: return "interpreter";
        case Engine::JitChecked: return "JIT (checked)";
        case Engine::JitUnchecked: return "JIT (unchecked)";
        case Engine::JitBlinded: return "JIT (checked, blinded)";
    }
    return "?";
}

/// Runs `p` on `in` in `engine`; JIT runs must enter native code. `checked` is the run's mode for the interpreter.
Result<vm::RunResult> run_on(vm::Program& p, const vm::RunInput& in, Engine engine, bool interp_checked = true,
                             std::uint64_t budget = 1ull << 32) {
    vm::RunOptions o;
    o.insn_budget = budget;
    if (engine == Engine::Interp) {  // through vm::run as the JIT runs, so stack addresses in messages match
        o.checked = interp_checked;
        o.engine = vm::EngineKind::Interp;
        return vm::run(p, in, o);
    }
    JitOptions jo;
    jo.checked = engine != Engine::JitUnchecked;
    jo.blind_constants = engine == Engine::JitBlinded;
    auto code = compile(p, jo);
    if (!code) return std::unexpected(code.error());
    p.set_native(*code);
    o.checked = jo.checked;
    auto r = vm::run(p, in, o);
    p.set_native(nullptr);
    if (r) {
        EXPECT_TRUE(r->native) << name(engine);
    }
    return r;
}

/// r0, or the error text with host stack addresses masked (the two runs' stack blocks may lie at other addresses).
std::string outcome(const Result<vm::RunResult>& r) {
    if (r) return fmt::format("r0 = {:#x}", r->r0);
    return mask_stack_addresses("error: " + r.error().to_string());
}

/// `p` compiled unblinded without facts, optimised or not, checked or not.
Result<std::shared_ptr<const JitCode>> compile_as(const vm::Program& p, bool optimize, bool checked = false) {
    return compile(p, JitOptions{.checked = checked, .blind_constants = false, .facts = {}, .optimize = optimize});
}

/// Runs `insns` (r1 = a 64-byte buffer) in the interpreter and every JIT mode: same r0 or error, same memory.
/// `faults`: the program is unsafe, so unchecked code (which trusts it) is not run.
void expect_same(const std::vector<RawInsn>& insns, const std::string& what, const vm::HelperTable* helpers = nullptr,
                 bool faults = false) {
    auto p = vm::Program::load(insns, helpers);
    ASSERT_TRUE(p) << what << ": " << p.error().to_string();
    std::vector<std::uint8_t> mem(64);
    for (std::size_t i = 0; i < mem.size(); ++i) mem[i] = static_cast<std::uint8_t>(i * 37 + 11);
    const std::vector<std::uint8_t> initial = mem;
    vm::RunInput in;
    in.args = {reinterpret_cast<u64>(mem.data()), mem.size(), 0, 0, 0};
    in.regions.push_back({reinterpret_cast<u64>(mem.data()), mem.size(), true, "mem"});
    const auto want = run_on(*p, in, Engine::Interp);
    const std::vector<std::uint8_t> want_mem = mem;
    for (Engine e : kAllJit) {
        if (faults && e == Engine::JitUnchecked) continue;
        mem = initial;
        const auto got = run_on(*p, in, e);
        EXPECT_EQ(outcome(got), outcome(want)) << what << " in " << name(e) << [&] {
            std::string hex;
            for (const RawInsn& i : insns) {
                const auto* b = reinterpret_cast<const std::uint8_t*>(&i);
                for (int k = 0; k < 8; ++k) hex += fmt::format("{:02x} ", b[k]);
            }
            return "\nprogram: " + hex;
        }();
        EXPECT_EQ(mem, want_mem) << what << " in " << name(e) << ": memory differs";
    }
}

/// Every register r0-r9 set to a distinct value, then `body`, then r0 = a hash of r0-r9 and the first 16 bytes of
/// the stack (so a lowering that clobbers any other register shows).
std::vector<RawInsn> with_register_dump(const std::vector<RawInsn>& body) {
    std::vector<RawInsn> p;
    for (std::uint8_t r = 0; r <= 9; ++r)
        append(p, ld_imm64(r, 0x0101010101010101ull * (r + 1) ^ 0x8000000000000000ull));
    append(p, st_mem(Size::DW, R10, -8, 0x7fff0001));
    append(p, st_mem(Size::DW, R10, -16, -3));
    p.insert(p.end(), body.begin(), body.end());
    for (std::uint8_t r = 0; r <= 9; ++r) append(p, stx_mem(Size::DW, R10, r, static_cast<std::int16_t>(-24 - 8 * r)));
    append(p, mov64_imm(R0, 0));
    for (int i = 0; i < 12; ++i) {
        append(p, ldx_mem(Size::DW, R1, R10, static_cast<std::int16_t>(-8 - 8 * i)));
        append(p, alu64_imm(Alu::Mul, R0, 1000003));
        append(p, alu64_reg(Alu::Xor, R0, R1));
    }
    append(p, exit_insn());
    return p;
}

TEST(JitLowering, DivisionAndModuloEdgeValuesEveryRegisterPair) {
    const u64 dividends[] = {0x8000000000000000ull, 0xffffffff80000000ull, 1234567, 0xfffffffffffffff9ull};
    // 0 and -1: the RFC's special cases; 7, -7: plain; 1, 8, 2^30, INT32_MIN: powers of two (shift / mask forms
    // for unsigned division by an immediate; INT32_MIN is 2^31 as a 32-bit divisor and negative as a 64-bit one).
    const std::int32_t divisors[] = {0, -1, 7, -7, 1, 8, 1 << 30, std::numeric_limits<std::int32_t>::min()};
    for (Alu op : {Alu::Div, Alu::SDiv, Alu::Mod, Alu::SMod})
        for (bool is64 : {true, false})
            for (u64 a : dividends)
                for (std::int32_t b : divisors) {
                    // Immediate divisor.
                    for (std::uint8_t d : {R0, R3, R5}) {
                        std::vector<RawInsn> body;
                        append(body, ld_imm64(d, a));
                        append(body, is64 ? alu64_imm(op, d, b) : alu32_imm(op, d, b));
                        expect_same(with_register_dump(body),
                                    fmt::format("op {} {} r{} by imm {}", int(op), is64 ? 64 : 32, d, b));
                    }
                    // Register divisor: every pair (including dst == src).
                    if (a != dividends[0] && b != -1) continue;  // keep the run time small: full pairs on INT_MIN/-1
                    for (std::uint8_t d = 0; d <= 9; ++d)
                        for (std::uint8_t s = 0; s <= 9; ++s) {
                            std::vector<RawInsn> body;
                            append(body, mov64_imm(s, b));
                            if (d != s) append(body, ld_imm64(d, a));
                            append(body, is64 ? alu64_reg(op, d, s) : alu32_reg(op, d, s));
                            expect_same(with_register_dump(body),
                                        fmt::format("op {} {} r{} by r{} = {}", int(op), is64 ? 64 : 32, d, s, b));
                        }
                }
}

TEST(JitLowering, Unsigned32BitDivisionByConstantsMatchesForEdgeDividends) {
    // Division and modulo by a constant are a multiplication (Granlund-Montgomery) for 32-bit operands.
    const std::uint32_t divisors[] = {3,   5,   6,    7,       10,         11,         13,         25,
                                      100, 641, 1000, 6700417, 0x7fffffff, 0x80000001, 0xfffffffe, 0xffffffff};
    const u64 dividends[] = {0,
                             1,
                             2,
                             6,
                             7,
                             9,
                             99,
                             100,
                             101,
                             0x7fffffff,
                             0x80000000,
                             0x80000001,
                             0xfffffffe,
                             0xffffffff,
                             0xdeadbeefcafef00dull,
                             0x123456789ull};
    for (Alu op : {Alu::Div, Alu::Mod}) {
        std::vector<RawInsn> p;
        // r0 = hash of (x op d) over every pair; one program per operation keeps the test fast.
        append(p, mov64_imm(R0, 0));
        for (std::uint32_t d : divisors)
            for (u64 x : dividends) {
                append(p, ld_imm64(R3, x));
                append(p, alu32_imm(op, R3, static_cast<std::int32_t>(d)));
                append(p, alu64_imm(Alu::Mul, R0, 1000003));
                append(p, alu64_reg(Alu::Xor, R0, R3));
            }
        append(p, exit_insn());
        expect_same(p, fmt::format("32-bit {} by constants", op == Alu::Div ? "div" : "mod"));
    }
}

TEST(JitLowering, Unsigned64BitDivisionByConstantsMatchesForEdgeDividends) {
    // 64-bit division and modulo by a positive non-power-of-two immediate are a 128-bit multiplication through
    // rdx:rax: every destination register (r0 is rax, r3 is rdx) keeps the others intact (with_register_dump).
    const std::int32_t divisors[] = {3, 5, 6, 7, 10, 26, 100, 641, 1000, 6700417, 0x7fffffff};
    const u64 dividends[] = {0,
                             1,
                             5,
                             99,
                             100,
                             0x7fffffff,
                             0xffffffff,
                             0x100000000,
                             0x7fffffffffffffffull,
                             0x8000000000000000ull,
                             0xfffffffffffffffeull,
                             0xffffffffffffffffull,
                             0xdeadbeefcafef00dull,
                             0x123456789abcdefull};
    for (Alu op : {Alu::Div, Alu::Mod}) {
        for (std::uint8_t dst : {R0, R3, R5}) {
            std::vector<RawInsn> body;
            append(body, mov64_imm(R7, 0));
            for (std::int32_t d : divisors)
                for (u64 x : dividends) {
                    append(body, ld_imm64(dst, x));
                    append(body, alu64_imm(op, dst, d));
                    append(body, alu64_imm(Alu::Mul, R7, 1000003));
                    append(body, alu64_reg(Alu::Xor, R7, dst));
                }
            expect_same(with_register_dump(body),
                        fmt::format("64-bit {} by constants into r{}", op == Alu::Div ? "div" : "mod", dst));
        }
    }
}

TEST(JitLowering, ShiftsMaskTheCountEveryRegisterPair) {
    for (Alu op : {Alu::Lsh, Alu::Rsh, Alu::Arsh})
        for (bool is64 : {true, false})
            for (std::int32_t count : {0, 1, 31, 32, 63, 64, 65}) {
                std::vector<RawInsn> imm_body;
                append(imm_body, is64 ? alu64_imm(op, R4, count) : alu32_imm(op, R4, count));
                append(imm_body, is64 ? alu64_imm(op, R1, count) : alu32_imm(op, R1, count));
                expect_same(with_register_dump(imm_body), fmt::format("shift {} by imm {}", int(op), count));
                for (std::uint8_t d = 0; d <= 9; ++d)
                    for (std::uint8_t s = 0; s <= 9; ++s) {
                        std::vector<RawInsn> body;
                        if (d != s) append(body, mov64_imm(s, count));
                        append(body, is64 ? alu64_reg(op, d, s) : alu32_reg(op, d, s));
                        expect_same(with_register_dump(body),
                                    fmt::format("shift {} {} r{} by r{} = {}", int(op), is64 ? 64 : 32, d, s, count));
                    }
            }
}

TEST(JitLowering, AtomicsEveryFormAndRegister) {
    for (Atomic op : {Atomic::Add, Atomic::Or, Atomic::And, Atomic::Xor, Atomic::FetchAdd, Atomic::FetchOr,
                      Atomic::FetchAnd, Atomic::FetchXor, Atomic::Xchg, Atomic::Cmpxchg})
        for (Size size : {Size::W, Size::DW})
            for (std::uint8_t dst : {R0, R2, R9})
                for (std::uint8_t src = 0; src <= 9; ++src) {
                    if (src == dst) continue;
                    for (bool match : {false, true}) {
                        std::vector<RawInsn> body;
                        append(body, mov64_reg(dst, R10));
                        append(body, alu64_imm(Alu::Add, dst, -8));
                        // cmpxchg compares r0 with the memory (0x7fff0001 stored by with_register_dump).
                        if (match && src != R0) append(body, ld_imm64(R0, 0x7fff0001));
                        if (match && dst == R0) continue;
                        append(body, atomic_op(size, op, dst, src, 0));
                        append(body, mov64_imm(dst, 0));  // a stack address differs between runs
                        expect_same(with_register_dump(body),
                                    fmt::format("atomic {} size {} r{} r{} {}", int(op), int(size), dst, src, match));
                    }
                }
}

TEST(JitPeephole, AddressSumsFoldIntoLoadsOfEverySizeAndOrder) {
    // r3 = r1; r3 += imm; r3 += r2; r3 = *(size *)(r3 + off) (r1 = a 64-byte buffer, r2 = 8): in unchecked code the
    // sum is the load's addressing mode; either add alone or in the other order, sign-extending loads, and a jump
    // target inside the sequence (no folding) all give the interpreter's result.
    const std::int16_t offs[] = {-4, 0, 3};
    for (Size s : {Size::B, Size::H, Size::W, Size::DW})
        for (bool sx : {false, true})
            for (int shape = 0; shape < 4; ++shape)
                for (std::int16_t off : offs) {
                    if (sx && s == Size::DW) continue;
                    std::vector<RawInsn> p;
                    append(p, mov64_imm(R2, 8));
                    append(p, mov64_reg(R3, R1));
                    if (shape == 0 || shape == 2) append(p, alu64_imm(Alu::Add, R3, 20));
                    if (shape != 2) append(p, alu64_reg(Alu::Add, R3, R2));
                    if (shape == 1) append(p, alu64_imm(Alu::Add, R3, 20));
                    if (shape == 2) append(p, alu64_imm(Alu::Add, R3, 8));
                    append(p, sx ? ldx_memsx(s, R3, R3, off) : ldx_mem(s, R3, R3, off));
                    append(p, mov64_reg(R0, R3));
                    append(p, exit_insn());
                    expect_same(p, fmt::format("size {} sx {} shape {} off {}", int(s), sx, shape, off));
                }
    // Unchecked code of the folded form is shorter than the unfolded one and the sum's slots have no code.
    auto folded = program({mov64_imm(R2, 8), mov64_reg(R3, R1), alu64_imm(Alu::Add, R3, 20),
                           alu64_reg(Alu::Add, R3, R2), ldx_mem(Size::B, R3, R3, 1), mov64_reg(R0, R3), exit_insn()});
    auto p = vm::Program::load(folded);
    ASSERT_TRUE(p);
    auto on = compile_as(*p, true);
    auto off = compile_as(*p, false);
    ASSERT_TRUE(on && off);
    EXPECT_LT((*on)->insn_offsets()[5] - (*on)->insn_offsets()[1],
              (*off)->insn_offsets()[5] - (*off)->insn_offsets()[1]);
    EXPECT_EQ((*on)->insn_offsets()[2], (*on)->insn_offsets()[5]);
    EXPECT_EQ((*on)->insn_offsets()[4], (*on)->insn_offsets()[5]);
    // The load keeps its own code when it is a jump target, and the sum when its dst differs from the base.
    expect_same(program({mov64_imm(R2, 8), mov64_reg(R3, R1), jmp_imm(Jmp::Jne, R2, 0, 1), mov64_reg(R3, R1),
                         alu64_imm(Alu::Add, R3, 20), ldx_mem(Size::W, R3, R3, 1), mov64_reg(R0, R3), exit_insn()}),
                "a jump to the add");
    expect_same(program({mov64_imm(R2, 8), mov64_reg(R3, R1), alu64_reg(Alu::Add, R3, R2), ldx_mem(Size::W, R4, R3, 1),
                         alu64_reg(Alu::Add, R4, R3), mov64_reg(R0, R4), exit_insn()}),
                "a load into another register keeps the sum");
    // A sum deferred past instructions to its load, and the instructions that stop that: one writing the base, the
    // index or the sum's register, one reading the sum, a jump target.
    const auto deferred = [&](std::vector<RawInsn> between, const std::string& what) {
        std::vector<RawInsn> p = {mov64_imm(R2, 8), mov64_imm(R5, 3), mov64_reg(R3, R1), alu64_imm(Alu::Add, R3, 20),
                                  alu64_reg(Alu::Add, R3, R2)};
        p.insert(p.end(), between.begin(), between.end());
        for (const RawInsn& i : {ldx_mem(Size::H, R3, R3, 2), alu64_reg(Alu::Add, R3, R5), alu64_reg(Alu::Add, R3, R1),
                                 mov64_reg(R0, R3), exit_insn()})
            p.push_back(i);
        expect_same(p, what);
    };
    deferred({mov64_reg(R4, R1), alu64_imm(Alu::Add, R4, 4), ldx_mem(Size::B, R4, R4, 0), alu64_reg(Alu::Mul, R5, R4)},
             "a nested sum between");
    deferred({alu64_imm(Alu::Add, R1, 4)}, "the base written between");
    deferred({alu64_imm(Alu::Add, R2, 4)}, "the index written between");
    deferred({mov64_reg(R5, R3)}, "the sum read between");
    deferred({alu64_imm(Alu::Add, R3, 1)}, "the sum written between");
    deferred({ldx_mem(Size::B, R5, R3, 0)}, "the sum read by a load between");
    deferred({jmp_imm(Jmp::Jeq, R5, 0, 0)}, "a jump between");
}

TEST(JitPeephole, LatchCopiesKeepTheResultOfEveryConditionAndExit) {
    // i = 0; r0 = 0; head: r3 = mem[i]; r0 += r3; if (r3 <cond> k) goto latch; r0 += 1000; exit;
    // latch: i += 1; if i < 64 goto head; exit. The jump at slot 6 gets a copy of the latch (its fall-through
    // block exits), with the inverted condition jumping to the fall-through.
    struct Cond {
        Jmp op;
        bool jmp32;
    };
    const Cond conds[] = {{Jmp::Jgt, false},  {Jmp::Jge, false}, {Jmp::Jne, false}, {Jmp::Jset, false},
                          {Jmp::Jsgt, false}, {Jmp::Jlt, false}, {Jmp::Jle, true},  {Jmp::Jsge, true},
                          {Jmp::Jeq, false},  {Jmp::Jslt, true}, {Jmp::Jsle, false}};
    for (const Cond& c : conds)
        for (std::int32_t k : {0, 5, 11, 40, 200, 255}) {
            const RawInsn jump = c.jmp32 ? jmp32_imm(c.op, R3, k, 2) : jmp_imm(c.op, R3, k, 2);
            auto insns =
                program({mov64_imm(R2, 0), mov64_imm(R0, 0), mov64_reg(R3, R1), alu64_reg(Alu::Add, R3, R2),
                         ldx_mem(Size::B, R3, R3, 0), alu64_reg(Alu::Add, R0, R3), jump, alu64_imm(Alu::Add, R0, 1000),
                         exit_insn(), alu64_imm(Alu::Add, R2, 1), jmp_imm(Jmp::Jlt, R2, 64, -9), exit_insn()});
            expect_same(insns, fmt::format("condition {} (jmp32 {}) k {}", int(c.op), c.jmp32, k));
        }
    auto insns = program({mov64_imm(R2, 0), mov64_imm(R0, 0), mov64_reg(R3, R1), alu64_reg(Alu::Add, R3, R2),
                          ldx_mem(Size::B, R3, R3, 0), alu64_reg(Alu::Add, R0, R3), jmp_imm(Jmp::Jgt, R3, 40, 2),
                          alu64_imm(Alu::Add, R0, 1000), exit_insn(), alu64_imm(Alu::Add, R2, 1),
                          jmp_imm(Jmp::Jlt, R2, 64, -9), exit_insn()});
    auto p = vm::Program::load(insns);
    ASSERT_TRUE(p);
    auto on = compile_as(*p, true);
    auto off = compile_as(*p, false);
    auto checked = compile_as(*p, true, true);
    ASSERT_TRUE(on && off && checked);
    // The copy (add, compare, jump back, jump on) is part of the jump's code in optimised unchecked code only.
    EXPECT_GT((*on)->insn_offsets()[7] - (*on)->insn_offsets()[6],
              (*off)->insn_offsets()[7] - (*off)->insn_offsets()[6]);
    EXPECT_GT((*on)->insn_offsets()[7] - (*on)->insn_offsets()[6], 12u);
    EXPECT_LT((*checked)->insn_offsets()[7] - (*checked)->insn_offsets()[6], 12u);
}

TEST(JitPeephole, RandomLoopsWithLatchCopiesAndFoldedLoadsMatchTheInterpreter) {
    // Loops shaped as clang lays out `break`/`continue` (a forward jump to the latch; a fall-through that leaves):
    // random conditions, latch bodies, exits by `exit` or by a jump past the loop, and address sums folded into the
    // loads, in the interpreter and every JIT mode.
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    const auto next = [&](std::uint64_t n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x % n;
    };
    const Jmp conds[] = {Jmp::Jgt, Jmp::Jge, Jmp::Jne, Jmp::Jset, Jmp::Jsgt, Jmp::Jlt, Jmp::Jle, Jmp::Jeq, Jmp::Jslt};
    const Alu alus[] = {Alu::Add, Alu::Sub, Alu::Xor, Alu::Or, Alu::Mul, Alu::Lsh, Alu::Rsh};
    const auto random_alu = [&](std::vector<RawInsn>& p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            const auto dst = static_cast<std::uint8_t>(4 + next(2));  // r4, r5
            const Alu a = alus[next(std::size(alus))];
            if (next(2) == 0)
                append(p, alu64_reg(a, dst, static_cast<std::uint8_t>(3 + next(3))));
            else
                append(p,
                       alu64_imm(a, dst, static_cast<std::int32_t>(next(a == Alu::Lsh || a == Alu::Rsh ? 8 : 1000))));
        }
    };
    int copies = 0;
    for (int round = 0; round < 300; ++round) {
        std::vector<RawInsn> p = {mov64_imm(R2, 0), mov64_imm(R0, 0), mov64_imm(R4, 7), mov64_imm(R5, 11)};
        const std::size_t head = p.size();
        append(p, mov64_reg(R3, R1));
        append(p, alu64_reg(Alu::Add, R3, R2));
        append(p, ldx_mem(next(2) == 0 ? Size::B : Size::H, R3, R3, 0));
        append(p, alu64_reg(Alu::Add, R0, R3));
        random_alu(p, next(3));
        const std::size_t jump = p.size();
        append(p, exit_insn());  // the conditional jump, patched below
        random_alu(p, next(3));
        append(p, alu64_reg(Alu::Add, R0, R4));
        const bool exit_by_jump = next(2) == 0;
        const std::size_t leave = p.size();
        append(p, exit_by_jump ? ja(0) : exit_insn());  // patched below when it jumps past the loop
        const std::size_t latch = p.size();
        random_alu(p, next(6));
        append(p, alu64_imm(Alu::Add, R2, 1));
        append(p, jmp_imm(Jmp::Jlt, R2, 62, static_cast<std::int16_t>(head - p.size() - 1)));
        const std::size_t after = p.size();
        append(p, alu64_reg(Alu::Xor, R0, R5));
        append(p, exit_insn());
        const Jmp c = conds[next(std::size(conds))];
        // Often a byte of the buffer (expect_same fills byte i with i * 37 + 11; the first is always read), so
        // equality happens.
        const std::uint64_t pick = next(3);
        const auto k = static_cast<std::int32_t>(pick == 0 ? 11 : pick == 1 ? (next(62) * 37 + 11) & 0xff : next(256));
        const auto off = static_cast<std::int16_t>(latch - jump - 1);
        p[jump] = next(3) == 0 ? jmp32_imm(c, R3, k, off) : jmp_imm(c, R3, k, off);
        if (exit_by_jump) p[leave] = ja(static_cast<std::int16_t>(after - leave - 1));
        expect_same(p, fmt::format("round {}", round));
        if (HasFailure()) break;
        // The jump carries the latch's copy in optimised unchecked code.
        auto loaded = vm::Program::load(p);
        ASSERT_TRUE(loaded);
        auto on = compile_as(*loaded, true);
        ASSERT_TRUE(on);
        copies += (*on)->insn_offsets()[jump + 1] - (*on)->insn_offsets()[jump] > 16 ? 1 : 0;
    }
    EXPECT_GT(copies, 250) << "latch copies made";
}

TEST(JitPeephole, LoopHeadsEnteredByJumpsStartA64ByteLine) {
    // r0 = 0; r2 = 0; goto head; (head:) r0 += r2; r2 += 1; if r2 < 100 goto head; exit: the head is reached only by
    // jumps, so it is aligned (code memory itself is 64-byte aligned) and the result is the interpreter's.
    auto insns = program({mov64_imm(R0, 0), mov64_imm(R2, 0), ja(0), alu64_reg(Alu::Add, R0, R2),
                          alu64_imm(Alu::Add, R2, 1), jmp_imm(Jmp::Jlt, R2, 100, -3), exit_insn()});
    expect_same(insns, "aligned loop");
    auto p = vm::Program::load(insns);
    ASSERT_TRUE(p);
    auto on = compile_as(*p, true);
    ASSERT_TRUE(on);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>((*on)->code().data()) % 64, 0u);
    EXPECT_EQ((*on)->insn_offsets()[3] % 64, 0u);
}

TEST(JitLowering, LoadsStoresSignExtensionAndByteSwaps) {
    for (Size s : {Size::B, Size::H, Size::W, Size::DW}) {
        std::vector<RawInsn> body;
        append(body, ldx_mem(s, R2, R1, 5));
        if (s != Size::DW) append(body, ldx_memsx(s, R3, R1, 9));
        append(body, st_mem(s, R1, 17, -2));
        append(body, stx_mem(s, R1, R2, 33));
        append(body, stx_mem(s, R10, R3, -8));
        expect_same(body.empty() ? body : [&] {
            std::vector<RawInsn> p = body;
            append(p, alu64_reg(Alu::Add, R2, R3));
            append(p, mov64_reg(R0, R2));
            append(p, exit_insn());
            return p;
        }(), fmt::format("size {}", int(s)));
    }
    for (int bits : {8, 16, 32}) {
        std::vector<RawInsn> body;
        append(body, movsx64(R2, R3, bits));
        if (bits != 32) append(body, movsx32(R4, R5, bits));
        expect_same(with_register_dump(body), fmt::format("movsx {}", bits));
    }
    for (int bits : {16, 32, 64}) {
        std::vector<RawInsn> body;
        append(body, le(R1, bits));
        append(body, be(R2, bits));
        append(body, bswap(R3, bits));
        append(body, mov32_reg(R4, R4));  // 32-bit zero-extension of a 64-bit value
        expect_same(with_register_dump(body), fmt::format("endian {}", bits));
    }
}

TEST(JitLowering, Jmp32ComparesOnlyTheLowHalfSignedAndUnsigned) {
    for (Jmp j : {Jmp::Jeq, Jmp::Jgt, Jmp::Jge, Jmp::Jset, Jmp::Jne, Jmp::Jsgt, Jmp::Jsge, Jmp::Jlt, Jmp::Jle,
                  Jmp::Jslt, Jmp::Jsle})
        for (bool is64 : {true, false})
            for (std::int32_t imm : {0, -1, 5, std::numeric_limits<std::int32_t>::min()}) {
                auto p = program({
                    ld_imm64(R2, 0x00000001fffffffbull),  // low half -5, high half 1
                    mov64_imm(R3, imm),
                    mov64_imm(R0, 0),
                    is64 ? jmp_imm(j, R2, imm, 1) : jmp32_imm(j, R2, imm, 1),
                    alu64_imm(Alu::Or, R0, 1),
                    is64 ? jmp_reg(j, R2, R3, 1) : jmp32_reg(j, R2, R3, 1),
                    alu64_imm(Alu::Or, R0, 2),
                    exit_insn(),
                });
                expect_same(p, fmt::format("jmp {} {} imm {}", int(j), is64 ? 64 : 32, imm));
            }
}

// ---- calls ----

u64 weigh(u64 a, u64 b, u64 c, u64 d, u64 e, helpers::Context* ctx) {
    return (ctx != nullptr ? 1000000 : 0) + a + 2 * b + 3 * c + 4 * d + 5 * e;
}

TEST(JitCalls, HelpersGetR1ToR5AndTheContextAndKeepR6ToR9) {
    vm::HelperTable helpers;
    helpers.add({1000, "weigh", weigh});
    std::vector<RawInsn> body;
    for (std::uint8_t r = 1; r <= 5; ++r) append(body, mov64_imm(r, r * 10));
    append(body, call_helper(1000));
    // r1-r5 are scratch after a call (RFC 9669 §4.3.1): the JIT leaves the helper's values, the interpreter its own.
    for (std::uint8_t r = 1; r <= 5; ++r) append(body, mov64_imm(r, 0));
    expect_same(with_register_dump(body), "helper", &helpers);
}

/// A chain of `depth` nested local calls, each adding its level to r0 (r6 is preserved by each callee).
std::vector<RawInsn> call_chain(int depth) {
    std::vector<RawInsn> p;
    append(p, mov64_imm(R6, 100));
    append(p, mov64_imm(R0, 0));
    append(p, call_local(1));  // to the first function at slot 4
    append(p, alu64_reg(Alu::Add, R0, R6));
    append(p, exit_insn());
    for (int level = 1; level <= depth; ++level) {
        append(p, mov64_imm(R6, level));
        if (level < depth) append(p, call_local(2));
        append(p, alu64_reg(Alu::Add, R0, R6));
        append(p, exit_insn());
    }
    // Patch: the entry's call targets slot 5 (after the entry's 5 slots); the level functions are 4 slots long.
    p[2].imm = 5 - 3;
    for (int level = 1; level < depth; ++level) p[5 + 4 * (level - 1) + 1].imm = 4 - 2;
    // The last function has no call: 3 slots. Its predecessor's call still targets pc + 1 + 2 = the next function.
    return p;
}

TEST(JitCalls, LocalCallsUpToTheDepthLimitThenTheSameError) {
    for (int depth : {1, 3, 7, 8}) {
        auto p = call_chain(depth);
        expect_same(p, fmt::format("call chain of {}", depth));
        auto loaded = vm::Program::load(p);
        ASSERT_TRUE(loaded) << loaded.error().to_string();
        auto r = run_on(*loaded, {}, Engine::JitUnchecked);
        if (depth < 8) {
            ASSERT_TRUE(r) << r.error().to_string();
            EXPECT_EQ(r->r0, 100u + static_cast<u64>(depth * (depth + 1) / 2));
        } else {
            ASSERT_FALSE(r);
            EXPECT_NE(r.error().message.find("call depth exceeds 8 frames"), std::string::npos);
        }
    }
}

TEST(JitCalls, CallxCallsAFunctionAddressAndRefusesOthers) {
    for (bool is_function : {true, false}) {
        std::vector<RawInsn> p = program({
            make(Op::Lddw, R2, isa::kPseudoFunc, 0, 4),  // 0-1: the function at slot 0 + 1 + 4
            RawInsn{},
            make(Op::Callx, R2),  // 2
            alu64_imm(Alu::Add, R0, 1),
            exit_insn(),        // 4
            mov64_imm(R0, 41),  // 5
            exit_insn(),
        });
        if (!is_function) p[0] = make(Op::Lddw, R2, isa::kPseudoImm64, 0, 3);  // slot 3 is not a function
        expect_same(p, fmt::format("callx {}", is_function));
    }
}

// ---- callbacks and tail calls (through the VM's own helpers) ----

constexpr std::int32_t kLoop = 181;
constexpr std::int32_t kTailCall = 12;

/// bpf_loop(n, cb, &counter): cb adds i to the counter and faults on i == fault_at (a read of address 8).
std::vector<RawInsn> loop_program(std::int32_t n, std::int32_t fault_at) {
    std::vector<RawInsn> p = program({
        st_mem(Size::DW, R10, -8, 0),                     // 0
        mov64_reg(R6, R10),                               // 1
        alu64_imm(Alu::Add, R6, -8),                      // 2
        mov64_imm(R1, n),                                 // 3
        make(Op::Lddw, R2, isa::kPseudoFunc, 0, 11 - 5),  // 4-5
        RawInsn{},                                        //
        mov64_reg(R3, R6),                                // 6
        mov64_imm(R4, 0),                                 // 7
        call_helper(kLoop),                               // 8
        ldx_mem(Size::DW, R0, R6, 0),                     // 9
        exit_insn(),                                      // 10
        ldx_mem(Size::DW, R3, R2, 0),                     // 11
        alu64_reg(Alu::Add, R3, R1),                      // 12
        stx_mem(Size::DW, R2, R3, 0),                     // 13
        jmp_imm(Jmp::Jne, R1, fault_at, 2),               // 14
        mov64_imm(R4, 8),                                 // 15
        ldx_mem(Size::DW, R4, R4, 0),                     // 16: faults
        mov64_imm(R0, 0),                                 // 17
        exit_insn(),                                      // 18
    });
    return p;
}

TEST(JitCallbacks, BpfLoopRunsNativeCallbacksAndReportsTheirFaults) {
    expect_same(loop_program(10, -1), "bpf_loop", &vm::standard_helpers());
    auto ok = vm::Program::load(loop_program(10, -1), &vm::standard_helpers());
    ASSERT_TRUE(ok);
    for (Engine e : kAllJit) {
        auto r = run_on(*ok, {}, e);
        ASSERT_TRUE(r) << name(e) << ": " << r.error().to_string();
        EXPECT_EQ(r->r0, 45u) << name(e);
    }
    // A fault in the callback (checked) ends the run naming the callback's instruction.
    auto bad = vm::Program::load(loop_program(10, 4), &vm::standard_helpers());
    ASSERT_TRUE(bad);
    auto want = run_on(*bad, {}, Engine::Interp);
    ASSERT_FALSE(want);
    EXPECT_EQ(want.error().where.insn, 16u);
    auto got = run_on(*bad, {}, Engine::JitChecked);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().to_string(), want.error().to_string());
}

std::shared_ptr<maps::Map> make_map(maps::MapType type, std::uint32_t value_size, std::uint32_t entries) {
    maps::MapSpec s;
    s.name = "m";
    s.type = type;
    s.key_size = 4;
    s.value_size = value_size;
    s.max_entries = entries;
    auto m = maps::create_map(s);
    EXPECT_TRUE(m);
    return *m;
}

TEST(JitTailCalls, AtMost33ThenTheCallFallsThroughInEveryEngine) {
    auto counter = make_map(maps::MapType::Array, 16, 1);
    auto jmp = make_map(maps::MapType::ProgArray, 4, 2);
    const std::shared_ptr<maps::Map> table[] = {counter, jmp};
    RawInsn value_tail;
    auto insns = program({
        mov64_reg(R6, R1),
        Slots(make(Op::Lddw, R2, isa::kPseudoMapIdxValue, 0, 0), value_tail),
        ldx_mem(Size::DW, R1, R2, 0),
        alu64_imm(Alu::Add, R1, 1),
        stx_mem(Size::DW, R2, R1, 0),
        mov64_reg(R1, R6),
        Slots(make(Op::Lddw, R2, isa::kPseudoMapIdx, 0, 1), value_tail),
        mov64_imm(R3, 0),
        call_helper(kTailCall),
        Slots(make(Op::Lddw, R2, isa::kPseudoMapIdxValue, 0, 0), value_tail),
        stx_mem(Size::DW, R2, R0, 8),
        ldx_mem(Size::DW, R0, R2, 0),
        exit_insn(),
    });
    auto p = vm::Program::load(insns, vm::ProgramEnv{&vm::standard_helpers(), table, 6});
    ASSERT_TRUE(p) << p.error().to_string();
    object::ProgramSpec spec;
    spec.name = "self";
    spec.type = object::ProgramType::Xdp;
    auto loaded = std::make_shared<vm::LoadedProgram>(&spec, std::move(*p), 1);
    auto* array = static_cast<maps::ProgArrayMap*>(jmp.get());
    ASSERT_EQ(array->set(0, loaded), 0);
    auto& program = const_cast<vm::Program&>(loaded->program());  // attach JIT code to the loaded program
    const std::uint32_t zero = 0;
    auto* value = static_cast<u64*>(counter->lookup(&zero));
    for (Engine e : {Engine::Interp, Engine::JitChecked, Engine::JitUnchecked, Engine::JitBlinded}) {
        value[0] = value[1] = 0;
        auto r = run_on(program, {}, e);
        ASSERT_TRUE(r) << name(e) << ": " << r.error().to_string();
        EXPECT_EQ(r->r0, 34u) << name(e);  // the entry run plus 33 tail calls
        EXPECT_EQ(static_cast<std::int64_t>(value[1]), -E2BIG) << name(e);
    }
    array->erase(&zero);
}

TEST(JitTailCalls, ATargetWithoutNativeCodeRunsInTheInterpreterOnTheSameFrame) {
    auto jmp = make_map(maps::MapType::ProgArray, 4, 1);
    const std::shared_ptr<maps::Map> table[] = {jmp};
    RawInsn tail;
    // caller: r6 = 5; tail_call(ctx, jmp, 0); return 1 (only when the call fails)
    auto caller = program({mov64_imm(R6, 5), Slots(make(Op::Lddw, R2, isa::kPseudoMapIdx, 0, 0), tail),
                           mov64_imm(R3, 0), call_helper(kTailCall), mov64_imm(R0, 1), exit_insn()});
    // target: r0 = r1 + 77 (r1 = the caller's ctx), through a local call and a stack slot
    auto target = program({stx_mem(Size::DW, R10, R1, -8), call_local(2), alu64_imm(Alu::Add, R0, 77), exit_insn(),
                           ldx_mem(Size::DW, R0, R10, 504), exit_insn()});
    auto pc = vm::Program::load(caller, vm::ProgramEnv{&vm::standard_helpers(), table, 6});
    auto pt = vm::Program::load(target, vm::ProgramEnv{&vm::standard_helpers(), table, 6});
    ASSERT_TRUE(pc && pt) << (pc ? pt.error() : pc.error()).to_string();
    object::ProgramSpec spec;
    spec.name = "target";
    spec.type = object::ProgramType::Xdp;
    auto target_loaded = std::make_shared<vm::LoadedProgram>(&spec, std::move(*pt), 2);
    ASSERT_EQ(static_cast<maps::ProgArrayMap*>(jmp.get())->set(0, target_loaded), 0);
    vm::RunInput in;
    in.args = {1000, 0, 0, 0, 0};
    for (Engine e : {Engine::Interp, Engine::JitChecked, Engine::JitUnchecked}) {
        auto r = run_on(*pc, in, e);
        ASSERT_TRUE(r) << name(e) << ": " << r.error().to_string();
        EXPECT_EQ(r->r0, 1077u) << name(e);
    }
    const std::uint32_t zero = 0;
    jmp->erase(&zero);
}

// ---- checked mode ----

TEST(JitChecked, BudgetExhaustionNamesTheSameInstructionAndCountsMatch) {
    // A loop of 3 instructions: r0 counts iterations.
    auto loop = program({mov64_imm(R0, 0), alu64_imm(Alu::Add, R0, 1), jmp_imm(Jmp::Jne, R0, 1000000, -2),
                         mov64_imm(R1, 1), exit_insn()});
    auto p = vm::Program::load(loop);
    ASSERT_TRUE(p);
    for (std::uint64_t budget : {1ull, 2ull, 3ull, 4ull, 100ull, 1001ull}) {
        auto want = run_on(*p, {}, Engine::Interp, true, budget);
        auto got = run_on(*p, {}, Engine::JitChecked, true, budget);
        ASSERT_FALSE(want);
        ASSERT_FALSE(got);
        EXPECT_EQ(got.error().to_string(), want.error().to_string()) << "budget " << budget;
    }
    auto want = run_on(*p, {}, Engine::Interp, true, 10000000);
    auto got = run_on(*p, {}, Engine::JitChecked, true, 10000000);
    ASSERT_TRUE(want);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->insns, want->insns);
    EXPECT_EQ(got->insns, 1u + 2u * 1000000u + 2u);
}

TEST(JitChecked, WildAccessesAreErrorsNamingTheInstruction) {
    for (Size s : {Size::B, Size::H, Size::W, Size::DW}) {
        auto read = program({ld_imm64(R2, 0x1000), ldx_mem(s, R0, R2, 0), exit_insn()});
        expect_same(read, "wild read", nullptr, true);
        auto write = program({mov64_imm(R0, 0), stx_mem(s, R10, R0, 8), exit_insn()});  // above the frame
        expect_same(write, "write above the stack", nullptr, true);
    }
    auto misaligned = program({mov64_reg(R2, R10), atomic_op(Size::DW, Atomic::Add, R2, R1, -12), exit_insn()});
    expect_same(misaligned, "misaligned atomic", nullptr, true);
}

TEST(JitChecked, InlineStackTestsAcceptExactlyTheActiveFrame) {
    // Checked code tests r10 with a constant offset at compile time and other pointers into [r10 - 512, r10) inline,
    // and asks Engine::access_ok otherwise: at both edges of the frame, for every size, the same values and errors.
    for (Size s : {Size::B, Size::H, Size::W, Size::DW}) {
        const int bytes = s == Size::B ? 1 : s == Size::H ? 2 : s == Size::W ? 4 : 8;
        for (int off : {-520, -513, -512, -511, -256, -8 - bytes, -bytes - 1, -bytes, -bytes + 1, -1, 0}) {
            const auto o = static_cast<std::int16_t>(off);
            auto constant = program({mov64_imm(R0, 0x5a), stx_mem(s, R10, R0, o), ldx_mem(s, R0, R10, o), exit_insn()});
            expect_same(constant, fmt::format("r10 {:+} size {}", off, bytes), nullptr, true);
            auto derived = program({mov64_reg(R2, R10), alu64_imm(Alu::Add, R2, off), mov64_imm(R0, 0x5a),
                                    stx_mem(s, R2, R0, 0), ldx_mem(s, R0, R2, 0), exit_insn()});
            expect_same(derived, fmt::format("r2 = r10 {:+} size {}", off, bytes), nullptr, true);
        }
    }
}

TEST(JitChecked, CallersFramesAndAWrittenR10GoThroughTheFullCheck) {
    // A callee reads its caller's frame through a pointer and through r10 + 504 (outside its own frame: the
    // out-of-line access_ok allows it); r10 + 512 of the first callee is the stack top (an error).
    for (std::int16_t up : {504, 512}) {
        auto p = program(
            {st_mem(Size::DW, R10, -8, 7), mov64_reg(R1, R10), alu64_imm(Alu::Add, R1, -8), call_local(1), exit_insn(),
             // f (slot 5)
             ldx_mem(Size::DW, R0, R1, 0), ldx_mem(Size::DW, R2, R10, up), alu64_reg(Alu::Add, R0, R2), exit_insn()});
        expect_same(p, fmt::format("callee reads r10 + {}", up), nullptr, up == 512);
    }
    // Unverified code may move r10: accesses through it are then checked by access_ok, and a local call gives the
    // caller its own (moved) r10 back.
    for (std::int16_t at : {8, 16}) {  // r10 - 16 + 16 is the stack top (an error)
        auto p = program({alu64_imm(Alu::Add, R10, -16), st_mem(Size::DW, R10, 0, 3), call_local(4),
                          ldx_mem(Size::DW, R2, R10, 0), alu64_reg(Alu::Add, R0, R2), st_mem(Size::DW, R10, at, 1),
                          exit_insn(),
                          // f (slot 7): the caller's moved r10 is this r10 + 512
                          ldx_mem(Size::DW, R0, R10, 512), exit_insn()});
        expect_same(p, fmt::format("moved r10, store at +{}", at), nullptr, true);
    }
    // An atomic fetch into r10 also moves it (xchg puts the old word there): the store after it, 100 bytes below
    // the new r10, must go through access_ok, not the inline frame test against the stale frame top.
    for (Atomic a : {Atomic::Xchg, Atomic::FetchAdd, Atomic::FetchOr}) {
        auto p = program({ld_imm64(R3, 0x100000), stx_mem(Size::DW, R10, R3, -8), mov64_reg(R4, R3),
                          alu64_imm(Alu::Add, R4, -100), atomic_op(Size::DW, a, R10, R10, -8),
                          st_mem(Size::W, R4, 0, 1), mov64_imm(R0, 0), exit_insn()});
        expect_same(p, fmt::format("atomic {} into r10", int(a)), nullptr, true);
    }
}

// ---- blinding, facts, fallback, W^X ----

bool contains(std::span<const std::uint8_t> code, const void* needle, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(needle);
    return std::search(code.begin(), code.end(), b, b + n) != code.end();
}

TEST(JitBlinding, NoImmediateOfTheProgramAppearsInTheCode) {
    constexpr std::int32_t k = 0x12345678;
    constexpr u64 k64 = 0x1122334455667788ull;
    auto insns = program({ld_imm64(R2, k64), mov64_imm(R0, k), alu64_imm(Alu::Add, R0, k), alu32_imm(Alu::Xor, R0, k),
                          jmp_imm(Jmp::Jeq, R0, k, 1), alu64_imm(Alu::Mul, R0, k), st_mem(Size::W, R10, -8, k),
                          alu64_imm(Alu::Div, R0, k), alu64_reg(Alu::Add, R0, R2), exit_insn()});
    auto p = vm::Program::load(insns);
    ASSERT_TRUE(p);
    const std::uint32_t lo = static_cast<std::uint32_t>(k64);
    const std::uint32_t hi = static_cast<std::uint32_t>(k64 >> 32);
    for (bool blind : {false, true}) {
        auto code = compile(*p, JitOptions{.checked = false, .blind_constants = blind, .facts = {}, .optimize = true});
        ASSERT_TRUE(code) << code.error().to_string();
        const auto bytes = (*code)->code();
        EXPECT_EQ(contains(bytes, &k, 4), !blind);
        EXPECT_EQ(contains(bytes, &lo, 4) || contains(bytes, &hi, 4), !blind);
    }
    expect_same(insns, "blinded program");
}

TEST(JitFacts, AProvenDivisorNeedsNoChecks) {
    auto insns = program({mov64_imm(R2, 7), alu64_reg(Alu::SDiv, R1, R2), mov64_reg(R0, R1), exit_insn()});
    auto p = vm::Program::load(insns);
    ASSERT_TRUE(p);
    std::vector<verifier::InsnFacts> facts(insns.size());
    facts[1].reached = true;
    facts[1].divisor_nonzero = true;
    facts[1].divisor_not_minus1 = true;
    auto plain = compile(*p, JitOptions{.checked = false, .blind_constants = false, .facts = {}, .optimize = true});
    auto proven = compile(*p, JitOptions{.checked = false, .blind_constants = false, .facts = facts, .optimize = true});
    ASSERT_TRUE(plain && proven);
    const auto& a = (*plain)->insn_offsets();
    const auto& b = (*proven)->insn_offsets();
    EXPECT_LT(b[2] - b[1], a[2] - a[1]) << "the division with proven facts is not shorter";
    p->set_native(*proven);
    vm::RunOptions o;
    o.checked = false;
    vm::RunInput in;
    in.args = {100, 0, 0, 0, 0};
    auto r = vm::run(*p, in, o);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->native);
    EXPECT_EQ(r->r0, 14u);
}

TEST(JitPeephole, MovAddBecomesOneLeaUnlessTheAddIsAJumpTarget) {
    // r2 = r1; r2 += 5; r3 = r1; r3 += r2; r0 = r3 (r1 = 100): 100 + 105
    auto fused = program({mov64_reg(R2, R1), alu64_imm(Alu::Add, R2, 5), mov64_reg(R3, R1), alu64_reg(Alu::Add, R3, R2),
                          mov64_reg(R0, R3), exit_insn()});
    auto p = vm::Program::load(fused);
    ASSERT_TRUE(p);
    auto on = compile_as(*p, true);
    auto off = compile_as(*p, false);
    ASSERT_TRUE(on && off);
    EXPECT_LT((*on)->insn_offsets()[4] - (*on)->insn_offsets()[0],
              (*off)->insn_offsets()[4] - (*off)->insn_offsets()[0]);
    // The add's slot starts where the next instruction's code starts (nothing of its own).
    EXPECT_EQ((*on)->insn_offsets()[1], (*on)->insn_offsets()[2]);
    vm::RunInput in;
    in.args = {100, 0, 0, 0, 0};
    p->set_native(*on);
    auto r = vm::run(*p, in, vm::RunOptions{.checked = false, .insn_budget = 0, .engine = vm::EngineKind::Jit});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->r0, 205u);
    // A jump to the add keeps the pair apart: if r1 != 0 goto 2; r2 = r1; r2 += 5 (slot 2); r0 = r2.
    auto target = program(
        {jmp_imm(Jmp::Jne, R1, 0, 1), mov64_reg(R2, R1), alu64_imm(Alu::Add, R2, 5), mov64_reg(R0, R2), exit_insn()});
    expect_same(target, "jump into a mov/add pair");
    expect_same(fused, "mov/add pairs");
}

TEST(JitFallback, AFailedCompileLeavesTheProgramInTheInterpreter) {
    object::ObjectSpec spec;
    object::ProgramSpec ps;
    ps.name = "p";
    ps.section = "xdp";
    ps.type = object::ProgramType::Xdp;
    ps.insns = program({mov64_imm(R0, 2), exit_insn()});
    spec.programs.push_back(ps);
    vm::LoadOptions lo;
    lo.verify = vm::LoadOptions::Verify::Off;
    lo.compile_native = [](const vm::Program&, const verifier::VerifyReport*, bool,
                           bool) -> Result<std::shared_ptr<const vm::NativeCode>> {
        return make_error(ErrorCode::kUnsupported, "jit: refused for the test");
    };
    auto obj = vm::Object::load(spec, lo);
    ASSERT_TRUE(obj) << obj.error().to_string();
    const vm::LoadedProgram* p = (*obj)->program("p");
    EXPECT_EQ(p->native_error(), "jit: refused for the test");
    EXPECT_EQ(p->program().native(), nullptr);
    // With the real compiler the program gets checked native code (unverified) and runs in it.
    lo.compile_native = native_compiler();
    auto obj2 = vm::Object::load(spec, lo);
    ASSERT_TRUE(obj2);
    const vm::LoadedProgram* q = (*obj2)->program("p");
    ASSERT_NE(q->program().native(), nullptr);
    EXPECT_TRUE(q->program().native()->checked());
    auto r = vm::run(q->program(), vm::RunInput{}, vm::RunOptions{});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->native);
    EXPECT_EQ(r->r0, 2u);
}

TEST(JitMemory, NoMappingIsWritableAndExecutable) {
    std::vector<std::shared_ptr<const JitCode>> keep;
    auto insns = loop_program(5, -1);
    auto p = vm::Program::load(insns, &vm::standard_helpers());
    ASSERT_TRUE(p);
    for (bool checked : {true, false}) {
        auto code =
            compile(*p, JitOptions{.checked = checked, .blind_constants = false, .facts = {}, .optimize = true});
        ASSERT_TRUE(code);
        keep.push_back(*code);
        auto r = run_on(*p, {}, checked ? Engine::JitChecked : Engine::JitUnchecked);
        ASSERT_TRUE(r);
    }
    std::ifstream maps("/proc/self/maps");
    std::string line;
    bool found_code = false;
    const auto code_addr = reinterpret_cast<std::uintptr_t>(keep[0]->code().data());
    while (std::getline(maps, line)) {
        unsigned long lo = 0;
        unsigned long hi = 0;
        char perms[5] = {};
        ASSERT_EQ(std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms), 3) << line;
        EXPECT_FALSE(perms[1] == 'w' && perms[2] == 'x') << "writable and executable: " << line;
        if (code_addr >= lo && code_addr < hi) {
            found_code = true;
            EXPECT_EQ(std::string(perms).substr(0, 3), "r-x") << line;
        }
    }
    EXPECT_TRUE(found_code);
}

}  // namespace
}  // namespace xbpf::jit
