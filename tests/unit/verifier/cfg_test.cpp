// The control-flow graph (src/verifier/cfg): functions, successors, the kernel's structural checks with its exact
// messages, loop heads, prune points and register liveness (hand-derived masks), then every clang-built test program
// and every libbpf-tools program, and a 100k-slot program.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "../object/object_test_support.hpp"
#include "isa/assembler.hpp"
#include "isa/instruction.hpp"
#include "object/embedded.hpp"
#include "object/object_spec.hpp"
#include "verifier/cfg/cfg.hpp"
#include "verifier/cfg/liveness.hpp"

namespace xbpf::verifier {
namespace {

using isa::Op;

constexpr RegMask R(unsigned reg) { return reg_bit(reg); }
constexpr RegMask kFp = kFramePointerBit;

// Assemble and decode; fails the test (and returns an empty program) on error.
std::vector<isa::Instruction> program(std::string_view text) {
    auto raw = isa::assemble(text);
    if (!raw) {
        ADD_FAILURE() << raw.error().to_string() << "\n" << text;
        return {};
    }
    auto insns = isa::decode(*raw);
    if (!insns) {
        ADD_FAILURE() << insns.error().to_string() << "\n" << text;
        return {};
    }
    return *insns;
}

std::vector<isa::Instruction> program(const std::vector<isa::RawInsn>& raw) {
    auto insns = isa::decode(raw);
    if (!insns) {
        ADD_FAILURE() << insns.error().to_string();
        return {};
    }
    return *insns;
}

Cfg build_ok(std::string_view text) {
    const auto insns = program(text);
    auto cfg = build_cfg(insns);
    if (!cfg) {
        ADD_FAILURE() << cfg.error().to_string() << "\n" << text;
        return {};
    }
    return *cfg;
}

// Expects build_cfg to reject with exactly `message` at slot `insn`.
void expect_reject(const std::vector<isa::Instruction>& insns, std::size_t insn, std::string_view message) {
    auto cfg = build_cfg(insns);
    ASSERT_FALSE(cfg.has_value()) << "expected: " << message;
    EXPECT_EQ(cfg.error().code, ErrorCode::kVerify);
    EXPECT_EQ(cfg.error().message, message);
    ASSERT_TRUE(cfg.error().where.insn.has_value());
    EXPECT_EQ(*cfg.error().where.insn, insn) << cfg.error().to_string();
}

void expect_reject(std::string_view text, std::size_t insn, std::string_view message) {
    const auto insns = program(text);
    ASSERT_FALSE(insns.empty());
    expect_reject(insns, insn, message);
}

isa::RawInsn raw(std::uint8_t opcode, std::uint8_t dst = 0, std::uint8_t src = 0, std::int16_t off = 0,
                 std::int32_t imm = 0) {
    isa::RawInsn r;
    r.opcode = opcode;
    r.dst = dst;
    r.src = src;
    r.off = off;
    r.imm = imm;
    return r;
}

const isa::RawInsn kExitRaw = raw(0x95);

// Slots where `v` is true.
std::vector<std::size_t> slots(const std::vector<bool>& v) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i]) out.push_back(i);
    return out;
}

using Succ = std::vector<std::uint32_t>;
using Slots = std::vector<std::size_t>;

// ---- Functions ----

TEST(CfgFunctions, SingleFunction) {
    const Cfg cfg = build_ok("r0 = 0\nexit");
    ASSERT_EQ(cfg.functions.size(), 1u);
    EXPECT_EQ(cfg.functions[0].start, 0u);
    EXPECT_EQ(cfg.functions[0].end, 2u);
    EXPECT_FALSE(cfg.functions[0].is_callback);
    EXPECT_FALSE(cfg.functions[0].is_called);
    EXPECT_EQ(cfg.function_of, (std::vector<std::uint32_t>{0, 0}));
    EXPECT_EQ(cfg.successors[0], Succ{1});
    EXPECT_EQ(cfg.successors[1], Succ{});
    EXPECT_EQ(cfg.function_at(0), 0);
    EXPECT_EQ(cfg.function_at(1), -1);
    EXPECT_EQ(cfg.function_at(99), -1);
    EXPECT_EQ(slots(cfg.loop_head), Slots{});
    EXPECT_EQ(slots(cfg.prune_point), Slots{});
    ASSERT_EQ(cfg.live_in.size(), 2u);
}

TEST(CfgFunctions, ConditionalJumpSuccessorsFallThroughFirst) {
    const Cfg cfg = build_ok(
        "r0 = 0\n"
        "if r1 == 0 goto +1\n"  // 1 -> 2, 3
        "r0 = 1\n"
        "exit\n");
    EXPECT_EQ(cfg.successors[1], (Succ{2, 3}));
    EXPECT_EQ(cfg.successors[2], Succ{3});
    // A conditional jump to the next slot has that slot once.
    const Cfg same = build_ok("if r1 == 0 goto +0\nexit");
    EXPECT_EQ(same.successors[0], Succ{1});
    // goto and gotol have their target only.
    const Cfg jumps = build_ok(
        "goto +1\n"     // 0 -> 2
        "exit\n"        // 1
        "gotol -2\n");  // 2 -> 1
    EXPECT_EQ(jumps.successors[0], Succ{2});
    EXPECT_EQ(jumps.successors[2], Succ{1});
}

TEST(CfgFunctions, LocalCallsSplitFunctions) {
    const Cfg cfg = build_ok(
        "r1 = 1\n"      // 0
        "call f\n"      // 1
        "call g\n"      // 2
        "exit\n"        // 3
        "f: r0 = r1\n"  // 4
        "call g\n"      // 5
        "exit\n"        // 6
        "g: r0 = 2\n"   // 7
        "exit\n");      // 8
    ASSERT_EQ(cfg.functions.size(), 3u);
    EXPECT_EQ(cfg.functions[0].start, 0u);
    EXPECT_EQ(cfg.functions[0].end, 4u);
    EXPECT_FALSE(cfg.functions[0].is_called);
    EXPECT_EQ(cfg.functions[1].start, 4u);
    EXPECT_EQ(cfg.functions[1].end, 7u);
    EXPECT_TRUE(cfg.functions[1].is_called);
    EXPECT_FALSE(cfg.functions[1].is_callback);
    EXPECT_EQ(cfg.functions[2].start, 7u);
    EXPECT_EQ(cfg.functions[2].end, 9u);
    EXPECT_TRUE(cfg.functions[2].is_called);
    EXPECT_EQ(cfg.function_of, (std::vector<std::uint32_t>{0, 0, 0, 0, 1, 1, 1, 2, 2}));
    EXPECT_EQ(cfg.function_at(4), 1);
    EXPECT_EQ(cfg.function_at(7), 2);
    EXPECT_EQ(cfg.function_at(5), -1);
    // A local call continues at the next slot; the callee is not a successor.
    EXPECT_EQ(cfg.successors[1], Succ{2});
    EXPECT_EQ(cfg.successors[5], Succ{6});
    EXPECT_EQ(cfg.successors[6], Succ{});
}

TEST(CfgFunctions, CallbackByAddress) {
    const auto insns = program(
        "r1 = 4\n"                 // 0
        "r2 = code_addr(cb) ll\n"  // 1-2
        "r3 = 0\n"                 // 3
        "r4 = 0\n"                 // 4
        "call 181\n"               // 5: bpf_loop
        "exit\n"                   // 6
        "cb: r0 = 0\n"             // 7
        "exit\n");                 // 8
    ASSERT_EQ(insns.size(), 9u);
    ASSERT_TRUE(insns[2].is_lddw_tail);
    auto cfg = build_cfg(insns);
    ASSERT_TRUE(cfg.has_value()) << cfg.error().to_string();
    ASSERT_EQ(cfg->functions.size(), 2u);
    EXPECT_EQ(cfg->functions[1].start, 7u);
    EXPECT_TRUE(cfg->functions[1].is_callback);
    EXPECT_FALSE(cfg->functions[1].is_called);
    EXPECT_FALSE(cfg->functions[0].is_callback);
    EXPECT_EQ(cfg->successors[1], Succ{3});  // over the tail
    EXPECT_EQ(cfg->successors[2], Succ{});   // the tail is not an instruction
    EXPECT_EQ(cfg->function_of[2], 0u);
}

TEST(CfgFunctions, CallbackAlsoCalledDirectly) {
    const Cfg cfg = build_ok(
        "r2 = code_addr(f) ll\n"  // 0-1
        "call f\n"                // 2
        "exit\n"                  // 3
        "f: r0 = 0\n"             // 4
        "exit\n");
    ASSERT_EQ(cfg.functions.size(), 2u);
    EXPECT_TRUE(cfg.functions[1].is_callback);
    EXPECT_TRUE(cfg.functions[1].is_called);
}

TEST(CfgFunctions, RecursionIsLeftToTheAnalyzer) {
    // The CFG only splits functions; a call cycle (the kernel rejects it later, walking calls) builds.
    const Cfg cfg = build_ok(
        "call f\n"     // 0
        "exit\n"       // 1
        "f: call f\n"  // 2: calls itself
        "exit\n");
    ASSERT_EQ(cfg.functions.size(), 2u);
    EXPECT_TRUE(cfg.functions[1].is_called);
    EXPECT_EQ(slots(cfg.loop_head), Slots{});  // call edges are not CFG edges
    // The entry may be named by a call or a function address too.
    const Cfg self = build_ok(
        "r1 = code_addr(-1) ll\n"  // 0-1: 0 + 1 - 1 = 0
        "call -3\n"                // 2: 2 + 1 - 3 = 0
        "exit\n");
    ASSERT_EQ(self.functions.size(), 1u);
    EXPECT_TRUE(self.functions[0].is_callback);
    EXPECT_TRUE(self.functions[0].is_called);
}

TEST(CfgFunctions, CallbackBuiltFromRawSlots) {
    // lddw r2, func +3 (target 0 + 1 + 3 = 4), exit, then the callback at 4.
    const auto insns = program({raw(0x18, 2, isa::kPseudoFunc, 0, 3), raw(0), raw(0xb7, 0, 0, 0, 0), kExitRaw,
                                raw(0xb7, 0, 0, 0, 1), kExitRaw});
    auto cfg = build_cfg(insns);
    ASSERT_TRUE(cfg.has_value()) << cfg.error().to_string();
    ASSERT_EQ(cfg->functions.size(), 2u);
    EXPECT_EQ(cfg->functions[1].start, 4u);
    EXPECT_TRUE(cfg->functions[1].is_callback);
}

TEST(CfgFunctions, ManyFunctionsAndTheLimit) {
    // main calls f0..f(k-1), each `r0 = 0; exit`.
    const auto make = [](std::size_t k) {
        std::string text;
        for (std::size_t i = 0; i < k; ++i) text += fmt::format("call f{}\n", i);
        text += "exit\n";
        for (std::size_t i = 0; i < k; ++i) text += fmt::format("f{}: r0 = 0\nexit\n", i);
        return program(text);
    };
    const auto ok = make(kMaxFunctions - 1);
    auto cfg = build_cfg(ok);
    ASSERT_TRUE(cfg.has_value()) << cfg.error().to_string();
    ASSERT_EQ(cfg->functions.size(), kMaxFunctions);
    for (std::size_t i = 1; i < kMaxFunctions; ++i) {
        EXPECT_EQ(cfg->functions[i].start, kMaxFunctions + 2 * (i - 1));
        EXPECT_EQ(cfg->function_at(cfg->functions[i].start), static_cast<int>(i));
    }
    // One more is the kernel's BPF_MAX_SUBPROGS + 1: rejected at the call that names it.
    expect_reject(make(kMaxFunctions), kMaxFunctions - 1, "too many subprograms");
}

// ---- The kernel's structural checks ----

TEST(CfgChecks, JumpOutOfFunction) {
    expect_reject(
        "if r1 == 0 goto +2\n"  // 0 -> 3, inside f
        "call f\n"              // 1
        "exit\n"                // 2
        "f: r0 = 0\n"           // 3
        "exit\n",
        0, "jump out of range from insn 0 to 3");
    expect_reject(
        "call f\n"     // 0
        "exit\n"       // 1
        "f: r0 = 0\n"  // 2
        "goto -3\n"    // 3 -> 1, back into main
        "exit\n",
        3, "jump out of range from insn 3 to 1");
    expect_reject(
        "call f\n"     // 0
        "gotol +2\n"   // 1 -> 4: f's second slot
        "f: r0 = 0\n"  // 2
        "exit\n"       // 3
        "exit\n",      // 4
        1, "jump out of range from insn 1 to 4");
}

TEST(CfgChecks, UnreachableInsn) {
    // Code after exit that nothing jumps to.
    expect_reject("r0 = 0\nexit\nr0 = 1\nexit", 2, "unreachable insn 2");
    // Dead code after an unconditional jump.
    expect_reject("r0 = 0\ngoto +1\nr0 = 1\nexit", 2, "unreachable insn 2");
    // Unreachable code inside a callee.
    expect_reject(
        "call f\n"     // 0
        "exit\n"       // 1
        "f: r0 = 0\n"  // 2
        "exit\n"       // 3
        "r0 = 1\n"     // 4
        "exit\n",
        4, "unreachable insn 4");
    // A function called only from dead code: the dead call is reported (the lowest unreachable slot).
    expect_reject(
        "r0 = 0\n"     // 0
        "exit\n"       // 1
        "call f\n"     // 2
        "exit\n"       // 3
        "f: r0 = 0\n"  // 4
        "exit\n",
        2, "unreachable insn 2");
    // Two functions calling each other, reached by nobody: each is intra-reachable, neither function is reached.
    expect_reject(
        "r0 = 0\n"     // 0
        "exit\n"       // 1
        "g: call h\n"  // 2
        "exit\n"       // 3
        "h: call g\n"  // 4
        "exit\n",
        2, "unreachable insn 2");
}

TEST(CfgChecks, LastInsnNotExitOrJump) {
    expect_reject("r0 = 0", 0, "last insn is not an exit or jmp");
    // main ends in a call and would fall into f.
    expect_reject("r0 = 0\ncall f\nf: r0 = 0\nexit", 1, "last insn is not an exit or jmp");
    // A conditional jump can fall through.
    expect_reject("r0 = 0\nif r0 == 0 goto -2", 1, "last insn is not an exit or jmp");
    // An Lddw tail as the last slot (the kernel sees opcode 0 there).
    expect_reject("r0 = 1 ll", 1, "last insn is not an exit or jmp");
    // An unconditional jump (backwards) is a valid last instruction.
    const Cfg cfg = build_ok(
        "r0 = 0\n"
        "if r1 == 0 goto +1\n"
        "exit\n"
        "goto -2\n");
    EXPECT_EQ(cfg.successors[3], Succ{2});
}

TEST(CfgChecks, KernelOrderOfChecks) {
    // Slot 2 is unreachable and slot 4 jumps out of its function: check_subprogs runs before check_cfg.
    expect_reject(
        "call f\n"                 // 0
        "exit\n"                   // 1
        "r0 = 1\n"                 // 2: unreachable
        "exit\n"                   // 3
        "f: if r1 == 0 goto -4\n"  // 4 -> 1
        "exit\n",
        4, "jump out of range from insn 4 to 1");
}

TEST(CfgChecks, FunctionAddressTargets) {
    // lddw src=4 outside the program (decode does not check these).
    expect_reject(program({raw(0x18, 1, isa::kPseudoFunc, 0, 100), raw(0), kExitRaw}), 0,
                  "call to invalid destination");
    expect_reject(program({raw(0x18, 1, isa::kPseudoFunc, 0, -5), raw(0), kExitRaw}), 0, "call to invalid destination");
    // lddw src=4 into the second slot of another lddw: 0 + 1 + 2 = 3.
    expect_reject(program({raw(0x18, 1, isa::kPseudoFunc, 0, 2), raw(0), raw(0x18, 2, 0, 0, 5), raw(0), kExitRaw}), 0,
                  "call to insn 3 is not a function start");
}

TEST(CfgChecks, EmptyProgram) { expect_reject(std::vector<isa::Instruction>{}, 0, "program is empty"); }

// ---- Loops ----

TEST(CfgLoops, BoundedLoopMarksItsHead) {
    const Cfg cfg = build_ok(
        "r0 = 0\n"              // 0
        "r1 = 10\n"             // 1
        "r0 += r1\n"            // 2: loop head
        "r1 -= 1\n"             // 3
        "if r1 != 0 goto -3\n"  // 4 -> 5, 2
        "exit\n");              // 5
    EXPECT_EQ(slots(cfg.loop_head), Slots{2});
    EXPECT_EQ(cfg.successors[4], (Succ{5, 2}));
}

TEST(CfgLoops, BackwardJumpThatIsNotALoop) {
    // A block placed after the exit jumps backwards to it: a backward edge in slot order, not a back edge.
    const Cfg cfg = build_ok(
        "if r1 == 0 goto +2\n"  // 0 -> 1, 3
        "r0 = 1\n"              // 1
        "exit\n"                // 2
        "r0 = 2\n"              // 3
        "goto -3\n");           // 4 -> 2
    EXPECT_EQ(slots(cfg.loop_head), Slots{});
}

TEST(CfgLoops, SelfLoopAndNestedLoops) {
    const Cfg self = build_ok("r0 = 0\ngoto -1");
    EXPECT_EQ(slots(self.loop_head), Slots{1});

    const Cfg nested = build_ok(
        "r1 = 3\n"              // 0
        "r2 = 3\n"              // 1: outer head
        "r2 -= 1\n"             // 2: inner head
        "if r2 != 0 goto -2\n"  // 3 -> 4, 2
        "r1 -= 1\n"             // 4
        "if r1 != 0 goto -5\n"  // 5 -> 6, 1
        "r0 = 0\n"              // 6
        "exit\n");
    EXPECT_EQ(slots(nested.loop_head), (Slots{1, 2}));
}

TEST(CfgLoops, LoopInCallee) {
    const Cfg cfg = build_ok(
        "call f\n"              // 0
        "exit\n"                // 1
        "f: r0 = 5\n"           // 2
        "r0 -= 1\n"             // 3: head
        "if r0 != 0 goto -2\n"  // 4 -> 5, 3
        "exit\n");              // 5
    EXPECT_EQ(slots(cfg.loop_head), Slots{3});
}

// ---- Prune points ----

TEST(CfgPrunePoints, ConditionalJump) {
    const Cfg cfg = build_ok(
        "r0 = 0\n"             // 0
        "if r1 > 5 goto +2\n"  // 1: the jump (kernel), 2 (fall-through), 4 (target)
        "r0 = 1\n"             // 2
        "r0 += 1\n"            // 3
        "exit\n");             // 4
    EXPECT_EQ(slots(cfg.prune_point), (Slots{1, 2, 4}));
}

TEST(CfgPrunePoints, GotoTargetOnly) {
    const Cfg ok = build_ok(
        "if r1 == 0 goto +2\n"  // 0 -> 1, 3
        "r0 = 0\n"              // 1
        "goto +1\n"             // 2 -> 4
        "r0 = 1\n"              // 3
        "exit\n");              // 4
    EXPECT_EQ(slots(ok.prune_point), (Slots{0, 1, 3, 4}));
}

TEST(CfgPrunePoints, CallsAndLoops) {
    const Cfg cfg = build_ok(
        "r1 = 0\n"                 // 0
        "call 5\n"                 // 1: helper call site and 2 after it
        "r6 = r0\n"                // 2
        "r2 = code_addr(cb) ll\n"  // 3-4: function address and 5 after it
        "call f\n"                 // 5: local call site and 6 after it
        "r0 = 0\n"                 // 6
        "exit\n"                   // 7
        "f: r0 = 3\n"              // 8
        "r0 -= 1\n"                // 9: loop head (and jump target)
        "if r0 != 0 goto -2\n"     // 10 -> 11, 9
        "exit\n"                   // 11
        "cb: r0 = 0\n"             // 12
        "exit\n");                 // 13
    EXPECT_EQ(slots(cfg.prune_point), (Slots{1, 2, 3, 5, 6, 9, 10, 11}));
    EXPECT_EQ(slots(cfg.loop_head), Slots{9});
}

// ---- Liveness ----

TEST(CfgLiveness, ReadThenOverwrite) {
    const Cfg cfg = build_ok(
        "r0 = r1\n"   // 0: reads r1
        "r1 = 5\n"    // 1: r1 dead before this (overwritten), r0 live (read at 2)
        "r0 += r1\n"  // 2: reads r0 and r1
        "exit\n");    // 3: reads r0
    EXPECT_EQ(cfg.live_in, (std::vector<RegMask>{R(1) | kFp, R(0) | kFp, R(0) | R(1) | kFp, R(0) | kFp}));
}

TEST(CfgLiveness, ThirtyTwoBitMoveOnlyDefines) {
    const Cfg cfg = build_ok(
        "w0 = w1\n"   // 0: reads r1 only
        "w2 = 7\n"    // 1
        "w0 += w2\n"  // 2
        "exit\n");
    EXPECT_EQ(cfg.live_in[0], R(1) | kFp);
    EXPECT_EQ(cfg.live_in[1], R(0) | kFp);
    EXPECT_EQ(cfg.live_in[2], R(0) | R(2) | kFp);
}

TEST(CfgLiveness, HelperCallReadsArgumentsAndClobbersCallerSaved) {
    // A helper reads the arguments its prototype declares (bpf_get_current_comm: r1, r2), as the kernel's
    // check_helper_call marks them; a helper xbpf does not know reads all five.
    const Cfg cfg = build_ok(
        "r6 = r1\n"   // 0
        "r1 = 0\n"    // 1
        "r2 = 0\n"    // 2
        "call 16\n"   // 3: reads r1, r2; writes r0..r5
        "r0 += r6\n"  // 4
        "exit\n");    // 5
    EXPECT_EQ(cfg.live_in[5], R(0) | kFp);
    EXPECT_EQ(cfg.live_in[4], R(0) | R(6) | kFp);
    EXPECT_EQ(cfg.live_in[3], R(1) | R(2) | R(6) | kFp);  // r0 is written by the call, so dead before it
    EXPECT_EQ(cfg.live_in[2], R(1) | R(6) | kFp);
    EXPECT_EQ(cfg.live_in[1], R(6) | kFp);
    EXPECT_EQ(cfg.live_in[0], R(1) | kFp);

    const Cfg unknown = build_ok(
        "r1 = 0\n"     // 0
        "call 9999\n"  // 1: an unknown helper: r1..r5 all read
        "exit\n");     // 2
    EXPECT_EQ(unknown.live_in[1], kArgRegs | kFp);
    const Cfg none = build_ok(
        "call 5\n"  // 0: bpf_ktime_get_ns takes no argument
        "exit\n");  // 1
    EXPECT_EQ(none.live_in[0], kFp);
}

TEST(CfgLiveness, CalleeSavedRegistersSurviveLocalCalls) {
    const Cfg cfg = build_ok(
        "r6 = 1\n"      // 0
        "call f\n"      // 1
        "r0 += r6\n"    // 2
        "exit\n"        // 3
        "f: r0 = r1\n"  // 4: the callee reads its argument r1
        "exit\n");      // 5
    EXPECT_EQ(cfg.live_in[1], kArgRegs | R(6) | kFp);
    EXPECT_EQ(cfg.live_in[0], (kArgRegs & ~R(6)) | kFp);
    EXPECT_EQ(cfg.live_in[4], R(1) | kFp);  // the callee's liveness is its own
    EXPECT_EQ(cfg.live_in[5], R(0) | kFp);
}

TEST(CfgLiveness, AcrossALoop) {
    const Cfg cfg = build_ok(
        "r3 = 0\n"              // 0
        "r2 = 10\n"             // 1
        "r0 = r3\n"             // 2: loop head, reads r3
        "r3 = r2\n"             // 3: writes r3 (read again at 2 through the back edge)
        "r2 -= 1\n"             // 4
        "if r2 != 0 goto -4\n"  // 5 -> 6, 2
        "exit\n");              // 6
    EXPECT_EQ(slots(cfg.loop_head), Slots{2});
    EXPECT_EQ(cfg.live_in, (std::vector<RegMask>{
                               kFp,                       // 0
                               R(3) | kFp,                // 1
                               R(2) | R(3) | kFp,         // 2
                               R(0) | R(2) | kFp,         // 3
                               R(0) | R(2) | R(3) | kFp,  // 4
                               R(0) | R(2) | R(3) | kFp,  // 5: r3 only through the back edge
                               R(0) | kFp,                // 6
                           }));
}

TEST(CfgLiveness, BranchesJoin) {
    const Cfg cfg = build_ok(
        "if r1 == 0 goto +2\n"  // 0
        "r0 = r2\n"             // 1
        "exit\n"                // 2
        "r0 = r3\n"             // 3
        "exit\n");              // 4
    EXPECT_EQ(cfg.live_in[0], R(1) | R(2) | R(3) | kFp);
    EXPECT_EQ(cfg.live_in[1], R(2) | kFp);
    EXPECT_EQ(cfg.live_in[3], R(3) | kFp);
}

TEST(CfgLiveness, LddwTailCarriesTheLiveOut) {
    const Cfg cfg = build_ok(
        "r1 = 0x100000000 ll\n"  // 0-1
        "r0 = r1\n"              // 2
        "exit\n");
    EXPECT_EQ(cfg.live_in[0], kFp);
    EXPECT_EQ(cfg.live_in[1], R(1) | kFp);
    EXPECT_EQ(cfg.live_in[2], R(1) | kFp);
}

TEST(CfgLiveness, MemoryAndPacketLoads) {
    const Cfg cfg = build_ok(
        "r6 = r1\n"                   // 0
        "*(u64 *)(r10 - 8) = r2\n"    // 1: reads r10, r2
        "r0 = *(u8 *)skb[12]\n"       // 2: reads r6, writes r0..r5
        "r0 = *(u16 *)skb[r7 + 2]\n"  // 3: reads r6, r7
        "r0 = *(u64 *)(r10 - 8)\n"    // 4: reads r10
        "exit\n");
    EXPECT_EQ(cfg.live_in[4], kFp);
    EXPECT_EQ(cfg.live_in[3], R(6) | R(7) | kFp);
    EXPECT_EQ(cfg.live_in[2], R(6) | R(7) | kFp);
    EXPECT_EQ(cfg.live_in[1], R(2) | R(6) | R(7) | kFp);
    EXPECT_EQ(cfg.live_in[0], R(1) | R(2) | R(7) | kFp);
}

TEST(CfgLiveness, RegEffectPerShape) {
    const auto e = [](Op op, std::uint8_t dst, std::uint8_t src) {
        isa::Instruction insn;
        insn.op = op;
        insn.dst = dst;
        insn.src = src;
        return reg_effect(insn);
    };
    const auto eff = [](RegMask use, RegMask def) { return RegEffect{use, def}; };
    EXPECT_EQ(e(Op::Mov64Imm, 1, 0), eff(0, R(1)));
    EXPECT_EQ(e(Op::Mov32Imm, 1, 0), eff(0, R(1)));
    EXPECT_EQ(e(Op::Mov64Reg, 1, 2), eff(R(2), R(1)));
    EXPECT_EQ(e(Op::Mov32Reg, 1, 2), eff(R(2), R(1)));
    EXPECT_EQ(e(Op::MovSx8To64, 1, 2), eff(R(2), R(1)));
    EXPECT_EQ(e(Op::MovSx16To32, 1, 2), eff(R(2), R(1)));
    EXPECT_EQ(e(Op::Add64Imm, 1, 0), eff(R(1), R(1)));
    EXPECT_EQ(e(Op::Add32Reg, 1, 2), eff(R(1) | R(2), R(1)));
    EXPECT_EQ(e(Op::Xor64Reg, 3, 3), eff(R(3), R(3)));
    EXPECT_EQ(e(Op::Neg64, 4, 0), eff(R(4), R(4)));
    EXPECT_EQ(e(Op::Be16, 4, 0), eff(R(4), R(4)));
    EXPECT_EQ(e(Op::Bswap64, 4, 0), eff(R(4), R(4)));
    EXPECT_EQ(e(Op::Ja, 0, 0), eff(0, 0));
    EXPECT_EQ(e(Op::Gotol, 0, 0), eff(0, 0));
    EXPECT_EQ(e(Op::Jeq64Imm, 3, 0), eff(R(3), 0));
    EXPECT_EQ(e(Op::Jsgt32Reg, 3, 4), eff(R(3) | R(4), 0));
    EXPECT_EQ(e(Op::Call, 0, 0), eff(kArgRegs, kCallerSaved));
    EXPECT_EQ(e(Op::CallLocal, 0, 1), eff(kArgRegs, kCallerSaved));
    EXPECT_EQ(e(Op::CallKfunc, 0, 2), eff(kArgRegs, kCallerSaved));
    EXPECT_EQ(e(Op::Callx, 8, 0), eff(kArgRegs | R(8), kCallerSaved));
    EXPECT_EQ(e(Op::Exit, 0, 0), eff(R(0), 0));
    EXPECT_EQ(e(Op::Lddw, 7, isa::kPseudoMapIdxValue), eff(0, R(7)));
    EXPECT_EQ(e(Op::LdAbsW, 0, 0), eff(R(6), kCallerSaved));
    EXPECT_EQ(e(Op::LdIndB, 0, 8), eff(R(6) | R(8), kCallerSaved));
    EXPECT_EQ(e(Op::LdxW, 1, 2), eff(R(2), R(1)));
    EXPECT_EQ(e(Op::LdxSB, 1, 10), eff(kFp, R(1)));
    EXPECT_EQ(e(Op::StDW, 10, 0), eff(kFp, 0));
    EXPECT_EQ(e(Op::StxW, 1, 2), eff(R(1) | R(2), 0));
    EXPECT_EQ(e(Op::AtomicAdd64, 1, 2), eff(R(1) | R(2), 0));
    EXPECT_EQ(e(Op::AtomicXor32, 1, 2), eff(R(1) | R(2), 0));
    EXPECT_EQ(e(Op::AtomicFetchAdd64, 1, 2), eff(R(1) | R(2), R(2)));
    EXPECT_EQ(e(Op::AtomicFetchOr32, 1, 2), eff(R(1) | R(2), R(2)));
    EXPECT_EQ(e(Op::AtomicXchg64, 1, 2), eff(R(1) | R(2), R(2)));
    EXPECT_EQ(e(Op::AtomicCmpxchg64, 1, 2), eff(R(0) | R(1) | R(2), R(0)));
    EXPECT_EQ(e(Op::AtomicCmpxchg32, 1, 2), eff(R(0) | R(1) | R(2), R(0)));
    // r10 is never written, and an Lddw tail does nothing.
    EXPECT_EQ(e(Op::Mov64Imm, 10, 0).def, 0);
    isa::Instruction tail;
    tail.op = Op::Lddw;
    tail.is_lddw_tail = true;
    EXPECT_EQ(reg_effect(tail), eff(0, 0));
}

// ---- Real programs ----

void expect_matches_spec(const object::ProgramSpec& p, const std::string& where) {
    auto insns = isa::decode(p.insns);
    ASSERT_TRUE(insns.has_value()) << where << ": " << insns.error().to_string();
    auto cfg = build_cfg(*insns);
    ASSERT_TRUE(cfg.has_value()) << where << ": " << cfg.error().to_string();
    ASSERT_EQ(cfg->functions.size(), p.functions.size()) << where;
    std::set<std::size_t> spec_starts;
    for (const object::FunctionRange& f : p.functions) spec_starts.insert(f.start);
    std::size_t i = 0;
    for (const std::size_t start : spec_starts) {
        EXPECT_EQ(cfg->functions[i].start, start) << where << " function " << i;
        EXPECT_EQ(cfg->function_at(start), static_cast<int>(i)) << where;
        ++i;
    }
    EXPECT_EQ(cfg->live_in.size(), insns->size());
    EXPECT_EQ(cfg->prune_point.size(), insns->size());
}

TEST(CfgPrograms, EveryClangBuiltProgram) {
    const std::filesystem::path dir = std::filesystem::path(XBPF_BINARY_DIR) / "tests" / "programs";
    std::vector<std::filesystem::path> objects;
    if (std::filesystem::is_directory(dir))
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            if (entry.path().string().ends_with(".bpf.o")) objects.push_back(entry.path());
    if (objects.empty()) GTEST_SKIP() << "tests/programs were not built (clang missing?)";
    std::size_t programs = 0, functions = 0, callbacks = 0;
    for (const auto& path : objects) {
        auto spec = object::parse_object_file(path.string());
        ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
        for (const object::ProgramSpec& p : spec->programs) {
            expect_matches_spec(p, path.filename().string() + " " + p.name);
            ++programs;
            functions += p.functions.size();
            auto cfg = build_cfg(*isa::decode(p.insns));
            if (cfg)
                for (const CfgFunction& f : cfg->functions) callbacks += f.is_callback ? 1 : 0;
        }
    }
    std::cout << "tests/programs: " << objects.size() << " objects, " << programs << " programs, " << functions
              << " functions (" << callbacks << " callbacks)\n";
    EXPECT_GE(programs, 20u);
    EXPECT_GT(functions, programs);  // calls.bpf.c and subprogs.bpf.c have sub-programs
    EXPECT_GE(callbacks, 2u);        // bpf_loop callbacks in subprogs.bpf.c and hashing.bpf.c
}

TEST(CfgPrograms, SubprogsCallback) {
    XBPF_LOAD_PROGRAM(spec, "subprogs");
    const object::ProgramSpec* p = spec.find_program("entry_loop");
    ASSERT_NE(p, nullptr);
    auto cfg = build_cfg(*isa::decode(p->insns));
    ASSERT_TRUE(cfg.has_value()) << cfg.error().to_string();
    for (const object::FunctionRange& f : p->functions) {
        const int i = cfg->function_at(f.start);
        ASSERT_GE(i, 0) << f.name;
        const CfgFunction& cf = cfg->functions[static_cast<std::size_t>(i)];
        EXPECT_EQ(cf.end, f.start + f.count) << f.name;
        if (f.name == "loop_body") {
            EXPECT_TRUE(cf.is_callback);
            EXPECT_FALSE(cf.is_called);
        } else if (f.name == "triple") {
            EXPECT_TRUE(cf.is_called);
            EXPECT_FALSE(cf.is_callback);
        }
    }
}

TEST(CfgPrograms, EveryLibbpfToolsProgram) {
    const auto binaries = object::testing::libbpf_tools_binaries();
    if (binaries.empty()) GTEST_SKIP() << "libbpf-tools is not installed (apt-get install libbpf-tools)";
    std::set<std::string> seen;
    std::size_t programs = 0, functions = 0, loops = 0;
    for (const std::string& path : binaries) {
        if (!seen.insert(std::filesystem::canonical(path).string()).second) continue;  // symlinked tools
        const auto bytes = object::testing::read_file(path);
        const std::string tool = std::filesystem::path(path).filename().string();
        for (const object::EmbeddedObject& e : object::find_embedded_objects(bytes)) {
            auto spec = object::parse_object(std::span(bytes).subspan(e.offset, e.size), tool + ".bpf.o");
            ASSERT_TRUE(spec.has_value()) << path << ": " << spec.error().to_string();
            for (const object::ProgramSpec& p : spec->programs) {
                expect_matches_spec(p, tool + " " + p.name);
                ++programs;
                functions += p.functions.size();
                if (auto cfg = build_cfg(*isa::decode(p.insns)); cfg && !slots(cfg->loop_head).empty()) ++loops;
            }
        }
    }
    std::cout << "libbpf-tools: " << seen.size() << " distinct tool binaries, " << programs << " programs, "
              << functions << " functions, " << loops << " with loops\n";
    EXPECT_GT(programs, 100u);
}

// ---- Size ----

TEST(CfgScale, HundredThousandSlots) {
    // r0 = 0; r1 = 10; loop: 100,000 x `r0 += 1`; r1 -= 1; if r1 == 0 goto exit; gotol loop; exit.
    constexpr std::size_t kBody = 100'000;
    std::vector<isa::Instruction> insns;
    const auto add = [&](Op op, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
        isa::Instruction insn;
        insn.op = op;
        insn.dst = dst;
        insn.src = src;
        insn.off = off;
        insn.imm = imm;
        insns.push_back(insn);
    };
    add(Op::Mov64Imm, 0, 0, 0, 0);
    add(Op::Mov64Imm, 1, 0, 0, 10);
    for (std::size_t i = 0; i < kBody; ++i) add(Op::Add64Imm, 0, 0, 0, 1);
    add(Op::Sub64Imm, 1, 0, 0, 1);
    add(Op::Jeq64Imm, 1, 0, 1, 0);
    const auto gotol = static_cast<std::int64_t>(insns.size());
    add(Op::Gotol, 0, 0, 0, static_cast<std::int32_t>(2 - (gotol + 1)));
    add(Op::Exit, 0, 0, 0, 0);
    ASSERT_EQ(insns.size(), kBody + 6);

    auto cfg = build_cfg(insns);
    ASSERT_TRUE(cfg.has_value()) << cfg.error().to_string();
    EXPECT_EQ(cfg->functions.size(), 1u);
    EXPECT_EQ(slots(cfg->loop_head), Slots{2});
    EXPECT_EQ(cfg->live_in[2], R(0) | R(1) | kFp);
    EXPECT_EQ(cfg->live_in[kBody + 1], R(0) | R(1) | kFp);
    EXPECT_EQ(cfg->live_in[1], R(0) | kFp);
    EXPECT_EQ(cfg->live_in[0], kFp);
    EXPECT_TRUE(cfg->prune_point[2]);
}

}  // namespace
}  // namespace xbpf::verifier
