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
// Atomics (RFC 9669 §5.3). Memory: bytes 8..15 hold the target word; after the operation the program stores the
// source register at 0..7 and returns r0. A 32-bit target's upper neighbour (bytes 12..15) must be untouched.

struct AtomicCase {
    Atomic op;
    bool is64;
    std::uint64_t mem_before;  // for 32-bit, only the low half is the target
    std::uint64_t src_before;
    std::uint64_t r0_before;
    std::uint64_t mem_after;
    std::uint64_t src_after;
    std::uint64_t r0_after;
};

constexpr std::uint64_t kNb = 0x5eed5eed00000000;  // the neighbour of a 32-bit target

// clang-format off
const AtomicCase kAtomicCases[] = {
    {Atomic::Add, k64, 10, 5, 0x77, 15, 5, 0x77},
    {Atomic::Add, k64, 0xffffffff, 1, 0x77, 0x100000000, 1, 0x77},            // carries across the halves
    {Atomic::FetchAdd, k64, 10, 5, 0x77, 15, 10, 0x77},
    {Atomic::Or, k64, 0x0ff0, 0x00ff, 0x77, 0x0fff, 0x00ff, 0x77},
    {Atomic::FetchOr, k64, 0x0ff0, 0x00ff, 0x77, 0x0fff, 0x0ff0, 0x77},
    {Atomic::And, k64, 0x0ff0, 0x00ff, 0x77, 0x00f0, 0x00ff, 0x77},
    {Atomic::FetchAnd, k64, 0x0ff0, 0x00ff, 0x77, 0x00f0, 0x0ff0, 0x77},
    {Atomic::Xor, k64, 0x0ff0, 0x00ff, 0x77, 0x0f0f, 0x00ff, 0x77},
    {Atomic::FetchXor, k64, 0x0ff0, 0x00ff, 0x77, 0x0f0f, 0x0ff0, 0x77},
    {Atomic::FetchOr, k64, 0x8000000000000000, 1, 0x77, 0x8000000000000001, 0x8000000000000000, 0x77},
    {Atomic::Xchg, k64, 10, 5, 0x77, 5, 10, 0x77},
    {Atomic::Cmpxchg, k64, 10, 7, 10, 7, 7, 10},                              // success: r0 == mem
    {Atomic::Cmpxchg, k64, 10, 7, 11, 10, 7, 10},                             // failure: r0 = mem, mem kept
    {Atomic::Cmpxchg, k64, 0x100000000, 7, 0, 0x100000000, 7, 0x100000000},   // compares all 64 bits
    // 32-bit: src's upper half is garbage; fetched values are zero-extended.
    {Atomic::Add, k32, kNb | 10, 0xdeadbeef00000005, 0x77, kNb | 15, 0xdeadbeef00000005, 0x77},
    {Atomic::Add, k32, kNb | 0xffffffff, 1, 0x77, kNb | 0, 1, 0x77},           // no carry into the neighbour
    {Atomic::FetchAdd, k32, kNb | 10, 0xdeadbeef00000005, 0x77, kNb | 15, 10, 0x77},
    {Atomic::FetchAdd, k32, kNb | 0x80000000, 1, 0x77, kNb | 0x80000001, 0x80000000, 0x77},
    {Atomic::Or, k32, kNb | 0x0ff0, 0xdeadbeef000000ff, 0x77, kNb | 0x0fff, 0xdeadbeef000000ff, 0x77},
    {Atomic::FetchOr, k32, kNb | 0x0ff0, 0xdeadbeef000000ff, 0x77, kNb | 0x0fff, 0x0ff0, 0x77},
    {Atomic::And, k32, kNb | 0x0ff0, 0xffffffff000000ff, 0x77, kNb | 0x00f0, 0xffffffff000000ff, 0x77},
    {Atomic::FetchAnd, k32, kNb | 0x0ff0, 0xffffffff000000ff, 0x77, kNb | 0x00f0, 0x0ff0, 0x77},
    {Atomic::Xor, k32, kNb | 0x0ff0, 0xdeadbeef000000ff, 0x77, kNb | 0x0f0f, 0xdeadbeef000000ff, 0x77},
    {Atomic::FetchXor, k32, kNb | 0xfffffff0, 0xdeadbeef000000ff, 0x77, kNb | 0xffffff0f, 0xfffffff0, 0x77},
    {Atomic::Xchg, k32, kNb | 0x80000000, 0xdeadbeef00000005, 0x77, kNb | 5, 0x80000000, 0x77},
    {Atomic::Cmpxchg, k32, kNb | 10, 0xdeadbeef00000007, 0xffffffff0000000a, kNb | 7, 0xdeadbeef00000007, 10},
    {Atomic::Cmpxchg, k32, kNb | 10, 7, 11, kNb | 10, 7, 10},
    {Atomic::Cmpxchg, k32, kNb | 0x80000000, 7, 0, kNb | 0x80000000, 7, 0x80000000},
};
// clang-format on

std::uint64_t read_u64(const std::vector<std::uint8_t>& mem, std::size_t at) {
    std::uint64_t v = 0;
    std::memcpy(&v, mem.data() + at, sizeof v);
    return v;
}

TEST(SemanticsAtomic, EveryOperation) {
    for (const AtomicCase& c : kAtomicCases) {
        const RawInsn insn = atomic_op(c.is64 ? Size::DW : Size::W, c.op, R1, R2, 8);
        SCOPED_TRACE(
            fmt::format("{} mem={:#x} src={:#x} r0={:#x}", op_name(insn), c.mem_before, c.src_before, c.r0_before));
        std::vector<std::uint8_t> mem(24, 0);
        std::memcpy(mem.data() + 8, &c.mem_before, 8);
        const std::uint64_t r0 = run(program({ld_imm64(R2, c.src_before), ld_imm64(R0, c.r0_before), insn,
                                              stx_mem(Size::DW, R1, R2, 0), exit_insn()}),
                                     &mem);
        EXPECT_EQ(r0, c.r0_after) << "r0";
        EXPECT_EQ(read_u64(mem, 8), c.mem_after) << "memory";
        EXPECT_EQ(read_u64(mem, 0), c.src_after) << "source register";
    }
}

TEST(SemanticsAtomic, OnTheStack) {
    EXPECT_EQ(
        run(program({st_mem(Size::DW, R10, -8, 40), mov64_imm(R2, 2), atomic_op(Size::DW, Atomic::Add, R10, R2, -8),
                     ldx_mem(Size::DW, R0, R10, -8), exit_insn()})),
        42u);
    EXPECT_EQ(
        run(program({st_mem(Size::W, R10, -4, 40), mov64_imm(R0, 40), mov64_imm(R2, 9),
                     atomic_op(Size::W, Atomic::Cmpxchg, R10, R2, -4), ldx_mem(Size::W, R0, R10, -4), exit_insn()})),
        9u);
}

// ---------------------------------------------------------------------------------------------------------------
// Calls: bpf-to-bpf (RFC 9669 §4.3.2, kernel semantics: a fresh 512-byte frame, r6-r9 callee-saved) and helpers.

TEST(SemanticsCall, LocalCallGetsFreshStackAndPreservesR6ToR9) {
    const std::vector<RawInsn> prog = program({
        /* 0 */ mov64_imm(R6, 6),
        /* 1 */ mov64_imm(R7, 7),
        /* 2 */ mov64_imm(R8, 8),
        /* 3 */ mov64_imm(R9, 9),
        /* 4 */ mov64_imm(R1, 100),
        /* 5 */ st_mem(Size::DW, R10, -8, 0x1111),
        /* 6 */ call_local(7),  // -> 14
        /* 7 */ alu64_reg(Alu::Add, R0, R6),
        /* 8 */ alu64_reg(Alu::Add, R0, R7),
        /* 9 */ alu64_reg(Alu::Add, R0, R8),
        /* 10 */ alu64_reg(Alu::Add, R0, R9),
        /* 11 */ ldx_mem(Size::DW, R1, R10, -8),  // still 0x1111: the callee wrote its own frame
        /* 12 */ alu64_reg(Alu::Add, R0, R1),
        /* 13 */ exit_insn(),
        // callee(r1): clobbers r6-r9 and its own r10-8, returns r1 * 2 + its stack slot
        /* 14 */ mov64_imm(R6, 1000),
        /* 15 */ mov64_imm(R7, 1000),
        /* 16 */ mov64_imm(R8, 1000),
        /* 17 */ mov64_imm(R9, 1000),
        /* 18 */ st_mem(Size::DW, R10, -8, 0x2222),
        /* 19 */ mov64_reg(R0, R1),
        /* 20 */ alu64_imm(Alu::Mul, R0, 2),
        /* 21 */ ldx_mem(Size::DW, R2, R10, -8),
        /* 22 */ alu64_reg(Alu::Add, R0, R2),
        /* 23 */ exit_insn(),
    });
    // 200 + 0x2222 + (6 + 7 + 8 + 9) + 0x1111
    EXPECT_EQ(run(prog), 200u + 0x2222u + 30u + 0x1111u);
}

TEST(SemanticsCall, CalleeUsesTheCallersStackThroughAPointer) {
    // As in the kernel, a pointer into the caller's frame passed as an argument stays valid in the callee.
    const std::vector<RawInsn> prog = program({
        /* 0 */ st_mem(Size::DW, R10, -8, 5),
        /* 1 */ mov64_reg(R1, R10),
        /* 2 */ alu64_imm(Alu::Add, R1, -8),
        /* 3 */ call_local(3),  // -> 7
        /* 4 */ ldx_mem(Size::DW, R1, R10, -8),
        /* 5 */ alu64_reg(Alu::Add, R0, R1),
        /* 6 */ exit_insn(),
        // callee(r1 = caller's r10 - 8): r0 = *r1; *r1 = 7; and its own frame's bottom slot works too
        /* 7 */ ldx_mem(Size::DW, R0, R1, 0),
        /* 8 */ st_mem(Size::DW, R1, 0, 7),
        /* 9 */ st_mem(Size::DW, R10, -512, 1),
        /* 10 */ ldx_mem(Size::DW, R2, R10, -512),
        /* 11 */ alu64_reg(Alu::Add, R0, R2),
        /* 12 */ exit_insn(),
    });
    EXPECT_EQ(run(prog), 5u + 1u + 7u);
}

// main: r1 = n; call f; exit.  f(r1): if r1 == 0 return 0; return f(r1 - 1) + 1.  f(n) runs in n + 2 frames.
std::vector<RawInsn> recursion(std::int32_t n) {
    return program({
        /* 0 */ mov64_imm(R1, n),
        /* 1 */ call_local(1),  // -> 3
        /* 2 */ exit_insn(),
        /* 3 */ jmp_imm(Jmp::Jeq, R1, 0, 4),  // -> 8
        /* 4 */ alu64_imm(Alu::Sub, R1, 1),
        /* 5 */ call_local(-3),  // -> 3
        /* 6 */ alu64_imm(Alu::Add, R0, 1),
        /* 7 */ exit_insn(),
        /* 8 */ mov64_imm(R0, 0),
        /* 9 */ exit_insn(),
    });
}

TEST(SemanticsCall, RecursionUpToEightFrames) {
    EXPECT_EQ(run(recursion(0)), 0u);
    EXPECT_EQ(run(recursion(6)), 6u);  // 8 frames: the kernel's MAX_CALL_FRAMES
}

TEST(SemanticsCall, RecursionDeeperThanEightFramesIsACheckedModeError) {
    const Error e = run_expecting_error(recursion(7));  // 9 frames
    EXPECT_TRUE(e.where.insn.has_value()) << e.to_string();
    const Error deep = run_expecting_error(recursion(100000));
    EXPECT_TRUE(deep.where.insn.has_value()) << deep.to_string();
}

std::uint64_t helper_weighted_sum(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4,
                                  std::uint64_t r5, vm::RunState*) {
    return r1 + 2 * r2 + 3 * r3 + 4 * r4 + 5 * r5;
}

std::uint64_t helper_count_calls(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                                 vm::RunState* state) {
    auto* counter = static_cast<int*>(state->user);
    return static_cast<std::uint64_t>(++*counter);
}

TEST(SemanticsCall, HelperGetsR1ToR5AndR6ToR9Survive) {
    vm::HelperTable helpers;
    helpers.add(vm::Helper{.id = 200, .name = "test_weighted_sum", .fn = helper_weighted_sum});
    const std::vector<RawInsn> prog = program({
        mov64_imm(R1, 1),
        mov64_imm(R2, 10),
        mov64_imm(R3, 100),
        mov64_imm(R4, 1000),
        mov64_imm(R5, 10000),
        mov64_imm(R6, 6),
        mov64_imm(R7, 7),
        mov64_imm(R8, 8),
        mov64_imm(R9, 9),
        call_helper(200),
        alu64_reg(Alu::Add, R0, R6),
        alu64_reg(Alu::Add, R0, R7),
        alu64_reg(Alu::Add, R0, R8),
        alu64_reg(Alu::Add, R0, R9),
        exit_insn(),
    });
    // 1 + 20 + 300 + 4000 + 50000 + 30
    EXPECT_EQ(run(prog, nullptr, &helpers), 54351u);
}

TEST(SemanticsCall, HelperSeesTheRunStateUserPointer) {
    vm::HelperTable helpers;
    helpers.add(vm::Helper{.id = 201, .name = "test_count", .fn = helper_count_calls});
    auto loaded =
        vm::Program::load(program({call_helper(201), call_helper(201), call_helper(201), exit_insn()}), &helpers);
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    for (const bool checked : {true, false}) {
        int counter = 0;
        vm::RunInput input;
        input.user = &counter;
        auto result = vm::interpret(*loaded, input, vm::RunOptions{.checked = checked});
        ASSERT_TRUE(result) << result.error().to_string();
        EXPECT_EQ(result->r0, 3u);
        EXPECT_EQ(counter, 3);
    }
}

TEST(SemanticsCall, UnknownHelperIsALoadError) {
    vm::HelperTable helpers;
    EXPECT_FALSE(vm::Program::load(program({call_helper(12345), exit_insn()}), &helpers));
    EXPECT_FALSE(vm::Program::load(program({call_helper(1), exit_insn()})));
}

// ---------------------------------------------------------------------------------------------------------------
// Legacy packet loads (RFC 9669 §5.5): big-endian, zero-extended; out of bounds ends the program with r0 = 0.

TEST(SemanticsPacket, LdAbsAndLdInd) {
    const std::vector<std::uint8_t> packet = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88};
    struct Case {
        std::vector<RawInsn> prog;
        std::uint64_t expected;
        const char* what;
    };
    const Case cases[] = {
        {program({ld_abs(Size::B, 0), exit_insn()}), 0x01, "ldabsb 0"},
        {program({ld_abs(Size::H, 1), exit_insn()}), 0x0203, "ldabsh 1"},
        {program({ld_abs(Size::W, 2), exit_insn()}), 0x03040506, "ldabsw 2"},
        {program({ld_abs(Size::B, 7), exit_insn()}), 0x88, "ldabsb 7: zero-extended"},
        {program({ld_abs(Size::W, 4), exit_insn()}), 0x05060788, "ldabsw 4: last word"},
        {program({ld_imm64(R0, 0xffffffffffffffff), ld_abs(Size::H, 6), exit_insn()}), 0x0788, "replaces all of r0"},
        {program({mov64_imm(R2, 1), ld_ind(Size::W, R2, 3), exit_insn()}), 0x05060788, "ldindw r2=1 +3"},
        {program({mov64_imm(R2, 6), ld_ind(Size::H, R2, 0), exit_insn()}), 0x0788, "ldindh r2=6"},
        {program({mov64_imm(R2, -1), ld_ind(Size::B, R2, 1), exit_insn()}), 0x01, "ldindb r2=-1 +1"},
        // Out of bounds: the program ends at once with r0 = 0 (the instructions after are not run).
        {program({mov64_imm(R0, 99), ld_abs(Size::W, 6), mov64_imm(R0, 77), exit_insn()}), 0, "ldabsw 6"},
        {program({mov64_imm(R0, 99), ld_abs(Size::B, 8), mov64_imm(R0, 77), exit_insn()}), 0, "ldabsb 8"},
        {program({mov64_imm(R0, 99), ld_abs(Size::H, -1), mov64_imm(R0, 77), exit_insn()}), 0, "ldabsh -1"},
        {program({mov64_imm(R2, 7), ld_ind(Size::H, R2, 0), mov64_imm(R0, 77), exit_insn()}), 0, "ldindh r2=7"},
        {program({mov64_imm(R2, 1000), ld_ind(Size::B, R2, 0), mov64_imm(R0, 77), exit_insn()}), 0, "ldindb 1000"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        EXPECT_EQ(run_packet(c.prog, packet), c.expected);
    }
    // Without a packet every such load is out of bounds.
    EXPECT_EQ(run_packet(program({mov64_imm(R0, 99), ld_abs(Size::B, 0), mov64_imm(R0, 77), exit_insn()}), {}), 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// Checked mode: violations are errors that name the instruction; nothing crashes.

TEST(SemanticsChecked, OutOfBoundsReadNamesTheInstruction) {
    const Error e =
        run_expecting_error(program({mov64_imm(R0, 0), mov64_imm(R2, 1), ldx_mem(Size::DW, R0, R1, 4), exit_insn()}),
                            std::vector<std::uint8_t>(8));
    EXPECT_EQ(e.where.insn, std::optional<std::size_t>(2)) << e.to_string();
}

TEST(SemanticsChecked, OutOfBoundsWriteNamesTheInstruction) {
    const Error e = run_expecting_error(program({mov64_imm(R0, 0), st_mem(Size::W, R1, 8, 1), exit_insn()}),
                                        std::vector<std::uint8_t>(8));
    EXPECT_EQ(e.where.insn, std::optional<std::size_t>(1)) << e.to_string();
    // One byte past the end of the buffer, one byte before it.
    EXPECT_EQ(
        run_expecting_error(program({st_mem(Size::B, R1, 8, 1), exit_insn()}), std::vector<std::uint8_t>(8)).where.insn,
        std::optional<std::size_t>(0));
    EXPECT_EQ(run_expecting_error(program({mov64_imm(R0, 0), ldx_mem(Size::B, R0, R1, -1), exit_insn()}),
                                  std::vector<std::uint8_t>(8))
                  .where.insn,
              std::optional<std::size_t>(1));
    // Straddling the end.
    EXPECT_EQ(run_expecting_error(program({stx_mem(Size::DW, R1, R1, 4), exit_insn()}), std::vector<std::uint8_t>(8))
                  .where.insn,
              std::optional<std::size_t>(0));
}

TEST(SemanticsChecked, StackBounds) {
    // r10 itself is one past the frame; r10-513 is below it; r10-4 straddles the top for an 8-byte access.
    EXPECT_EQ(run_expecting_error(program({st_mem(Size::DW, R10, 0, 1), exit_insn()})).where.insn,
              std::optional<std::size_t>(0));
    EXPECT_EQ(run_expecting_error(program({mov64_imm(R0, 0), ldx_mem(Size::B, R0, R10, -513), exit_insn()})).where.insn,
              std::optional<std::size_t>(1));
    EXPECT_EQ(run_expecting_error(program({mov64_imm(R0, 0), ldx_mem(Size::DW, R0, R10, -4), exit_insn()})).where.insn,
              std::optional<std::size_t>(1));
    EXPECT_EQ(
        run_expecting_error(program({mov64_imm(R2, 1), atomic_op(Size::DW, Atomic::Add, R10, R2, -516), exit_insn()}))
            .where.insn,
        std::optional<std::size_t>(1));
}

TEST(SemanticsChecked, WildPointersAreErrorsNotCrashes) {
    EXPECT_EQ(run_expecting_error(program({mov64_imm(R1, 0), ldx_mem(Size::DW, R0, R1, 0), exit_insn()})).where.insn,
              std::optional<std::size_t>(1));
    EXPECT_EQ(run_expecting_error(program({ld_imm64(R1, 0x00007fff00001000), st_mem(Size::DW, R1, 0, 1), exit_insn()}))
                  .where.insn,
              std::optional<std::size_t>(2));
    EXPECT_EQ(run_expecting_error(program({ld_imm64(R3, 0xffffffffffffffff), mov64_imm(R2, 1),
                                           atomic_op(Size::W, Atomic::FetchAdd, R3, R2, 0), exit_insn()}))
                  .where.insn,
              std::optional<std::size_t>(3));
}

TEST(SemanticsChecked, ReadOnlyRegionRefusesWrites) {
    std::vector<std::uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8};
    auto loaded = vm::Program::load(program({ldx_mem(Size::B, R0, R1, 0), st_mem(Size::B, R1, 0, 9), exit_insn()}));
    ASSERT_TRUE(loaded);
    vm::RunInput input;
    input.args[0] = reinterpret_cast<std::uintptr_t>(data.data());
    input.regions.push_back(vm::MemoryRegion{
        .start = reinterpret_cast<std::uintptr_t>(data.data()), .size = data.size(), .writable = false, .name = "ro"});
    auto result = run_both(*loaded, input, vm::RunOptions{.checked = true});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kRuntime);
    EXPECT_EQ(result.error().where.insn, std::optional<std::size_t>(1)) << result.error().to_string();
    EXPECT_EQ(data[0], 1);
}

TEST(SemanticsChecked, BudgetStopsInfiniteLoops) {
    const Error e = run_expecting_error(program({mov64_imm(R0, 0), alu64_imm(Alu::Add, R0, 1), ja(-2), exit_insn()}),
                                        {}, vm::RunOptions{.checked = true, .insn_budget = 1000});
    EXPECT_TRUE(e.where.insn.has_value()) << e.to_string();
    run_expecting_error(program({ja(-1)}), {}, vm::RunOptions{.checked = true, .insn_budget = 1 << 20});
}

TEST(SemanticsChecked, BudgetCountsInstructions) {
    auto loaded = vm::Program::load(program({mov64_imm(R0, 1), alu64_imm(Alu::Add, R0, 1), exit_insn()}));
    ASSERT_TRUE(loaded);
    auto enough = run_both(*loaded, {}, vm::RunOptions{.checked = true, .insn_budget = 3});
    ASSERT_TRUE(enough) << enough.error().to_string();
    EXPECT_EQ(enough->r0, 2u);
    EXPECT_EQ(enough->insns, 3u);
    auto short_budget = run_both(*loaded, {}, vm::RunOptions{.checked = true, .insn_budget = 2});
    ASSERT_FALSE(short_budget);
    EXPECT_EQ(short_budget.error().code, ErrorCode::kRuntime);
}

TEST(SemanticsChecked, DivisionByZeroIsNotAnError) {
    EXPECT_EQ(run(program({mov64_imm(R0, 5), mov64_imm(R1, 0), alu64_reg(Alu::Div, R0, R1), exit_insn()})), 0u);
    EXPECT_EQ(run(program({mov64_imm(R0, 5), mov64_imm(R1, 0), alu32_reg(Alu::SMod, R0, R1), exit_insn()})), 5u);
}

// Programs from the differential generator are safe by construction (the kernel's verifier accepts them), so
// checked and unchecked mode must agree on every one.
TEST(SemanticsChecked, GeneratedProgramsAgreeInBothModes) {
    std::vector<std::uint8_t> packet(kGenPacketBytes);
    SplitMix64 rng(7);
    for (auto& b : packet) b = static_cast<std::uint8_t>(rng.next());
    for (std::uint64_t seed = 0; seed < 3000; ++seed) {
        GenOptions options;
        options.body_items = 8 + static_cast<std::uint32_t>(seed % 57);
        const std::vector<RawInsn> prog = generate_program(seed, options);
        SCOPED_TRACE(fmt::format("generator seed {}", seed));
        (void)run_packet(prog, packet);  // fails the test if the two modes disagree or either fails
    }
}

// The program being run by a crash-isolated test, printed by the signal handler if it crashes.
char g_current_program[8192];

extern "C" void print_current_program_and_die(int sig) {
    const std::size_t n = ::strnlen(g_current_program, sizeof g_current_program);
    (void)!::write(2, g_current_program, n);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void set_current_program(std::span<const RawInsn> prog) {
    std::string text = "crashed while running:\n";
    for (std::size_t i = 0; i < prog.size(); ++i)
        text += fmt::format("  {:3}: {:<16} dst=r{} src=r{} off={} imm={:#x}\n", i, op_name(prog[i]), prog[i].dst,
                            prog[i].src, prog[i].off, static_cast<std::uint32_t>(prog[i].imm));
    std::snprintf(g_current_program, sizeof g_current_program, "%s", text.c_str());
}

void install_crash_printer() {
    std::signal(SIGSEGV, print_current_program_and_die);
    std::signal(SIGBUS, print_current_program_and_die);
    std::signal(SIGFPE, print_current_program_and_die);
}

// A checked-mode run of `prog` must fail to load or end with an error (and must not crash). Returns an exit code
// for a crash-isolated child: 0 if so, 1 if the program ran to completion.
int expect_refused(const std::vector<RawInsn>& prog, std::vector<std::uint8_t> mem) {
    set_current_program(prog);
    auto loaded = vm::Program::load(prog);
    if (!loaded) return 0;
    auto result = vm::run_raw(*loaded, mem, vm::RunOptions{.checked = true});
    if (result)
        std::fprintf(stderr, "ran to completion with r0 = %#llx\n", static_cast<unsigned long long>(result->r0));
    return result ? 1 : 0;
}

// The frame pointer is read-only (the kernel's verifier says "frame pointer is read only"). A program that writes
// it anyway (ALU, load, lddw, or as the source register of a fetching atomic) must be refused at load or stopped
// by checked mode, never trusted as a stack pointer.
TEST(SemanticsChecked, OverwrittenFramePointerIsNeverTrusted) {
    const std::vector<std::vector<RawInsn>> programs = {
        program({mov64_imm(R10, 0x1000), ldx_mem(Size::DW, R0, R10, -8), exit_insn()}),
        program({alu32_imm(Alu::Mod, R10, 0x5e0b28b7), ldx_mem(Size::H, R4, R10, -4), exit_insn()}),
        program({ld_imm64(R10, 0x0000000000000008), st_mem(Size::DW, R10, -8, 1), exit_insn()}),
        program({atomic_op(Size::DW, Atomic::Xchg, R1, R10, 0), ldx_mem(Size::DW, R0, R10, -8), exit_insn()}),
        program({atomic_op(Size::W, Atomic::FetchXor, R1, R10, 0), mov64_imm(R0, -10),
                 atomic_op(Size::W, Atomic::And, R0, R0, 0), exit_insn()}),
        program({ldx_mem(Size::DW, R10, R1, 0), st_mem(Size::B, R10, -1, 1), exit_insn()}),
    };
    for (std::size_t i = 0; i < programs.size(); ++i) {
        SCOPED_TRACE(fmt::format("program {}", i));
        EXPECT_EXIT(
            {
                install_crash_printer();
                std::exit(expect_refused(programs[i], std::vector<std::uint8_t>(8, 0)));
            },
            ::testing::ExitedWithCode(0), "");
    }
}

// Clears the fields of `raw` that `op` reserves, until the decoder accepts it (the discriminator is kept).
RawInsn sanitize(Op op, const RawInsn& raw) {
    for (int mask = 0; mask < 8; ++mask) {
        const RawInsn t =
            make(op, raw.dst, (mask & 1) ? 0 : raw.src, (mask & 2) ? 0 : raw.off, (mask & 4) ? 0 : raw.imm);
        if (isa::decode_one(t, 0)) return t;
    }
    return make(op);
}

// Random instruction soup: every Op, random registers (r10 included) and operands, jumps and calls anywhere in the
// program, r1 = an 8-byte buffer. Checked mode returns a result or an error for every program the loader accepts
// and never crashes. Runs in a child process so that a crash fails this test only, naming the program.
int run_soup(std::uint64_t seed, int count) {
    install_crash_printer();
    const auto ops = isa::all_ops();
    SplitMix64 rng(seed);
    int loaded_count = 0;
    const std::vector<std::uint8_t> packet(16, 0xab);
    for (int n = 0; n < count; ++n) {
        std::vector<RawInsn> prog;
        std::vector<bool> tail;
        const std::uint32_t len = 1 + rng.below(12);
        for (std::uint32_t i = 0; i < len; ++i) {
            const isa::OpInfo& row = ops[rng.below(static_cast<std::uint32_t>(ops.size()))];
            const auto small = [&] { return static_cast<std::int32_t>(rng.below(24)) - 12; };
            const std::int32_t imm = rng.chance(70) ? small() : static_cast<std::int32_t>(rng.next());
            if (row.op == Op::Lddw) {
                append(prog, ld_imm64(static_cast<std::uint8_t>(rng.below(10)), rng.next()));
                tail.push_back(false);
                tail.push_back(true);
                continue;
            }
            const RawInsn raw = make(row.op, static_cast<std::uint8_t>(rng.below(11)),
                                     static_cast<std::uint8_t>(rng.below(11)), static_cast<std::int16_t>(small()), imm);
            prog.push_back(sanitize(row.op, raw));
            tail.push_back(false);
        }
        prog.push_back(exit_insn());
        tail.push_back(false);
        // Point every jump and local call at some instruction of the program.
        for (std::size_t i = 0; i < prog.size(); ++i) {
            if (tail[i]) continue;
            const auto op = isa::lookup(prog[i].opcode, prog[i].src, prog[i].off, prog[i].imm);
            if (!op || !isa::has_target(*op)) continue;
            std::size_t t = rng.below(static_cast<std::uint32_t>(prog.size()));
            while (tail[t]) t = rng.below(static_cast<std::uint32_t>(prog.size()));
            const auto rel = static_cast<std::int32_t>(t) - static_cast<std::int32_t>(i) - 1;
            const isa::Shape shape = isa::info(*op).shape;
            if (shape == isa::Shape::Gotol || shape == isa::Shape::CallLocal)
                prog[i].imm = rel;
            else
                prog[i].off = static_cast<std::int16_t>(rel);
        }
        auto loaded = vm::Program::load(prog);
        if (!loaded) continue;
        ++loaded_count;
        set_current_program(prog);
        std::vector<std::uint8_t> mem(8, 0);
        vm::RunInput input;
        input.args[0] = reinterpret_cast<std::uintptr_t>(mem.data());
        input.args[1] = mem.size();
        input.regions.push_back(vm::MemoryRegion{.start = reinterpret_cast<std::uintptr_t>(mem.data()),
                                                 .size = mem.size(),
                                                 .writable = true,
                                                 .name = "mem"});
        input.packet = packet;
        (void)run_both(*loaded, input, vm::RunOptions{.checked = true, .insn_budget = 10000});  // checked JIT too
    }
    if (loaded_count < count / 3) {
        std::fprintf(stderr, "only %d of %d random programs loaded\n", loaded_count, count);
        return 2;
    }
    return 0;
}

TEST(SemanticsChecked, RandomProgramsNeverCrash) {
    for (const std::uint64_t seed : {0x5eedull, 3ull, 4ull}) {
        SCOPED_TRACE(fmt::format("seed {}", seed));
        EXPECT_EXIT(std::exit(run_soup(seed, 50000)), ::testing::ExitedWithCode(0), "");
    }
}

}  // namespace
}  // namespace xbpf::test
