// Program loading and the interpreter's contract beyond instruction semantics (see semantics_test.cpp):
// helper resolution, pseudo immediates, checked-mode faults and limits.
#include <gtest/gtest.h>

#include "semantics_support.hpp"
#include "vm/vm.hpp"

namespace xbpf::vm {
namespace {

using isa::RawInsn;
using test::run_both;  // every run here also runs in JIT code, with the same outcome

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

std::uint64_t add_helper(std::uint64_t a, std::uint64_t b, std::uint64_t, std::uint64_t, std::uint64_t, RunState*) {
    return a + b;
}

TEST(Program, EmptyProgramIsRejected) {
    auto p = Program::load({});
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message.find("empty"), std::string::npos);
}

TEST(Program, RunningOffTheEndIsALoadError) {
    const RawInsn prog[] = {raw(0xb7, 0, 0, 0, 1)};  // r0 = 1, no exit
    auto p = Program::load(prog);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().where.insn, 0u);
    EXPECT_NE(p.error().message.find("not an exit or jump"), std::string::npos) << p.error().message;
}

TEST(Program, FallingIntoTheNextFunctionIsALoadError) {
    // call f; exit; f: r0 = 1; exit
    const RawInsn good[] = {raw(0x85, 0, 1, 0, 1), raw(0x95), raw(0xb7, 0, 0, 0, 1), raw(0x95)};
    auto ok = Program::load(good);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const RawInsn bad[] = {raw(0x85, 0, 1, 0, 2), raw(0x95), raw(0xb7, 0, 0, 0, 2), raw(0xb7, 0, 0, 0, 1), raw(0x95)};
    // call +2 targets slot 3: slot 2 (r0 = 2) falls into it.
    auto p = Program::load(bad);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().where.insn, 2u);
    EXPECT_NE(p.error().message.find("fall into the next function"), std::string::npos) << p.error().message;
}

TEST(Program, UnknownHelperIsALoadError) {
    const RawInsn prog[] = {raw(0x85, 0, 0, 0, 99), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(p.error().where.insn, 0u);
}

// libbpf's poisoned call for a CO-RE relocation without a target is dead code when guarded (bpf_core_field_exists):
// it loads, and only reaching it is an error, naming the instruction.
TEST(Program, CorePoisonedCallFaultsOnlyWhenReached) {
    const RawInsn prog[] = {raw(0xb7, 0, 0, 0, 7),          // r0 = 7
                            raw(0x55, 1, 0, 1, 0),          // if r1 != 0 goto +1
                            raw(0x95),                      // exit
                            raw(0x85, 0, 0, 0, 0xbad2310),  // call 0xbad2310 (poisoned)
                            raw(0x95)};                     // exit
    auto p = Program::load(prog);
    ASSERT_TRUE(p) << p.error().to_string();
    RunInput dead;
    auto r = run_both(*p, dead);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->r0, 7u);
    RunInput live;
    live.args[0] = 1;
    for (const bool checked : {true, false}) {
        RunOptions options;
        options.checked = checked;
        auto fault = run_both(*p, live, options);
        ASSERT_FALSE(fault);
        EXPECT_EQ(fault.error().code, ErrorCode::kRuntime);
        EXPECT_EQ(fault.error().where.insn, 3u);
        EXPECT_NE(fault.error().message.find("CO-RE"), std::string::npos) << fault.error().message;
    }
}

TEST(Program, HelpersAreCalledById) {
    HelperTable helpers;
    helpers.add({7, "test_add", add_helper});
    EXPECT_EQ(helpers.find("bpf_test_add"), helpers.find(7));
    const RawInsn prog[] = {raw(0xb7, 1, 0, 0, 40), raw(0xb7, 2, 0, 0, 2), raw(0x85, 0, 0, 0, 7), raw(0x95)};
    auto p = Program::load(prog, &helpers);
    ASSERT_TRUE(p) << p.error().to_string();
    for (bool checked : {true, false}) {
        auto r = run_both(*p, {}, {.checked = checked});
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->r0, 42u);
    }
}

TEST(Program, MapPseudoLoadsNeedAnObject) {
    const RawInsn prog[] = {raw(0x18, 1, 1, 0, 3), raw(0), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, ErrorCode::kUnsupported);
}

TEST(Program, CallxThroughAFunctionAddress) {
    // r1 = &fn; callx r1; exit;  fn: r0 = 5; exit
    const RawInsn prog[] = {raw(0x18, 1, 4, 0, 3), raw(0), raw(0x8d, 1), raw(0x95), raw(0xb7, 0, 0, 0, 5), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_TRUE(p) << p.error().to_string();
    auto r = run_both(*p, {});
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->r0, 5u);
}

TEST(Program, CallxToANonFunctionFaults) {
    const RawInsn prog[] = {raw(0xb7, 1, 0, 0, 1), raw(0x8d, 1), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_TRUE(p);
    auto r = run_both(*p, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().where.insn, 1u);
}

TEST(Program, CheckedModeCountsInstructions) {
    const RawInsn prog[] = {raw(0xb7, 0, 0, 0, 1), raw(0x07, 0, 0, 0, 1), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_TRUE(p);
    auto r = run_both(*p, {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->r0, 2u);
    EXPECT_EQ(r->insns, 3u);
}

TEST(Program, BudgetStopsAnInfiniteLoop) {
    const RawInsn prog[] = {raw(0x05, 0, 0, -1), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_TRUE(p);
    auto r = run_both(*p, {}, {.checked = true, .insn_budget = 1000});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kRuntime);
    EXPECT_NE(r.error().message.find("budget"), std::string::npos);
    EXPECT_EQ(r.error().where.insn, 0u);
}

TEST(Program, OutOfBoundsAccessFaultsWithTheInstruction) {
    std::uint8_t mem[8] = {};
    // r0 = *(u32 *)(r1 + 6): crosses the end of the 8-byte buffer.
    const RawInsn prog[] = {raw(0xb7, 0, 0, 0, 0), raw(0x61, 0, 1, 6), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_TRUE(p);
    auto r = run_raw(*p, mem);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().where.insn, 1u);
    EXPECT_NE(r.error().message.find("invalid read of 4 bytes"), std::string::npos) << r.error().message;
}

TEST(Program, StackBelowTheFrameFaults) {
    // *(u64 *)(r10 - 520) = 1 lies below the 512-byte frame.
    const RawInsn prog[] = {raw(0x7a, 10, 0, -520, 1), raw(0xb7), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_TRUE(p);
    auto r = run_both(*p, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().where.insn, 0u);
    EXPECT_NE(r.error().message.find("invalid write"), std::string::npos);
}

TEST(Program, ReadOnlyRegionRejectsWrites) {
    std::uint64_t value = 7;
    RunInput in;
    in.args[0] = reinterpret_cast<std::uint64_t>(&value);
    in.regions.push_back({reinterpret_cast<std::uint64_t>(&value), sizeof(value), false, "ro"});
    const RawInsn prog[] = {raw(0x79, 0, 1, 0), raw(0x7b, 1, 0, 0), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_TRUE(p);
    auto r = run_both(*p, in);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().where.insn, 1u);
    EXPECT_EQ(value, 7u);
}

TEST(Program, RecursionDeeperThanEightFramesFaults) {
    // fn: call fn (infinite recursion)
    const RawInsn prog[] = {raw(0x85, 0, 1, 0, -1), raw(0x95)};
    auto p = Program::load(prog);
    ASSERT_TRUE(p);
    for (bool checked : {true, false}) {
        auto r = run_both(*p, {}, {.checked = checked});
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message.find("call depth"), std::string::npos);
    }
}

}  // namespace
}  // namespace xbpf::vm
